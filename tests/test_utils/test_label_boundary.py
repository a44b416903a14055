# Copyright (c) mmboundary contributors. All rights reserved.
import importlib

import numpy as np
import pytest
import torch

from mmboundary.datasets.transforms import boundary as transforms_boundary
from mmboundary.models.utils import semantic_edge_net
from mmboundary.utils import label_boundary
from mmboundary.utils.label_boundary import (edge_target, semantic_edge_map,
                                             sobel_boundary_map,
                                             sobel_boundary_target)


def test_one_home():
    """Transforms, losses, the edge net and the metrics use the same
    functions."""
    assert transforms_boundary.semantic_edge_map is semantic_edge_map
    assert transforms_boundary.sobel_boundary_map is sobel_boundary_map
    assert semantic_edge_net.edge_target is edge_target
    from mmboundary.models.losses import semeda_loss
    assert semeda_loss.edge_target is label_boundary.edge_target
    # the package re-exports a function of the module's name
    users = {
        'mmboundary.models.losses.edge_agreement_loss': ['near_mask_torch'],
        'mmboundary.models.pretraining.edge_net': ['near_mask_torch'],
        'mmboundary.evaluation.functional.semantic_boundary_stats':
        ['WindowExtrema', 'label_band'],
        'mmboundary.evaluation.functional.boundary_accuracy': ['label_band'],
        'mmboundary.evaluation.functional.boundary_fscore':
        ['WindowExtrema', 'window_contains', 'near_mask', 'near_border'],
        'mmboundary.evaluation.functional.boundary_iou':
        ['mask_inner_boundary'],
        'mmboundary.evaluation.metrics.boundary_ap_metric':
        ['mask_inner_boundary'],
    }
    for module_name, names in users.items():
        # by module path: packages re-export functions of a module's name
        module = importlib.import_module(module_name)
        for name in names:
            assert getattr(module, name) is getattr(label_boundary,
                                                    name), (module_name, name)


def test_sobel_target_by_hand():
    # Two vertical stripes: |gx| = 1 + 2 + 1 = 4 on the two columns next to
    # the change, 0 elsewhere (replicated border: no border boundary).
    lab = torch.tensor([[0, 0, 1, 1]] * 4)[None]
    expected = torch.tensor([[0, 1, 1, 0]] * 4)[None]
    assert torch.equal(sobel_boundary_target(lab), expected)
    # Strict threshold on the magnitude 4.
    assert sobel_boundary_target(lab, threshold=4.0).sum() == 0
    assert torch.equal(sobel_boundary_target(lab, threshold=3.9), expected)
    # Class ids matter: a jump 0 -> 3 has magnitude 12.
    assert torch.equal(
        sobel_boundary_target(lab * 3, threshold=11.9), expected)
    # A single pixel of class 1 in a 0 field: gx = gy = 0 at its centre (a
    # symmetric window), magnitude > 0 at its 8 neighbours.
    dot = torch.zeros(1, 5, 5, dtype=torch.long)
    dot[0, 2, 2] = 1
    out = sobel_boundary_target(dot)[0]
    ring = torch.zeros(5, 5, dtype=torch.long)
    ring[1:4, 1:4] = 1
    ring[2, 2] = 0
    assert torch.equal(out, ring)


def test_sobel_target_ignore():
    lab = torch.zeros(1, 5, 6, dtype=torch.long)
    lab[0, :, 3:] = 2
    lab[0, 0, 0] = 255
    out = sobel_boundary_target(lab)[0]
    # The ignore pixel and its 3x3 window are ignored, nothing else.
    assert out[0, 0] == out[0, 1] == out[1, 0] == out[1, 1] == 255
    assert (out == 255).sum() == 4
    assert torch.equal(out[2:, :], torch.tensor([[0, 0, 1, 1, 0, 0]] * 3))
    # (N, 1, H, W) is accepted; other shapes are not.
    assert torch.equal(sobel_boundary_target(lab[:, None])[0], out)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        sobel_boundary_target(lab[0])


def test_numpy_and_torch_twins_agree():
    rng = np.random.default_rng(0)
    for trial in range(5):
        lab = np.kron(
            rng.integers(0, 6, size=(5, 7)), np.ones((3, 4), np.int64))
        lab = lab[:13, :25].astype(np.uint8)
        ref = sobel_boundary_map(lab, threshold=float(trial))
        out = sobel_boundary_target(
            torch.from_numpy(lab).long()[None], threshold=float(trial))[0]
        np.testing.assert_array_equal(out.numpy(), ref)
        ref8 = semantic_edge_map(lab, connectivity=8, width=1)
        np.testing.assert_array_equal(
            edge_target(torch.from_numpy(lab).long()[None])[0].numpy(), ref8)
    # With an ignore region, they agree away from it (3x3 window).
    lab = np.kron(rng.integers(0, 4, (4, 4)), np.ones((4, 4), np.int64))
    lab[5:9, 5:9] = 255
    ref = sobel_boundary_map(lab.astype(np.uint8))
    out = sobel_boundary_target(torch.from_numpy(lab)[None])[0].numpy()
    far = np.ones_like(lab, bool)
    far[4:10, 4:10] = False
    np.testing.assert_array_equal(out[far], ref[far])
    assert (out[5:9, 5:9] == 255).all() and (ref[5:9, 5:9] == 255).all()


def _blobs(rng, h, w, k, cell=3):
    """(h, w) uint8 label map of ``cell``-sized random blocks of k labels."""
    small = rng.integers(0, k, (-(-h // cell), -(-w // cell)))
    return np.kron(small, np.ones((cell, cell),
                                  np.int64))[:h, :w].astype(np.uint8)


def _brute_extrema(label, footprint):
    """Window max / min by looping over the footprint's offsets, pixels
    outside the image skipped."""
    h, w = label.shape
    r = footprint.shape[0] // 2
    mx = np.zeros_like(label)
    mn = np.full_like(label, 255)
    for dy, dx in zip(*np.nonzero(footprint)):
        dy, dx = dy - r, dx - r
        for y in range(h):
            for x in range(w):
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w:
                    mx[y, x] = max(mx[y, x], label[yy, xx])
                    mn[y, x] = min(mn[y, x], label[yy, xx])
    return mx, mn


@pytest.mark.parametrize('shape', [(1, 1), (1, 9), (7, 1), (9, 13)])
def test_window_extrema_against_brute_force(shape):
    rng = np.random.default_rng(sum(shape))
    lab = rng.integers(0, 7, shape).astype(np.uint8)
    for kernel in (label_boundary.neighbourhood_kernel(8, 1),
                   label_boundary.neighbourhood_kernel(8, 2),
                   label_boundary.neighbourhood_kernel(4, 2),
                   label_boundary.disk_kernel(2),
                   label_boundary.disk_kernel(3)):
        mx, mn = _brute_extrema(lab, kernel)
        np.testing.assert_array_equal(
            label_boundary.window_max(lab, kernel), mx)
        np.testing.assert_array_equal(
            label_boundary.window_min(lab, kernel), mn)


def test_window_extrema_cache_composes_radii():
    rng = np.random.default_rng(1)
    lab = _blobs(rng, 23, 31, 5, cell=2)
    ext = label_boundary.WindowExtrema(lab)
    # Out of order, so radii are derived from smaller cached ones.
    for r in (3, 1, 5, 2, 4):
        mx, mn = ext(r)
        ref = _brute_extrema(lab, label_boundary.neighbourhood_kernel(8, r))
        np.testing.assert_array_equal(mx, ref[0])
        np.testing.assert_array_equal(mn, ref[1])
        band = ext.band(r, border=False)
        np.testing.assert_array_equal(band, ref[0] != ref[1])
        np.testing.assert_array_equal(band, label_boundary.label_band(lab, r))
        framed = ext.band(r, border=True)
        np.testing.assert_array_equal(
            framed, label_boundary.label_band(lab, r, border=True))
        # the frame is exactly the pixels within r of the border
        idx = np.arange(lab.size)
        far = ~label_boundary.near_border(idx, lab.shape, r).reshape(lab.shape)
        np.testing.assert_array_equal(framed[far], band[far])
        assert framed[~far].all()


def test_label_band_by_hand():
    # One pixel of class 1 in a 0 field: the square band of radius 1 is the
    # 3x3 block around it; the radius-2 disk band is the pixels whose
    # disk holds the centre, i.e. the disk itself: OpenCV's 5x5 ellipse,
    # rows of 1, 5, 5, 5, 1 pixels (17).
    dot = np.zeros((7, 7), np.uint8)
    dot[3, 3] = 1
    sq = label_boundary.label_band(dot, 1)
    assert sq.sum() == 9 and sq[2:5, 2:5].all()
    disk = label_boundary.label_band(dot, 2, 'disk')
    assert disk.sum() == 17
    assert disk[3, 1] and disk[1, 3] and disk[2, 2] and not disk[1, 1]
    np.testing.assert_array_equal(
        disk,
        np.pad(label_boundary.disk_kernel(2), 1) == 1)
    # The border is no boundary, unless asked for (Boundary IoU).
    flat = np.zeros((4, 5), np.uint8)
    assert not label_boundary.label_band(flat, 1).any()
    framed = label_boundary.label_band(flat, 1, border=True)
    assert framed.sum() == 4 * 5 - 2 * 3
    frame = np.zeros((4, 5), bool)
    label_boundary.mark_frame(frame, 2)
    assert frame.all()  # radius 2 covers a 4-row image
    with pytest.raises(ValueError, match="shape must be 'square' or 'disk'"):
        label_boundary.label_band(dot, 1, 'hexagon')
    with pytest.raises(ValueError, match='radius must be an integer >= 1'):
        label_boundary.disk_kernel(0)


def test_label_band_is_the_edge_map_without_ignore():
    rng = np.random.default_rng(2)
    for _ in range(4):
        lab = _blobs(rng, 17, 26, 6)
        np.testing.assert_array_equal(
            label_boundary.label_band(lab, 1).astype(np.uint8),
            semantic_edge_map(lab, ignore_index=None))
        np.testing.assert_array_equal(
            label_boundary.label_band(lab, 2).astype(np.uint8),
            semantic_edge_map(lab, ignore_index=None, width=2))


def test_torch_twins_of_bands_and_margins():
    rng = np.random.default_rng(3)
    lab = _blobs(rng, 19, 24, 5)
    mask = rng.random((19, 24)) < 0.05
    np.testing.assert_array_equal(label_boundary.near_mask(mask, 0), mask)
    np.testing.assert_array_equal(
        label_boundary.near_mask_torch(torch.from_numpy(mask)[None],
                                       0)[0].numpy(), mask)
    for r in (1, 2, 3):
        np.testing.assert_array_equal(
            label_boundary.label_band_torch(
                torch.from_numpy(lab)[None].long(), r)[0].numpy(),
            label_boundary.label_band(lab, r))
        mx, mn = label_boundary.window_extrema_torch(
            torch.from_numpy(lab)[None].float(), r)
        ref = label_boundary.WindowExtrema(lab)(r)
        np.testing.assert_array_equal(mx[0].numpy(), ref[0])
        np.testing.assert_array_equal(mn[0].numpy(), ref[1])
        # label_boundary.near_mask: any True pixel within chessboard distance r
        ys, xs = np.nonzero(mask)
        yy, xx = np.mgrid[:19, :24]
        dist = np.min(
            np.maximum(np.abs(yy[..., None] - ys), np.abs(xx[..., None] - xs)),
            axis=-1)
        np.testing.assert_array_equal(
            label_boundary.near_mask(mask, r), dist <= r)
        np.testing.assert_array_equal(
            label_boundary.near_mask_torch(torch.from_numpy(mask)[None],
                                           r)[0].numpy(), dist <= r)


def test_mask_inner_boundary():
    full = np.ones((4, 4), bool)
    assert label_boundary.mask_inner_boundary(
        full, 1).sum() == 16 - 4  # border counts
    assert label_boundary.mask_inner_boundary(full, 2).sum() == 16
    rng = np.random.default_rng(4)
    from scipy.ndimage import binary_erosion
    for d in (1, 2, 3):
        mask = _blobs(rng, 21, 18, 2) == 1
        padded = np.pad(mask, 1)
        eroded = binary_erosion(
            padded, np.ones((3, 3), bool), iterations=d, border_value=0)
        expected = mask & ~eroded[1:-1, 1:-1]
        np.testing.assert_array_equal(
            label_boundary.mask_inner_boundary(mask, d), expected)
        np.testing.assert_array_equal(
            label_boundary.mask_inner_boundary(mask.astype(np.uint8), d),
            expected)


@pytest.mark.parametrize('queries', [5, 400])
def test_window_contains_against_brute_force(queries):
    # few queries read windows directly, many use the integral image
    rng = np.random.default_rng(queries)
    lab = _blobs(rng, 30, 40, 6, cell=2)
    idx = rng.integers(0, lab.size, queries)
    cls = rng.integers(0, 6, queries).astype(np.uint8)
    for r in (1, 3):
        ys, xs = np.divmod(idx, 40)
        expected = np.array([(lab[max(y - r, 0):y + r + 1,
                                  max(x - r, 0):x + r + 1] == c).any()
                             for y, x, c in zip(ys, xs, cls)])
        np.testing.assert_array_equal(
            label_boundary.window_contains(lab, idx, cls, r), expected)
