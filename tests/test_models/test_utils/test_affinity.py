# Copyright (c) mmboundary contributors. All rights reserved.
"""Colour and depth-gradient affinities (BoxInst; AsyInst Sec. 3.1)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmboundary.models.utils import (color_affinity, depth_grad_affinity,
                                     dilated_neighbours, downsample_depth,
                                     rgb_to_lab, srgb_bytes_to_lab)


def _unfold_wo_center(x, k, d):
    """mmdet's ``unfold_wo_center``, written with ``F.unfold``."""
    pad = (k + (d - 1) * (k - 1)) // 2
    u = F.unfold(x, kernel_size=k, padding=pad, dilation=d)
    u = u.reshape(x.size(0), x.size(1), -1, x.size(2), x.size(3))
    return torch.cat((u[:, :, :k * k // 2], u[:, :, k * k // 2 + 1:]), dim=2)


@pytest.mark.parametrize('k,d', [(3, 1), (3, 2), (5, 2), (3, 4)])
def test_neighbours_match_unfold(k, d):
    x = torch.randn(2, 3, 9, 11)
    assert torch.equal(dilated_neighbours(x, k, d), _unfold_wo_center(x, k, d))


def test_neighbour_order_by_hand():
    x = torch.arange(25.).reshape(1, 1, 5, 5)
    nb = dilated_neighbours(x, 3, 2)[0, 0, :, 2, 2]
    # centre (2, 2) = 12; neighbours at (0,0) (0,2) (0,4) (2,0) (2,4) ...
    assert nb.tolist() == [0., 2., 4., 10., 14., 20., 22., 24.]
    nb = dilated_neighbours(x, 3, 2)[0, 0, :, 0, 0]
    assert nb.tolist() == [0., 0., 0., 0., 2., 0., 10., 12.]


def test_lab_hand_values():
    rgb = torch.tensor([[1., 1., 1.], [0., 0., 0.], [1., 0., 0.]],
                       dtype=torch.float64).T.reshape(3, 1, 3)
    lab = rgb_to_lab(rgb)[:, 0].T
    assert lab[0].tolist() == pytest.approx([100.0, 0.0, 0.0], abs=1e-2)
    assert lab[1].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    # sRGB red, with skimage's constants
    assert lab[2].tolist() == pytest.approx([53.2408, 80.0925, 67.2032],
                                            abs=1e-3)


def test_lab_against_skimage():
    color = pytest.importorskip(
        'skimage.color',
        reason='scikit-image (requirements/tests.txt) is '
        'the Lab reference')
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    img[0, :, :] = np.arange(64)[:, None] * 4  # greys incl. the dark branch
    img[1, :, :] = np.arange(64)[:, None] // 4  # very dark colours
    ref = color.rgb2lab(img)
    x = torch.from_numpy(img).permute(2, 0, 1).double() / 255
    got = rgb_to_lab(x).permute(1, 2, 0).numpy()
    assert np.abs(got - ref).max() < 1e-6
    got32 = rgb_to_lab(x.float()).permute(1, 2, 0).numpy()
    assert np.abs(got32 - ref).max() < 1e-3
    # the 8-bit table path: the same numbers as the formula, exactly
    table = srgb_bytes_to_lab(torch.from_numpy(img).permute(2, 0, 1))
    assert torch.equal(table, rgb_to_lab(x))
    everything = torch.arange(256, dtype=torch.uint8).repeat(3, 1)[:, None]
    assert torch.equal(
        srgb_bytes_to_lab(everything), rgb_to_lab(everything.double() / 255))
    with pytest.raises(TypeError, match='uint8'):
        srgb_bytes_to_lab(x)


def test_color_affinity_by_hand():
    # two flat regions: left Lab (50, 0, 0), right (50, 3, 4) (distance 5)
    lab = torch.zeros(1, 3, 4, 6)
    lab[:, 0] = 50
    lab[:, 1, :, 3:] = 3
    lab[:, 2, :, 3:] = 4
    valid = torch.ones(1, 1, 4, 6)
    aff = color_affinity(lab, valid, 3, 2, 0.3)
    # channel 4 = right neighbour at +2: same region iff x + 2 <= 2 or x >= 3
    right = aff[0, 4]
    assert right[0].tolist() == [1., 0., 0., 1., 0., 0.]
    # exp(-5 / 2) = 0.082 < 0.3 but exp(-2 / 2) = 0.37 >= 0.3
    lab[:, 1, :, 3:] = 0
    lab[:, 2, :, 3:] = 2
    assert color_affinity(lab, valid)[0, 4, 0].tolist() == [1.] * 4 + [0.] * 2
    # invalid neighbour (e.g. padding or removed bottom rows)
    valid[:, :, :, 4:] = 0
    assert color_affinity(lab, valid)[0, 4, 0].tolist() == [1.] * 2 + [0.] * 4
    assert math.exp(-2.0 / 2) >= 0.3 > math.exp(-5 / 2)


def test_depth_affinity_plane_with_step():
    yy, xx = torch.meshgrid(torch.arange(8.), torch.arange(10.), indexing='ij')
    depth = 5 + 0.5 * xx + 0.25 * yy  # a plane: second differences are 0
    depth[:, 6:] += 3.0  # a step between x = 5 and x = 6
    aff = depth_grad_affinity(depth[None, None], thresh=0.01)
    assert set(aff.unique().tolist()) == {0.0, 1.0}
    # channel 4: (p, p + (0, 2)) with midpoint p + (0, 1)
    row = [1., 1., 1., 1., 0., 0., 1., 1., 0., 0.]
    assert aff[0, 4].tolist() == [row] * 8
    # channel 3: (p, p - (0, 2)): the step lies between x-2 and x
    row = [0., 0., 1., 1., 1., 1., 0., 0., 1., 1.]
    assert aff[0, 3].tolist() == [row] * 8
    # vertical edges never cross the step: valid wherever y +- 2 is inside
    assert aff[0, 6, :6].eq(1).all() and aff[0, 6, 6:].eq(0).all()
    # the threshold is inclusive: a 2nd difference of exactly 0.5
    bump = torch.zeros(1, 1, 1, 5) + 1.0
    bump[..., 2] = 1.25
    ok = depth_grad_affinity(bump, thresh=0.5)[0, 4, 0]
    assert ok.tolist() == [1., 1., 1., 0., 0.]
    assert depth_grad_affinity(bump, thresh=0.49)[0, 4, 0].tolist() == \
        [1., 0., 1., 0., 0.]


def test_depth_affinity_needs_all_three_valid():
    depth = torch.ones(1, 1, 1, 7)
    depth[..., 3] = 0  # an invalid midpoint / end
    aff = depth_grad_affinity(depth, thresh=0.01)[0, 4, 0]
    # edge (x, x + 2) uses x, x + 1, x + 2
    assert aff.tolist() == [1., 0., 0., 0., 1., 0., 0.]


def test_depth_affinity_odd_dilation_is_refused():
    with pytest.raises(ValueError, match='even dilation'):
        depth_grad_affinity(torch.ones(1, 1, 4, 4), dilation=3)


def test_downsample_depth_does_not_mix_invalid():
    depth = torch.tensor([[1., 2., 5., 0.], [3., 4., 7., 7.], [2., 2., 0., 0.],
                          [2., 2., 0., 0.]])[None, None]
    d, v = downsample_depth(depth, 2)
    assert d[0, 0].tolist() == [[2.5, 0.0], [2.0, 0.0]]
    assert v[0, 0].tolist() == [[True, False], [True, False]]
    extra = torch.ones_like(depth)
    extra[..., 3, 0] = 0  # e.g. a removed bottom row
    d, v = downsample_depth(depth, 2, extra)
    assert d[0, 0].tolist() == [[2.5, 0.0], [0.0, 0.0]]
    d, v = downsample_depth(depth, 1)
    assert torch.equal(d, depth) and torch.equal(v, depth > 0)


@pytest.mark.parametrize('k,d', [(3, 2), (5, 2), (3, 4)])
def test_affinities_equal_a_per_edge_brute_force(k, d):
    """Each channel computed directly from its own neighbour (the fast
    versions derive the mirrored offsets by shifting), bit for bit."""
    g = torch.Generator().manual_seed(k * 10 + d)
    lab = torch.rand(
        2, 3, 9, 11, generator=g) * torch.tensor([3.0, 2.0, 2.0])[:, None,
                                                                  None]
    valid = (torch.rand(2, 1, 9, 11, generator=g) > 0.2).float()
    nb_lab = dilated_neighbours(lab, k, d)  # (B, 3, E, h, w)
    nb_valid = dilated_neighbours(valid, k, d)[:, 0]
    dist = ((lab[:, :, None] - nb_lab)**2).sum(1).sqrt()
    ref = (torch.exp(-dist * 0.5) * nb_valid >= 0.3).float()
    got = color_affinity(lab, valid, k, d, 0.3)
    assert 0 < ref.mean() < 1
    assert torch.equal(got, ref)

    depth = torch.round(torch.rand(2, 1, 9, 11, generator=g) * 4) / 4
    dvalid = depth > 0
    mid = dilated_neighbours(depth, k, d // 2)[:, 0]
    far = dilated_neighbours(depth, k, d)[:, 0]
    v_mid = dilated_neighbours(dvalid.float(), k, d // 2)[:, 0] > 0
    v_far = dilated_neighbours(dvalid.float(), k, d)[:, 0] > 0
    diff = (depth + far - 2.0 * mid).abs()
    ref = ((diff <= 0.25) & dvalid & v_mid & v_far).float()
    got = depth_grad_affinity(depth, None, k, d, 0.25)
    assert 0 < ref.mean() < 1
    assert torch.equal(got, ref)


def test_downsample_depth_against_numpy():
    rng = np.random.default_rng(3)
    depth = rng.uniform(1, 9, (2, 1, 8, 12)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.1] = 0
    d, v = downsample_depth(torch.from_numpy(depth), 4)
    cells = depth.reshape(2, 1, 2, 4, 3, 4)
    ok = (cells > 0).all(axis=(3, 5))
    mean = cells.mean(axis=(3, 5), dtype=np.float64)
    assert ok.any() and not ok.all()
    np.testing.assert_array_equal(v.numpy(), ok)
    np.testing.assert_allclose(d.numpy(), np.where(ok, mean, 0), rtol=1e-6)
