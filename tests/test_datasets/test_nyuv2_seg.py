# Copyright (c) mmboundary contributors. All rights reserved.
"""NYUv2SegDataset on a tiny NYU-format root written in tmp_path, loaded
through the pipelines of configs/_base_/datasets/nyuv2_seg_480x640.py."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmboundary.datasets.nyuv2_seg import (NYUV2_CLASSES, NYUv2SegDataset,
                                           nyuv2_palette)
from mmboundary.engine.pretraining.data import load_label, seg_map_infos
from mmboundary.testing._utils import REPO_ROOT

BASE = osp.join(REPO_ROOT, 'configs/_base_/datasets/nyuv2_seg_480x640.py')
H, W = 48, 64  # 3:4 like the 480 x 640 frames: the scales resize exactly
# label PNG quadrants (raw 40-class ids, 0 = unlabelled) and what the
# network must see after reduce_zero_label: 0 -> 255, k -> k - 1
RAW = (0, 1, 7, 40)
REDUCED = (255, 0, 6, 39)


def _label(shift):
    label = np.empty((H, W), np.uint8)
    values = np.roll(RAW, shift)
    label[:H // 2, :W // 2] = values[0]
    label[:H // 2, W // 2:] = values[1]
    label[H // 2:, :W // 2] = values[2]
    label[H // 2:, W // 2:] = values[3]
    return label


@pytest.fixture
def nyu_root(tmp_path):
    root = tmp_path / 'nyuv2'
    for split, stems in (('train', ('0003', '0010')), ('test', ('0001', ))):
        os.makedirs(root / 'images' / split)
        os.makedirs(root / 'labels40' / split)
        for k, stem in enumerate(stems):
            img = np.full((H, W, 3), 40 * k + 20, np.uint8)
            cv2.imwrite(str(root / 'images' / split / f'{stem}.png'), img)
            cv2.imwrite(
                str(root / 'labels40' / split / f'{stem}.png'), _label(k))
        (root / f'{split}.txt').write_text(''.join(s + '\n' for s in stems))
    return str(root)


def _dataset(cfg, loader, root, **kwargs):
    init_default_scope('mmseg')
    dataset = dict(cfg[loader].dataset, data_root=root, **kwargs)
    return DATASETS.build(dataset)


def test_classes_and_palette():
    assert len(NYUV2_CLASSES) == 40 == len(set(NYUV2_CLASSES))
    assert NYUV2_CLASSES[:3] == ('wall', 'floor', 'cabinet')
    assert NYUV2_CLASSES[21] == 'ceiling' and NYUV2_CLASSES[30] == 'person'
    assert NYUV2_CLASSES[-3:] == ('otherstructure', 'otherfurniture',
                                  'otherprop')
    palette = nyuv2_palette()
    assert len({tuple(c) for c in palette}) == 40
    # the VOC bit-interleaved colour map at ids 1..6, 8 and 40 (hand
    # computed: id 40 = 0b101000, bits 3 and 5 = the second bits of R and
    # B, i.e. 64)
    assert palette[:6] == [[128, 0, 0], [0, 128, 0], [128, 128, 0],
                           [0, 0, 128], [128, 0, 128], [0, 128, 128]]
    assert palette[7] == [64, 0, 0]
    assert palette[39] == [64, 0, 64]
    meta = NYUv2SegDataset.METAINFO
    assert meta['classes'] == NYUV2_CLASSES and meta['palette'] == palette


def test_train_pipeline_reduces_zero_label(nyu_root):
    cfg = Config.fromfile(BASE)
    dataset = _dataset(cfg, 'train_dataloader', nyu_root)
    assert isinstance(dataset, NYUv2SegDataset) and len(dataset) == 2
    infos = [dataset.get_data_info(i) for i in range(2)]
    assert [osp.basename(i['img_path'])
            for i in infos] == ['0003.png', '0010.png']
    assert all(i['reduce_zero_label'] for i in infos)
    seen, native = set(), 0
    np.random.seed(0)
    for _ in range(6):
        for index, shift in ((0, 0), (1, 1)):
            sample = dataset[index]['data_samples']
            gt = sample.gt_sem_seg.data.numpy()[0]
            assert gt.shape == (480, 640)  # the crop of the base
            values = set(np.unique(gt).tolist())
            assert values <= set(REDUCED)
            seen |= values
            # every pixel is the reduced value of its quadrant: at zoom 1.0
            # (10x) the crop is the whole frame
            if sample.scale_factor == (10.0, 10.0):
                native += 1
                expected = np.array(REDUCED, np.uint8)[np.searchsorted(
                    RAW, _label(shift))]
                if sample.flip:
                    expected = expected[:, ::-1]
                np.testing.assert_array_equal(
                    gt,
                    cv2.resize(
                        expected, (640, 480), interpolation=cv2.INTER_NEAREST))
    assert seen == set(REDUCED) and native > 0


def test_test_pipeline_maps_every_pixel(nyu_root):
    cfg = Config.fromfile(BASE)
    dataset = _dataset(cfg, 'val_dataloader', nyu_root)
    assert len(dataset) == 1
    out = dataset[0]
    assert tuple(out['inputs'].shape) == (3, 480, 640)
    gt = out['data_samples'].gt_sem_seg.data.numpy()[0]
    expected = np.array(REDUCED, np.uint8)[np.searchsorted(RAW, _label(0))]
    assert expected[0, 0] == 255 and expected[-1, -1] == 39
    np.testing.assert_array_equal(gt, expected)


def test_ann_file_selects_frames(nyu_root):
    cfg = Config.fromfile(BASE)
    with open(osp.join(nyu_root, 'train.txt'), 'w') as f:
        f.write('0010\n')
    dataset = _dataset(cfg, 'train_dataloader', nyu_root, ann_file='train.txt')
    assert len(dataset) == 1
    assert osp.basename(dataset.get_data_info(0)['seg_map_path']) == '0010.png'
    # a listed frame without its image is refused by name
    with open(osp.join(nyu_root, 'test.txt'), 'w') as f:
        f.write('0001\n0099\n')
    with pytest.raises(FileNotFoundError, match=r'0099.png \(listed in'):
        _dataset(cfg, 'val_dataloader', nyu_root, ann_file='test.txt')


def test_bad_roots_name_the_path_and_the_converter(nyu_root, tmp_path):
    cfg = Config.fromfile(BASE)
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as e:
        _dataset(cfg, 'train_dataloader', missing)
    assert osp.join(missing, 'images', 'train') in str(e.value)
    assert 'tools/dataset_converters/nyuv2.py' in str(e.value)
    # NYU-Depth-v2 has no val split: the message lists what is there
    with pytest.raises(FileNotFoundError) as e:
        _dataset(
            cfg,
            'val_dataloader',
            nyu_root,
            data_prefix=dict(img_path='images/val', seg_map_path='x'))
    assert 'images/val' in str(e.value)
    assert 'holds test, train' in str(e.value)
    assert 'train (795 frames), test (654 frames)' in str(e.value)
    os.remove(osp.join(nyu_root, 'labels40', 'train', '0010.png'))
    with pytest.raises(FileNotFoundError, match='0010.png is missing'):
        _dataset(cfg, 'train_dataloader', nyu_root)
    with pytest.raises(FileNotFoundError, match='ann_file .*absent.txt'):
        _dataset(cfg, 'val_dataloader', nyu_root, ann_file='absent.txt')


def test_empty_split_and_zero_label_setting(nyu_root):
    cfg = Config.fromfile(BASE)
    for name in os.listdir(osp.join(nyu_root, 'images', 'test')):
        os.remove(osp.join(nyu_root, 'images', 'test', name))
    with pytest.raises(ValueError, match=r'holds no \*\.png image'):
        _dataset(cfg, 'val_dataloader', nyu_root)
    with pytest.raises(ValueError, match='reduce_zero_label=False'):
        _dataset(cfg, 'train_dataloader', nyu_root, reduce_zero_label=False)


def test_inverseform_config_reads_the_root(nyu_root):
    """The NYU InverseForm config's train data: the Sobel target is packed,
    and the InverseNet pretraining reads the label maps reduced as in
    training (unlabelled -> 255, which makes no boundary)."""
    cfg = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/inverseform/'
            'inverseform_hr18_4xb2-10k_nyuv2-480x640.py'))
    dataset = _dataset(cfg, 'train_dataloader', nyu_root)
    sample = dataset[0]['data_samples']
    edge = sample.gt_edge_map.data.numpy()[0]
    gt = sample.gt_sem_seg.data.numpy()[0]
    assert edge.shape == (480, 640) and set(np.unique(edge)) == {0, 1, 255}
    np.testing.assert_array_equal(edge == 255, gt == 255)
    infos = seg_map_infos(dataset)
    assert [osp.basename(i['seg_map_path'])
            for i in infos] == ['0003.png', '0010.png']
    expected = np.array(REDUCED, np.uint8)[np.searchsorted(RAW, _label(1))]
    np.testing.assert_array_equal(load_label(infos[1]), expected)
