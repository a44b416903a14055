# Copyright (c) mmboundary contributors. All rights reserved.
"""AsyInstCheckHook: a BoxInst/AsyInst setup without depth (when the depth
affinity is asked for), without boxes, or with mismatched strides is refused
in before_train, naming the transform or key to fix, before any iteration."""
import copy
import os.path as osp
from types import SimpleNamespace
from unittest.mock import Mock

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner
from torch import nn

from mmboundary.engine.hooks import AsyInstCheckHook, iter_pipeline_transforms
from mmboundary.engine.hooks.asyinst_check_hook import add_asyinst_check_hook
from mmboundary.models.data_preprocessors import AsyInstDataPreprocessor
from mmboundary.testing import import_tool, train_only_config
from mmboundary.testing._utils import REPO_ROOT

NORM = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    pad_size_divisor=32)
META = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
        'flip_direction')
GEOMETRIC = [
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5)
]


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Leave the default scope as found (the pipelines and the Runner set
    'mmdet'; registry lookups of later tests depend on it)."""
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


def _pipeline(depth=True, align=True, meta=True, with_bbox=True):
    """align: True (AlignDepth wraps the geometric transforms), False (no
    depth alignment) or 'after' (ResizeFlipDepth after them)."""
    steps = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=with_bbox)
    ]
    if depth:
        steps.append(dict(type='LoadCityscapesDepth'))
    if align is True:
        steps.append(dict(type='AlignDepth', transforms=GEOMETRIC))
    else:
        steps.extend(GEOMETRIC)
    if align == 'after':
        steps.append(dict(type='ResizeFlipDepth'))
    steps.append(
        dict(
            type='PackDetInputs',
            meta_keys=META + (('gt_depth_map', ) if meta else ())))
    init_default_scope('mmdet')
    return Compose(steps)


def _runner(pipeline, depth_thresh=0.01, loss_depth=True, mask_out_stride=4):
    model = nn.Module()
    model.data_preprocessor = AsyInstDataPreprocessor(
        **NORM, mask_stride=4, depth_thresh=depth_thresh)
    model.mask_head = SimpleNamespace(
        loss_depth=object() if loss_depth else None,
        mask_out_stride=mask_out_stride)
    dataset = SimpleNamespace(pipeline=pipeline)
    return Mock(model=model, train_dataloader=SimpleNamespace(dataset=dataset))


def test_a_complete_depth_pipeline_passes():
    AsyInstCheckHook().before_train(_runner(_pipeline()))
    AsyInstCheckHook().before_train(_runner(_pipeline(align='after')))
    # colour only: no depth needed
    AsyInstCheckHook().before_train(
        _runner(
            _pipeline(depth=False, align=False, meta=False),
            depth_thresh=None,
            loss_depth=False))


@pytest.mark.parametrize(
    'kwargs,match',
    [
        # no depth at all: both transforms to add are named
        (dict(depth=False, align=False),
         r"no LoadCityscapesDepth.*dict\(type='AlignDepth'"),
        (dict(depth=False), 'no LoadCityscapesDepth'),
        (dict(align=False),
         r"no AlignDepth \(or ResizeFlipDepth.*moving 'gt_depth_map'"),
        (dict(meta=False), r"PackDetInputs does not list 'gt_depth_map'"),
        (dict(with_bbox=False), r"LoadAnnotations', with_bbox=True"),
    ])
def test_missing_transform_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AsyInstCheckHook().before_train(_runner(_pipeline(**kwargs)))


def test_depth_term_without_depth_edges_is_refused():
    with pytest.raises(ValueError, match=r'loss_depth is set.*depth_thresh'):
        AsyInstCheckHook().before_train(
            _runner(_pipeline(), depth_thresh=None, loss_depth=True))


def test_mask_stride_mismatch_is_refused():
    with pytest.raises(ValueError, match=r'mask_stride=4 .*mask_out_stride=2'):
        AsyInstCheckHook().before_train(
            _runner(_pipeline(), mask_out_stride=2))


def test_transforms_are_found_through_wrappers():
    pipeline = _pipeline()
    names = [
        type(t).__name__
        for t in iter_pipeline_transforms(SimpleNamespace(pipeline=pipeline))
    ]
    # AlignDepth's inner transforms come right after it, in order
    assert names == [
        'LoadImageFromFile', 'LoadAnnotations', 'LoadCityscapesDepth',
        'AlignDepth', 'Resize', 'RandomFlip', 'PackDetInputs'
    ]
    wrapped = SimpleNamespace(
        datasets=[SimpleNamespace(dataset=SimpleNamespace(pipeline=pipeline))])
    assert [type(t).__name__
            for t in iter_pipeline_transforms(wrapped)] == names
    runner = _runner(_pipeline(depth=False))
    runner.train_dataloader.dataset = SimpleNamespace(
        dataset=runner.train_dataloader.dataset)
    with pytest.raises(ValueError, match='no LoadCityscapesDepth'):
        AsyInstCheckHook().before_train(runner)


def test_compact_config_without_depth_fails_before_training(
        synthetic_cityscapes, tmp_path, monkeypatch):
    """The compact AsyInst config with its depth transforms removed fails
    in Runner.train() before the first batch reaches the model."""
    cfg = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/asyinst/'
            'asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'))
    pipeline = []
    for step in copy.deepcopy(cfg.train_pipeline):
        if step['type'] in ('LoadCityscapesDepth', 'ResizeFlipDepth'):
            continue
        if step['type'] == 'AlignDepth':
            pipeline.extend(step['transforms'])
            continue
        pipeline.append(step)
    cfg.train_dataloader.dataset.pipeline = pipeline
    cfg.train_dataloader.dataset.data_root = synthetic_cityscapes
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = None
        cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    cfg.work_dir = str(tmp_path)
    calls = []
    forward = AsyInstDataPreprocessor.forward
    monkeypatch.setattr(
        AsyInstDataPreprocessor, 'forward',
        lambda self, *a, **k: calls.append(1) or forward(self, *a, **k))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
            ValueError, match=r'no LoadCityscapesDepth.*AlignDepth'):
        runner.train()
    assert runner.iter == 0 and calls == []


def _compact(name):
    return Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/asyinst/',
            f'{name}_r18-fpn_1xb2-120iter_synthetic-cityscapes-'
            '128x256.py'))


def test_every_asyinst_config_gets_the_checks():
    cfg = _compact('asyinst')
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] != 'AsyInstCheckHook'
    ]
    assert add_asyinst_check_hook(cfg)
    assert [h['type'] for h in cfg.custom_hooks
            ] == ['LossWeightWarmupHook', 'AsyInstCheckHook']
    assert not add_asyinst_check_hook(cfg)  # listed once
    assert len(cfg.custom_hooks) == 2
    # the preprocessor or the mask head alone is enough (scoped names too)
    cfg = _compact('boxinst-proj')
    cfg.custom_hooks = []
    cfg.model.data_preprocessor.type = 'mmdet.BoxInstDataPreprocessor'
    cfg.model.mask_head.type = 'mmboundary.AsyInstMaskHead'
    assert add_asyinst_check_hook(cfg)
    assert cfg.custom_hooks == [dict(type='AsyInstCheckHook')]
    # other models are left alone
    cfg = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/edge_agreement/'
            'mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'))
    assert not add_asyinst_check_hook(cfg)
    assert not cfg.get('custom_hooks')


def test_train_checks_a_config_without_the_hook(synthetic_cityscapes, tmp_path,
                                                monkeypatch):
    """tools/train.py refuses the compact AsyInst config without depth in
    its pipeline even when the config does not list AsyInstCheckHook."""
    cfg = _compact('asyinst')
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] != 'AsyInstCheckHook'
    ]
    cfg.train_dataloader.dataset.pipeline = [
        step for step in cfg.train_pipeline
        if step['type'] not in ('LoadCityscapesDepth', 'ResizeFlipDepth')
    ]
    path = train_only_config(cfg, synthetic_cityscapes,
                             str(tmp_path / 'asyinst_no_depth.py'))
    calls = []
    forward = AsyInstDataPreprocessor.forward
    monkeypatch.setattr(
        AsyInstDataPreprocessor, 'forward',
        lambda self, *a, **k: calls.append(1) or forward(self, *a, **k))
    train = import_tool('tools/train.py')
    with pytest.raises(ValueError, match='no LoadCityscapesDepth'):
        train.main([path, '--work-dir', str(tmp_path / 'work')])
    assert calls == []
