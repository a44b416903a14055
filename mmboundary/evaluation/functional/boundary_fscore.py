# Copyright (c) mmboundary contributors. All rights reserved.
"""Boundary F-score with a pixel tolerance.

The contour-matching F-measure of DAVIS (Perazzi et al., CVPR 2016, Sec. 3.1,
"contour accuracy F") and of the Cityscapes boundary evaluations: precision
is the share of predicted boundary pixels that lie within ``tolerance``
pixels of a ground-truth boundary pixel, recall the share of ground-truth
boundary pixels within ``tolerance`` of a predicted one, and
``F = 2PR / (P + R)``.

Conventions used here (and by :class:`~mmboundary.evaluation.BoundaryMetric`):

* the boundary of a mask is its one-pixel inner band,
  ``mask_to_boundary(mask, width=1)``: mask pixels with an 8-neighbour
  outside the mask or on the image border (as in Boundary IoU);
* "within ``t`` pixels" is the chessboard (L-inf) distance: inside the
  ``(2t+1) x (2t+1)`` square centred on the pixel.
"""
import math
import numbers
from typing import Optional, Sequence, Tuple

import numpy as np

from mmboundary.utils.label_boundary import (WindowExtrema, near_border,
                                             near_mask, window_contains)
from .boundary_iou import (check_ratio, check_same_shape, mask_to_boundary,
                           to_2d)

#: Tolerance used when neither ``tolerance`` nor ``tolerance_ratio`` is set.
DEFAULT_TOLERANCE = 3


def tolerance_pixels(shape: Sequence[int],
                     tolerance: Optional[int] = None,
                     tolerance_ratio: Optional[float] = None) -> int:
    """Matching tolerance in pixels.

    Args:
        shape (Sequence[int]): Image shape ``(H, W, ...)``.
        tolerance (int, optional): Absolute tolerance in pixels, >= 0.
        tolerance_ratio (float, optional): Tolerance as a fraction of the
            image diagonal, in (0, 1]; rounded to the nearest pixel.

    Returns:
        int: The tolerance; :data:`DEFAULT_TOLERANCE` when neither is given.
    """
    if tolerance is not None and tolerance_ratio is not None:
        raise ValueError('Give either tolerance (pixels) or tolerance_ratio '
                         f'(fraction of the diagonal), not both: got '
                         f'tolerance={tolerance!r}, '
                         f'tolerance_ratio={tolerance_ratio!r}')
    if tolerance_ratio is not None:
        check_ratio(tolerance_ratio, 'tolerance_ratio')
        h, w = int(shape[0]), int(shape[1])
        return int(round(tolerance_ratio * math.sqrt(h * h + w * w)))
    if tolerance is None:
        return DEFAULT_TOLERANCE
    if isinstance(tolerance, bool) or not isinstance(
            tolerance, numbers.Integral) or tolerance < 0:
        raise ValueError('tolerance must be a non-negative integer (pixels),'
                         f' got {tolerance!r}')
    return int(tolerance)


def f_score_from_counts(prec_hits, prec_total, rec_hits, rec_total):
    """Precision, recall and F-score from (summed) match counts.

    A side with no boundary pixels contributes 0 unless both sides are
    empty, in which case everything is NaN (the class is absent).

    Args:
        prec_hits (np.ndarray | int): Matched predicted boundary pixels.
        prec_total (np.ndarray | int): Predicted boundary pixels.
        rec_hits (np.ndarray | int): Matched ground-truth boundary pixels.
        rec_total (np.ndarray | int): Ground-truth boundary pixels.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``(f, precision,
        recall)`` of the broadcast shape of the inputs, float64.
    """
    prec_hits, prec_total, rec_hits, rec_total = (
        np.asarray(a, dtype=np.float64)
        for a in (prec_hits, prec_total, rec_hits, rec_total))
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = prec_hits / prec_total
        recall = rec_hits / rec_total
        p0 = np.nan_to_num(precision, nan=0.0)
        r0 = np.nan_to_num(recall, nan=0.0)
        f = np.where(p0 + r0 > 0, 2 * p0 * r0 / (p0 + r0), 0.0)
    absent = (prec_total == 0) & (rec_total == 0)
    f = np.where(absent, np.nan, f)
    return f, precision, recall


def boundary_f_score(
        gt,
        pred,
        tolerance: Optional[int] = None,
        tolerance_ratio: Optional[float] = None) -> Tuple[float, float, float]:
    """Boundary F-score of two binary masks.

    Args:
        gt (np.ndarray | torch.Tensor): Ground-truth mask, shape (H, W).
        pred (np.ndarray | torch.Tensor): Predicted mask, shape (H, W).
        tolerance (int, optional): Matching distance in pixels (chessboard).
        tolerance_ratio (float, optional): Matching distance as a fraction of
            the image diagonal. Give at most one of the two; defaults to
            :data:`DEFAULT_TOLERANCE` pixels.

    Returns:
        tuple[float, float, float]: ``(f, precision, recall)``. Precision is
        NaN without predicted boundary, recall NaN without GT boundary, and
        F is NaN only when both are empty (otherwise a missing side counts
        as 0).
    """
    gt = to_2d(gt, 'gt')
    pred = to_2d(pred, 'pred')
    check_same_shape(gt, pred, 'gt', 'pred')
    t = tolerance_pixels(gt.shape, tolerance, tolerance_ratio)
    gb = mask_to_boundary(gt, width=1)
    pb = mask_to_boundary(pred, width=1)
    g_near, p_near = near_mask(gb, t), near_mask(pb, t)
    f, p, r = f_score_from_counts(
        np.count_nonzero(pb & g_near), np.count_nonzero(pb),
        np.count_nonzero(gb & p_near), np.count_nonzero(gb))
    return float(f), float(p), float(r)


def match_boundary_pixels(src: np.ndarray, src_band: np.ndarray,
                          dst: np.ndarray, dst_extrema: WindowExtrema,
                          tolerance: int,
                          num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Match every class's boundary pixels of one label map to another's.

    A boundary pixel ``p`` of class ``c`` in ``src`` is matched when a
    boundary pixel of class ``c`` of ``dst`` lies in the window of radius
    ``t`` around ``p``. With ``A = {dst == c}`` and the outside of the image
    counted as not-``A``, this holds exactly when the ``t``-window meets
    ``A`` and the ``(t+1)``-window meets not-``A`` (the window is
    8-connected, and every pixel of the ``(t+1)`` ring touches the
    ``t``-window), which is read from the window extrema of ``dst`` for all
    classes at once; only pixels whose class lies strictly between the
    window min and max need an explicit look-up.

    Args:
        src (np.ndarray): uint8 label map, (H, W).
        src_band (np.ndarray): bool, (H, W): the width-1 boundary of
            ``src`` (any class).
        dst (np.ndarray): uint8 label map, (H, W).
        dst_extrema (WindowExtrema): Window extrema of ``dst``.
        tolerance (int): Radius ``t`` in pixels.
        num_classes (int): Labels ``>= num_classes`` are not classes.

    Returns:
        tuple[np.ndarray, np.ndarray]: The class of each ``src`` boundary
        pixel (K, ) uint8 and whether it is matched (K, ) bool.
    """
    idx = np.flatnonzero(src_band)
    cls = src.ravel()[idx]
    keep = cls < num_classes
    idx, cls = idx[keep], cls[keep]
    # the (t+1)-window holds a pixel that is not of class c
    mx1, mn1 = dst_extrema(tolerance + 1)
    outer = (mx1.ravel()[idx] != cls) | (mn1.ravel()[idx] != cls)
    outer |= near_border(idx, dst.shape, tolerance + 1)
    # the t-window holds a pixel of class c
    mx0, mn0 = dst_extrema(tolerance)
    mxv, mnv = mx0.ravel()[idx], mn0.ravel()[idx]
    inner = (dst.ravel()[idx] == cls) | (mxv == cls) | (mnv == cls)
    unsure = ~inner & outer & (mnv < cls) & (cls < mxv)
    if unsure.any():
        inner[unsure] = window_contains(dst, idx[unsure], cls[unsure],
                                        tolerance)
    return cls, inner & outer
