# Copyright (c) mmboundary contributors. All rights reserved.
"""uint8 encoding and per-class counting of (GT, prediction) label maps.

The semantic boundary metrics encode both maps once as uint8 (ignored and
invalid labels mapped to reserved values) and count per class with one
histogram. The bands themselves come from the one home of label-to-boundary
operations, :mod:`mmboundary.utils.label_boundary`: all per-class
boundaries of a label map are obtained from *one* sliding-window maximum
and minimum of the whole map (a pixel of class ``c`` lies in the band of
class ``c`` exactly when the window around it holds another label).
"""
from typing import Optional, Tuple

import cv2
import numpy as np

#: Label written for pixels whose ground truth is ``ignore_index``.
IGNORE_LABEL = 255
#: Label written for predictions outside ``[0, num_classes)``.
INVALID_PRED_LABEL = 254
#: Largest number of classes the uint8 encoding supports.
MAX_CLASSES = 254


def encode_label_maps(gt: np.ndarray, pred: np.ndarray, num_classes: int,
                      ignore_index: int) -> Tuple[np.ndarray, np.ndarray]:
    """Encode GT and prediction as contiguous uint8 label maps.

    Ground-truth pixels equal to ``ignore_index`` or outside
    ``[0, num_classes)`` become :data:`IGNORE_LABEL` in *both* maps, so the
    prediction inside ignored regions has no effect on any band. Predicted
    labels outside ``[0, num_classes)`` become :data:`INVALID_PRED_LABEL`.

    Args:
        gt (np.ndarray): Shape (H, W), integer labels.
        pred (np.ndarray): Shape (H, W), integer labels.
        num_classes (int): Number of classes, at most :data:`MAX_CLASSES`.
        ignore_index (int): Ignored GT label.

    Returns:
        tuple[np.ndarray, np.ndarray]: uint8 ``(gt, pred)`` of shape (H, W).
    """
    if not 0 < num_classes <= MAX_CLASSES:
        raise ValueError(f'num_classes must be in [1, {MAX_CLASSES}], '
                         f'got {num_classes}')
    if gt.dtype == np.uint8 and num_classes <= ignore_index:
        g8 = np.array(gt, dtype=np.uint8, order='C')
        invalid = g8 >= num_classes
    else:
        invalid = (gt < 0) | (gt >= num_classes) | (gt == ignore_index)
        g8 = gt.astype(np.uint8, order='C')
    if pred.dtype == np.uint8:
        p8 = np.array(pred, dtype=np.uint8, order='C')
        bad = p8 >= num_classes
    else:
        bad = (pred < 0) | (pred >= num_classes)
        p8 = pred.astype(np.uint8, order='C')
    if bad.any():
        p8[bad] = INVALID_PRED_LABEL
    if invalid.any():
        g8[invalid] = IGNORE_LABEL
        p8[invalid] = IGNORE_LABEL
    return g8, p8


def class_hist(label: np.ndarray, mask: Optional[np.ndarray],
               num_classes: int) -> np.ndarray:
    """Per-class pixel counts of a uint8 label map inside a bool mask.

    Args:
        label (np.ndarray): uint8, shape (H, W), C-contiguous.
        mask (np.ndarray, optional): bool, shape (H, W); None = all pixels.
        num_classes (int): Number of leading bins to return.

    Returns:
        np.ndarray: int64 counts of shape (num_classes, ).
    """
    if label.size < (1 << 24):
        # cv2.calcHist is exact below 2**24 counts (float32 bins).
        m = None if mask is None else np.ascontiguousarray(mask).view(np.uint8)
        hist = cv2.calcHist([label], [0], m, [256], [0, 256])
        return hist[:num_classes, 0].astype(np.int64)
    values = label.ravel() if mask is None else label[mask]
    return np.bincount(values, minlength=256)[:num_classes].astype(np.int64)
