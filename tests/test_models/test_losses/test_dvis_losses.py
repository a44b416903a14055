# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS losses against brute-force enumerations and closed forms."""
import itertools
import math

import numpy as np
import pytest
import torch

from mmboundary.models.losses.dvis_losses import (DVISBinaryLoss,
                                                  MumfordShahLoss,
                                                  PermutationInvariantLoss,
                                                  QuantizationLoss, dvis_huber,
                                                  permutation_invariant_loss,
                                                  stratified_offsets)
from mmboundary.registry import MODELS


def huber(v, theta=0.1):
    return v * v / (2 * theta) if v < theta else v - theta / 2


def brute_offsets(kh, kw, c, r, axes):
    out = []
    for dy in range(-(kh // 2), kh // 2 + 1):
        for dx in range(-(kw // 2), kw // 2 + 1):
            if not (dy > 0 or (dy == 0 and dx > 0)):
                continue
            if (abs(dy) + abs(dx) < c or (dy % r == 0 and dx % r == 0)
                    or (axes and (dy == 0 or dx == 0))):
                out.append((dy, dx))
    return out


def brute_pair_loss(f,
                    g,
                    offs,
                    mode,
                    border,
                    margin=1.0,
                    pw=3.0,
                    th=0.1,
                    max_diff=None):
    """Sum and count over explicitly enumerated (p, q) pairs, numpy."""
    B, H, W = f.shape
    tot, cnt = 0.0, 0
    for b, y, x in itertools.product(range(B), range(H), range(W)):
        for dy, dx in offs:
            qy, qx = y + dy, x + dx
            if border == 'valid':
                if not (0 <= qy < H and 0 <= qx < W):
                    continue
            else:
                qy, qx = min(max(qy, 0), H - 1), min(max(qx, 0), W - 1)
            a, c = g[b, y, x], g[b, qy, qx]
            if a < 0 or c < 0:
                continue
            if mode == 'fg_fg' and not (a > 0 and c > 0):
                continue
            if mode == 'any_fg' and not (a > 0 or c > 0):
                continue
            d = abs(f[b, y, x] - f[b, qy, qx])
            if max_diff is not None:
                d = min(d, max_diff)
            if a == c:
                tot += huber(d, th)
            else:
                tot += pw * huber(max(margin - d, 0.0), th)
            cnt += 1
    return tot, cnt


def random_case(seed, B=2, H=7, W=9, n_ids=4):
    gen = torch.Generator().manual_seed(seed)
    f = torch.rand(B, 1, H, W, generator=gen, dtype=torch.float64) * 3
    g = torch.randint(0, n_ids, (B, H, W), generator=gen)
    g[torch.rand(B, H, W, generator=gen) < 0.15] = -1
    return f, g


@pytest.mark.parametrize('args,count', [(((129, 129), 8, 8, False), 200),
                                        (((129, 129), 8, 8, True), 298),
                                        (((33, 65), 4, 4, True), 118),
                                        (((33, 65), 4, 4, False), 88),
                                        (((17, 33), 3, 4, True), 42),
                                        ((9, 8, 8, False), 38),
                                        ((17, 8, 8, False), 60),
                                        ((33, 8, 8, False), 68),
                                        ((65, 8, 8, False), 96)])
def test_stratified_offset_counts(args, count):
    offs = stratified_offsets(*args)
    assert offs.shape == (count, 2)
    win = args[0] if isinstance(args[0], tuple) else (args[0], args[0])
    assert offs.tolist() == [
        list(o) for o in brute_offsets(win[0], win[1], *args[1:])
    ]


@pytest.mark.parametrize('mode', ['fg_fg', 'any_fg', 'all'])
@pytest.mark.parametrize('border', ['valid', 'replicate'])
@pytest.mark.parametrize('axes,max_diff', [(False, None), (True, 0.7)])
def test_pair_loss_matches_brute_force(mode, border, axes, max_diff):
    f, g = random_case(0)
    loss = PermutationInvariantLoss(
        window=(5, 7),
        dense_radius=2,
        dilation=2,
        dense_axes=axes,
        pair_mode=mode,
        border=border,
        max_diff=max_diff,
        loss_weight=0.3)
    tot, cnt = brute_pair_loss(
        f[:, 0].numpy(),
        g.numpy(),
        brute_offsets(5, 7, 2, 2, axes),
        mode,
        border,
        max_diff=max_diff)
    assert cnt > 20
    assert loss(f, g).item() == pytest.approx(0.3 * tot / cnt, rel=1e-10)
    loss_sum = PermutationInvariantLoss(
        window=(5, 7),
        dense_radius=2,
        dilation=2,
        dense_axes=axes,
        pair_mode=mode,
        border=border,
        max_diff=max_diff,
        reduction='sum',
        loss_weight=1.0)
    assert loss_sum(f, g).item() == pytest.approx(tot, rel=1e-10)
    stats = loss.pair_stats(f, g)
    assert stats['num_pairs'] == cnt


@pytest.mark.parametrize('border', ['valid', 'replicate'])
@pytest.mark.parametrize('mode', ['fg_fg', 'any_fg', 'all'])
@pytest.mark.parametrize('tile_elems', [9, 40, 2**15])
def test_pair_loss_stripes_and_wide_windows(mode, border, tile_elems):
    # B x W = 18 pixels a row: stripes of 1 and of 2 rows (7 rows: the last
    # one shorter) and the whole map; window 11 x 21 reaches past the 7 x 9
    # map (with 'valid', offsets with no partner inside are skipped)
    f, g = random_case(3)
    offs = stratified_offsets((11, 21), 3, 3)
    tot, cnt = brute_pair_loss(f[:, 0].numpy(), g.numpy(),
                               [tuple(o) for o in offs.tolist()], mode, border)
    x = f[:, 0].clone().requires_grad_()
    t, c = permutation_invariant_loss(
        x, g, offs, mode, border, tile_elems=tile_elems)
    assert c.item() == cnt > 20
    assert t.item() == pytest.approx(tot, rel=1e-10)
    t.backward()
    f2 = f.clone().requires_grad_()
    (torch_brute_pair(f2, g, offs.tolist(), mode, border) * cnt).backward()
    assert x.grad.abs().sum() > 0
    torch.testing.assert_close(x.grad, f2.grad[:, 0], rtol=1e-9, atol=1e-12)


def torch_brute_pair(f, g, offs, mode, border, max_diff=None):
    """Differentiable enumeration of the same pairs (autograd reference)."""
    B, _, H, W = f.shape
    terms = []
    for b, y, x in itertools.product(range(B), range(H), range(W)):
        for dy, dx in offs:
            qy, qx = y + dy, x + dx
            if border == 'valid' and not (0 <= qy < H and 0 <= qx < W):
                continue
            qy, qx = min(max(qy, 0), H - 1), min(max(qx, 0), W - 1)
            a, c = int(g[b, y, x]), int(g[b, qy, qx])
            if a < 0 or c < 0 or (mode == 'fg_fg' and not (a > 0 and c > 0)):
                continue
            if mode == 'any_fg' and not (a > 0 or c > 0):
                continue
            d = (f[b, 0, y, x] - f[b, 0, qy, qx]).abs()
            if max_diff is not None:
                d = d.clamp(max=max_diff)
            if a == c:
                terms.append(dvis_huber(d))
            else:
                terms.append(3.0 * dvis_huber((1.0 - d).clamp(min=0)))
    return torch.stack(terms).mean()


@pytest.mark.parametrize('border,max_diff', [('valid', None),
                                             ('replicate', 0.7)])
def test_pair_loss_gradient_matches_autograd(border, max_diff):
    f, g = random_case(1, B=1, H=6, W=7)
    f1 = f.clone().requires_grad_()
    f2 = f.clone().requires_grad_()
    loss = PermutationInvariantLoss(
        window=5,
        dense_radius=2,
        dilation=2,
        pair_mode='all',
        border=border,
        max_diff=max_diff,
        loss_weight=1.0)
    loss(f1, g).backward()
    torch_brute_pair(f2, g, brute_offsets(5, 5, 2, 2, False), 'all', border,
                     max_diff).backward()
    assert f1.grad.abs().sum() > 0
    torch.testing.assert_close(f1.grad, f2.grad, rtol=1e-9, atol=1e-12)
    # and against finite differences
    f3 = f.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda x: loss(x, g), (f3, ))


def test_pair_loss_gradient_at_max_diff_follows_autograd_clamp():
    # one same-instance pair with |d| exactly max_diff: torch.clamp passes
    # the gradient at the bound, and so must the hand-written backward.
    # loss = L_h(0.5) = 0.5 - 0.05; d loss / d f = -+1 on the two pixels.
    f = torch.tensor([[[[0.0, 0.5]]]], dtype=torch.float64)
    g = torch.tensor([[[1, 1]]])
    loss = PermutationInvariantLoss(
        window=3, dense_radius=2, dilation=2, max_diff=0.5, loss_weight=1.0)
    f1 = f.clone().requires_grad_()
    out = loss(f1, g)
    out.backward()
    assert out.item() == pytest.approx(0.45)
    f2 = f.clone().requires_grad_()
    torch_brute_pair(f2, g, brute_offsets(3, 3, 2, 2, False), 'fg_fg', 'valid',
                     0.5).backward()
    torch.testing.assert_close(f1.grad, f2.grad)
    assert f1.grad.flatten().tolist() == [-1.0, 1.0]


def test_pair_loss_hand_example():
    # 1x1x1x3 map, ids [1, 1, 2], window 3 (offsets (0, 1) and (1, x)).
    f = torch.tensor([[[[0.05, 0.25, 0.6]]]], dtype=torch.float64)
    g = torch.tensor([[[1, 1, 2]]])
    loss = PermutationInvariantLoss(
        window=3, dense_radius=2, dilation=2, loss_weight=1.0)
    # pairs: (0,1) same d=0.2 -> 0.2-0.05=0.15; (1,2) diff d=0.35 ->
    # 3*(0.65-0.05)=1.8. mean = (0.15 + 1.8) / 2
    assert loss(f, g).item() == pytest.approx(0.975)


def test_losses_permutation_invariant():
    f, g = random_case(2)
    perm = torch.tensor([0, 3, 1, 2])  # BG stays 0, instances permuted
    g2 = torch.where(g >= 0, perm[g.clamp(min=0)], g)
    assert not torch.equal(g, g2)
    for loss in (PermutationInvariantLoss(
            window=5, dense_radius=2, dilation=2,
            pair_mode='all'), DVISBinaryLoss()):
        assert loss(f, g).item() == pytest.approx(
            loss(f, g2).item(), rel=1e-12)


def perfect_case():
    g = torch.zeros(1, 8, 10, dtype=torch.long)
    g[0, 1:4, 1:5] = 1
    g[0, 1:4, 5:9] = 2  # touches instance 1
    g[0, 5:8, 2:7] = 3
    g[0, 0, 0] = -1
    values = torch.tensor([0.0, 2.0, 3.0, 5.0], dtype=torch.float64)
    f = values[g.clamp(min=0)].unsqueeze(1)
    f[0, 0, 0, 0] = 7.3  # ignored pixel, any value
    return f, g


def test_zero_loss_and_gradient_on_perfect_map():
    f, g = perfect_case()
    for loss in (DVISBinaryLoss(),
                 PermutationInvariantLoss(
                     window=9, dense_radius=3, dilation=2, pair_mode='all'),
                 PermutationInvariantLoss(
                     window=9, dense_radius=3, dilation=2,
                     border='replicate'), QuantizationLoss()):
        x = f.clone().requires_grad_()
        out = loss(x, g) if not isinstance(loss, QuantizationLoss) else loss(
            x, g >= 0)
        out.backward()
        assert out.item() == 0.0
        assert torch.count_nonzero(x.grad) == 0
    # a margin violation gives a positive loss and gradient
    x = f.clone()
    x[:, 0][g == 2] = 2.5  # instance 2 only 0.5 from instance 1
    x.requires_grad_()
    PermutationInvariantLoss(
        window=9, dense_radius=3, dilation=2)(x, g).backward()
    # gradient descent pushes instance 2 up and instance 1 down
    assert x.grad[0, 0][g[0] == 2].sum() < 0
    assert x.grad[0, 0][g[0] == 1].sum() > 0


def test_binary_loss_brute_force():
    gen = torch.Generator().manual_seed(3)
    f = torch.randn(2, 1, 5, 6, generator=gen, dtype=torch.float64) * 2
    g = torch.randint(0, 3, (2, 5, 6), generator=gen)
    g[0, 0, :2] = -1
    loss = DVISBinaryLoss(margin=2.0, loss_weight=1.0)
    num = den = 0.0
    for b in range(2):
        ids = g[b].numpy()
        n = (ids >= 0).sum()
        for y, x in itertools.product(range(5), range(6)):
            k = ids[y, x]
            if k < 0:
                continue
            w = min(max((n / ((ids == k).sum() + 1))**(1 / 3), 1.0), 10.0)
            v = float(f[b, 0, y, x])
            lv = huber(max(v, 0)) if k == 0 else huber(max(2.0 - v, 0))
            num += w * lv
            den += w
    assert loss(f, g).item() == pytest.approx(num / (den + 1e-4), rel=1e-10)
    # uniform weights and a hand value: BG 0.3 -> 0.25, FG 1.95 -> 0.0125
    f2 = torch.tensor([[[[0.3, 1.95]]]], dtype=torch.float64)
    g2 = torch.tensor([[[0, 1]]])
    plain = DVISBinaryLoss(pixel_weight=None, loss_weight=2.0)
    assert plain(f2, g2).item() == pytest.approx(2 * 0.2625 / (2 + 1e-4))
    # class weights multiply FG weights: instance 1 of class 1 (c_w 4)
    cls = DVISBinaryLoss(
        pixel_weight='inv_cbrt_area', class_weight=[1.0, 4.0], loss_weight=1.0)
    w_bg = min(max((2 / 2)**(1 / 3), 1), 10)
    w_fg = min(max((2 / 2)**(1 / 3) * 4, 1), 10)
    exp = (w_bg * 0.25 + w_fg * 0.0125) / (w_bg + w_fg + 1e-4)
    assert cls(f2, g2, gt_labels=[torch.tensor([1])]).item() == \
        pytest.approx(exp)
    with pytest.raises(ValueError, match='gt_labels'):
        cls(f2, g2)


def test_binary_loss_weight_clip_and_explicit_weights():
    # a one-pixel instance in a 12 x 12 map: w_fg = cbrt(144 / 2) = 4.16,
    # w_bg = cbrt(144 / 144) = 1; weight_clip (1.5, 3) makes them 3 and 1.5
    f = torch.full((1, 1, 12, 12), 0.3, dtype=torch.float64)
    g = torch.zeros(1, 12, 12, dtype=torch.long)
    g[0, 5, 5] = 1
    f[0, 0, 5, 5] = 1.95
    # BG 0.3 -> L_h 0.25 (143 pixels), FG 2 - 1.95 -> 0.0125
    loss = DVISBinaryLoss(weight_clip=(1.5, 3.0), loss_weight=1.0)
    exp = (143 * 1.5 * 0.25 + 3 * 0.0125) / (143 * 1.5 + 3 + 1e-4)
    assert loss(f, g).item() == pytest.approx(exp, rel=1e-12)
    w = loss.pixel_weights(g, dtype=torch.float64)
    assert w[0, 5, 5].item() == 3.0 and w[0, 0, 0].item() == 1.5
    # explicit pixel weights still leave ignored pixels out
    g[0, 0, :4] = -1
    f[0, 0, 0, :4] = 50.0
    ones = torch.ones(1, 12, 12, dtype=torch.float64)
    exp = (139 * 0.25 + 0.0125) / (140 + 1e-4)
    assert loss(f, g, weight=ones).item() == pytest.approx(exp, rel=1e-12)


def test_mumford_shah_closed_form_on_ramp():
    a, b = 0.3, -0.2
    yy, xx = torch.meshgrid(torch.arange(6.), torch.arange(9.), indexing='ij')
    f = (a * xx + b * yy + 5).double()[None, None]
    loss = MumfordShahLoss(loss_weight=1.0)
    assert loss(f).item() == pytest.approx(math.log(1 + a * a + b * b))
    # sum over the (H - 1) x (W - 1) domain
    total = MumfordShahLoss(reduction='sum', loss_weight=2.0)(f)
    assert total.item() == pytest.approx(2 * 5 * 8 *
                                         math.log(1 + a * a + b * b))
    # a step: nonzero_mean averages only the boundary entries, mean all
    step = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    step[..., 2:] = 1.0  # columns 2, 3
    nz = MumfordShahLoss(loss_weight=1.0)(step)
    mean = MumfordShahLoss(reduction='mean', loss_weight=1.0)(step)
    assert nz.item() == pytest.approx(math.log(2))  # 3 entries, all log 2
    assert mean.item() == pytest.approx(3 * math.log(2) / 9)
    # an invalid right neighbour removes the entry
    valid = torch.ones(1, 4, 4, dtype=torch.bool)
    valid[0, 0, 2] = False
    total = MumfordShahLoss(reduction='sum', loss_weight=1.0)(step, valid)
    assert total.item() == pytest.approx(2 * math.log(2))


def test_mumford_shah_lower_neighbour_validity():
    # a horizontal edge: rows 2, 3 are 1, so only the lower differences of
    # row 1 are non-zero (3 entries, each log 2)
    step = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    step[..., 2:, :] = 1.0
    total = MumfordShahLoss(reduction='sum', loss_weight=1.0)
    assert total(step).item() == pytest.approx(3 * math.log(2))
    # an invalid lower neighbour (of pixel (1, 1)) removes that entry
    valid = torch.ones(1, 4, 4, dtype=torch.bool)
    valid[0, 2, 1] = False
    assert total(step, valid).item() == pytest.approx(2 * math.log(2))
    # an invalid centre removes its own entry
    valid = torch.ones(1, 4, 4, dtype=torch.bool)
    valid[0, 1, 0] = False
    assert total(step, valid).item() == pytest.approx(2 * math.log(2))


def _mumford_shah_brute(f, valid, reduction):
    """Paper eq. 7 by loops over every pixel of (B, H, W) numpy arrays."""
    costs = []
    b, h, w = f.shape
    for n in range(b):
        for i in range(h - 1):
            for j in range(w - 1):
                if not (valid[n, i, j] and valid[n, i, j + 1]
                        and valid[n, i + 1, j]):
                    continue
                c = math.log(1 + (f[n, i, j] - f[n, i, j + 1])**2 +
                             (f[n, i, j] - f[n, i + 1, j])**2)
                if reduction == 'nonzero_mean' and c == 0:
                    continue
                costs.append(c)
    if reduction == 'sum':
        return sum(costs)
    return sum(costs) / max(len(costs), 1)


@pytest.mark.parametrize('reduction', ['nonzero_mean', 'mean', 'sum'])
def test_mumford_shah_matches_brute_force_with_random_validity(reduction):
    rng = np.random.default_rng(3)
    # integer levels: some differences are exactly 0 (nonzero_mean)
    f = rng.integers(0, 3, size=(2, 5, 7)).astype(np.float64)
    valid = rng.random((2, 5, 7)) > 0.3
    loss = MumfordShahLoss(reduction=reduction, loss_weight=0.5)
    got = loss(torch.from_numpy(f)[:, None], torch.from_numpy(valid))
    assert got.item() == pytest.approx(
        0.5 * _mumford_shah_brute(f, valid, reduction), rel=1e-12)
    # weight 0 (mmseg's convention) marks the same pixels ignored
    got_w = loss(
        torch.from_numpy(f)[:, None], weight=torch.from_numpy(valid * 1.0))
    assert got_w.item() == pytest.approx(got.item(), rel=1e-12)


def test_quantization_loss_hand_values():
    f = torch.tensor([[[[0.0, 0.2, 1.4, 2.9, -0.5, 3.5]]]],
                     dtype=torch.float64,
                     requires_grad=True)
    valid = torch.tensor([[[True, True, True, True, True, False]]])
    loss = QuantizationLoss(loss_weight=0.5)
    out = loss(f, valid)
    # positives among valid: 0.2, 1.4, 2.9 -> 0.2, 0.4, 0.1
    assert out.item() == pytest.approx(0.5 * 0.7 / 3)
    out.backward()
    exp = torch.tensor([0, 1, 1, -1, 0, 0], dtype=torch.float64) * 0.5 / 3
    torch.testing.assert_close(f.grad.flatten(), exp)


@pytest.mark.parametrize('name', [
    'DVISBinaryLoss', 'PermutationInvariantLoss', 'MumfordShahLoss',
    'QuantizationLoss'
])
def test_gradient_contract_and_empty_inputs(name):
    loss = MODELS.build(dict(type=name))
    assert loss.loss_name.startswith('loss_')
    f, g = random_case(4)
    f = f.float().requires_grad_()
    second = name in ('MumfordShahLoss', 'QuantizationLoss')
    out = loss(f, g >= 0) if second else loss(f, g)
    out.backward()
    assert out.dtype == torch.float32 and out.item() > 0
    assert f.grad is not None and f.grad.abs().sum() > 0
    # every pixel ignored: finite zero loss, zero gradient, graph kept
    f2 = f.detach().clone().requires_grad_()
    ign = torch.full_like(g, -1)
    out = loss(f2, ign >= 0) if second else loss(f2, ign)
    out.backward()
    assert out.item() == 0.0 and torch.isfinite(out)
    assert torch.count_nonzero(f2.grad) == 0


def test_ignored_pixels_do_not_matter():
    f, g = random_case(5)
    g[0, :3] = -1
    f2 = f.clone()
    f2[0, 0, :3] = torch.rand(3, 9, dtype=torch.float64) * 10
    for loss in (DVISBinaryLoss(),
                 PermutationInvariantLoss(
                     window=5, dense_radius=2, dilation=2, pair_mode='all')):
        assert loss(f, g).item() == pytest.approx(loss(f2, g).item())
    for loss in (MumfordShahLoss(), QuantizationLoss()):
        assert loss(f, g >= 0).item() == pytest.approx(loss(f2, g >= 0).item())


def test_mmseg_style_call_with_weight_and_ignore_index():
    # mmseg's loss_decode passes weight= and ignore_index=
    f, g = random_case(6)
    g255 = g.masked_fill(g < 0, 255)
    loss = PermutationInvariantLoss(window=5, dense_radius=2, dilation=2)
    ref = loss(f, g).item()
    assert loss(f, g255, weight=None, ignore_index=255).item() == \
        pytest.approx(ref)
    binary = DVISBinaryLoss()
    assert binary(f, g255, weight=None, ignore_index=255).item() == \
        pytest.approx(binary(f, g).item())


def test_half_precision_upcast():
    f, g = random_case(7)
    loss = PermutationInvariantLoss(window=5, dense_radius=2, dilation=2)
    out = loss(f.half(), g)
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(
        loss(f.half().double(), g).item(), rel=1e-5)


@pytest.mark.parametrize('kwargs,match', [
    (dict(window=8), 'odd'),
    (dict(window=(33, 64)), 'odd'),
    (dict(window=5, dense_radius=8), 'smaller than the dense radius'),
])
def test_pair_loss_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PermutationInvariantLoss(**kwargs)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match='one-channel'):
        QuantizationLoss()(torch.zeros(1, 2, 3, 3))
    with pytest.raises(ValueError, match='gt_ids of shape'):
        DVISBinaryLoss()(torch.zeros(1, 1, 3, 3), torch.zeros(1, 3, 4))


def test_paper_and_code_windows_expressible():
    paper = PermutationInvariantLoss()
    code = PermutationInvariantLoss(
        window=(33, 65),
        dense_radius=4,
        dilation=4,
        dense_axes=True,
        pair_mode='all',
        border='replicate',
        max_diff=5.0)
    assert len(paper.offsets) == 200 and len(code.offsets) == 118
    assert np.abs(paper.offsets.numpy()).max() == 64
    assert code.offsets[:, 0].abs().max() == 16
    assert code.offsets[:, 1].abs().max() == 32
