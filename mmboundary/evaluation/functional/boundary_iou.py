# Copyright (c) mmboundary contributors. All rights reserved.
"""Boundary band of a binary mask and Boundary IoU.

Implements the boundary definition of `Boundary IoU: Improving Object-Centric
Image Segmentation Evaluation <https://arxiv.org/abs/2103.16562>`_ (Cheng,
Girshick, Dollar, Berg, Kirillov, CVPR 2021), Sec. 4: the boundary of a mask
``G`` is ``G_d ∩ G``, the mask pixels within distance ``d`` of its contour,
with ``d`` a fixed fraction of the image diagonal, and

    Boundary IoU(G, P) = |(G_d ∩ G) ∩ (P_d ∩ P)| / |(G_d ∩ G) ∪ (P_d ∩ P)|.
"""
import math
import numbers
from typing import Optional, Sequence

import numpy as np

from mmboundary.utils.label_boundary import mask_inner_boundary


def to_numpy(array, name: str = 'array') -> np.ndarray:
    """Return ``array`` (numpy array, torch tensor or nested list) as numpy.

    Args:
        array (np.ndarray | torch.Tensor | list): The input.
        name (str): Argument name used in error messages.

    Returns:
        np.ndarray: A numpy view or copy (tensors are moved to CPU).
    """
    if hasattr(array, 'detach') and hasattr(array, 'cpu'):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.dtype == object:
        raise TypeError(f'{name} must be a numeric array, got dtype object')
    return array


def to_2d(array, name: str) -> np.ndarray:
    """Convert ``array`` to numpy and squeeze leading singleton axes.

    Args:
        array (np.ndarray | torch.Tensor): Shape (H, W) or (1, ..., H, W).
        name (str): Argument name used in error messages.

    Returns:
        np.ndarray: Shape (H, W).
    """
    array = to_numpy(array, name)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f'{name} must have shape (H, W) (or (1, H, W)), '
                         f'got shape {tuple(array.shape)}')
    return array


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str,
                     name_b: str) -> None:
    """Raise a ValueError naming both arguments if their shapes differ."""
    if a.shape != b.shape:
        raise ValueError(
            f'{name_a} and {name_b} must have the same shape, got '
            f'{name_a}: {tuple(a.shape)} and {name_b}: {tuple(b.shape)}. '
            'Resize the prediction to the ground-truth size first.')


def check_ratio(value: float, name: str) -> float:
    """Check that ``value`` is a real number in (0, 1] and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not 0 < value <= 1:
        raise ValueError(f'{name} must be a number in (0, 1], got {value!r}')
    return float(value)


def check_width(value: int, name: str) -> int:
    """Check that ``value`` is a positive integer and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or value < 1:
        raise ValueError(
            f'{name} must be a positive integer (pixels), got {value!r}')
    return int(value)


def boundary_width(shape: Sequence[int],
                   dilation_ratio: float = 0.02,
                   width: Optional[int] = None) -> int:
    """Width ``d`` of the boundary band, in pixels.

    Boundary IoU paper, Sec. 4: ``d = max(1, round(dilation_ratio *
    sqrt(H^2 + W^2)))``; ``width`` overrides it with an absolute value.

    Args:
        shape (Sequence[int]): Image shape ``(H, W, ...)``.
        dilation_ratio (float): Fraction of the image diagonal, in (0, 1].
            Defaults to 0.02 (the paper's value).
        width (int, optional): Absolute width in pixels. Defaults to None.

    Returns:
        int: The band width ``d >= 1``.
    """
    if width is not None:
        return check_width(width, 'width')
    check_ratio(dilation_ratio, 'dilation_ratio')
    h, w = int(shape[0]), int(shape[1])
    return max(1, int(round(dilation_ratio * math.sqrt(h * h + w * w))))


def mask_to_boundary(mask,
                     dilation_ratio: float = 0.02,
                     width: Optional[int] = None) -> np.ndarray:
    """Inner boundary band ``G_d ∩ G`` of a binary mask.

    Boundary IoU paper, Sec. 4 (and its reference ``mask_to_boundary``): the
    mask is zero-padded by one pixel, so the image border counts as
    boundary, eroded ``d`` times by a 3x3 square, and the eroded mask is
    subtracted from the mask. ``d`` erosions by a 3x3 square equal one
    erosion by a ``(2d+1) x (2d+1)`` square, and a constant-zero border
    equals the padding, which is how it is computed here.

    Args:
        mask (np.ndarray | torch.Tensor): Shape (H, W); non-zero = object.
        dilation_ratio (float): ``d`` as a fraction of the image diagonal,
            in (0, 1]. Defaults to 0.02.
        width (int, optional): Absolute ``d`` in pixels; overrides
            ``dilation_ratio``. Defaults to None.

    Returns:
        np.ndarray: Bool array of shape (H, W), True on the mask pixels
        within chessboard distance ``d`` of a background pixel or of the
        image border.
    """
    mask = to_2d(mask, 'mask') != 0
    d = boundary_width(mask.shape, dilation_ratio, width)
    return mask_inner_boundary(mask, d)


def boundary_iou(gt,
                 dt,
                 dilation_ratio: float = 0.02,
                 width: Optional[int] = None) -> float:
    """Boundary IoU of two binary masks (Cheng et al., CVPR 2021, Eq. 3).

    Args:
        gt (np.ndarray | torch.Tensor): Ground-truth mask, shape (H, W).
        dt (np.ndarray | torch.Tensor): Predicted mask, shape (H, W).
        dilation_ratio (float): Band width as a fraction of the image
            diagonal, in (0, 1]. Defaults to 0.02.
        width (int, optional): Absolute band width in pixels; overrides
            ``dilation_ratio``. Defaults to None.

    Returns:
        float: ``|B(G) ∩ B(P)| / |B(G) ∪ B(P)|`` with ``B`` the
        :func:`mask_to_boundary` band; NaN when both masks are empty (0/0,
        as mmseg's ``IoUMetric`` reports an absent class).
    """
    gt = to_2d(gt, 'gt')
    dt = to_2d(dt, 'dt')
    check_same_shape(gt, dt, 'gt', 'dt')
    gb = mask_to_boundary(gt, dilation_ratio, width)
    db = mask_to_boundary(dt, dilation_ratio, width)
    inter = np.count_nonzero(gb & db)
    union = np.count_nonzero(gb | db)
    return inter / union if union > 0 else float('nan')
