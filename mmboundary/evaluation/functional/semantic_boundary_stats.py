# Copyright (c) mmboundary contributors. All rights reserved.
"""Per-image counts behind every semantic boundary metric.

One pass over a (prediction, ground truth) pair of label maps returns the
per-class *counts* (not ratios) of Boundary IoU, boundary F-score, trimap
IoU and mBA. Counts add up over images and ranks, so dataset scores are
computed from summed counts exactly as mmseg's ``IoUMetric`` sums
intersections and unions.

Ignore handling (the same for every part): ground-truth pixels equal to
``ignore_index`` are given the ignore label in the prediction too, so what
the model predicts there has no effect; the ignored region then acts as a
region of its own when bands are built, and ignored pixels are never
counted.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from mmboundary.utils.label_boundary import WindowExtrema, label_band
from .boundary_accuracy import mba_radii
from .boundary_fscore import match_boundary_pixels, tolerance_pixels
from .boundary_iou import boundary_width, check_same_shape, check_width, to_2d
from .label_encoding import IGNORE_LABEL, class_hist, encode_label_maps

#: Parts :func:`semantic_boundary_stats` can compute.
STAT_PARTS = ('biou', 'bf', 'trimap', 'mba')


def check_widths(widths: Sequence[int], name: str = 'trimap_widths'):
    """Check a non-empty sequence of positive integer widths."""
    if isinstance(widths, (int, np.integer)):
        widths = [widths]
    widths = list(widths)
    if not widths:
        raise ValueError(f'{name} must list at least one width in pixels, '
                         'e.g. [3, 5], got an empty list')
    return [check_width(w, f'{name}[{i}]') for i, w in enumerate(widths)]


def semantic_boundary_stats(gt,
                            pred,
                            num_classes: int,
                            ignore_index: int = 255,
                            parts: Sequence[str] = STAT_PARTS,
                            dilation_ratio: float = 0.02,
                            boundary_width_px: Optional[int] = None,
                            tolerance: Optional[int] = None,
                            tolerance_ratio: Optional[float] = None,
                            trimap_widths: Sequence[int] = (3, ),
                            mba_steps: int = 5) -> Dict[str, np.ndarray]:
    """Count boundary statistics of one semantic prediction.

    Args:
        gt (np.ndarray | torch.Tensor): GT label map, (H, W) or (1, H, W).
        pred (np.ndarray | torch.Tensor): Predicted label map, same shape.
        num_classes (int): Number of classes C (at most 254).
        ignore_index (int): Ignored GT label. Defaults to 255.
        parts (Sequence[str]): Subset of ``('biou', 'bf', 'trimap',
            'mba')``.
        dilation_ratio (float): Boundary IoU band width ``d`` as a fraction
            of the diagonal (Cheng et al., CVPR 2021). Defaults to 0.02.
        boundary_width_px (int, optional): Absolute ``d``; overrides
            ``dilation_ratio``.
        tolerance (int, optional): Boundary F-score tolerance in pixels.
        tolerance_ratio (float, optional): Boundary F-score tolerance as a
            fraction of the diagonal (give at most one; default 3 px).
        trimap_widths (Sequence[int]): Trimap band radii in pixels: a pixel
            is in the band of width ``w`` when a GT pixel of another label
            lies within chessboard distance ``w``. Defaults to (3, ).
        mba_steps (int): Number of mBA radii. Defaults to 5.

    Returns:
        dict[str, np.ndarray]: int64 counts (C = ``num_classes``,
        T = ``len(trimap_widths)``, R = ``mba_steps``):

        - ``area_inter``, ``area_gt``, ``area_pred`` (C, ): whole image,
          as ``IoUMetric`` counts them.
        - ``biou_inter``, ``biou_gt``, ``biou_pred`` (C, ): ``|B(G)∩B(P)|``,
          ``|B(G)|``, ``|B(P)|`` per class, B the Boundary IoU band.
        - ``bf_prec_hit``, ``bf_prec_total``, ``bf_rec_hit``,
          ``bf_rec_total`` (C, ): boundary F-score match counts.
        - ``trimap_inter``, ``trimap_gt``, ``trimap_pred`` (T, C): inside
          the trimap bands (the non-boundary region is the rest of the
          image: subtract these from the ``area_*`` counts).
        - ``mba_correct``, ``mba_total`` (R, ): correct / all pixels in each
          mBA band.
    """
    gt = to_2d(gt, 'gt')
    pred = to_2d(pred, 'pred')
    check_same_shape(pred, gt, 'pred', 'gt')
    unknown = [p for p in parts if p not in STAT_PARTS]
    if unknown:
        raise ValueError(f'unknown parts {unknown}; choose from {STAT_PARTS}')
    shape = gt.shape
    g8, p8 = encode_label_maps(gt, pred, num_classes, ignore_index)
    C = num_classes
    eq = g8 == p8  # also True on ignored pixels, whose label is not counted

    out = dict(
        area_inter=class_hist(g8, eq, C),
        area_gt=class_hist(g8, None, C),
        area_pred=class_hist(p8, None, C))
    g_ext = WindowExtrema(g8)
    p_ext = WindowExtrema(p8)

    if 'biou' in parts:
        d = boundary_width(shape, dilation_ratio, boundary_width_px)
        gb = g_ext.band(d, border=True)
        pb = p_ext.band(d, border=True)
        out['biou_gt'] = class_hist(g8, gb, C)
        out['biou_pred'] = class_hist(p8, pb, C)
        out['biou_inter'] = class_hist(g8, gb & pb & eq, C)

    if 'bf' in parts:
        t = tolerance_pixels(shape, tolerance, tolerance_ratio)
        gb1 = g_ext.band(1, border=True)
        pb1 = p_ext.band(1, border=True)
        cls, hit = match_boundary_pixels(p8, pb1, g8, g_ext, t, C)
        out['bf_prec_total'] = np.bincount(cls, minlength=C)[:C]
        out['bf_prec_hit'] = np.bincount(cls[hit], minlength=C)[:C]
        cls, hit = match_boundary_pixels(g8, gb1, p8, p_ext, t, C)
        out['bf_rec_total'] = np.bincount(cls, minlength=C)[:C]
        out['bf_rec_hit'] = np.bincount(cls[hit], minlength=C)[:C]

    if 'trimap' in parts:
        widths = check_widths(trimap_widths)
        inter, gts, preds = [], [], []
        for w in widths:
            band = g_ext.band(w, border=False)
            inter.append(class_hist(g8, band & eq, C))
            gts.append(class_hist(g8, band, C))
            preds.append(class_hist(p8, band, C))
        out['trimap_inter'] = np.stack(inter)
        out['trimap_gt'] = np.stack(gts)
        out['trimap_pred'] = np.stack(preds)

    if 'mba' in parts:
        valid = g8 != IGNORE_LABEL
        correct = eq & valid
        corr, total = [], []
        for r in mba_radii(shape, mba_steps):
            band = label_band(g8, r, 'disk')
            total.append(np.count_nonzero(band & valid))
            corr.append(np.count_nonzero(band & correct))
        out['mba_correct'] = np.asarray(corr, dtype=np.int64)
        out['mba_total'] = np.asarray(total, dtype=np.int64)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def trimap_iou(gt,
               pred,
               num_classes: int,
               widths: Sequence[int] = (3, ),
               ignore_index: int = 255) -> Dict[str, np.ndarray]:
    """Trimap IoU of one prediction (DeepLab; SEMEDA, Sec. 4.4, Fig. 4).

    Per-class IoU computed only on the pixels within ``w`` pixels
    (chessboard distance) of a GT label change, for each width ``w``, and
    on the complementary non-boundary region. Ignored GT pixels are excluded
    (they still delimit regions, so GT pixels next to them are in the band).
    The image border is not a label change.

    Args:
        gt (np.ndarray | torch.Tensor): GT label map, (H, W).
        pred (np.ndarray | torch.Tensor): Predicted label map, (H, W).
        num_classes (int): Number of classes.
        widths (Sequence[int]): Band widths in pixels, non-empty.
            Defaults to (3, ).
        ignore_index (int): Ignored GT label. Defaults to 255.

    Returns:
        dict[str, np.ndarray]: ``boundary`` and ``non_boundary``, each of
        shape (len(widths), num_classes), float64; NaN where a class has no
        pixel (GT or predicted) in the region.
    """
    widths = check_widths(widths, 'widths')
    s = semantic_boundary_stats(
        gt,
        pred,
        num_classes,
        ignore_index,
        parts=('trimap', ),
        trimap_widths=widths)
    inter, g, p = s['trimap_inter'], s['trimap_gt'], s['trimap_pred']
    with np.errstate(divide='ignore', invalid='ignore'):
        band = inter / (g + p - inter)
        ni = s['area_inter'] - inter
        rest = ni / (s['area_gt'] - g + s['area_pred'] - p - ni)
    return dict(boundary=band, non_boundary=rest)
