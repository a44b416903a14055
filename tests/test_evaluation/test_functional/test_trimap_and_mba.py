# Copyright (c) mmboundary contributors. All rights reserved.
"""Hand-computed trimap IoU and mBA values."""
import math

import numpy as np
import pytest

from mmboundary.evaluation.functional import (mba_radii,
                                              mean_boundary_accuracy,
                                              trimap_iou)


def halves(split=5, shape=(10, 10)):
    """Class 0 on columns < split, class 1 on the rest."""
    label = np.ones(shape, dtype=np.int64)
    label[:, :split] = 0
    return label


def test_trimap_iou_shifted_boundary():
    gt, pred = halves(5), halves(6)  # prediction boundary 1 px right
    res = trimap_iou(gt, pred, num_classes=2, widths=[1, 2])
    # width 1: band = columns 4, 5. class 0: gt col 4, pred cols 4-5
    np.testing.assert_allclose(res['boundary'][0], [10 / 20, 0 / 10])
    # width 2: columns 3..6. class 0: 20 / 30; class 1: 10 / 20
    np.testing.assert_allclose(res['boundary'][1], [20 / 30, 10 / 20])
    # outside the bands every pixel is right
    np.testing.assert_allclose(res['non_boundary'], np.ones((2, 2)))
    # identical maps -> 1 everywhere; no label change -> empty band (NaN)
    same = trimap_iou(gt, gt, 2, widths=[3])
    np.testing.assert_allclose(same['boundary'], [[1, 1]])
    flat = trimap_iou(np.zeros((8, 8)), np.zeros((8, 8)), 2, widths=[2])
    assert np.isnan(flat['boundary']).all()
    assert flat['non_boundary'][0, 0] == 1 and np.isnan(
        flat['non_boundary'][0, 1])


def test_trimap_iou_ignore():
    gt, pred = halves(5), halves(6)
    gt[:, 9] = 255  # ignored column: a label change at columns 8 | 9
    res = trimap_iou(gt, pred, 2, widths=[1])
    # band: columns 4, 5 and 8 (9 is ignored); class 1: gt cols 5, 8,
    # pred col 8 -> 10 / 20
    np.testing.assert_allclose(res['boundary'][0], [10 / 20, 10 / 20])
    # the prediction inside ignored pixels never matters
    pred2 = pred.copy()
    pred2[:, 9] = 0
    res2 = trimap_iou(gt, pred2, 2, widths=[1])
    for key in res:
        np.testing.assert_array_equal(res[key], res2[key])


def test_trimap_iou_bad_input():
    gt = halves()
    with pytest.raises(ValueError, match='widths must list at least one'):
        trimap_iou(gt, gt, 2, widths=[])
    with pytest.raises(ValueError, match=r'widths\[1\]'):
        trimap_iou(gt, gt, 2, widths=[1, 0])
    with pytest.raises(ValueError, match='pred and gt must have the same'):
        trimap_iou(gt, gt[:, :-1], 2)


def test_mba_radii():
    # CascadePSP: 1 + int((r_max - 1) / 5 * i), r_max = (H + W) / 300
    assert mba_radii((1024, 2048)) == [1, 2, 4, 6, 8]
    assert mba_radii((1000, 1000)) == [1, 2, 3, 4, 5]
    assert mba_radii((10, 10)) == [1] * 5


def test_mean_boundary_accuracy_hand_values():
    # 10x10: all radii are 1 (a 3x3 cross); band = columns 4 and 5
    gt, pred = halves(5), halves(6)
    assert mean_boundary_accuracy(gt, pred) == pytest.approx(0.5)
    assert mean_boundary_accuracy(gt, gt) == 1.0
    # 1000x1000, vertical edge: bands are 2r columns wide for r = 1..5 and
    # the one wrong column lies in each of them
    gt, pred = halves(500, (1000, 1000)), halves(501, (1000, 1000))
    expected = np.mean([1 - 1 / (2 * r) for r in (1, 2, 3, 4, 5)])
    assert mean_boundary_accuracy(gt, pred) == pytest.approx(expected)
    # ignored pixels are dropped from the bands
    gt, pred = halves(5), halves(6)
    gt[:, 5] = 255  # the wrong column is ignored now
    assert mean_boundary_accuracy(gt, pred) == 1.0
    # no boundary anywhere -> NaN
    assert math.isnan(
        mean_boundary_accuracy(np.zeros((5, 5)), np.ones((5, 5))))
    with pytest.raises(ValueError, match='gt and pred'):
        mean_boundary_accuracy(gt, pred[1:])
