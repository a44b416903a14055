# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS mean-shift discretiser against a brute-force re-derivation."""
import itertools
import math
import shutil

import numpy as np
import pytest
import torch

from mmboundary.models.utils.mean_shift import (MeanShiftDiscretizer,
                                                blurring_mean_shift,
                                                extend_boxes,
                                                mean_shift_kernel)
from mmboundary.models.utils.mean_shift_native import (native_available,
                                                       native_status)
from mmboundary.testing.dvis_maps import synthetic_dvis_map


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


# ---------------------------------------------------------------------------
# The fused CPU kernel against the torch code (today's discretiser, kept as
# ``impl='torch'``), and the one-character mutations of the candidate rules.

needs_native = pytest.mark.skipif(
    not native_available(),
    reason=f'fused mean-shift kernel unavailable: {native_status()}')


def trained_like(shape, num_instances=8, seed=0):
    return synthetic_dvis_map(shape, num_instances, seed).relu()


def test_native_kernel_is_built_where_a_compiler_exists():
    # CI must not fall back silently to the slow code
    if shutil.which('cc') or shutil.which('gcc'):
        assert native_available(), native_status()
        assert native_status() == 'fused C kernel'


@needs_native
@pytest.mark.parametrize(
    'shape,s,h,border,tile,attenuate',
    [
        ((1, 44, 84), 7, 0.4, 'valid', 2**16, True),
        ((1, 44, 84), 11, 0.9, 'valid', 2**16, True),
        ((2, 30, 37), 11, 0.9, 'valid', 2**16, True),  # odd width, batch
        ((1, 40, 48), 3, 0.9, 'valid', 500, True),  # many stripes
        ((2, 21, 19), 2, 0.4, 'valid', 7, True),  # stripes of one row
        ((1, 20, 24), 3, 0.9, 'replicate', 2**16, True),
        ((1, 20, 24), 4, 0.4, 'valid', 2**16, False),
        ((1, 1, 50), 5, 0.9, 'valid', 2**16, True),  # one row
        ((1, 9, 1), 5, 0.4, 'valid', 2**16, True),  # one column
        ((1, 5, 6), 9, 0.9, 'valid', 2**16, True),  # radius past the map
        ((1, 16, 16), 2, 2.0, 'valid', 2**16, True),  # self weight attenuated
    ])
def test_native_kernel_bit_equal_to_torch(shape, s, h, border, tile,
                                          attenuate):
    for seed in range(2):
        x = trained_like(shape, 4, seed)
        valid = torch.ones_like(x, dtype=torch.bool)
        if shape[1] > 4:
            valid[0, 0, -2:, :] = False  # batch padding
        if shape[0] > 1:
            valid[1, 0, :, -3:] = False
        kw = dict(
            valid=valid, border=border, attenuate=attenuate, tile_elems=tile)
        ref = blurring_mean_shift(x, s, h, 4, impl='torch', **kw)
        out = blurring_mean_shift(x, s, h, 4, impl='native', **kw)
        assert torch.equal(out, ref)  # every bit, not just the labels
        assert not torch.equal(ref, x * valid)


@needs_native
@pytest.mark.parametrize(
    'shape,s,h,border,tile',
    [
        ((1, 44, 84), 7, 0.4, 'valid', 2**16),
        ((2, 30, 37), 11, 0.9, 'valid', 2**16),  # odd width, batch
        ((1, 40, 48), 3, 0.9, 'valid', 500),  # many stripes
        ((2, 21, 19), 2, 0.4, 'valid', 7),  # stripes of one row
        ((1, 20, 24), 3, 0.9, 'replicate', 2**16),
        ((1, 1, 50), 5, 0.9, 'valid', 2**16),  # one row: fewer rows
        ((1, 9, 1), 5, 0.4, 'valid', 2**16),  # than threads
        ((1, 5, 6), 9, 0.9, 'valid', 2**16),  # radius past the map
    ])
def test_native_kernel_threads_bit_equal(monkeypatch, shape, s, h, border,
                                         tile):
    """The threaded C passes (exponents split by buffered rows, credits by
    output rows) give the torch code's bits with any number of threads,
    each thread given as little as one pair (so tiny maps are split)."""
    from mmboundary.models.utils import mean_shift as ms
    from mmboundary.models.utils import mean_shift_native as msn
    monkeypatch.setattr(msn, '_THREAD_GRAIN', 1)
    x = trained_like(shape, 4, 3)
    valid = torch.ones_like(x, dtype=torch.bool)
    if shape[1] > 4:
        valid[0, 0, -2:, :] = False
    if shape[0] > 1:
        valid[1, 0, :, -3:] = False
    kw = dict(valid=valid, border=border, tile_elems=tile)
    ref = blurring_mean_shift(x, s, h, 4, impl='torch', **kw)
    calls = []
    real = msn.native_blurring_mean_shift
    monkeypatch.setattr(ms, 'native_blurring_mean_shift',
                        lambda *a, **k: calls.append((a, k)) or real(*a, **k))
    blurring_mean_shift(x, s, h, 4, impl='native', **kw)
    (args, _), = calls
    for threads in (1, 2, 3, 5):
        out = real(*args, num_threads=threads)
        assert torch.equal(out, ref), threads
    # the default follows torch's thread count
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert torch.equal(real(*args), ref)
    finally:
        torch.set_num_threads(old)


def test_impl_choice_and_errors():
    x = trained_like((1, 12, 16))
    with pytest.raises(ValueError, match="impl='torch'"):
        blurring_mean_shift(x.double(), 2, 0.9, impl='native')
    with pytest.raises(ValueError, match='impl='):
        blurring_mean_shift(x, 2, 0.9, impl='fast')
    with pytest.raises(ValueError, match='impl='):
        MeanShiftDiscretizer(impl='fast')
    # float64 falls back to the torch code under 'auto'
    out = blurring_mean_shift(x.double(), 2, 0.9)
    torch.testing.assert_close(out.float(),
                               blurring_mean_shift(x, 2, 0.9, impl='torch'))


def test_native_can_be_disabled(monkeypatch):
    from mmboundary.models.utils import mean_shift_native as msn
    monkeypatch.setattr(msn, '_state', {
        'lib': None,
        'reason': None,
        'tried': False,
        'libm_max': None
    })
    monkeypatch.setenv('MMBOUNDARY_NATIVE', '0')
    assert not msn.native_available()
    assert 'MMBOUNDARY_NATIVE=0' in msn.native_status()
    x = trained_like((1, 12, 16))
    with pytest.raises(RuntimeError, match='unavailable'):
        msn.native_blurring_mean_shift(x, x > -1, [(0, 0)], 1, 1, -1.0, -1.0,
                                       -2.3, True, 100.0, True, 12)


def _same(a, b):
    assert len(a) == len(b)
    for r, q in zip(a, b):
        assert len(r) == len(q)
        for key in ('masks', 'bandwidth_idx', 'means', 'areas', 'boxes'):
            assert torch.equal(r.get(key), q.get(key)), key


@needs_native
@pytest.mark.parametrize('case', [
    'coco', 'cityscapes', 'batch_padded', 'split_both', 'constant', 'zeros',
    'flat_noise', 'tiny'
])
def test_fast_discretizer_gives_todays_candidates(case):
    """The key evidence: same candidates, same masks as the torch code on
    trained-like maps (plateaus with noise, several instances)."""
    kw = {}
    valid = None
    if case == 'coco':  # stride 4 of a 352x672 input, 8 instances
        x = torch.cat([trained_like((1, 88, 168), 8, s) for s in range(3)])
    elif case == 'cityscapes':
        x = trained_like((1, 64, 128), 16, 5)
    elif case == 'batch_padded':
        x = trained_like((2, 48, 80), 6, 7)
        valid = torch.ones_like(x, dtype=torch.bool)
        valid[0, :, 40:] = False
        valid[1, :, :, 70:] = False
    elif case == 'split_both':
        x = trained_like((1, 48, 80), 6, 8)
        kw = dict(split_components='both')
    elif case == 'constant':  # one value: one candidate, the whole map
        x = torch.full((1, 1, 20, 30), 2.0)
    elif case == 'zeros':
        x = torch.zeros(1, 1, 20, 30)
    elif case == 'flat_noise':
        x = (1.5 + 0.3 * torch.randn(
            1, 1, 30, 40, generator=torch.Generator().manual_seed(0))).relu()
    else:
        x = trained_like((1, 3, 5), 1, 0)
    ref = MeanShiftDiscretizer(impl='torch', **kw)(x, valid)
    fast = MeanShiftDiscretizer(impl='native', **kw)(x, valid)
    _same(fast, ref)
    n = sum(len(r) for r in ref)
    if case in ('coco', 'cityscapes', 'batch_padded', 'split_both'):
        assert n >= 4  # a realistic number of candidates was compared
    if case == 'constant':
        assert n == 1 and ref[0].areas.item() == 600
    if case == 'zeros':
        assert n == 0


@pytest.mark.parametrize('impl', ['auto', 'torch'])
def test_bad_maps(impl):
    disc = MeanShiftDiscretizer(impl=impl)
    # empty maps: defined empty results
    for shape in [(1, 1, 0, 7), (1, 1, 5, 0), (0, 1, 4, 4)]:
        res = disc(torch.zeros(shape))
        assert len(res) == shape[0]
        for r in res:
            assert r.masks.shape == (0, ) + shape[2:]
            assert r.boxes.shape == (0, 4)
    # NaN / inf among valid pixels: one clear error
    for bad in (float('nan'), float('inf')):
        x = torch.ones(1, 1, 6, 6)
        x[0, 0, 2, 3] = bad
        with pytest.raises(ValueError, match='1 NaN or inf'):
            disc(x)
        # on padding they are ignored (the pixel is not in the map)
        valid = torch.ones_like(x, dtype=torch.bool)
        valid[0, 0, 2, 3] = False
        res = disc(x, valid)[0]
        assert len(res) == 1 and res.areas.item() == 35
        assert res.means.item() == 1.0


def test_size_thr_is_exclusive():
    # a candidate needs area > size_thr: a 20-pixel plateau (area equal to
    # the threshold) is dropped, a 21-pixel one kept (mutation: >=)
    x = torch.zeros(1, 1, 16, 30)
    x[0, 0, 2:6, 2:7] = 2.0  # 4 x 5 = 20
    x[0, 0, 9:12, 15:22] = 4.0  # 3 x 7 = 21
    disc = MeanShiftDiscretizer(
        bandwidths=(0.9, ),
        spatial_radii=(2, ),
        num_keep=(20, ),
        size_thr=(20, ))
    res = disc(x)[0]
    assert res.areas.tolist() == [21.0]
    assert res.means.tolist() == [4.0]
    # the same rule for connected components: 20 and 22 pixels at one value
    x = torch.zeros(1, 1, 16, 30)
    x[0, 0, 2:6, 2:7] = 2.0  # 20
    x[0, 0, 9:11, 15:26] = 2.0  # 2 x 11 = 22
    disc = MeanShiftDiscretizer(
        bandwidths=(0.9, ),
        spatial_radii=(2, ),
        num_keep=(20, ),
        size_thr=(20, ),
        split_components=True,
        a2p_ratio_thr=0.0)
    res = disc(x)[0]
    assert res.areas.tolist() == [22.0]


def test_bin_mean_is_taken_from_the_input_map():
    # An 8x8 square at 0.31 (> bg_thr 0.3) inside a plateau at 0.1: mean
    # shift drags the square's values down; 44 of its pixels stay in their
    # own bin (round(x / 0.41) = 1) but at a mean of about 0.24, below 0.3.
    # The bin mean compared with bg_thr is the INPUT's (0.31): the square
    # is kept. Taken from the shifted map it would be below 0.3 and the
    # candidate lost (mutation).
    x = torch.full((1, 1, 16, 30), 0.1)
    x[0, 0, 3:11, 10:18] = 0.31
    shifted = blurring_mean_shift(x, 2, 0.4, 4)[0, 0]
    in_bin = torch.round(shifted / 0.41) == 1
    square = torch.zeros_like(in_bin)
    square[3:11, 10:18] = True
    # the premise: a bin inside the square, shifted mean well below 0.3
    assert 5 < in_bin.sum() < 64 and not (in_bin & ~square).any()
    assert shifted[in_bin].mean() < 0.26
    disc = MeanShiftDiscretizer(
        bandwidths=(0.4, ),
        spatial_radii=(2, ),
        num_keep=(40, ),
        size_thr=(5, ))
    res = disc(x)[0]
    assert len(res) == 1
    assert res.means.item() == pytest.approx(0.31)
    assert torch.equal(res.masks[0], in_bin)


def test_trained_like_maps_have_the_statistics_they_claim():
    raw = synthetic_dvis_map((2, 64, 96), num_instances=5, seed=3)
    assert raw.shape == (2, 1, 64, 96) and raw.dtype == torch.float32
    assert torch.equal(raw, synthetic_dvis_map((2, 64, 96), 5, seed=3))
    x = raw.relu()[0, 0]
    # background pushed below 0: most of it exactly 0 after the ReLU
    assert 0.2 < (x == 0).float().mean() < 0.95
    # plateaus near distinct integers (offset <= 0.15, noise 0.04)
    near = [((x - v).abs() < 0.3).sum().item() for v in range(1, 6)]
    assert sum(n > 20 for n in near) >= 3
    assert x.max() < 5 + 0.15 + 0.3
