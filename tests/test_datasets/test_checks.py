# Copyright (c) mmboundary contributors. All rights reserved.
"""Label and annotation checks, and the data preflight (issue 20, items 2
and 4): an id outside ``[0, num_classes)`` that is not the ignore index, an
undeclared COCO category, a missing or unconverted dataset: one line naming
the file and the fix."""
import copy
import json
import os

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmboundary.datasets.checks import (LabelError, add_label_checks,
                                        check_coco_annotations,
                                        check_data_inputs, check_label_ids)
from mmboundary.datasets.transforms import CheckSegLabels
from mmboundary.utils.launch import MissingInputError


def test_valid_maps_pass():
    label = np.array([[0, 1], [18, 255]], np.uint8)
    check_label_ids(label, 19, 255, 'a.png')
    check_label_ids(np.zeros((0, 0), np.uint8), 19, 255)
    check_label_ids(np.array([[0, 2]], np.int64), 3, None)


@pytest.mark.parametrize(
    'value,ignore,shown',
    [
        (30, 255, '30'),
        (19, 255, '19'),  # the first id past the end
        (-1, 255, '-1'),
        (255, None, '255'),  # no ignore index: 255 is just out of range
        (255, 0, '255'),
    ])
def test_an_id_out_of_range_names_file_id_and_range(value, ignore, shown):
    label = np.zeros((4, 5), np.int64)
    label[2, 3] = value
    with pytest.raises(LabelError) as e:
        check_label_ids(label, 19, ignore, 'gtFine/x_labelTrainIds.png')
    msg = str(e.value)
    assert msg.startswith(f'gtFine/x_labelTrainIds.png: label id {shown} ')
    assert 'outside the valid range [0, 19)' in msg
    assert 'check_labels=False' in msg and '\n' not in msg
    if ignore is not None:
        assert f'not the ignore index {ignore}' in msg


def test_all_bad_ids_are_listed_once():
    label = np.array([[30, 31, 30, 1, 255]], np.uint8)
    with pytest.raises(LabelError, match=r'label ids 30, 31 outside'):
        check_label_ids(label, 19, 255, 'm.png')


def test_the_transform_checks_the_loaded_map():
    check = CheckSegLabels(num_classes=3)
    ok = dict(gt_seg_map=np.array([[0, 2, 255]], np.uint8))
    assert check(ok) is ok
    bad = dict(
        gt_seg_map=np.array([[0, 3]], np.uint8), seg_map_path='ann/a.png')
    with pytest.raises(
            LabelError,
            match=r'^ann/a.png: label id 3 outside '
            r'the valid range \[0, 3\)'):
        check(bad)
    with pytest.raises(KeyError, match='after LoadAnnotations'):
        check(dict())
    assert 'num_classes=3' in repr(check)


def _seg_cfg(**top):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    return Config(
        dict(
            default_scope='mmseg',
            train_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset',
                    times=2,
                    dataset=dict(type='CityscapesDataset',
                                 pipeline=pipeline))),
            val_dataloader=dict(
                dataset=dict(
                    type='BaseSegDataset',
                    metainfo=dict(classes=('a', 'b', 'c')),
                    ignore_index=7,
                    pipeline=copy.deepcopy(pipeline))),
            **top))


def test_checks_are_inserted_after_load_annotations():
    cfg = _seg_cfg()
    done = add_label_checks(cfg, ['train_dataloader', 'val_dataloader'])
    assert done == [
        'train_dataloader: label maps (19 classes)',
        'val_dataloader: label maps (3 classes)'
    ]
    train = cfg.train_dataloader.dataset.dataset.pipeline
    assert [s['type'] for s in train] == [
        'LoadImageFromFile', 'LoadAnnotations', 'CheckSegLabels',
        'PackSegInputs'
    ]
    assert train[2] == dict(
        type='CheckSegLabels', num_classes=19, ignore_index=255)
    val = cfg.val_dataloader.dataset.pipeline
    assert val[2] == dict(type='CheckSegLabels', num_classes=3, ignore_index=7)
    # once only, also when called again (a pipeline shared by loaders)
    add_label_checks(cfg, ['train_dataloader', 'val_dataloader'])
    assert len(cfg.train_dataloader.dataset.dataset.pipeline) == 4


def test_the_switch_turns_the_checks_off():
    cfg = _seg_cfg(check_labels=False)
    assert add_label_checks(cfg, ['train_dataloader', 'val_dataloader']) == []
    assert len(cfg.val_dataloader.dataset.pipeline) == 3


def test_tta_branches_get_a_check_step():
    cfg = Config(
        dict(
            default_scope='mmseg',
            test_dataloader=dict(
                dataset=dict(
                    type='CityscapesDataset',
                    pipeline=[
                        dict(type='LoadImageFromFile'),
                        dict(
                            type='TestTimeAug',
                            transforms=[[dict(type='Resize', scale=(
                                1, 1))], [dict(type='LoadAnnotations')],
                                        [dict(type='PackSegInputs')]])
                    ]))))
    add_label_checks(cfg, ['test_dataloader'])
    branches = cfg.test_dataloader.dataset.pipeline[1]['transforms']
    assert [b[0]['type'] for b in branches] == [
        'Resize', 'LoadAnnotations', 'CheckSegLabels', 'PackSegInputs'
    ]


def _coco(path, categories=((24, 'person'), (26, 'car')), anns=((1, 26), )):
    coco = dict(
        images=[dict(id=0, file_name='a.png', height=4, width=4)],
        annotations=[
            dict(id=i, image_id=0, category_id=c, bbox=[0, 0, 2, 2])
            for i, c in anns
        ],
        categories=[dict(id=i, name=n) for i, n in categories])
    path.write_text(json.dumps(coco))
    return str(path)


def test_coco_unknown_category_names_the_file(tmp_path):
    good = _coco(tmp_path / 'good.json')
    check_coco_annotations(good, ('person', 'car'))
    bad = _coco(tmp_path / 'bad.json', anns=((1, 26), (7, 99)))
    with pytest.raises(LabelError) as e:
        check_coco_annotations(bad)
    msg = str(e.value)
    assert msg.startswith(f'{bad}: annotation 7 (image 0) has category_id '
                          '99, which')
    assert 'ids 24, 26' in msg and 'check_labels=False' in msg
    with pytest.raises(LabelError, match=r"classes \['bus'\] are not"):
        check_coco_annotations(good, ('person', 'bus'))
    with pytest.raises(MissingInputError, match='nothing.json'):
        check_coco_annotations(str(tmp_path / 'nothing.json'))


def test_coco_datasets_are_checked_with_their_classes(tmp_path):
    _coco(tmp_path / 'inst.json', anns=((3, 5), ))
    cfg = Config(
        dict(
            default_scope='mmdet',
            train_dataloader=dict(
                dataset=dict(
                    type='CocoDataset',
                    data_root=str(tmp_path),
                    ann_file='inst.json',
                    metainfo=dict(classes=('person', 'car')),
                    pipeline=[]))))
    with pytest.raises(LabelError, match='category_id 5'):
        add_label_checks(cfg, ['train_dataloader'])
    cfg.check_labels = False
    assert add_label_checks(cfg, ['train_dataloader']) == []


def _write_map(path, value=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full((4, 4), value, np.uint8))


def _cs_cfg(root, with_val=False):
    loader = dict(
        dataset=dict(
            type='CityscapesDataset',
            data_root=root,
            data_prefix=dict(
                img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
            pipeline=[]))
    return Config(dict(default_scope='mmseg', train_dataloader=loader))


def test_preflight_names_the_missing_root_and_the_command(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _cs_cfg('data/synthetic_cityscapes/')
    with pytest.raises(MissingInputError) as e:
        check_data_inputs(cfg, ['train_dataloader'])
    msg = str(e.value)
    assert msg.startswith("train_dataloader: data_root "
                          "'data/synthetic_cityscapes/' does not exist")
    assert ('python tools/dataset_converters/generate_synthetic_'
            'cityscapes.py --out data/synthetic_cityscapes && python '
            'tools/dataset_converters/cityscapes.py '
            'data/synthetic_cityscapes') in msg
    assert 'train_dataloader.dataset.data_root=PATH' in msg


def test_preflight_names_unconverted_data(tmp_path):
    root = str(tmp_path / 'cs')
    os.makedirs(f'{root}/leftImg8bit/train/aachen')
    os.makedirs(f'{root}/gtFine/train/aachen')
    _write_map(f'{root}/gtFine/train/aachen/a_gtFine_labelIds.png')
    cfg = _cs_cfg(root)
    with pytest.raises(MissingInputError) as e:
        check_data_inputs(cfg, ['train_dataloader'])
    assert str(e.value) == (
        f'train_dataloader: no *_gtFine_labelTrainIds.png label maps under '
        f'{root}/gtFine/train; the data is not converted: run `python '
        f'tools/dataset_converters/cityscapes.py {root}`')
    _write_map(f'{root}/gtFine/train/aachen/a_gtFine_labelTrainIds.png')
    check_data_inputs(cfg, ['train_dataloader'])  # converted: passes
    # a missing folder of data_prefix and a missing evaluator file
    cfg.train_dataloader.dataset.data_prefix.img_path = 'leftImg8bit/val'
    with pytest.raises(MissingInputError, match='data_prefix.img_path'):
        check_data_inputs(cfg, ['train_dataloader'])
    cfg = _cs_cfg(root)
    cfg.val_evaluator = [
        dict(type='IoUMetric'),
        dict(
            type='CocoMetric',
            ann_file=f'{root}/annotations/instancesonly_filtered_gtFine_'
            'val.json')
    ]
    with pytest.raises(MissingInputError) as e:
        check_data_inputs(cfg, ['train_dataloader'], ['val_evaluator'])
    assert 'val_evaluator: ann_file' in str(e.value)
    assert f'cityscapes.py {root}`' in str(e.value)
