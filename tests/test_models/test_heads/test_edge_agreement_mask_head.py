# Copyright (c) mmboundary contributors. All rights reserved.
"""Tests of EdgeAgreementMaskHead against mmdet's FCNMaskHead."""
import os.path as osp

import pytest
import torch
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures.mask import BitmapMasks
from mmdet.testing import (demo_mm_inputs, demo_mm_proposals,
                           demo_mm_sampling_results)
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmboundary.models.heads import EdgeAgreementMaskHead
from mmboundary.models.losses import EdgeAgreementLoss

CONFIG_DIR = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', 'edge_agreement')
COMPACT = 'mask-rcnn{}_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'

NUM_CLASSES = 3


def _head_kwargs(mask_size, class_agnostic):
    return dict(
        num_convs=2,
        in_channels=8,
        conv_out_channels=8,
        roi_feat_size=mask_size // 2,
        num_classes=NUM_CLASSES,
        class_agnostic=class_agnostic)


def _pair(mask_size, class_agnostic, **edge_kwargs):
    """An FCNMaskHead and an EdgeAgreementMaskHead with the same weights."""
    torch.manual_seed(0)
    fcn = FCNMaskHead(**_head_kwargs(mask_size, class_agnostic))
    fcn.init_weights()
    edge = EdgeAgreementMaskHead(
        **_head_kwargs(mask_size, class_agnostic),
        loss_edge=dict(type='EdgeAgreementLoss', **edge_kwargs))
    edge.load_state_dict(fcn.state_dict(), strict=True)
    return fcn, edge


@pytest.mark.parametrize('mask_size', [28, 56])
@pytest.mark.parametrize('class_agnostic', [False, True])
def test_parameters_and_predictions_identical(mask_size, class_agnostic):
    fcn, edge = _pair(mask_size, class_agnostic)
    fcn_sd, edge_sd = fcn.state_dict(), edge.state_dict()
    assert list(fcn_sd) == list(edge_sd)
    assert all(fcn_sd[k].shape == edge_sd[k].shape for k in fcn_sd)
    assert [n for n, _ in fcn.named_parameters()] == \
        [n for n, _ in edge.named_parameters()]
    assert isinstance(
        MMDET_MODELS.build(dict(type='EdgeAgreementMaskHead')),
        EdgeAgreementMaskHead)

    fcn.eval(), edge.eval()
    feats = torch.randn(5, 8, mask_size // 2, mask_size // 2)
    out_fcn, out_edge = fcn(feats), edge(feats)
    channels = 1 if class_agnostic else NUM_CLASSES
    assert out_edge.shape == (5, channels, mask_size, mask_size)
    assert torch.equal(out_fcn, out_edge)

    # The inference path (paste masks into the image) is FCNMaskHead's.
    results = InstanceData(
        bboxes=torch.tensor([[2., 3., 30., 40.], [10., 10., 50., 60.],
                             [0., 0., 64., 64.], [5., 20., 25., 30.],
                             [40., 1., 63., 22.]]),
        labels=torch.tensor([0, 2, 1, 1, 0]),
        scores=torch.rand(5))
    metas = [
        dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1., 1.))
    ]
    cfg = ConfigDict(mask_thr_binary=0.5)
    pred_fcn = fcn.predict_by_feat((out_fcn, ), [results.clone()], metas, cfg)
    pred_edge = edge.predict_by_feat((out_edge, ), [results.clone()], metas,
                                     cfg)
    assert torch.equal(pred_fcn[0].masks, pred_edge[0].masks)
    assert pred_edge[0].masks.any()


def _sampling(num_gts=3, size=64, seed=0):
    torch.manual_seed(seed)
    packed = demo_mm_inputs(
        batch_size=1,
        image_shapes=[(3, size, size)],
        num_items=[num_gts],
        num_classes=NUM_CLASSES,
        with_mask=True)
    gt = [packed['data_samples'][0].gt_instances]
    proposals = demo_mm_proposals(
        image_shapes=[(3, size, size)], num_proposals=20)
    return demo_mm_sampling_results(proposals, gt), gt


@pytest.mark.parametrize('mask_size', [28, 56])
@pytest.mark.parametrize('class_agnostic', [False, True])
def test_loss_and_target(mask_size, class_agnostic):
    fcn, edge = _pair(
        mask_size, class_agnostic, filters=['sobel'], p=2, loss_weight=0.5)
    sampling_results, gt = _sampling()
    labels = torch.cat([r.pos_gt_labels for r in sampling_results])
    n = labels.numel()
    assert n > 0
    channels = 1 if class_agnostic else NUM_CLASSES
    torch.manual_seed(1)
    preds = torch.randn(n, channels, mask_size, mask_size, requires_grad=True)
    train_cfg = ConfigDict(mask_size=mask_size)

    out = edge.loss_and_target(preds, sampling_results, gt, train_cfg)
    ref = fcn.loss_and_target(preds, sampling_results, gt, train_cfg)
    assert set(out['loss_mask']) == {'loss_mask', 'loss_mask_edge'}
    assert torch.equal(out['loss_mask']['loss_mask'],
                       ref['loss_mask']['loss_mask'])
    targets = out['mask_targets']
    assert targets.shape == (n, mask_size, mask_size)
    sel = labels if not class_agnostic else torch.zeros_like(labels)
    expected = 0.5 * EdgeAgreementLoss()(preds[torch.arange(n), sel].sigmoid(),
                                         targets)
    assert out['loss_mask']['loss_mask_edge'].item() == pytest.approx(
        expected.item(), rel=1e-6)

    # Gradient of the edge term reaches only the channel of each RoI.
    out['loss_mask']['loss_mask_edge'].backward()
    grad = preds.grad.abs().sum(dim=(2, 3))
    chosen = torch.zeros_like(grad, dtype=torch.bool)
    chosen[torch.arange(n), sel] = True
    assert (grad[chosen] > 0).all() and (grad[~chosen] == 0).all()


def test_no_positive_rois():
    _, edge = _pair(28, False)
    sampling_results, gt = _sampling()
    for res in sampling_results:
        keep = torch.zeros_like(res.pos_inds, dtype=torch.bool)
        res.pos_inds = res.pos_inds[keep]
        res.pos_gt_labels = res.pos_gt_labels[keep]
        res.pos_priors = res.pos_priors[keep]
        res.pos_assigned_gt_inds = res.pos_assigned_gt_inds[keep]
    preds = torch.zeros(0, NUM_CLASSES, 28, 28, requires_grad=True)
    out = edge.loss_and_target(preds, sampling_results, gt,
                               ConfigDict(mask_size=28))
    edge_loss = out['loss_mask']['loss_mask_edge']
    assert edge_loss.item() == 0 and edge_loss.requires_grad
    edge_loss.backward()


def test_several_losses_by_name_and_bad_config():
    head = EdgeAgreementMaskHead(
        **_head_kwargs(28, False),
        loss_edge=[
            dict(type='EdgeAgreementLoss'),
            dict(
                type='EdgeAgreementLoss',
                filters=['laplace'],
                loss_name='loss_mask_laplace')
        ])
    sampling_results, gt = _sampling()
    n = sum(len(r.pos_gt_labels) for r in sampling_results)
    out = head.loss_and_target(
        torch.randn(n, NUM_CLASSES, 28, 28), sampling_results, gt,
        ConfigDict(mask_size=28))
    assert set(out['loss_mask']) == {
        'loss_mask', 'loss_mask_edge', 'loss_mask_laplace'
    }
    with pytest.raises(ValueError, match='loss_name'):
        EdgeAgreementMaskHead(loss_edge=[dict(type='EdgeAgreementLoss')] * 2)
    # A head whose output size differs from the targets names the cause.
    with pytest.raises(ValueError, match='mask_size'):
        head.loss_and_target(
            torch.randn(n, NUM_CLASSES, 28, 28), sampling_results, gt,
            ConfigDict(mask_size=56))


def test_end_to_end_mask_rcnn_training_step():
    """A tiny Mask R-CNN built from the compact config: one loss/backward."""
    init_default_scope('mmdet')
    models = {}
    for tag in ('', '-ea-sobel-l2'):
        cfg = Config.fromfile(osp.join(CONFIG_DIR, COMPACT.format(tag)))
        torch.manual_seed(0)
        models[tag] = MMDET_MODELS.build(cfg.model)
    base, edge = models[''], models['-ea-sobel-l2']
    edge.load_state_dict(base.state_dict(), strict=True)
    assert isinstance(edge.roi_head.mask_head, EdgeAgreementMaskHead)

    torch.manual_seed(0)
    packed = demo_mm_inputs(
        batch_size=1,
        image_shapes=[(3, 96, 128)],
        num_items=[3],
        num_classes=8,
        with_mask=True)
    # demo masks are random pixels; give the instances solid box masks
    for sample in packed['data_samples']:
        inst = sample.gt_instances
        masks = torch.zeros(len(inst), 96, 128, dtype=torch.uint8)
        for i, (x1, y1, x2, y2) in enumerate(inst.bboxes.int().tolist()):
            masks[i, y1:y2 + 1, x1:x2 + 1] = 1
        inst.masks = BitmapMasks(masks.numpy(), 96, 128)
    losses = {}
    for tag, model in (('base', base), ('edge', edge)):
        model.train()
        data = model.data_preprocessor(packed, True)
        torch.manual_seed(1)
        losses[tag] = model.loss(data['inputs'], data['data_samples'])
    assert 'loss_mask_edge' not in losses['base']
    assert 'loss_mask_edge' in losses['edge']
    # Same weights, same sampling seed: the other losses are unchanged.
    for key in ('loss_mask', 'loss_cls', 'loss_bbox'):
        assert torch.allclose(losses['base'][key], losses['edge'][key])
    edge_value = losses['edge']['loss_mask_edge']
    assert torch.isfinite(edge_value) and edge_value.item() > 0
    total, log_vars = edge.parse_losses(losses['edge'])
    assert 'loss_mask_edge' in log_vars
    total.backward()
    grad = edge.roi_head.mask_head.conv_logits.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert edge.backbone.conv1.weight.grad.abs().sum() > 0
