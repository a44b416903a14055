# Copyright (c) mmboundary contributors. All rights reserved.
"""Hand-computed boundary F-score values."""
import math

import numpy as np
import pytest

from mmboundary.evaluation.functional import (boundary_f_score,
                                              f_score_from_counts,
                                              tolerance_pixels)


def square(top=5, left=5, size=6, shape=(20, 20)):
    mask = np.zeros(shape, dtype=bool)
    mask[top:top + size, left:left + size] = True
    return mask


def test_identical_and_disjoint():
    sq = square()
    assert boundary_f_score(sq, sq, tolerance=0) == (1.0, 1.0, 1.0)
    far = square(top=14, left=14)
    assert boundary_f_score(sq, far, tolerance=2) == (0.0, 0.0, 0.0)


def test_shifted_square():
    sq = square()
    # shift by 1, exact matching: 10 of the 20 ring pixels coincide
    f, p, r = boundary_f_score(sq, square(left=6), tolerance=0)
    assert (f, p, r) == (0.5, 0.5, 0.5)
    # every ring pixel is within one pixel of the other ring
    assert boundary_f_score(sq, square(left=6), tolerance=1) == (1, 1, 1)
    # shift by 3, tolerance 1: rows 5/10 x cols 8..11 (8 px) and
    # (6, 8), (9, 8) (2 px) of the 20 predicted ring pixels are matched
    f, p, r = boundary_f_score(sq, square(left=8), tolerance=1)
    assert p == pytest.approx(10 / 20) and r == pytest.approx(10 / 20)
    assert f == pytest.approx(0.5)
    # tolerance 3 reaches every pixel
    assert boundary_f_score(sq, square(left=8), tolerance=3) == (1, 1, 1)


def test_thin_line_border_and_empty():
    line = np.zeros((20, 20), dtype=bool)
    line[10, 3:15] = True
    lower = np.roll(line, 1, axis=0)
    assert boundary_f_score(line, lower, tolerance=0)[0] == 0.0
    assert boundary_f_score(line, lower, tolerance=1)[0] == 1.0
    # an object touching the border: its border pixels are boundary, so a
    # prediction that stops one pixel short misses them at tolerance 0
    gt = square(top=0, left=0)  # rows/cols 0..5, ring of 20 px
    pred = square(top=1, left=1, size=5)  # ring of 16 px
    f, p, r = boundary_f_score(gt, pred, tolerance=0)
    # shared ring pixels: row 5 and col 5 from (1..5): 5 + 5 - 1 = 9
    assert p == pytest.approx(9 / 16) and r == pytest.approx(9 / 20)
    # empty prediction: precision undefined, recall 0, F 0
    empty = np.zeros((20, 20), dtype=bool)
    f, p, r = boundary_f_score(gt, empty)
    assert f == 0.0 and math.isnan(p) and r == 0.0
    assert all(math.isnan(v) for v in boundary_f_score(empty, empty))


def test_tolerance_arguments():
    assert tolerance_pixels((20, 20)) == 3
    assert tolerance_pixels((20, 20), tolerance=0) == 0
    # 0.05 * 28.28 = 1.41 -> 1
    assert tolerance_pixels((20, 20), tolerance_ratio=0.05) == 1
    sq = square()
    assert boundary_f_score(
        sq, square(left=6), tolerance_ratio=0.05) == (1, 1, 1)
    with pytest.raises(ValueError, match='tolerance_ratio'):
        tolerance_pixels((20, 20), tolerance_ratio=1.5)
    with pytest.raises(ValueError, match='not both'):
        tolerance_pixels((20, 20), tolerance=1, tolerance_ratio=0.1)
    with pytest.raises(ValueError, match='tolerance must be'):
        tolerance_pixels((20, 20), tolerance=-1)
    with pytest.raises(ValueError, match='gt and pred'):
        boundary_f_score(sq, sq[1:])


def test_f_score_from_counts():
    f, p, r = f_score_from_counts([3, 0, 0, 2], [4, 0, 5, 2], [1, 0, 0, 0],
                                  [2, 0, 0, 3])
    assert f[0] == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    assert math.isnan(f[1])  # no boundary on either side: absent class
    assert f[2] == 0.0 and math.isnan(r[2])  # predicted only
    assert f[3] == pytest.approx(0.0)  # P = 1, R = 0
