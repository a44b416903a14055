# Copyright (c) mmboundary contributors. All rights reserved.
"""BoundaryTargetCheckHook: a BoundaryHead reading gt_edge_map without
GenerateSobelBoundary in the training pipeline is refused before the first
iteration, also in configs without InverseNetPretrainHook (the BCE-only
boundary head), naming the transform to add."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmboundary.engine.hooks import add_boundary_target_check_hook
from mmboundary.models.heads import BoundaryHead
from mmboundary.testing import import_tool, train_only_config
from mmboundary.testing._utils import REPO_ROOT

COMPACT = ('configs/inverseform/{}_r18-tiny_1xb4-300it_synthetic-cityscapes-'
           '256x512.py')


@pytest.fixture(autouse=True)
def _restore_default_scope():
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


def _compact(name):
    return Config.fromfile(osp.join(REPO_ROOT, COMPACT.format(name)))


def test_configs_with_a_boundary_head_get_the_check():
    cfg = _compact('fcn-bce')
    assert not any(h['type'] == 'BoundaryTargetCheckHook'
                   for h in cfg.get('custom_hooks') or [])
    assert add_boundary_target_check_hook(cfg)
    assert cfg.custom_hooks[-1] == dict(type='BoundaryTargetCheckHook')
    n = len(cfg.custom_hooks)
    assert not add_boundary_target_check_hook(cfg)  # listed once
    assert len(cfg.custom_hooks) == n
    # heads that compute their target on the device need no transform
    cfg = _compact('fcn-bce')
    cfg.model.auxiliary_head.boundary_source = 'sobel'
    assert not add_boundary_target_check_hook(cfg)
    # a scoped type inside a list of auxiliary heads is found
    cfg = _compact('fcn-bce')
    head = dict(cfg.model.auxiliary_head, type='mmboundary.BoundaryHead')
    cfg.model.auxiliary_head = [dict(type='FCNHead'), head]
    assert add_boundary_target_check_hook(cfg)
    # models without a boundary head are left alone
    cfg = _compact('fcn')
    assert not add_boundary_target_check_hook(cfg)
    assert not any(
        h.get('type') == 'BoundaryTargetCheckHook'
        for h in cfg.get('custom_hooks') or [])


def test_train_refuses_a_missing_boundary_target(synthetic_cityscapes,
                                                 tmp_path, monkeypatch):
    """tools/train.py refuses the BCE-only compact config without
    GenerateSobelBoundary before any forward pass of the boundary head."""
    cfg = _compact('fcn-bce')
    pipeline = [
        step for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] != 'GenerateSobelBoundary'
    ]
    assert len(pipeline) == len(cfg.train_dataloader.dataset.pipeline) - 1
    cfg.train_dataloader.dataset.pipeline = pipeline
    path = train_only_config(cfg, synthetic_cityscapes,
                             str(tmp_path / 'fcn_bce_no_sobel.py'))
    calls = []
    loss = BoundaryHead.loss_by_feat
    monkeypatch.setattr(
        BoundaryHead, 'loss_by_feat',
        lambda self, *a, **k: calls.append(1) or loss(self, *a, **k))
    train = import_tool('tools/train.py')
    with pytest.raises(
            KeyError, match=r"dict\(type='GenerateSobelBoundary'\)"):
        train.main([path, '--work-dir', str(tmp_path / 'work')])
    assert calls == []
