# Copyright (c) mmboundary contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmboundary.models.losses import BoundaryBCELoss
from mmboundary.registry import MODELS

Z = [[2.0, -1.0, 0.5], [-3.0, 1.5, 0.0]]
Y = [[1, 0, 255], [0, 0, 1]]


def _bce(z, y):
    return math.log(1 + math.exp(-z)) if y == 1 else math.log(1 + math.exp(z))


def test_hand_formula_with_ignore():
    z = torch.tensor([Z])[:, None]  # (1, 1, 2, 3)
    y = torch.tensor([Y])
    loss = BoundaryBCELoss()
    # P = 2 boundary, Q = 3 background valid pixels: weights 3/5 and 2/5.
    terms = []
    for i in range(2):
        for j in range(3):
            if Y[i][j] == 255:
                continue
            w = 3 / 5 if Y[i][j] == 1 else 2 / 5
            terms.append(w * _bce(Z[i][j], Y[i][j]))
    assert loss(z, y).item() == pytest.approx(sum(terms) / 6, rel=1e-6)
    assert BoundaryBCELoss(avg_non_ignore=True)(z, y).item() == \
        pytest.approx(sum(terms) / 5, rel=1e-6)
    assert loss(
        z, y, reduction_override='sum').item() == pytest.approx(
            sum(terms), rel=1e-6)
    assert loss(
        z, y, avg_factor=2.0).item() == pytest.approx(
            sum(terms) / 2, rel=1e-6)
    none = loss(z, y, reduction_override='none')
    assert none.shape == (1, 2, 3) and none[0, 0, 2] == 0
    # unbalanced
    plain = [
        _bce(Z[i][j], Y[i][j]) for i in range(2) for j in range(3)
        if Y[i][j] != 255
    ]
    assert BoundaryBCELoss(balance='none')(z, y).item() == pytest.approx(
        sum(plain) / 6, rel=1e-6)
    # pixel weights and loss_weight
    weight = torch.tensor([[[2.0, 1, 1], [1, 1, 0.5]]])
    wsum = sum(t * float(weight[0].flatten()[k])
               for k, t in zip([0, 1, 3, 4, 5], terms))
    assert BoundaryBCELoss(loss_weight=0.3)(
        z, y, weight=weight).item() == pytest.approx(
            0.3 * wsum / 6, rel=1e-6)


def test_batch_versus_image_balance():
    z = torch.zeros(2, 1, 1, 4)  # BCE = log 2 everywhere
    y = torch.tensor([[[1, 0, 0, 0]], [[1, 1, 1, 0]]])
    log2 = math.log(2)
    # batch: P = 4, Q = 4 -> every weight 1/2
    assert BoundaryBCELoss()(z, y).item() == pytest.approx(0.5 * log2)
    # image 0: P=1, Q=3 -> pos 3/4, neg 1/4 each; image 1: pos 1/4, neg 3/4
    per_image = (3 / 4 + 3 * 1 / 4) + (3 * 1 / 4 + 3 / 4)
    assert BoundaryBCELoss(balance='image')(z, y).item() == pytest.approx(
        per_image * log2 / 8)
    # no boundary in the batch: negatives get weight P/(P+Q) = 0 (HED)
    empty = BoundaryBCELoss()(z, torch.zeros(2, 1, 4, dtype=torch.long))
    assert empty.item() == 0


def _balanced_brute(z, y, balance, ignore=255):
    """Per-pixel weighted BCE by loops over (N, H, W) numpy arrays."""
    out = np.zeros(z.shape)
    for n in range(z.shape[0]):
        group = y if balance == 'batch' else y[n:n + 1]
        p = int((group == 1).sum())
        q = int((group == 0).sum())
        for i in range(z.shape[1]):
            for j in range(z.shape[2]):
                t = y[n, i, j]
                if t == ignore:
                    continue
                if balance == 'none':
                    w = 1.0
                else:
                    w = (q if t == 1 else p) / max(p + q, 1)
                out[n, i, j] = w * _bce(z[n, i, j], t)
    return out


@pytest.mark.parametrize('balance', ['batch', 'image', 'none'])
def test_balance_on_2d_maps_matches_brute_force(balance):
    # rows and columns with different boundary ratios, so balancing per
    # row or per column instead of per image / batch changes the value
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 4, 5))
    y = (rng.random((2, 4, 5)) < np.array([0.1, 0.5, 0.8, 0.3])[:, None])
    y = y.astype(np.int64)
    y[0, 1, 2] = y[1, 3, 0] = 255
    ref = _balanced_brute(z, y, balance)
    loss = BoundaryBCELoss(balance=balance)
    zt = torch.from_numpy(z)[:, None].float()
    got = loss(zt, torch.from_numpy(y), reduction_override='none')
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-7)
    assert loss(zt, torch.from_numpy(y)).item() == pytest.approx(
        ref.sum() / y.size, rel=1e-5)


def test_gradient_contract():
    z = torch.tensor([Z])[:, None].requires_grad_()
    y = torch.tensor([Y])
    BoundaryBCELoss()(z, y).backward()
    # d/dz of w * BCE = w * (sigmoid(z) - y) / D
    for i in range(2):
        for j in range(3):
            if Y[i][j] == 255:
                assert z.grad[0, 0, i, j] == 0
                continue
            w = 3 / 5 if Y[i][j] == 1 else 2 / 5
            s = 1 / (1 + math.exp(-Z[i][j]))
            assert z.grad[0, 0, i, j].item() == pytest.approx(
                w * (s - Y[i][j]) / 6, rel=1e-5)
    # near zero at the optimum, finite on empty inputs
    y1 = torch.tensor([[[1, 0], [0, 1]]])
    best = BoundaryBCELoss()(40.0 * (2 * y1[:, None].float() - 1), y1)
    assert best.item() < 1e-12
    x = torch.randn(1, 1, 3, 3, requires_grad=True)
    out = BoundaryBCELoss()(x, torch.full((1, 3, 3), 255))
    out.backward()
    assert out.item() == 0 and torch.equal(x.grad, torch.zeros_like(x))


def test_in_mmseg_loss_decode_and_errors():
    """mmseg's generic decode head calls losses with weight= and
    ignore_index= (mmseg's BoundaryLoss fails there, mmseg #3071)."""
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS as SEG_MODELS
    from mmseg.structures import SegDataSample
    with DefaultScope.overwrite_default_scope('mmseg'):
        head = SEG_MODELS.build(
            dict(
                type='FCNHead',
                in_channels=4,
                channels=4,
                num_convs=1,
                num_classes=2,
                out_channels=1,
                threshold=0.5,
                ignore_index=7,
                loss_decode=dict(type='BoundaryBCELoss', loss_weight=0.5)))
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[1, 0, 7], [0, 0, 1]]]))
    sample.set_metainfo(dict(img_shape=(2, 3)))
    logits = torch.tensor([Z])[:, None]
    losses = head.loss_by_feat(logits, [sample])
    y = torch.tensor([Y])
    assert losses['loss_boundary_bce'].item() == pytest.approx(
        0.5 * BoundaryBCELoss()(logits, y).item(), rel=1e-6)
    assert MODELS.build(dict(type='BoundaryBCELoss')).loss_name == \
        'loss_boundary_bce'
    with pytest.raises(ValueError, match="unknown `balance`"):
        BoundaryBCELoss(balance='class')
    with pytest.raises(ValueError, match='1-channel boundary logits'):
        BoundaryBCELoss()(torch.zeros(1, 2, 2, 3), y)
    with pytest.raises(ValueError, match="start with 'loss_'"):
        BoundaryBCELoss(loss_name='bce')
