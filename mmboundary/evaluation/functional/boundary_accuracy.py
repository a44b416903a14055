# Copyright (c) mmboundary contributors. All rights reserved.
"""Mean Boundary Accuracy (mBA) of CascadePSP.

`CascadePSP: Toward Class-Agnostic and Very High-Resolution Segmentation via
Global and Local Refinement <https://arxiv.org/abs/2005.02551>`_ (Cheng,
Chung, Tai, Tang, CVPR 2020), Sec. 5 ("Metrics"): pixel accuracy inside a
band around the ground-truth boundary, averaged over 5 band radii evenly
spaced from 1 to ``(H + W) / 300``. The band of radius ``r`` is the
morphological gradient of the GT with a disk of radius ``r``: the pixels
whose disk holds more than one GT label. The multi-class form (as used by
InverseForm, Borse et al., CVPR 2021, Sec. 5) takes the gradient of the
label map and removes ignored pixels from the band.
"""
from typing import List

import numpy as np

from mmboundary.utils.label_boundary import label_band
from .boundary_iou import check_same_shape, check_width, to_2d


def mba_radii(shape, num_steps: int = 5) -> List[int]:
    """Band radii of mBA for an image of ``shape``.

    CascadePSP's ``r_i = 1 + int((r_max - 1) / num_steps * i)`` for
    ``i = 0 .. num_steps - 1`` with ``r_max = (H + W) / 300``; for a
    1024x2048 image these are 1, 2, 4, 6, 8.

    Args:
        shape (Sequence[int]): ``(H, W, ...)``.
        num_steps (int): Number of radii. Defaults to 5.

    Returns:
        list[int]: The radii (each >= 1).
    """
    check_width(num_steps, 'num_steps')
    max_radius = (int(shape[0]) + int(shape[1])) / 300
    return [
        max(1, 1 + int((max_radius - 1) / num_steps * i))
        for i in range(num_steps)
    ]


def mean_boundary_accuracy(gt,
                           pred,
                           ignore_index: int = 255,
                           num_steps: int = 5) -> float:
    """mBA of one prediction (CascadePSP, Sec. 5), multi-class.

    Args:
        gt (np.ndarray | torch.Tensor): GT label map, shape (H, W). Binary
            masks are label maps with labels {0, 1}.
        pred (np.ndarray | torch.Tensor): Predicted label map, (H, W).
        ignore_index (int): GT label excluded from every band (it still
            forms its own region when the gradient is taken).
            Defaults to 255.
        num_steps (int): Number of radii. Defaults to 5.

    Returns:
        float: Mean over radii of the accuracy in each band; radii whose
        band is empty are skipped; NaN if all are empty.
    """
    gt = to_2d(gt, 'gt')
    pred = to_2d(pred, 'pred')
    check_same_shape(gt, pred, 'gt', 'pred')
    valid = gt != ignore_index
    # Re-label densely so any integer labels fit in uint8.
    uniq, dense = np.unique(gt, return_inverse=True)
    if uniq.size > 256:
        raise ValueError('gt holds more than 256 distinct labels')
    g8 = dense.reshape(gt.shape).astype(np.uint8)
    correct = (gt == pred) & valid
    accs = []
    for r in mba_radii(gt.shape, num_steps):
        band = label_band(g8, r, 'disk') & valid
        n = np.count_nonzero(band)
        if n:
            accs.append(np.count_nonzero(band & correct) / n)
    return float(np.mean(accs)) if accs else float('nan')
