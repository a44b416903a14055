# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/dataset_converters/nyuv2.py on hand-made arrays and .mat files."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from mmboundary.testing import import_tool

conv = import_tool('tools/dataset_converters/nyuv2.py')

# three frames of H x W = 2 x 3 (MATLAB: H x W x 3 x N and H x W x N; the
# HDF5 file stores them with the axes reversed)
H, W = 2, 3
RGB = np.arange(3 * H * W * 3, dtype=np.uint8).reshape(3, H, W, 3) * 2
RAW = np.array([
    [[0, 1, 2], [894, 7, 0]],
    [[3, 3, 3], [0, 0, 1]],
    [[2, 894, 1], [7, 7, 3]],
],
               dtype=np.uint16)  # (N, H, W), raw ids 0..894


def _map_class():
    """894 entries in 1..40; the raw ids used above get distinct classes."""
    map_class = np.full(conv.NUM_RAW_CLASSES, 40, np.float64)
    map_class[0] = 5  # raw 1 -> 5
    map_class[1] = 1  # raw 2 -> 1
    map_class[2] = 12  # raw 3 -> 12
    map_class[6] = 40  # raw 7 -> 40
    map_class[893] = 22  # raw 894 -> 22 (the last entry)
    return map_class


# RAW through the mapping, computed by hand: 0 stays 0 (unlabelled)
EXPECTED40 = np.array([
    [[0, 5, 1], [22, 40, 0]],
    [[12, 12, 12], [0, 0, 5]],
    [[1, 22, 5], [40, 40, 12]],
],
                      dtype=np.uint8)


def _hdf5_order():
    return RGB.transpose(0, 3, 2, 1), RAW.transpose(0, 2, 1)


def test_mapping_lut_by_hand():
    lut = conv.mapping_lut(_map_class())
    assert lut.dtype == np.uint8 and lut.shape == (895, )
    assert (lut[0], lut[1], lut[2], lut[3], lut[7], lut[894]) == (0, 5, 1, 12,
                                                                  40, 22)
    np.testing.assert_array_equal(lut[RAW], EXPECTED40)


def test_convert_arrays_transposes_maps_and_splits(tmp_path):
    images, labels = _hdf5_order()
    assert images.shape == (3, 3, W, H) and labels.shape == (3, W, H)
    splits = {'train': np.array([3, 1]), 'test': np.array([2])}
    out = str(tmp_path / 'nyu')
    written = conv.convert_arrays(
        images,
        labels,
        splits,
        conv.mapping_lut(_map_class()),
        out,
        verbose=False)
    assert written == {'train': ['0003', '0001'], 'test': ['0002']}
    for split, frames in (('train', (3, 1)), ('test', (2, ))):
        with open(osp.join(out, f'{split}.txt')) as f:
            assert f.read().split() == [f'{i:04d}' for i in frames]
        for frame in frames:
            stem = f'{frame:04d}.png'
            bgr = cv2.imread(osp.join(out, 'images', split, stem))
            np.testing.assert_array_equal(bgr[..., ::-1], RGB[frame - 1])
            label = cv2.imread(
                osp.join(out, 'labels40', split, stem), cv2.IMREAD_UNCHANGED)
            assert label.dtype == np.uint8 and label.shape == (H, W)
            np.testing.assert_array_equal(label, EXPECTED40[frame - 1])


def test_progress_lines(tmp_path, capsys):
    images, labels = _hdf5_order()
    conv.convert_arrays(
        images,
        labels, {
            'train': np.array([1, 2]),
            'test': np.array([3])
        },
        conv.mapping_lut(_map_class()),
        str(tmp_path),
        log_every=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == '[nyuv2] train: 2/2 frames'
    assert out[1].startswith('[nyuv2] train: 2 frames -> ')
    assert out[2].startswith('[nyuv2] test: 1 frames -> ') and len(out) == 3


def test_splits_and_mapping_round_trip_through_savemat(tmp_path):
    splits_mat = str(tmp_path / 'splits.mat')
    # MATLAB writes column vectors of doubles
    savemat(
        splits_mat, {
            'trainNdxs': np.array([[3.0], [1.0], [6.0]]),
            'testNdxs': np.array([[2.0], [5.0]])
        })
    splits = conv.load_splits(splits_mat)
    assert sorted(splits) == ['test', 'train']
    assert splits['train'].tolist() == [3, 1, 6]
    assert splits['test'].tolist() == [2, 5]
    assert splits['train'].dtype == np.int64
    mapping_mat = str(tmp_path / 'classMapping40.mat')
    savemat(mapping_mat, {
        'mapClass': _map_class()[None],
        'className': np.array(['wall'])
    })
    np.testing.assert_array_equal(
        conv.load_mapping(mapping_mat), conv.mapping_lut(_map_class()))


@pytest.mark.parametrize('content,match', [
    ({
        'trainNdxs': [[1], [2]]
    }, "no 'testNdxs'"),
    ({
        'trainNdxs': [[0], [2]],
        'testNdxs': [[3]]
    }, 'positive integer'),
    ({
        'trainNdxs': [[1.5]],
        'testNdxs': [[3]]
    }, 'positive integer'),
    ({
        'trainNdxs': [[1], [1]],
        'testNdxs': [[3]]
    }, 'repeats'),
    ({
        'trainNdxs': [[1], [2]],
        'testNdxs': [[2]]
    }, r'frames \[2\] are in trainNdxs and testNdxs'),
])
def test_bad_splits(tmp_path, content, match):
    path = str(tmp_path / 'splits.mat')
    savemat(path, {k: np.array(v, np.float64) for k, v in content.items()})
    with pytest.raises((KeyError, ValueError), match=match):
        conv.load_splits(path)


def test_bad_mapping_and_files(tmp_path):
    with pytest.raises(ValueError, match='893 entries; expected 894'):
        conv.mapping_lut(np.ones(893))
    bad = _map_class()
    bad[99] = 41
    with pytest.raises(ValueError, match=r'\[99\] = 41.0 \(raw class 100\)'):
        conv.mapping_lut(bad)
    bad[99] = 0
    with pytest.raises(ValueError, match='raw class 100'):
        conv.mapping_lut(bad)
    path = str(tmp_path / 'mapping.mat')
    savemat(path, {'mapping': _map_class()})
    with pytest.raises(KeyError, match=r"no 'mapClass' \(it holds"):
        conv.load_mapping(path)
    with pytest.raises(FileNotFoundError, match='absent.mat'):
        conv.load_splits(str(tmp_path / 'absent.mat'))
    not_mat = tmp_path / 'text.mat'
    not_mat.write_text('not a MATLAB file')
    with pytest.raises(ValueError, match='MATLAB v5'):
        conv.load_splits(str(not_mat))


def test_bad_arrays(tmp_path):
    images, labels = _hdf5_order()
    lut = conv.mapping_lut(_map_class())
    with pytest.raises(ValueError, match=r'expected \(N, 3, W, H\)'):
        conv.convert_arrays(RGB, labels, {'train': np.array([1])}, lut,
                            str(tmp_path))
    with pytest.raises(ValueError, match='disagree'):
        conv.convert_arrays(images, RAW, {'train': np.array([1])}, lut,
                            str(tmp_path))
    with pytest.raises(ValueError, match='frame index 4 but the .mat holds 3'):
        conv.convert_arrays(images, labels, {'train': np.array([4])}, lut,
                            str(tmp_path))
    labels = labels.copy()
    labels[1, 0, 0] = 895
    with pytest.raises(ValueError, match='frame 0002: label value 895'):
        conv.convert_arrays(images, labels, {'test': np.array([2])}, lut,
                            str(tmp_path))


def test_missing_h5py_names_the_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'h5py', None)  # import raises
    with pytest.raises(ImportError, match='pip install h5py'):
        conv.open_labeled_mat(str(tmp_path / 'nyu_depth_v2_labeled.mat'))
    rc = conv.main([
        str(tmp_path / 'nyu_depth_v2_labeled.mat'), '--splits', 'splits.mat',
        '--mapping', 'classMapping40.mat', '-o',
        str(tmp_path / 'out')
    ])
    assert rc == 1
    assert 'pip install h5py' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'out')


def test_hdf5_file_end_to_end(tmp_path):
    h5py = pytest.importorskip(
        'h5py',
        reason='h5py is not installed here; the HDF5 reading of '
        'nyu_depth_v2_labeled.mat needs it (pip install h5py)')
    images, labels = _hdf5_order()
    mat = str(tmp_path / 'nyu_depth_v2_labeled.mat')
    with h5py.File(mat, 'w') as f:
        f['images'] = images
        f['labels'] = labels
    savemat(
        str(tmp_path / 'splits.mat'), {
            'trainNdxs': np.array([[1.0], [3.0]]),
            'testNdxs': np.array([[2.0]])
        })
    savemat(str(tmp_path / 'map.mat'), {'mapClass': _map_class()[None]})
    out = str(tmp_path / 'out')
    assert conv.main([
        mat, '--splits',
        str(tmp_path / 'splits.mat'), '--mapping',
        str(tmp_path / 'map.mat'), '-o', out
    ]) == 0
    label = cv2.imread(
        osp.join(out, 'labels40', 'test', '0002.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(label, EXPECTED40[1])


class _FakeH5File(dict):
    """What convert() uses of h5py.File: ``in``, ``[]``, close, ``with``."""

    def __init__(self, path, mode):
        assert mode == 'r'
        images, labels = _hdf5_order()
        super().__init__(images=images, labels=labels)
        self.closed = False

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_convert_reads_the_labeled_mat_datasets(tmp_path, monkeypatch):
    """The .mat -> layout flow with h5py.File replaced by a stand-in (the
    real-HDF5 variant above needs h5py)."""
    monkeypatch.setitem(sys.modules, 'h5py', type(sys)('h5py_stand_in'))
    sys.modules['h5py'].File = _FakeH5File
    mat = tmp_path / 'nyu_depth_v2_labeled.mat'
    mat.write_bytes(b'')
    savemat(
        str(tmp_path / 'splits.mat'), {
            'trainNdxs': np.array([[2.0]]),
            'testNdxs': np.array([[3.0], [1.0]])
        })
    savemat(str(tmp_path / 'map.mat'), {'mapClass': _map_class()[None]})
    out = str(tmp_path / 'out')
    written = conv.convert(
        str(mat),
        str(tmp_path / 'splits.mat'),
        str(tmp_path / 'map.mat'),
        out,
        verbose=False)
    assert written == {'train': ['0002'], 'test': ['0003', '0001']}
    for split, frame in (('train', 2), ('test', 3), ('test', 1)):
        label = cv2.imread(
            osp.join(out, 'labels40', split, f'{frame:04d}.png'),
            cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(label, EXPECTED40[frame - 1])
    # a file without the 'labels' dataset is refused by name
    monkeypatch.setattr(
        _FakeH5File, '__init__',
        lambda self, path, mode: dict.__init__(self, images=None))
    with pytest.raises(KeyError, match="no 'labels' dataset"):
        conv.open_labeled_mat(str(mat))
