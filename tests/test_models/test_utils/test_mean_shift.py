# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS mean-shift discretiser against a brute-force re-derivation."""
import itertools
import math

import numpy as np
import pytest
import torch

from mmboundary.models.utils.mean_shift import (MeanShiftDiscretizer,
                                                blurring_mean_shift,
                                                extend_boxes,
                                                mean_shift_kernel)


def brute_mean_shift(x, s, h, iters, valid, border):
    """Loops over every pixel and neighbour (numpy, float64)."""
    sigma = h / 3
    B, _, H, W = x.shape
    x = np.where(valid, x, 0.0).astype(np.float64)
    for _ in range(iters):
        new = np.zeros_like(x)
        for b, i, j in itertools.product(range(B), range(H), range(W)):
            if not valid[b, 0, i, j]:
                continue
            num = den = 0.0
            for di, dj in itertools.product(range(-s, s + 1), repeat=2):
                qi, qj = i + di, j + dj
                if border == 'valid':
                    if not (0 <= qi < H and 0 <= qj < W):
                        continue
                else:
                    qi, qj = min(max(qi, 0), H - 1), min(max(qj, 0), W - 1)
                if not valid[b, 0, qi, qj]:
                    continue
                d = x[b, 0, i, j] - x[b, 0, qi, qj]
                k = math.exp(-d * d / (2 * sigma * sigma)) / (
                    sigma * math.sqrt(2 * math.pi))
                if k < h:
                    k *= 0.1
                num += k * x[b, 0, qi, qj]
                den += k
            new[b, 0, i, j] = num / den
        x = new
    return x


@pytest.mark.parametrize('border', ['valid', 'replicate'])
@pytest.mark.parametrize('h,s', [(0.4, 1), (0.9, 2), (0.9, 6)])
@pytest.mark.parametrize('tile_elems', [2**16, 7, 25])
def test_blurring_mean_shift_matches_brute_force(border, h, s, tile_elems):
    # tile_elems 7 / 25: stripes of 1 / 2 rows (the last one shorter); s = 6
    # reaches past the 5x6 map
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 1, 5, 6, generator=gen, dtype=torch.float64) * 2
    valid = torch.rand(2, 1, 5, 6, generator=gen) > 0.2
    if border == 'replicate':
        valid[:] = True
    out = blurring_mean_shift(x, s, h, 3, valid, border, tile_elems=tile_elems)
    ref = brute_mean_shift(x.numpy(), s, h, 3, valid.numpy(), border)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ref, np.where(valid.numpy(), x.numpy(), 0))


def test_kernel_values():
    # sigma = 0.3 for h = 0.9: phi(0) = 1 / (0.3 sqrt(2 pi)) = 1.3298
    k = mean_shift_kernel(torch.tensor([0.0, 0.3, 1.0]), 0.9)
    peak = 1 / (0.3 * math.sqrt(2 * math.pi))
    assert k[0].item() == pytest.approx(peak)
    # phi(0.3) = peak * exp(-0.5) = 0.8066 < 0.9 -> attenuated
    assert k[1].item() == pytest.approx(0.1 * peak * math.exp(-0.5))
    no_att = mean_shift_kernel(torch.tensor([0.3]), 0.9, attenuate=False)
    assert no_att.item() == pytest.approx(peak * math.exp(-0.5))


def plateaus(values, H=20, W=40):
    x = torch.zeros(1, 1, H, W)
    for n, v in enumerate(values):
        x[0, 0, 2:10, 1 + 8 * n:7 + 8 * n] = v  # 8x6 = 48 pixels each
    return x


@pytest.mark.parametrize('k', [1, 2, 3, 4])
def test_k_separated_plateaus_give_k_candidates(k):
    x = plateaus([1.0, 2.0, 3.0, 4.0][:k])
    disc = MeanShiftDiscretizer(spatial_radii=(3, 4), size_thr=(5, 20))
    res = disc(x)[0]
    assert len(res) == k
    assert sorted(res.means.tolist()) == pytest.approx([1.0, 2.0, 3.0,
                                                        4.0][:k])
    assert res.areas.tolist() == [48.0] * k
    # without dedup each bandwidth gives the same k masks
    res2 = MeanShiftDiscretizer(spatial_radii=(3, 4), dedup=False)(x)[0]
    assert len(res2) == 2 * k
    assert sorted(res2.bandwidth_idx.tolist()) == [0] * k + [1] * k


def test_equal_plateaus_need_connected_components():
    x = plateaus([2.0, 2.0, 2.0])
    binned = MeanShiftDiscretizer(spatial_radii=(2, 2))(x)[0]
    assert len(binned) == 1 and binned.areas.item() == 144
    split = MeanShiftDiscretizer(
        spatial_radii=(2, 2), split_components=True)(x)[0]
    assert len(split) == 3
    both = MeanShiftDiscretizer(
        spatial_radii=(2, 2), split_components='both')(x)[0]
    assert sorted(both.areas.tolist()) == [48, 48, 48, 144]


def test_unions_of_close_bins():
    # 1.0 and 1.3 fall in different h=0.4 bins (2 and 3) but are closer
    # than 0.4: their union is added; the h=0.9 bins both round to 1.
    x = plateaus([1.0, 1.3])
    res = MeanShiftDiscretizer(spatial_radii=(2, 2))(x)[0]
    assert sorted(res.areas.tolist()) == [48, 48, 96]
    res = MeanShiftDiscretizer(
        spatial_radii=(2, 2), merge_unions=False, dedup=False)(x)[0]
    assert sorted(res.areas.tolist()) == [48, 48, 96]  # union from h=0.9


def test_filters_batch_and_determinism():
    x = torch.cat([plateaus([1.0, 0.2]), plateaus([3.0])])
    x[1, 0, 15:17, 30:32] = 2.0  # 4 pixels: below size_thr
    valid = torch.ones_like(x, dtype=torch.bool)
    valid[0, 0, :, 30:] = False
    disc = MeanShiftDiscretizer(spatial_radii=(3, 3))
    res = disc(x, valid)
    # 0.2 is below bg_thr, the 4-pixel square below size_thr
    assert [len(r) for r in res] == [1, 1]
    assert res[0].means.item() == pytest.approx(1.0)
    assert res[1].means.item() == pytest.approx(3.0)
    again = disc(x, valid)
    for a, b in zip(res, again):
        assert torch.equal(a.masks, b.masks)
        assert torch.equal(a.boxes, b.boxes)
    empty = disc(torch.zeros(1, 1, 8, 8))[0]
    assert empty.masks.shape == (0, 8, 8) and empty.boxes.shape == (0, 4)


def test_extend_boxes_formula():
    m = torch.zeros(2, 40, 100, dtype=torch.bool)
    m[0, 10:20, 30:80] = True  # w 50 -> 50 + 10 = 60, h 10 -> 12
    m[1, 0:2, 0:3] = True  # tiny at the corner -> 8x8 shifted inside
    boxes = extend_boxes(m)
    # x: centre 54.5, 60 wide -> 24.5..84.5; y: centre 14.5, 12 -> 8.5..20.5
    torch.testing.assert_close(boxes[0], torch.tensor([24.5, 8.5, 84.5, 20.5]))
    torch.testing.assert_close(boxes[1], torch.tensor([0.0, 0.0, 8.0, 8.0]))
    big = torch.zeros(1, 40, 100, dtype=torch.bool)
    big[0, :, 10:95] = True  # 85 + min(17, 16) = 101 -> clipped to 100
    torch.testing.assert_close(
        extend_boxes(big)[0], torch.tensor([0.0, 0.0, 100.0, 40.0]))


@pytest.mark.parametrize('kwargs,match', [
    (dict(bandwidths=(0.4, 0.0)), 'bandwidth 0.0'),
    (dict(bandwidths=(-0.9, )), 'bandwidth -0.9'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MeanShiftDiscretizer(**kwargs)
    with pytest.raises(ValueError, match='bandwidth=0'):
        blurring_mean_shift(torch.zeros(1, 1, 3, 3), 1, 0)
