# Copyright (c) mmboundary contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmboundary.models.heads import UbernetEdgeHead


def _head(**kwargs):
    cfg = dict(
        type='UbernetEdgeHead',
        in_channels=4,
        channels=4,
        num_convs=1,
        num_classes=2,
        loss_decode=dict(
            type='CrossEntropyLoss', loss_weight=1.0, loss_name='loss_edge'))
    cfg.update(kwargs)
    # other tests may leave the mmdet scope active
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def test_edge_targets_and_loss():
    head = _head()
    assert isinstance(head, UbernetEdgeHead)
    label = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2],
                           [2, 2, 2, 255]]])
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=label)
    # 8-neighbour edges by hand; the ignore pixel and its neighbours: 255.
    want = torch.tensor([[[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 255, 255],
                          [0, 0, 255, 255]]])
    assert torch.equal(head._stack_batch_gt([sample])[:, 0], want)
    logits = torch.randn(1, 2, 4, 4)
    losses = head.loss_by_feat(logits, [sample])
    assert set(losses) == {'loss_edge', 'acc_seg'}
    # mmseg's CE divides by all pixels unless avg_non_ignore is set.
    ce = F.cross_entropy(logits, want, ignore_index=255, reduction='sum')
    assert losses['loss_edge'].item() == pytest.approx(ce.item() / 16)


def test_needs_two_classes():
    with pytest.raises(ValueError, match='num_classes must be 2, got 19'):
        _head(num_classes=19)
