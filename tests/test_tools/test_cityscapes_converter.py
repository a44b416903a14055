# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/dataset_converters/cityscapes.py on a small synthetic root."""
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmboundary.testing import import_tool
from mmboundary.utils.cli import UserError
from .test_generate_synthetic_cityscapes import H, W

cs_labels = pytest.importorskip('cityscapesscripts.helpers.labels')
mask_utils = pytest.importorskip('pycocotools.mask')

gen = import_tool('tools/dataset_converters/generate_synthetic_cityscapes.py')
conv = import_tool('tools/dataset_converters/cityscapes.py')


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('conv') / 'cs')
    gen.generate(
        root, seed=5, num_train=3, num_val=2, height=H, width=W, verbose=False)
    written = conv.convert(root, nproc=1, verbose=False)
    return root, written


def test_label_train_ids_match_the_label_table(converted):
    root, _ = converted
    lut = np.full(256, 255, np.uint8)
    for lab in cs_labels.labels:
        if lab.id >= 0:
            lut[lab.id] = lab.trainId if 0 <= lab.trainId < 255 else 255
    files = sorted(
        glob.glob(osp.join(root, 'gtFine', '*', '*', '*_gtFine_labelIds.png')))
    assert len(files) == 5
    for path in files:
        ids = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        train = cv2.imread(
            path.replace('_labelIds.png', '_labelTrainIds.png'),
            cv2.IMREAD_UNCHANGED)
        assert train.dtype == np.uint8 and train.shape == (H, W)
        np.testing.assert_array_equal(train, lut[ids])
        assert (train == 255).any()  # ego vehicle is ignored
    with open(osp.join(root, 'val.txt')) as f:
        assert len(f.read().split()) == 2


def test_instance_json_matches_instance_ids(converted):
    root, written = converted
    assert sorted(written) == ['train', 'val']
    assert written['val'] == osp.join(
        root, 'annotations', 'instancesonly_filtered_gtFine_val.json')
    with open(written['val']) as f:
        coco = json.load(f)
    assert [c['name'] for c in coco['categories']] == [
        'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
        'bicycle'
    ]
    assert len(coco['images']) == 2
    # unique ids counted from 1 (COCO evaluators treat id 0 as unmatched)
    assert sorted(a['id'] for a in coco['annotations']) == list(
        range(1,
              len(coco['annotations']) + 1))
    for image in coco['images']:
        assert (image['height'], image['width']) == (H, W)
        city, name = image['file_name'].split('/')
        assert name.startswith(city) and name.endswith('_leftImg8bit.png')
        inst = cv2.imread(
            osp.join(root, 'gtFine', 'val', city,
                     name.replace('leftImg8bit', 'gtFine_instanceIds')),
            cv2.IMREAD_UNCHANGED)
        anns = [a for a in coco['annotations'] if a['image_id'] == image['id']]
        expected = sorted(int(i) for i in np.unique(inst) if i >= 1000)
        assert len(anns) == len(expected)
        for ann in anns:
            mask = mask_utils.decode(ann['segmentation']).astype(bool)
            ids = np.unique(inst[mask])
            assert len(ids) == 1 and ids[0] // 1000 == ann['category_id']
            np.testing.assert_array_equal(mask, inst == ids[0])
            ys, xs = np.nonzero(mask)
            x0, y0 = xs.min(), ys.min()
            assert ann['bbox'] == [
                x0, y0, xs.max() - x0 + 1,
                ys.max() - y0 + 1
            ]
            assert ann['area'] == mask.sum() and ann['iscrowd'] == 0


def test_host_datasets_read_the_outputs(converted):
    root, _ = converted
    from mmdet.datasets import CityscapesDataset as DetCityscapes
    from mmseg.datasets import CityscapesDataset as SegCityscapes
    seg = SegCityscapes(
        data_root=root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=[])
    assert len(seg) == 3
    assert seg[0]['seg_map_path'].endswith('_gtFine_labelTrainIds.png')
    det = DetCityscapes(
        data_root=root,
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=[])
    assert len(det) == 3
    info = det[0]
    assert osp.isfile(info['img_path'])
    # one instance per instance id of the frame (min_size=0), labelled in
    # mmdet's class order by the id's Cityscapes class
    inst = cv2.imread(
        info['img_path'].replace('leftImg8bit', 'gtFine',
                                 1).replace('_leftImg8bit.png',
                                            '_gtFine_instanceIds.png'),
        cv2.IMREAD_UNCHANGED)
    ids = [int(i) for i in np.unique(inst) if i >= 1000]
    order = [
        cs_labels.name2label[c].id for c in DetCityscapes.METAINFO['classes']
    ]
    assert len(ids) >= 2
    assert sorted(i['bbox_label'] for i in info['instances']) == sorted(
        order.index(i // 1000) for i in ids)


def test_layout_errors_name_the_file(tmp_path, capsys):
    with pytest.raises(conv.LayoutError, match='leftImg8bit'):
        conv.convert(str(tmp_path))
    with pytest.raises(UserError, match='not a Cityscapes root'):
        conv.main([str(tmp_path)])

    root = str(tmp_path / 'cs')
    gen.generate(
        root, seed=0, num_train=1, num_val=0, height=H, width=W, verbose=False)
    img = glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png'))[0]
    os.remove(img)
    with pytest.raises(conv.LayoutError) as e:
        conv.convert(root, verbose=False)
    assert img in str(e.value) and 'expected the image' in str(e.value)

    root = str(tmp_path / 'cs8')
    gen.generate(
        root, seed=0, num_train=1, num_val=0, height=H, width=W, verbose=False)
    inst = glob.glob(
        osp.join(root, 'gtFine', 'train', '*', '*_instanceIds.png'))[0]
    cv2.imwrite(inst, np.zeros((H, W, 3), np.uint8))
    with pytest.raises(conv.LayoutError) as e:
        conv.convert(root, verbose=False)
    assert inst in str(e.value) and '16-bit' in str(e.value)

    empty = tmp_path / 'empty'
    (empty / 'leftImg8bit').mkdir(parents=True)
    (empty / 'gtFine' / 'val').mkdir(parents=True)
    with pytest.raises(conv.LayoutError, match='gtFine_polygons.json'):
        conv.convert(str(empty), verbose=False)


def test_unknown_polygon_label_names_the_file(tmp_path):
    root = str(tmp_path / 'cs')
    gen.generate(
        root, seed=0, num_train=1, num_val=0, height=H, width=W, verbose=False)
    poly = glob.glob(
        osp.join(root, 'gtFine', 'train', '*', '*_polygons.json'))[0]
    with open(poly) as f:
        ann = json.load(f)
    ann['objects'][3]['label'] = 'spaceship'
    ann['objects'][4]['label'] = 'cargroup'  # a group label is known
    with open(poly, 'w') as f:
        json.dump(ann, f)
    with pytest.raises(conv.LayoutError) as e:
        conv.convert(root, verbose=False)
    assert str(e.value) == (
        f"{poly}: object 3 has label 'spaceship', which is not a Cityscapes "
        'label name (cityscapesscripts.helpers.labels); fix or delete the '
        'object')
    ann['objects'][3]['deleted'] = 1  # deleted objects are skipped
    with open(poly, 'w') as f:
        json.dump(ann, f)
    conv.convert(root, verbose=False)


def test_progress_lines_and_quiet(converted, capsys):
    root, _ = converted
    conv.convert(root, splits=['val'], verbose=True)
    out = capsys.readouterr().out
    assert '[cityscapes] val: 2/2 (100%)' in out and 'ETA' in out
    assert '[cityscapes] val: 2 frames' in out
    conv.main([root, '--splits', 'val', '--quiet'])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith('[cityscapes] val: 2 frames')
