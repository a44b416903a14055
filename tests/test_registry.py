# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary modules resolve from both host scopes, registered once."""
import numpy as np
import pytest
from mmdet.registry import HOOKS as DET_HOOKS
from mmdet.registry import METRICS as DET_METRICS
from mmdet.registry import MODELS as DET_MODELS
from mmdet.registry import TRANSFORMS as DET_TRANSFORMS
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import (HOOKS, METRICS, MODELS, TRANSFORMS,
                               init_default_scope)
from mmseg.registry import HOOKS as SEG_HOOKS
from mmseg.registry import METRICS as SEG_METRICS
from mmseg.registry import MODELS as SEG_MODELS
from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS

import mmboundary  # noqa: F401  (registers everything)
from mmboundary.testing._utils import REPO_ROOT

ROOTS = [(MODELS, SEG_MODELS, DET_MODELS),
         (TRANSFORMS, SEG_TRANSFORMS, DET_TRANSFORMS),
         (HOOKS, SEG_HOOKS, DET_HOOKS), (METRICS, SEG_METRICS, DET_METRICS)]


def _generic_names(registry):
    return sorted(name for name, cls in registry.module_dict.items()
                  if cls.__module__.startswith('mmboundary.'))


def test_each_generic_module_is_registered_once_and_shared():
    total = 0
    for root, seg, det in ROOTS:
        for name in _generic_names(root):
            total += 1
            with seg.switch_scope_and_registry('mmseg') as seg_reg:
                seg_cls = seg_reg.get(name)
            with det.switch_scope_and_registry('mmdet') as det_reg:
                det_cls = det_reg.get(name)
            assert seg_cls is det_cls is root.module_dict[name], name
            # registered once: not duplicated in a host registry
            assert name not in seg.module_dict and name not in det.module_dict
    # a loss, a transform, a hook and a metric at least
    for root in (MODELS, TRANSFORMS, HOOKS, METRICS):
        assert _generic_names(root), f'no mmboundary module in {root.name}'
    assert total >= 4


SHARED_HOOK = dict(
    type='LossWeightWarmupHook', loss_paths=['unused'], warmup_iters=10)
SHARED_TRANSFORM = dict(type='GenerateSemanticEdge', ignore_index=255)


@pytest.mark.parametrize('cfg_name,scope,size', [
    ('tiny_seg.py', 'mmseg', (32, 64)),
    ('tiny_det.py', 'mmdet', (32, 64)),
])
def test_tiny_host_models_use_the_same_modules(cfg_name, scope, size):
    cfg = Config.fromfile(f'{REPO_ROOT}/tests/data/configs/{cfg_name}')
    assert cfg.default_scope == scope
    init_default_scope(scope)
    model = MODELS.build(cfg.model)
    host = 'mmseg.models' if scope == 'mmseg' else 'mmdet.models'
    assert type(model).__module__.startswith(host)

    hook = HOOKS.build(SHARED_HOOK)
    assert type(hook).__name__ == 'LossWeightWarmupHook'

    # the same transform after the host's own Resize, in the host's scope
    pipeline = Compose([
        dict(type='Resize', scale=(size[1] * 2, size[0] * 2)), SHARED_TRANSFORM
    ])
    label = np.zeros(size, np.uint8)
    label[:, size[1] // 2:] = 1
    results = pipeline(
        dict(
            img=np.zeros(size + (3, ), np.uint8),
            gt_seg_map=label,
            img_shape=size,
            seg_fields=['gt_seg_map']))
    edge = results['gt_edge_map']
    assert edge.shape == (size[0] * 2, size[1] * 2)
    # two-sided edge: the two columns either side of the label change
    assert np.flatnonzero(edge[0]).tolist() == [size[1] - 1, size[1]]
