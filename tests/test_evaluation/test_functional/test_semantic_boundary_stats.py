# Copyright (c) mmboundary contributors. All rights reserved.
"""The multi-class engine against independent per-class re-derivations."""
import cv2
import numpy as np
import pytest
from scipy import ndimage as ndi

from mmboundary.evaluation.functional import (mask_to_boundary, mba_radii,
                                              semantic_boundary_stats)


def random_maps(rng, h, w, num_classes, noise=0.15):
    small = rng.integers(0, num_classes, (max(1, h // 4), max(1, w // 4)))
    gt = cv2.resize(
        small.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    pred = gt.copy()
    flip = rng.random((h, w)) < noise
    pred[flip] = rng.integers(0, num_classes, flip.sum())
    return gt.astype(np.int64), pred.astype(np.int64)


def chebyshev_hits(src, dst, t):
    """Brute force: src pixels with a dst pixel within chessboard t."""
    sy, sx = np.nonzero(src)
    dy, dx = np.nonzero(dst)
    if not len(sy) or not len(dy):
        return 0
    dist = np.maximum(abs(sy[:, None] - dy[None]), abs(sx[:, None] - dx[None]))
    return int((dist.min(1) <= t).sum())


@pytest.mark.parametrize('seed', range(12))
def test_engine_matches_per_class_definitions(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(6, 48, 2))
    num_classes = int(rng.integers(2, 6))
    gt, pred = random_maps(rng, h, w, num_classes)
    t = int(rng.integers(0, 9))  # large t exercises the integral path
    d = int(rng.integers(1, 6))
    widths = (1, 2, 4)
    s = semantic_boundary_stats(
        gt,
        pred,
        num_classes,
        tolerance=t,
        boundary_width_px=d,
        trimap_widths=widths)
    for c in range(num_classes):
        g, p = gt == c, pred == c
        gb, pb = mask_to_boundary(g, width=d), mask_to_boundary(p, width=d)
        assert s['biou_inter'][c] == (gb & pb).sum()
        assert s['biou_gt'][c] == gb.sum()
        assert s['biou_pred'][c] == pb.sum()
        gb1, pb1 = mask_to_boundary(g, width=1), mask_to_boundary(p, width=1)
        assert s['bf_prec_total'][c] == pb1.sum()
        assert s['bf_rec_total'][c] == gb1.sum()
        assert s['bf_prec_hit'][c] == chebyshev_hits(pb1, gb1, t)
        assert s['bf_rec_hit'][c] == chebyshev_hits(gb1, pb1, t)
        assert s['area_inter'][c] == (g & p).sum()
        assert s['area_gt'][c] == g.sum() and s['area_pred'][c] == p.sum()
    for i, width in enumerate(widths):
        size = 2 * width + 1
        band = ndi.maximum_filter(gt, size, mode='nearest') != \
            ndi.minimum_filter(gt, size, mode='nearest')
        for c in range(num_classes):
            assert s['trimap_inter'][i, c] == (band & (gt == c) &
                                               (pred == c)).sum()
            assert s['trimap_gt'][i, c] == (band & (gt == c)).sum()
            assert s['trimap_pred'][i, c] == (band & (pred == c)).sum()
    # CascadePSP's multi-class band: union of per-class gradients
    for i, r in enumerate(mba_radii(gt.shape)):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                           (2 * r + 1, 2 * r + 1))
        band = np.zeros(gt.shape, dtype=bool)
        for c in range(num_classes):
            band |= cv2.morphologyEx((gt == c).astype(np.uint8),
                                     cv2.MORPH_GRADIENT, kernel) > 0
        assert s['mba_total'][i] == band.sum()
        assert s['mba_correct'][i] == (band & (gt == pred)).sum()


def test_ignore_pixels_never_count():
    rng = np.random.default_rng(3)
    gt, pred = random_maps(rng, 40, 50, 4)
    gt[10:20, 5:30] = 255
    gt[0, :] = 255
    s = semantic_boundary_stats(gt, pred, 4, trimap_widths=(1, 3))
    valid = gt != 255
    assert s['area_gt'].sum() == valid.sum()
    assert s['area_pred'].sum() == valid.sum()
    assert (s['trimap_gt'].sum(1) <= valid.sum()).all()
    # whatever is predicted inside ignored pixels changes nothing
    pred2 = pred.copy()
    pred2[~valid] = rng.integers(0, 4, (~valid).sum())
    s2 = semantic_boundary_stats(gt, pred2, 4, trimap_widths=(1, 3))
    for key in s:
        np.testing.assert_array_equal(s[key], s2[key], err_msg=key)
    # ignored pixels are outside every band count: the BIoU band of class
    # c equals the per-class band of the ignore-masked maps, minus ignore
    pm = np.where(valid, pred, 255)
    for c in range(4):
        gb = mask_to_boundary(gt == c, dilation_ratio=0.02)
        pb = mask_to_boundary(pm == c, dilation_ratio=0.02)
        assert s['biou_gt'][c] == gb.sum() and s['biou_pred'][c] == pb.sum()


def test_out_of_range_labels_and_bad_input():
    gt = np.array([[0, 1], [7, 1]])  # 7 >= num_classes: treated as ignored
    pred = np.array([[0, 9], [1, 1]])  # 9: counted nowhere
    s = semantic_boundary_stats(gt, pred, 2, parts=('biou', ))
    np.testing.assert_array_equal(s['area_gt'], [1, 2])
    np.testing.assert_array_equal(s['area_pred'], [1, 1])
    np.testing.assert_array_equal(s['area_inter'], [1, 1])
    with pytest.raises(ValueError, match='pred and gt must have the same'):
        semantic_boundary_stats(gt, pred[:1], 2)
    with pytest.raises(ValueError, match='unknown parts'):
        semantic_boundary_stats(gt, pred, 2, parts=('bogus', ))
    with pytest.raises(ValueError, match='trimap_widths must list'):
        semantic_boundary_stats(gt, pred, 2, trimap_widths=[])
    with pytest.raises(ValueError, match='dilation_ratio'):
        semantic_boundary_stats(gt, pred, 2, dilation_ratio=2.0)
