# Copyright (c) mmboundary contributors. All rights reserved.
"""Multi-class band primitives shared by the semantic boundary metrics.

All per-class boundaries of a label map are obtained from *one* sliding
window maximum and minimum of the whole map: a pixel of class ``c`` lies in
the band of class ``c`` exactly when the window around it holds a label
other than ``c``, i.e. when the window maximum differs from the window
minimum. Square windows compose (a ``(2a+1)`` square followed by a
``(2b+1)`` square is a ``(2a+2b+1)`` square), so the extrema for several
radii are computed incrementally, with uint8 OpenCV morphology.
"""
from typing import Dict, Optional, Tuple

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


class WindowExtrema:
    """Sliding-window max and min of a uint8 label map over square windows.

    The window of radius ``r`` around ``p`` is the ``(2r+1) x (2r+1)``
    square centred on ``p``, clipped to the image (replicated borders do
    not change a max or a min). Results are cached per radius and larger
    radii are derived from the largest cached smaller one.

    Args:
        label (np.ndarray): uint8 label map of shape (H, W).
    """

    def __init__(self, label: np.ndarray) -> None:
        self.label = label
        self._cache: Dict[int, Tuple[np.ndarray, np.ndarray]] = {
            0: (label, label)
        }

    def __call__(self, radius: int) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(max, min)`` over windows of ``radius``, each (H, W)."""
        if radius not in self._cache:
            base = max(r for r in self._cache if r < radius)
            mx, mn = self._cache[base]
            k = 2 * (radius - base) + 1
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
            mx = cv2.dilate(mx, kernel, borderType=cv2.BORDER_REPLICATE)
            mn = cv2.erode(mn, kernel, borderType=cv2.BORDER_REPLICATE)
            self._cache[radius] = (mx, mn)
        return self._cache[radius]

    def band(self, radius: int, border: bool) -> np.ndarray:
        """Pixels whose window of ``radius`` holds more than one label.

        Args:
            radius (int): Window radius (chessboard distance), >= 1.
            border (bool): Also mark pixels within ``radius`` of the image
                border, as if the image were padded with a foreign label
                (the Boundary IoU convention).

        Returns:
            np.ndarray: Bool array of shape (H, W).
        """
        mx, mn = self(radius)
        band = mx != mn
        if border:
            mark_frame(band, radius)
        return band


def mark_frame(array: np.ndarray, radius: int) -> None:
    """Set the ``radius`` outermost rows and columns of ``array`` to True."""
    array[:radius] = True
    array[-radius:] = True
    array[:, :radius] = True
    array[:, -radius:] = True


def near_border(flat_idx: np.ndarray, shape: Tuple[int, int],
                radius: int) -> np.ndarray:
    """Whether flat pixel indices lie within ``radius`` of the border."""
    h, w = shape
    y, x = np.divmod(flat_idx, w)
    return (y < radius) | (y >= h - radius) | (x < radius) | (x >= w - radius)


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


def window_contains(label: np.ndarray, flat_idx: np.ndarray,
                    classes: np.ndarray, radius: int) -> np.ndarray:
    """Exact test of whether the window around each pixel holds its class.

    Per class, either the windows are read directly (few pixels, small
    window) or an integral image of ``label == c`` is built on the bounding
    box of the queried pixels (plus ``radius``) and window sums are read,
    whichever touches fewer pixels.

    Args:
        label (np.ndarray): uint8 label map of shape (H, W).
        flat_idx (np.ndarray): Flat indices of the queried pixels, (K, ).
        classes (np.ndarray): Class queried at each pixel, (K, ).
        radius (int): Window radius (chessboard distance).

    Returns:
        np.ndarray: Bool array of shape (K, ).
    """
    h, w = label.shape
    out = np.zeros(flat_idx.shape, dtype=bool)
    ys, xs = np.divmod(flat_idx, w)
    offsets = np.arange(-radius, radius + 1)
    win = offsets.size**2
    for c in np.unique(classes):
        sel = np.flatnonzero(classes == c)
        y, x = ys[sel], xs[sel]
        y0, y1 = max(int(y.min()) - radius,
                     0), min(int(y.max()) + radius, h - 1) + 1
        x0, x1 = max(int(x.min()) - radius,
                     0), min(int(x.max()) + radius, w - 1) + 1
        if sel.size * win < (y1 - y0) * (x1 - x0):
            # direct read of every window, in chunks of ~1M pixels
            step = max(1, (1 << 20) // win)
            for s in range(0, sel.size, step):
                yy = np.clip(y[s:s + step, None, None] + offsets[:, None], 0,
                             h - 1)
                xx = np.clip(x[s:s + step, None, None] + offsets, 0, w - 1)
                out[sel[s:s + step]] = (label[yy, xx] == c).any(axis=(1, 2))
            continue
        crop = (label[y0:y1, x0:x1] == c).view(np.uint8)
        integral = cv2.integral(crop)
        top = np.maximum(y - radius, y0) - y0
        bottom = np.minimum(y + radius, y1 - 1) - y0 + 1
        left = np.maximum(x - radius, x0) - x0
        right = np.minimum(x + radius, x1 - 1) - x0 + 1
        total = (
            integral[bottom, right] - integral[top, right] -
            integral[bottom, left] + integral[top, left])
        out[sel] = total > 0
    return out
