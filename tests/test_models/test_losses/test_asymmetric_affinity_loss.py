# Copyright (c) mmboundary contributors. All rights reserved.
"""AsyInst's asymmetric affinity loss (eqs. 2, 9-11) on hand-made numbers."""
import math

import numpy as np
import pytest
import torch

from mmboundary.models.losses import (AsymmetricAffinityLoss,
                                      asymmetric_affinity_loss,
                                      asymmetric_pair_loss,
                                      pairwise_log_same_prob)
from mmboundary.registry import MODELS

OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0),
           (1, 1)]


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def _ref_pair(yp, yq, delta, gamma):
    """eqs. 9-10 written out with math, in float64."""
    a, b = yp - delta, yq - delta
    p = _sig(a) * _sig(b) + _sig(-a) * _sig(-b)
    return -math.exp(gamma * (p - 0.5)) * math.log(p)


@pytest.mark.parametrize('gamma', [0.0, 0.7, 1.5, 2.5, 2.7])
@pytest.mark.parametrize('delta', [0.0, 1.5, 3.5])
def test_saddle_costs_ln2_for_any_gamma(delta, gamma):
    # at y_p = y_q = delta, P_delta = 1/4 + 1/4 = 1/2 and the factor is 1
    y = torch.tensor([delta])
    loss = asymmetric_pair_loss(y, y, delta=delta, gamma=gamma)
    assert loss.item() == pytest.approx(math.log(2.0), abs=1e-6)


def test_hand_values():
    # y_p = ln 3 (s = 3/4), y_q = -ln 3 (s = 1/4), delta = 0:
    # P = 3/4 * 1/4 + 1/4 * 3/4 = 3/8 and l = -exp(2 (3/8 - 1/2)) ln(3/8)
    yp = torch.tensor([math.log(3.0)])
    yq = torch.tensor([-math.log(3.0)])
    loss = asymmetric_pair_loss(yp, yq, delta=0.0, gamma=2.0)
    assert loss.item() == pytest.approx(
        -math.exp(-0.25) * math.log(0.375), abs=1e-6)
    assert loss.item() == pytest.approx(0.763871, abs=1e-5)
    # a grid of pairs against the written-out formula
    rng = np.random.default_rng(0)
    yps, yqs = rng.normal(0, 4, 50), rng.normal(0, 4, 50)
    got = asymmetric_pair_loss(
        torch.tensor(yps), torch.tensor(yqs), delta=2.5, gamma=1.5)
    ref = [_ref_pair(a, b, 2.5, 1.5) for a, b in zip(yps, yqs)]
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)


def test_double_negative_cheaper_than_double_positive():
    for delta, gamma in [(2.5, 1.5), (3.5, 2.5), (1.5, 0.0)]:
        for a in (0.5, 2.0, 5.0):
            neg = asymmetric_pair_loss(
                torch.tensor([-a]), torch.tensor([-a]), delta, gamma)
            pos = asymmetric_pair_loss(
                torch.tensor([a]), torch.tensor([a]), delta, gamma)
            assert neg.item() < pos.item()
    # symmetric without the offset
    neg = asymmetric_pair_loss(torch.tensor([-2.]), torch.tensor([-2.]))
    pos = asymmetric_pair_loss(torch.tensor([2.]), torch.tensor([2.]))
    assert neg.item() == pytest.approx(pos.item(), abs=1e-7)


def test_modulating_factor_is_differentiated():
    delta, gamma = 2.5, 1.5
    yp = torch.tensor([0.3, -1.0, 4.0],
                      dtype=torch.float64,
                      requires_grad=True)
    yq = torch.tensor([2.0, 1.5, -0.5], dtype=torch.float64)
    asymmetric_pair_loss(yp, yq, delta, gamma).sum().backward()
    a, b = yp.detach() - delta, yq - delta
    sa, sb = torch.sigmoid(a), torch.sigmoid(b)
    p = sa * sb + (1 - sa) * (1 - sb)
    dp_dy = sa * (1 - sa) * (2 * sb - 1)
    factor = torch.exp(gamma * (p - 0.5))
    # App. A, eq. 17: d(-F log P)/dP = -F (1 / P + gamma log P)
    full = -factor * (1 / p + gamma * torch.log(p)) * dp_dy
    detached = -factor / p * dp_dy
    np.testing.assert_allclose(yp.grad.numpy(), full.numpy(), rtol=1e-5)
    assert (yp.grad - detached).abs().max() > 1e-2


def _brute_log_same(logits, k, d, delta):
    n, h, w = logits.shape
    out = np.zeros((n, k * k - 1, h, w))
    offs = [(dy, dx) for dy in range(-(k // 2), k // 2 + 1)
            for dx in range(-(k // 2), k // 2 + 1) if (dy, dx) != (0, 0)]
    for i in range(n):
        for c, (dy, dx) in enumerate(offs):
            for y in range(h):
                for x in range(w):
                    qy, qx = y + dy * d, x + dx * d
                    a = logits[i, y, x] - delta
                    if 0 <= qy < h and 0 <= qx < w:
                        b = logits[i, qy, qx] - delta
                        out[i, c, y, x] = math.log(
                            _sig(a) * _sig(b) + _sig(-a) * _sig(-b))
                    else:  # zero padding of the log-probabilities
                        out[i, c, y, x] = math.log(1.0 + 1.0)
    return out


@pytest.mark.parametrize('k,d,delta', [(3, 2, 0.0), (3, 1, 2.5), (5, 2, 1.)])
def test_pairwise_log_same_prob_brute_force(k, d, delta):
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 7) * 3
    got = pairwise_log_same_prob(logits, k, d, delta)
    ref = _brute_log_same(logits.double().numpy(), k, d, delta)
    inside = ref != math.log(2.0)  # out-of-map entries differ by design
    np.testing.assert_allclose(got.numpy()[inside], ref[inside], atol=1e-5)
    # out-of-map: log(exp(0 + log s(a)) + exp(0 + log s(-a))) = 0
    assert torch.allclose(
        got[torch.from_numpy(~inside)], torch.zeros(()), atol=1e-6)
    assert got.shape == (2, k * k - 1, 6, 7)


def test_mean_sum_none_and_avg_factor():
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 6)
    weight = (torch.rand(2, 8, 5, 6) > 0.5).float()
    per_edge = asymmetric_affinity_loss(
        logits, weight, delta=2.5, gamma=1.5, reduction='none')
    log_p = pairwise_log_same_prob(logits, 3, 2, 2.5)
    ref = -torch.exp(1.5 * (log_p.exp() - 0.5)) * log_p * weight
    assert torch.allclose(per_edge, ref, atol=1e-6)
    total = asymmetric_affinity_loss(
        logits, weight, delta=2.5, gamma=1.5, reduction='sum')
    assert total.item() == pytest.approx(ref.sum().item(), rel=1e-5)
    mean = asymmetric_affinity_loss(logits, weight, delta=2.5, gamma=1.5)
    assert mean.item() == pytest.approx(
        ref.sum().item() / weight.sum().item(), rel=1e-5)
    loss = AsymmetricAffinityLoss(
        delta=2.5, gamma=1.5, kernel_size=3, dilation=2, loss_weight=0.1)
    assert loss(
        logits, weight, avg_factor=7.0).item() == pytest.approx(
            0.1 * ref.sum().item() / 7.0, rel=1e-5)
    assert loss(logits, weight, weight=torch.zeros(())).item() == 0.0


def test_gradient_contract():
    torch.manual_seed(2)
    logits = torch.randn(3, 6, 6, requires_grad=True)
    weight = torch.ones(3, 8, 6, 6, requires_grad=True)
    loss = asymmetric_affinity_loss(logits, weight, delta=2.5, gamma=1.5)
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    assert weight.grad is None  # targets get no gradient
    # at the optimum (all far positive or all far negative, uniform) the
    # loss and its gradient vanish
    for sign in (1.0, -1.0):
        opt = torch.full((1, 6, 6), 30.0 * sign, requires_grad=True)
        w = torch.zeros(1, 8, 6, 6)
        w[:, :, 2:4, 2:4] = 1  # in-map edges only
        value = asymmetric_affinity_loss(opt, w, delta=3.5, gamma=2.5)
        value.backward()
        assert value.item() < 1e-9
        assert opt.grad.abs().max().item() < 1e-9
    # empty: no instance, no edge
    empty = torch.zeros(0, 6, 6, requires_grad=True)
    value = asymmetric_affinity_loss(empty, torch.zeros(0, 8, 6, 6), 3, 2, 2.5,
                                     1.5)
    value.backward()
    assert value.item() == 0.0 and torch.isfinite(value)
    # no positive edge
    value = asymmetric_affinity_loss(logits, torch.zeros(3, 8, 6, 6))
    assert value.item() == 0.0


def test_fp32_under_autocast_and_extreme_logits():
    torch.manual_seed(3)
    logits = torch.randn(2, 5, 5) * 50
    weight = torch.ones(2, 8, 5, 5)
    ref = asymmetric_affinity_loss(logits, weight, delta=2.5, gamma=1.5)
    assert torch.isfinite(ref)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        half = logits.bfloat16()
        got = asymmetric_affinity_loss(half, weight, delta=2.5, gamma=1.5)
    assert got.dtype == torch.float32
    exact = asymmetric_affinity_loss(
        half.float(), weight, delta=2.5, gamma=1.5)
    assert got.item() == pytest.approx(exact.item(), rel=1e-6)
    big = torch.tensor([[[80.0, 0.0, -80.0]]], requires_grad=True)
    w = torch.zeros(1, 8, 1, 3)
    w[0, 4, 0, 0] = 1  # the edge (80, -80) at dilation 2
    value = asymmetric_affinity_loss(big, w, 3, 2, 3.5, 2.5)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(big.grad).all()
    assert value.item() == pytest.approx(
        math.exp(2.5 * -0.5) * (80 - 3.5), rel=1e-3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r'gamma=2.75 .*App. A'):
        AsymmetricAffinityLoss(gamma=2.75)
    with pytest.raises(ValueError, match='gamma=-0.1'):
        asymmetric_pair_loss(torch.zeros(1), torch.zeros(1), gamma=-0.1)
    with pytest.raises(ValueError, match="start with 'loss_'"):
        AsymmetricAffinityLoss(loss_name='depth')
    with pytest.raises(ValueError, match='mask grid'):
        asymmetric_affinity_loss(torch.zeros(1, 4, 4), torch.zeros(1, 8, 2, 2))
    loss = MODELS.build(dict(type='AsymmetricAffinityLoss'))
    with pytest.raises(RuntimeError, match='kernel_size and dilation'):
        loss(torch.zeros(1, 4, 4), torch.zeros(1, 8, 4, 4))
    assert loss.loss_name == 'loss_mask_pairwise'
