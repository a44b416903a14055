# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/dataset_converters/generate_synthetic_cityscapes.py."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmboundary.testing import import_tool
from mmboundary.utils.cli import UserError

cs_labels = pytest.importorskip('cityscapesscripts.helpers.labels')


def _load_tool(name):
    """A tool of ``tools/dataset_converters/`` as a module."""
    return import_tool(f'tools/dataset_converters/{name}.py')


gen = _load_tool('generate_synthetic_cityscapes')

H, W = 128, 256
SUFFIXES = {
    'gtFine': ('_gtFine_labelIds.png', '_gtFine_instanceIds.png',
               '_gtFine_color.png', '_gtFine_polygons.json'),
    'disparity': ('_disparity.png', ),
    'camera': ('_camera.json', ),
}


@pytest.fixture(scope='module')
def small_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic') / 'cs')
    gen.generate(
        root, seed=3, num_train=4, num_val=2, height=H, width=W, verbose=False)
    return root


def _read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def _frames(root):
    imgs = sorted(glob.glob(osp.join(root, 'leftImg8bit', '*', '*', '*.png')))
    return [p[:-len('_leftImg8bit.png')] for p in imgs]


def _gt(frame, folder, suffix):
    return frame.replace(f'{osp.sep}leftImg8bit{osp.sep}',
                         f'{osp.sep}{folder}{osp.sep}') + suffix


def test_layout_and_encodings(small_root):
    frames = _frames(small_root)
    assert len(frames) == 6
    splits = sorted(
        {osp.basename(osp.dirname(osp.dirname(f)))
         for f in frames})
    assert splits == ['train', 'val']
    for frame in frames:
        city = osp.basename(osp.dirname(frame))
        stem = osp.basename(frame)
        # {city}_{seq:06d}_{frame:06d}
        c, seq, num = stem.rsplit('_', 2)
        assert c == city and len(seq) == 6 and num == '000019'
        img = _read(frame + '_leftImg8bit.png')
        assert img.shape == (H, W, 3) and img.dtype == np.uint8
        for folder, suffixes in SUFFIXES.items():
            for suffix in suffixes:
                assert osp.isfile(_gt(frame, folder, suffix)), (frame, suffix)

        label = _read(_gt(frame, 'gtFine', '_gtFine_labelIds.png'))
        inst = _read(_gt(frame, 'gtFine', '_gtFine_instanceIds.png'))
        color = _read(_gt(frame, 'gtFine', '_gtFine_color.png'))
        assert label.shape == (H, W) and label.dtype == np.uint8
        assert inst.shape == (H, W) and inst.dtype == np.uint16
        assert color.shape == (H, W, 4)
        assert set(np.unique(label)) <= set(cs_labels.id2label)
        # instanceIds: class id for stuff, id * 1000 + k for instances
        big = inst >= 1000
        assert (inst[big] // 1000 == label[big]).all()
        assert (inst[~big] == label[~big]).all()
        for i in np.unique(inst[big]):
            assert cs_labels.id2label[int(i) // 1000].hasInstances
        for lid in np.unique(label):
            rgba = (*cs_labels.id2label[int(lid)].color, 255)
            assert (color[label == lid][:, [2, 1, 0, 3]] == rgba).all()

        disp = _read(_gt(frame, 'disparity', '_disparity.png'))
        assert disp.shape == (H, W) and disp.dtype == np.uint16
        sky = label == cs_labels.name2label['sky'].id
        assert (disp[sky] == 0).all()  # no disparity for the sky
        invalid = (disp == 0) & ~sky
        assert 0.005 < invalid.mean() < 0.3
        with open(_gt(frame, 'camera', '_camera.json')) as f:
            cam = json.load(f)
        # Cityscapes' stereo baseline (0.209313 m), jittered by +-5 mm
        assert abs(cam['extrinsic']['baseline'] - 0.209313) <= 0.005
        assert set(cam['intrinsic']) == {'fx', 'fy', 'u0', 'v0'}


def test_scene_content(small_root):
    names = set()
    multi = set()
    for frame in _frames(small_root):
        inst = _read(_gt(frame, 'gtFine', '_gtFine_instanceIds.png'))
        names.update(cs_labels.id2label[int(i) if i < 1000 else int(i) //
                                        1000].name for i in np.unique(inst))
        ids = np.unique(inst[inst >= 1000]) // 1000
        multi.update(cs_labels.id2label[int(c)].name for c in ids
                     if (ids == c).sum() > 1)
    assert {
        'road', 'sidewalk', 'building', 'vegetation', 'sky', 'pole',
        'traffic sign', 'person', 'rider', 'car', 'bicycle', 'ego vehicle'
    } <= names
    assert {'person', 'car'} <= multi  # several instances of a class


def test_json2labelimg_reproduces_label_images(small_root):
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2instanceImg import \
        createInstanceImage
    from cityscapesscripts.preparation.json2labelImg import createLabelImage
    differing = 0
    for frame in _frames(small_root):
        ann = Annotation()
        ann.fromJsonFile(_gt(frame, 'gtFine', '_gtFine_polygons.json'))
        assert (ann.imgHeight, ann.imgWidth) == (H, W)
        label = _read(_gt(frame, 'gtFine', '_gtFine_labelIds.png'))
        inst = _read(_gt(frame, 'gtFine', '_gtFine_instanceIds.png'))
        differing += int((np.asarray(createLabelImage(ann, 'ids'))
                          != label).sum())
        differing += int((np.asarray(createInstanceImage(ann, 'ids'))
                          != inst).sum())
    # the PNGs are rasterised from the polygons exactly as cityscapesscripts
    # does (PIL, same order), so not a single pixel differs
    assert differing == 0


def test_depth_follows_occlusion_order(small_root):
    """Objects later in the polygon list (drawn on top) are nearer."""
    for frame in _frames(small_root):
        with open(_gt(frame, 'gtFine', '_gtFine_polygons.json')) as f:
            objects = json.load(f)['objects']
        with open(_gt(frame, 'camera', '_camera.json')) as f:
            cam = json.load(f)
        inst = _read(_gt(frame, 'gtFine', '_gtFine_instanceIds.png'))
        disp = _read(_gt(frame, 'disparity', '_disparity.png'))
        bf = cam['extrinsic']['baseline'] * cam['intrinsic']['fx']
        counts, order = {}, []
        for pos, obj in enumerate(objects):
            info = cs_labels.name2label[obj['label']]
            if info.hasInstances:
                k = counts.get(info.name, 0)
                counts[info.name] = k + 1
                order.append((pos, info.id * 1000 + k))
        depths = []
        for pos, inst_id in order:
            valid = (inst == inst_id) & (disp > 1)
            if valid.sum() >= 5:
                d = (disp[valid].astype(np.float64) - 1) / 256
                depths.append(np.median(bf / d))
        assert len(depths) >= 3
        # 1 % disparity noise: allow 3 % slack between neighbours
        assert all(a >= b * 0.97 for a, b in zip(depths, depths[1:]))


def test_deterministic_and_seeded(small_root, tmp_path):
    again = str(tmp_path / 'again')
    other = str(tmp_path / 'other')
    gen.generate(
        again,
        seed=3,
        num_train=4,
        num_val=2,
        height=H,
        width=W,
        verbose=False)
    gen.generate(
        other,
        seed=4,
        num_train=1,
        num_val=0,
        height=H,
        width=W,
        verbose=False)
    files = sorted(
        osp.relpath(p, small_root)
        for p in glob.glob(osp.join(small_root, '*', '*', '*', '*')))
    assert len(files) == 6 * 7
    for rel in files:
        with open(osp.join(small_root, rel), 'rb') as a, \
                open(osp.join(again, rel), 'rb') as b:
            assert a.read() == b.read(), rel
    first = osp.join('leftImg8bit', 'train', 'aachen',
                     'aachen_000000_000019_leftImg8bit.png')
    assert not np.array_equal(
        _read(osp.join(small_root, first)), _read(osp.join(other, first)))


def test_refuses_to_overwrite_a_non_synthetic_root(tmp_path, capsys):
    real = tmp_path / 'cityscapes'
    (real / 'leftImg8bit').mkdir(parents=True)
    (real / 'license.txt').write_text('real data')
    with pytest.raises(FileExistsError, match='marker'):
        gen.generate(str(real), num_train=1, num_val=0, height=H, width=W)
    with pytest.raises(UserError, match='Refusing to overwrite'):
        gen.main(['--out', str(real), '--num-train', '1'])
    assert (real / 'license.txt').read_text() == 'real data'
    assert sorted(p.name
                  for p in real.iterdir()) == ['leftImg8bit', 'license.txt']


def _args(root, num_train, num_val, *extra):
    return [
        '--out', root, '--num-train',
        str(num_train), '--num-val',
        str(num_val), '--height',
        str(H), '--width',
        str(W), '--quiet', *extra
    ]


def _snapshot(root):
    """{relative path: bytes} of every file under ``root``."""
    out = {}
    for path in glob.glob(osp.join(root, '**', '*'), recursive=True):
        if osp.isfile(path):
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def test_rerun_with_other_sizes_is_refused_and_overwrite_is_consistent(
        tmp_path, capsys):
    conv = _load_tool('cityscapes')
    syn = str(tmp_path / 'syn')
    assert gen.main(_args(syn, 2, 1)) == 0
    conv.convert(syn, verbose=False)
    before = _snapshot(syn)
    assert 'train.txt' in before and 'val.txt' in before
    assert any(k.endswith('_labelTrainIds.png') for k in before)

    # the same settings: nothing is rewritten or removed
    assert gen.main(_args(syn, 2, 1)) == 0
    assert _snapshot(syn) == before

    # other sizes: refused by name, nothing touched
    with pytest.raises(UserError) as e:
        gen.main(_args(syn, 1, 1))
    msg = str(e.value)
    assert msg.startswith(f'{syn} holds a synthetic dataset generated with '
                          f'version=2, seed=0, num_train=2, num_val=1, '
                          f'height={H}, width={W}; generating version=2, '
                          'seed=0, num_train=1')
    assert 'Pass --overwrite' in msg and 'train.txt' in msg
    assert _snapshot(syn) == before

    # --overwrite: everything rewritten, converted again, lists included
    assert gen.main(_args(syn, 1, 2, '--overwrite')) == 0
    after = _snapshot(syn)
    with open(osp.join(syn, 'train.txt')) as f:
        assert f.read().split() == ['aachen/aachen_000000_000019']
    with open(osp.join(syn, 'val.txt')) as f:
        assert f.read().split() == [
            'frankfurt/frankfurt_000000_000019', 'lindau/lindau_000000_000019'
        ]
    train_ids = sorted(k for k in after if k.endswith('_labelTrainIds.png'))
    assert train_ids == [
        'gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png',
        'gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_'
        'labelTrainIds.png',
        'gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png'
    ]
    with open(
            osp.join(syn, 'annotations',
                     'instancesonly_filtered_gtFine_val.json')) as f:
        assert len(json.load(f)['images']) == 2
    assert len(_frames(syn)) == 3
    # the files are those of a fresh root with the same settings
    fresh = str(tmp_path / 'fresh')
    assert gen.main(_args(fresh, 1, 2)) == 0
    for rel, data in _snapshot(fresh).items():
        assert after[rel] == data, rel


def test_an_interrupted_root_is_completed(tmp_path):
    syn = str(tmp_path / 'syn')
    assert gen.main(_args(syn, 2, 0)) == 0
    marker = osp.join(syn, gen.MARKER)
    with open(marker) as f:
        settings = json.load(f)
    assert settings['complete'] is True
    first = _frames(syn)[0] + '_leftImg8bit.png'
    with open(first, 'rb') as f:
        data = f.read()
    settings['complete'] = False  # as if killed while writing
    with open(marker, 'w') as f:
        json.dump(settings, f)
    import os
    os.remove(first)
    assert gen.main(_args(syn, 2, 0)) == 0
    with open(first, 'rb') as f:
        assert f.read() == data


def test_progress_lines_and_quiet(tmp_path, capsys):
    gen.generate(
        str(tmp_path / 'a'), num_train=2, num_val=1, height=H, width=W)
    out = capsys.readouterr().out
    assert '[synthetic cityscapes] train: 2/2 (100%)' in out
    assert '[synthetic cityscapes] val: 1/1 (100%)' in out
    assert 'ETA' in out
    assert gen.main(_args(str(tmp_path / 'b'), 1, 0)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(
        f'[synthetic cityscapes] 1 frames ({H}x{W}) in ')


def test_a_root_of_another_data_version_is_refused_then_rewritten(
        tmp_path, capsys):
    """A root written by data version 1 (its marker has no version) with
    the very same settings: refused in one line naming the versions and
    --overwrite; with --overwrite rewritten as version 2, byte for byte the
    files of a fresh root."""
    syn = str(tmp_path / 'syn')
    assert gen.main(_args(syn, 1, 1)) == 0
    marker = osp.join(syn, gen.MARKER)
    with open(marker) as f:
        settings = json.load(f)
    del settings['version']  # as the version-1 generator wrote it
    with open(marker, 'w') as f:
        json.dump(settings, f)
    before = _snapshot(syn)
    with pytest.raises(UserError) as e:
        gen.main(_args(syn, 1, 1))
    msg = str(e.value)
    assert '\n' not in msg
    assert msg.startswith(f'{syn} holds a synthetic dataset generated with '
                          'version=1, seed=0')
    assert ('(data version 1; this generator writes version 2)' in msg
            and 'Pass --overwrite' in msg)
    assert _snapshot(syn) == before  # nothing touched
    assert gen.main(_args(syn, 1, 1, '--overwrite')) == 0
    with open(marker) as f:
        assert json.load(f)['version'] == gen.DATA_VERSION == 2
    fresh = str(tmp_path / 'fresh')
    assert gen.main(_args(fresh, 1, 1)) == 0
    after = _snapshot(syn)
    for rel, data in _snapshot(fresh).items():
        assert after[rel] == data, rel
