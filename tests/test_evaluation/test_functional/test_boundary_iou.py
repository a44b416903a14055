# Copyright (c) mmboundary contributors. All rights reserved.
"""Hand-computed Boundary IoU values (Cheng et al., CVPR 2021)."""
import math

import numpy as np
import pytest
import torch

from mmboundary.evaluation.functional import (boundary_iou, boundary_width,
                                              mask_to_boundary)


def square(top=5, left=5, size=6, shape=(20, 20)):
    mask = np.zeros(shape, dtype=np.uint8)
    mask[top:top + size, left:left + size] = 1
    return mask


def test_boundary_width():
    # 20x20: diagonal 28.28 -> 0.02 * 28.28 = 0.57 -> rounds to 1
    assert boundary_width((20, 20)) == 1
    assert boundary_width((20, 20), dilation_ratio=0.1) == 3  # 2.83
    # Cityscapes: 0.02 * sqrt(1024^2 + 2048^2) = 45.8 -> 46
    assert boundary_width((1024, 2048)) == 46
    assert boundary_width((20, 20), width=4) == 4
    # tiny images still get a one-pixel band
    assert boundary_width((3, 3), dilation_ratio=0.01) == 1


def test_mask_to_boundary_square():
    sq = square()
    # width 1: the 6x6 square minus its 4x4 interior
    b1 = mask_to_boundary(sq, width=1)
    assert b1.dtype == bool and b1.sum() == 36 - 16
    assert not b1[6:10, 6:10].any() and b1[5, 5:11].all()
    # width 2: minus the 2x2 interior; width 3: the whole square
    assert mask_to_boundary(sq, width=2).sum() == 36 - 4
    assert mask_to_boundary(sq, width=3).sum() == 36
    # ratio 0.1 on 20x20 -> d = 3
    np.testing.assert_array_equal(
        mask_to_boundary(sq, dilation_ratio=0.1), sq.astype(bool))


def test_mask_to_boundary_thin_line_border_and_empty():
    line = np.zeros((20, 20), dtype=bool)
    line[10, 3:15] = True
    # a one-pixel line is all boundary, whatever the width
    for width in (1, 2, 5):
        np.testing.assert_array_equal(
            mask_to_boundary(line, width=width), line)
    # the image border counts as boundary (zero padding)
    full = np.ones((20, 20), dtype=np.uint8)
    assert mask_to_boundary(full, width=1).sum() == 400 - 18 * 18
    assert mask_to_boundary(full, width=2).sum() == 400 - 16 * 16
    corner = square(top=0, left=0)
    b = mask_to_boundary(corner, width=1)
    assert b[0, :6].all() and b[:6, 0].all() and b.sum() == 20
    # empty mask -> empty boundary
    assert not mask_to_boundary(np.zeros((20, 20)), width=2).any()


def test_mask_to_boundary_matches_iterated_erosion():
    # the paper's recipe: pad by 1, erode d times with 3x3, subtract
    rng = np.random.default_rng(0)
    mask = rng.random((30, 40)) < 0.7
    for d in (1, 2, 4):
        padded = np.pad(mask, 1)
        eroded = padded.copy()
        for _ in range(d):
            e = eroded.copy()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    shifted = np.zeros_like(eroded)
                    src = eroded[max(dy, 0):eroded.shape[0] + min(dy, 0),
                                 max(dx, 0):eroded.shape[1] + min(dx, 0)]
                    shifted[max(-dy, 0):eroded.shape[0] + min(-dy, 0),
                            max(-dx, 0):eroded.shape[1] + min(-dx, 0)] = src
                    e &= shifted
            eroded = e
        expected = mask & ~eroded[1:-1, 1:-1]
        np.testing.assert_array_equal(
            mask_to_boundary(mask, width=d), expected)


def test_boundary_iou_hand_values():
    sq = square()
    assert boundary_iou(sq, sq, width=1) == 1.0
    assert boundary_iou(sq, square(left=15, top=14)) == 0.0  # disjoint
    # shift right by 1, width 1: rings share the top and bottom rows of the
    # overlap (2 x 5 pixels): 10 / (20 + 20 - 10)
    assert boundary_iou(sq, square(left=6), width=1) == pytest.approx(1 / 3)
    # width 2: overlap 30 px minus the union of the 2x2 interiors (6 px)
    # = 24; union 32 + 32 - 24 = 40
    assert boundary_iou(sq, square(left=6), width=2) == pytest.approx(0.6)
    # shift by 3, width 1: 2 x 3 shared pixels: 6 / (40 - 6)
    assert boundary_iou(sq, square(left=8), width=1) == pytest.approx(6 / 34)
    # mask IoU of the 3-px shift is 18 / 54 = 1/3 > Boundary IoU
    # a thin line and the same line one pixel lower share no pixel
    line = np.zeros((20, 20), dtype=bool)
    line[10, 3:15] = True
    assert boundary_iou(line, np.roll(line, 1, axis=0), width=3) == 0.0
    assert boundary_iou(line, line, width=3) == 1.0
    # empty masks: 0 against an object, NaN (0/0) against each other
    empty = np.zeros((20, 20), dtype=bool)
    assert boundary_iou(empty, sq) == 0.0
    assert math.isnan(boundary_iou(empty, empty))
    # torch tensors and (1, H, W) inputs are accepted
    assert boundary_iou(
        torch.from_numpy(sq)[None], torch.from_numpy(square(left=6)),
        width=1) == pytest.approx(1 / 3)


def test_boundary_iou_bad_input():
    sq = square()
    with pytest.raises(ValueError, match='gt and dt must have the same shape'):
        boundary_iou(sq, sq[:-1])
    for ratio in (0, -0.1, 1.5, float('nan'), True):
        with pytest.raises(ValueError, match='dilation_ratio'):
            boundary_iou(sq, sq, dilation_ratio=ratio)
    for width in (0, -2, 1.5):
        with pytest.raises(ValueError, match='width'):
            mask_to_boundary(sq, width=width)
    with pytest.raises(ValueError, match='mask must have shape'):
        mask_to_boundary(np.zeros((2, 3, 4)))
    # ratio 1 is allowed (upper end of (0, 1])
    assert mask_to_boundary(sq, dilation_ratio=1.0).sum() == 36
