# Copyright (c) mmboundary contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS as SEG_MODELS
from mmseg.structures import SegDataSample

from mmboundary.models.heads import BoundaryHead
from mmboundary.models.segmentors import (EdgeAttentionEncoderDecoder,
                                          edge_attention_ce)
from mmboundary.utils.label_boundary import sobel_boundary_target


def _head(**kwargs):
    cfg = dict(
        type='BoundaryHead',
        in_channels=4,
        channels=3,
        num_convs=1,
        loss_decode=[
            dict(type='BoundaryBCELoss', loss_weight=0.3),
        ])
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return SEG_MODELS.build(cfg)


def _sample(label, edge=True):
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=label[None])
    if edge:
        sample.gt_edge_map = PixelData(data=sobel_boundary_target(label[None]))
    sample.set_metainfo(dict(img_shape=tuple(label.shape)))
    return sample


def _label():
    lab = torch.zeros(8, 10, dtype=torch.long)
    lab[:, 5:] = 3
    lab[0, 0] = 255
    return lab


def test_forward_targets_and_losses():
    head = _head()
    assert isinstance(head, BoundaryHead)
    assert head.out_channels == 1 and head.num_classes == 2
    feats = [torch.randn(2, 4, 4, 5)]
    logits = head.forward(feats)
    assert logits.shape == (2, 1, 4, 5)
    samples = [_sample(_label()), _sample(_label())]
    target = head._stack_batch_gt(samples)
    assert target.shape == (2, 1, 8, 10)
    assert torch.equal(target[0, 0], sobel_boundary_target(_label()[None])[0])
    # 'sobel' computes the same target from gt_sem_seg on the device
    sobel = _head(boundary_source='sobel')
    nosamples = [_sample(_label(), edge=False)] * 2
    assert torch.equal(sobel._stack_batch_gt(nosamples), target)
    losses = head.loss_by_feat(logits, samples)
    assert set(losses) == {'loss_boundary_bce', 'acc_boundary'}
    # acc_boundary by hand on the resized logits
    from mmseg.models.utils import resize
    up = resize(logits, (8, 10), mode='bilinear', align_corners=False)[:, 0]
    lab = target[:, 0]
    valid = lab != 255
    acc = (((up > 0) == (lab == 1)) & valid).sum() / valid.sum() * 100
    assert losses['acc_boundary'].item() == pytest.approx(acc.item())
    from mmboundary.models.losses import BoundaryBCELoss
    ref = BoundaryBCELoss(loss_weight=0.3)(up[:, None], lab)
    assert losses['loss_boundary_bce'].item() == pytest.approx(ref.item())


def test_errors():
    with pytest.raises(ValueError, match='num_classes must be 2'):
        _head(num_classes=19)
    with pytest.raises(ValueError, match='out_channels must be 1'):
        _head(out_channels=2)
    with pytest.raises(ValueError, match="unknown `boundary_source` 'canny'"):
        _head(boundary_source='canny')
    head = _head()
    with pytest.raises(KeyError, match='GenerateSobelBoundary'):
        head.loss_by_feat(
            torch.randn(1, 1, 4, 5), [_sample(_label(), edge=False)])


def test_edge_attention_ce_by_hand():
    seg = torch.randn(1, 3, 2, 2, requires_grad=True)
    label = torch.tensor([[[0, 1], [2, 255]]])
    edge = torch.tensor([[[[3.0, 0.0], [2.0, 5.0]]]], requires_grad=True)
    # sigmoid: 0.953, 0.5, 0.881, 0.993 -> pixels (0,0), (1,0); (1,1) ignored
    out = edge_attention_ce(seg, label, edge, threshold=0.8)
    logp = seg.log_softmax(1)
    ref = -(logp[0, 0, 0, 0] + logp[0, 2, 1, 0]) / 2
    assert out.item() == pytest.approx(ref.item(), rel=1e-6)
    out.backward()
    assert edge.grad is None
    assert seg.grad[0, :, 0, 1].abs().sum() == 0
    none = edge_attention_ce(seg, label, -edge.detach(), threshold=0.8)
    assert none.item() == 0 and none.requires_grad


def test_edge_attention_segmentor():
    from mmseg.models.data_preprocessor import SegDataPreProcessor  # noqa
    base = dict(
        type='EdgeAttentionEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            num_stages=2,
            base_channels=4,
            stem_channels=4,
            out_indices=(1, ),
            strides=(1, 2),
            dilations=(1, 1)),
        decode_head=dict(
            type='FCNHead',
            in_channels=8,
            channels=4,
            num_convs=1,
            num_classes=3),
        auxiliary_head=dict(
            type='BoundaryHead',
            in_channels=8,
            channels=4,
            loss_decode=dict(type='BoundaryBCELoss')),
        edge_attention=dict(threshold=0.5, loss_weight=0.1))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = SEG_MODELS.build(base)
        assert isinstance(model, EdgeAttentionEncoderDecoder)
        label = torch.zeros(16, 16, dtype=torch.long)
        label[:, 8:] = 2
        losses = model.loss(torch.randn(2, 3, 16, 16), [_sample(label)] * 2)
        assert {
            'decode.loss_ce', 'aux.loss_boundary_bce', 'decode.loss_edge_att'
        } <= set(losses)
        assert torch.isfinite(losses['decode.loss_edge_att'])
        with pytest.raises(ValueError, match='exactly one BoundaryHead'):
            SEG_MODELS.build(dict(base, auxiliary_head=None))
