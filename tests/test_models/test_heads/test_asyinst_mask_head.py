# Copyright (c) mmboundary contributors. All rights reserved.
"""AsyInstMaskHead: exact reduction to mmdet 3.3's BoxInstMaskHead, the
depth term, and the warm-up through LossWeightWarmupHook."""
import itertools
from unittest.mock import Mock

import numpy as np
import pytest
import torch
from mmdet.models.dense_heads import BoxInstMaskHead
from mmdet.structures.mask import BitmapMasks
from mmengine import MessageHub
from mmengine.structures import InstanceData
from torch import nn

from mmboundary.engine.hooks import LossWeightWarmupHook
from mmboundary.models.heads import AsyInstMaskHead
from mmboundary.models.losses import pairwise_log_same_prob
from mmboundary.registry import MMDET_MODELS

STRIDE = 4
PAD_H, PAD_W = 32, 48
SYM = dict(type='AsymmetricAffinityLoss', delta=0.0, gamma=0.0)


def _common(**kw):
    cfg = dict(
        mask_feature_head=dict(
            in_channels=8,
            feat_channels=8,
            start_level=0,
            end_level=1,
            out_channels=8,
            mask_stride=8,
            num_stacked_convs=1,
            norm_cfg=dict(type='BN', requires_grad=True)),
        num_layers=3,
        feat_channels=8,
        mask_out_stride=STRIDE,
        loss_mask=dict(
            type='DiceLoss',
            use_sigmoid=True,
            activate=True,
            eps=5e-6,
            loss_weight=1.0))
    cfg.update(kw)
    return cfg


def _inputs(seed=0, num_gts=(3, 2), num_pos=(5, 4), depth=True):
    g = torch.Generator().manual_seed(seed)
    h, w = PAD_H // STRIDE, PAD_W // STRIDE
    gts, infos, preds = [], [], []
    for n, p in zip(num_gts, num_pos):
        x1 = torch.randint(0, 20, (n, ), generator=g).float()
        y1 = torch.randint(0, 12, (n, ), generator=g).float()
        boxes = torch.stack([
            x1, y1, x1 + 5 + 20 * torch.rand(n, generator=g),
            y1 + 4 + 15 * torch.rand(n, generator=g)
        ], 1)
        masks = np.zeros((n, PAD_H, PAD_W), np.float32)
        for j, (a, b, c, d) in enumerate(boxes.tolist()):
            masks[j, int(b):int(d + 1), int(a):int(c + 1)] = 1
        gt = InstanceData()
        gt.bboxes = boxes
        gt.labels = torch.zeros(n, dtype=torch.long)
        gt.masks = BitmapMasks(masks, PAD_H, PAD_W)
        gt.pairwise_masks = (torch.rand(n, 8, h, w, generator=g) > 0.4).float()
        if depth:
            gt.depth_pairwise_masks = (torch.rand(n, 8, h, w, generator=g)
                                       > 0.6).float()
        info = InstanceData()
        info.pos_assigned_gt_inds = torch.randint(
            0, max(n, 1), (p, ), generator=g)
        info.scores = torch.randn(p, 3, generator=g)
        info.centernesses = torch.randn(p, 1, generator=g)
        gts.append(gt)
        infos.append(info)
        preds.append((torch.randn(p, h, w, generator=g) * 3).requires_grad_())
    return preds, gts, infos


_HUBS = itertools.count()


def _mmdet_losses(head, preds, gts, infos, it):
    # a new hub becomes the current instance that mmdet's head reads
    hub = MessageHub.get_instance(f'test_asyinst_reference_{next(_HUBS)}')
    hub.update_info('iter', it)
    return head.loss_by_feat(preds, gts, [{}] * len(preds), infos)


@pytest.mark.parametrize('topk', [-1, 3])
@pytest.mark.parametrize('it', [2500, 10000, 20000])
def test_exact_reduction_to_mmdet_boxinst(topk, it):
    torch.manual_seed(0)
    ref_head = BoxInstMaskHead(
        **_common(topk_masks_per_img=topk), warmup_iters=10000)
    head = AsyInstMaskHead(
        **_common(topk_masks_per_img=topk), loss_color=SYM, loss_depth=None)
    # the warm-up of mmdet (min(iter / 10000, 1)) through the project hook
    hook = LossWeightWarmupHook(['mask_head.loss_color'], warmup_iters=10000)
    model = nn.Module()
    model.mask_head = head
    runner = Mock(model=model, iter=it)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)

    preds, gts, infos = _inputs(depth=False)
    ref = _mmdet_losses(ref_head, preds, gts, infos, it)
    preds2 = [p.detach().clone().requires_grad_() for p in preds]
    got = head.loss_by_feat(preds2, gts, [{}] * 2, infos)
    assert set(got) == {'loss_mask_project', 'loss_mask_pairwise'}
    for key in ref:
        assert abs(got[key].item() - ref[key].item()) <= 1e-6, key
    assert ref['loss_mask_pairwise'].item() > 0.1
    (ref['loss_mask_project'] + ref['loss_mask_pairwise']).backward()
    (got['loss_mask_project'] + got['loss_mask_pairwise']).backward()
    for a, b in zip(preds, preds2):
        assert torch.allclose(a.grad, b.grad, atol=1e-7, rtol=1e-5)


def test_asyinst_terms_by_hand():
    head = AsyInstMaskHead(**_common())  # the paper's defaults
    assert (head.loss_color.delta, head.loss_color.gamma,
            head.loss_color.loss_weight) == (2.5, 1.5, 1.0)
    assert (head.loss_depth.delta, head.loss_depth.gamma,
            head.loss_depth.loss_weight) == (3.5, 2.5, 0.1)
    preds, gts, infos = _inputs(seed=1)
    got = head.loss_by_feat(preds, gts, [{}] * 2, infos)
    assert set(got) == {
        'loss_mask_project', 'loss_mask_pairwise', 'loss_mask_depth'
    }
    # eq. 11 per term, each normalised by its own edge count, re-derived
    # from the written-out per-edge loss
    for key, attr, delta, gamma, lam in [
        ('loss_mask_pairwise', 'pairwise_masks', 2.5, 1.5, 1.0),
        ('loss_mask_depth', 'depth_pairwise_masks', 3.5, 2.5, 0.1)
    ]:
        total, norm = 0.0, 0.0
        for pred, gt, info in zip(preds, gts, infos):
            inds = info.pos_assigned_gt_inds
            box = torch.from_numpy(gt.masks.masks[:, 2::4, 2::4])[inds]
            w = getattr(gt, attr)[inds] * box[:, None]
            log_p = pairwise_log_same_prob(pred.detach().double(), 3, 2, delta)
            per_edge = -torch.exp(gamma * (log_p.exp() - 0.5)) * log_p
            total += (per_edge * w).sum().item()
            norm += max(w.sum().item(), 1.0)
        assert got[key].item() == pytest.approx(lam * total / norm, rel=1e-5)
    sum(got.values()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in preds)


def test_projection_only_and_empty_images():
    ref_head = BoxInstMaskHead(**_common(), warmup_iters=10000)
    head = AsyInstMaskHead(**_common(), loss_color=None, loss_depth=None)
    preds, gts, infos = _inputs(depth=False)
    ref = _mmdet_losses(ref_head, preds, gts, infos, 10000)
    got = head.loss_by_feat(preds, gts, [{}] * 2, infos)
    assert list(got) == ['loss_mask_project']
    assert got['loss_mask_project'].item() == pytest.approx(
        ref['loss_mask_project'].item(), abs=1e-6)
    # no positive proposal in any image: zero, finite losses
    head = AsyInstMaskHead(**_common())
    preds, gts, infos = _inputs(num_gts=(2, 0), num_pos=(0, 0))
    got = head.loss_by_feat(preds, gts, [{}] * 2, infos)
    assert all(v.item() == 0.0 and torch.isfinite(v) for v in got.values())


def test_runs_outside_a_runner_where_mmdet_crashes():
    # a new current hub without 'iter'
    MessageHub.get_instance(f'test_asyinst_no_iter_{next(_HUBS)}')
    preds, gts, infos = _inputs(depth=False)
    with pytest.raises(TypeError):
        BoxInstMaskHead(**_common()).loss_by_feat(preds, gts, [{}] * 2, infos)
    head = AsyInstMaskHead(**_common(), loss_depth=None)
    got = head.loss_by_feat(preds, gts, [{}] * 2, infos)
    assert torch.isfinite(got['loss_mask_pairwise'])


def test_warmup_resume_is_exact():
    """Warm-up state is runner.iter only: a run resumed at iteration 6 (a
    fresh model, the checkpoint's weights, a fresh hook) reproduces the
    uninterrupted losses exactly."""
    paths = ['mask_head.loss_color', 'mask_head.loss_depth']
    preds, gts, infos = _inputs(seed=3)

    def build():
        model = nn.Module()
        model.mask_head = AsyInstMaskHead(**_common())
        return model

    def losses(model, runner, hook, it):
        runner.iter = it
        hook.before_train_iter(runner, 0)
        out = model.mask_head.loss_by_feat(preds, gts, [{}] * 2, infos)
        return {k: v.item() for k, v in out.items()}

    model = build()
    runner = Mock(model=model, iter=0)
    hook = LossWeightWarmupHook(paths, warmup_iters=10)
    hook.before_train(runner)
    straight = [losses(model, runner, hook, it) for it in range(12)]
    assert straight[0]['loss_mask_pairwise'] == 0.0
    assert straight[0]['loss_mask_depth'] == 0.0
    full = straight[11]
    for it in (3, 6):
        for key in ('loss_mask_pairwise', 'loss_mask_depth'):
            assert straight[it][key] == pytest.approx(
                full[key] * it / 10, rel=1e-6)
    state = model.state_dict()  # what a checkpoint holds
    resumed = build()
    resumed.load_state_dict(state)
    runner2 = Mock(model=resumed, iter=6)
    hook2 = LossWeightWarmupHook(paths, warmup_iters=10)
    hook2.before_train(runner2)
    for it in range(6, 12):
        assert losses(resumed, runner2, hook2, it) == straight[it]


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match='LossWeightWarmupHook'):
        AsyInstMaskHead(**_common(), warmup_iters=10000)
    with pytest.raises(ValueError, match='pairwise_dilation=3 is odd'):
        AsyInstMaskHead(**_common(), pairwise_dilation=3)
    AsyInstMaskHead(**_common(), pairwise_dilation=3, loss_depth=None)
    with pytest.raises(ValueError, match='distinct'):
        AsyInstMaskHead(
            **_common(),
            loss_depth=dict(type='AsymmetricAffinityLoss', delta=3.5))
    with pytest.raises(ValueError, match='loss_color.dilation=4'):
        AsyInstMaskHead(
            **_common(), loss_color=dict(SYM, dilation=4), loss_depth=None)
    with pytest.raises(ValueError, match=r'gamma=3.0 .*App. A'):
        AsyInstMaskHead(**_common(), loss_color=dict(SYM, gamma=3.0))
    head = AsyInstMaskHead(**_common())
    preds, gts, infos = _inputs(depth=False)
    with pytest.raises(KeyError, match='depth_thresh'):
        head.loss_by_feat(preds, gts, [{}] * 2, infos)
    del gts[0].pairwise_masks
    with pytest.raises(KeyError, match='AsyInstDataPreprocessor'):
        head.loss_by_feat(preds, gts, [{}] * 2, infos)
    assert isinstance(
        MMDET_MODELS.build(dict(type='AsyInstMaskHead', **_common())),
        AsyInstMaskHead)
