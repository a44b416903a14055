# Copyright (c) mmboundary contributors. All rights reserved.
"""Boundary targets computed from a ground-truth label map.

:func:`semantic_edge_map` is the reusable, vectorised core (also used to make
SEMEDA edge-net pretraining targets); :class:`GenerateSemanticEdge` and
:class:`GenerateSobelBoundary` are the pipeline transforms.
"""
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmboundary.registry import TRANSFORMS
from mmboundary.utils.validation import check_int, check_number, check_str

__all__ = [
    'semantic_edge_map', 'sobel_boundary_map', 'GenerateSemanticEdge',
    'GenerateSobelBoundary'
]


def _check_label(label, key='label'):
    if not isinstance(label, np.ndarray):
        raise TypeError(f'{key} must be a numpy array of shape (H, W), '
                        f'got {type(label).__name__}')
    if label.ndim != 2:
        raise ValueError(f'{key} must have shape (H, W), got shape '
                         f'{label.shape}')
    if not np.issubdtype(label.dtype, np.integer):
        raise TypeError(f'{key} must have an integer dtype (class ids), '
                        f'got {label.dtype}')


def _neighbourhood(connectivity, width):
    if connectivity not in (4, 8):
        raise ValueError(f'connectivity must be 4 or 8, got {connectivity}')
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f'width must be an integer >= 1, got {width!r}')
    size = 2 * width + 1
    if connectivity == 8:
        return np.ones((size, size), np.uint8)
    yy, xx = np.mgrid[-width:width + 1, -width:width + 1]
    return (np.abs(yy) + np.abs(xx) <= width).astype(np.uint8)


def _encode(label, valid, ignore_index):
    """Labels as ``id + 1`` in uint8/uint16 (0 for ignore) for cv2."""
    if label.dtype == np.uint8 and ignore_index == 255:
        return label + np.uint8(1), 255  # the ignore id 255 wraps to 0
    lab = label[valid]
    if lab.size == 0:
        return np.zeros(label.shape, np.uint8), 255
    lo, hi = int(lab.min()), int(lab.max())
    if lo < 0 or hi > 65533:
        # arbitrary ids: compress them to ranks (order does not matter)
        _, inv = np.unique(label, return_inverse=True)
        label = inv.reshape(label.shape)
        hi = int(label.max())
    dtype, top = (np.uint8, 255) if hi < 254 else (np.uint16, 65535)
    enc = label.astype(dtype) + dtype(1)
    enc[~valid] = 0
    return enc, top


def semantic_edge_map(label: np.ndarray,
                      ignore_index: Optional[int] = 255,
                      connectivity: int = 8,
                      width: int = 1,
                      num_classes: Optional[int] = None) -> np.ndarray:
    """Two-sided semantic edges of a label map (SEMEDA's edge target).

    A pixel ``p`` is an edge when some pixel ``q`` of its neighbourhood
    carries a different label, with neither ``p`` nor ``q`` ignored. The
    neighbourhood is the ``(2w+1) x (2w+1)`` square (``connectivity=8``) or
    the diamond ``|dy| + |dx| <= w`` (``connectivity=4``); ``w = 1`` gives
    the 8 (4) direct neighbours. Both sides of a label change are marked,
    unlike mmseg's one-sided ``GenerateEdge``. Pixels outside the image do
    not exist, so the image border creates no edge; ignored pixels create
    none either and are ``ignore_index`` in the output.

    With ``num_classes=C`` the output is per class: channel ``c`` holds the
    edges of the binary map ``label == c`` (pixels of class ``c`` next to
    another valid label, and valid pixels next to class ``c``), so a label
    change between classes ``a`` and ``b`` is marked, on both sides, in
    channels ``a`` and ``b``. The binary map is the union of the channels.

    Implementation: ``p`` has a differing valid neighbour iff the maximum or
    the minimum of the valid labels over its neighbourhood differs from its
    own label, which two ``cv2`` morphology calls compute for all pixels.

    Args:
        label (np.ndarray): (H, W) integer class ids.
        ignore_index (int | None): label of ignored pixels; ``None`` if
            none. Defaults to 255.
        connectivity (int): 8 or 4. Defaults to 8.
        width (int): neighbourhood radius ``w`` in pixels. Defaults to 1.
        num_classes (int | None): if given, return per-class edges.

    Returns:
        np.ndarray: (H, W), or (C, H, W) with ``num_classes``; uint8 with
        ``0`` (no edge), ``1`` (edge) and ``ignore_index`` (ignored pixel),
        int64 if ``ignore_index`` does not fit into uint8.
    """
    _check_label(label)
    kernel = _neighbourhood(connectivity, width)
    if ignore_index is None:
        valid = np.ones(label.shape, bool)
    else:
        valid = label != ignore_index
    enc, top = _encode(label, valid, ignore_index)
    upper = cv2.dilate(enc, kernel)  # ignore is 0: never the maximum
    low_in = enc.copy()
    low_in[~valid] = top  # ignore is the top value: never the minimum
    lower = cv2.erode(low_in, kernel)
    edge = ((upper > enc) | (lower < enc)) & valid

    out_dtype = np.uint8
    if ignore_index is not None and not 0 <= ignore_index <= 255:
        out_dtype = np.int64
    if num_classes is None:
        out = edge.astype(out_dtype)
        if ignore_index is not None:
            out[~valid] = ignore_index
        return out

    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    bad = valid & ((label < 0) | (label >= num_classes))
    if bad.any():
        raise ValueError(
            f'label holds ids outside [0, {num_classes}) that are not '
            f'ignore_index={ignore_index}: {np.unique(label[bad])[:10]}')
    out = np.zeros((num_classes, ) + label.shape, out_dtype)
    present = np.unique(label[valid])
    for c in present:
        mask = label == c
        near = cv2.dilate(mask.view(np.uint8), kernel).view(bool)
        out[c] = (mask & edge) | (near & ~mask & valid)
    if ignore_index is not None:
        out[:, ~valid] = ignore_index
    return out


def sobel_boundary_map(label: np.ndarray,
                       ignore_index: Optional[int] = 255,
                       threshold: float = 0.0) -> np.ndarray:
    """Binary boundary of a label map by its Sobel gradient magnitude.

    InverseForm (Sec. 3.5) passes the ground-truth label map through a Sobel
    filter to get its binary boundary target. Here
    ``g = sqrt(Sx(y)^2 + Sy(y)^2)`` with the 3x3 Sobel kernels ``Sx``/``Sy``
    on the class-id map ``y`` (border replicated, so the image border is no
    boundary), and the boundary is ``g > threshold``. Ignored pixels are
    first replaced by the label of their nearest valid pixel (Euclidean), so
    they create no boundary, and are ``ignore_index`` in the output.

    Args:
        label (np.ndarray): (H, W) integer class ids.
        ignore_index (int | None): label of ignored pixels. Defaults to 255.
        threshold (float): magnitude threshold. Defaults to 0.

    Returns:
        np.ndarray: (H, W) uint8 (0, 1, ``ignore_index``).
    """
    _check_label(label)
    lab = label.astype(np.float32)
    valid = (
        np.ones(label.shape, bool)
        if ignore_index is None else label != ignore_index)
    if not valid.all() and valid.any():
        from scipy.ndimage import distance_transform_edt
        _, (iy, ix) = distance_transform_edt(~valid, return_indices=True)
        lab = lab[iy, ix]
    gx = cv2.Sobel(
        lab, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(
        lab, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    out = (np.sqrt(gx * gx + gy * gy) > threshold).astype(np.uint8)
    if ignore_index is not None:
        out[~valid] = ignore_index
    return out


def _get_label(results, key):
    if key not in results or results[key] is None:
        raise KeyError(f"'{key}' is missing from the results; load the label "
                       'map first (LoadAnnotations with the segmentation '
                       'map) or set seg_key')
    label = results[key]
    try:
        _check_label(label, key=f"results['{key}']")
    except (TypeError, ValueError) as e:
        where = results.get('seg_map_path', None)
        raise type(e)(f'{e} (from {where})' if where else str(e)) from None
    return label


@TRANSFORMS.register_module()
class GenerateSemanticEdge(BaseTransform):
    """Two-sided semantic edge target (SEMEDA) from the label map.

    See :func:`semantic_edge_map` for the definition. Place it after the
    geometric transforms. With the default ``out_key`` mmseg's
    ``PackSegInputs`` packs the (binary) map as ``data_sample.gt_edge_map``;
    a per-class (C, H, W) map is not packable by ``PackSegInputs`` (it
    expects (H, W)), so write it under another key and pack it yourself.

    Required Keys:

    - gt_seg_map (or ``seg_key``): (H, W) integer class ids

    Added Keys:

    - gt_edge_map (or ``out_key``): (H, W) or (C, H, W) uint8

    Args:
        ignore_index (int | None): ignored label. Defaults to 255.
        connectivity (int): 8 or 4. Defaults to 8.
        width (int): neighbourhood radius in pixels. Defaults to 1.
        num_classes (int | None): per-class output if given. Defaults to
            None (binary).
        seg_key (str): input key. Defaults to 'gt_seg_map'.
        out_key (str): output key. Defaults to 'gt_edge_map'.
    """

    def __init__(self,
                 ignore_index: Optional[int] = 255,
                 connectivity: int = 8,
                 width: int = 1,
                 num_classes: Optional[int] = None,
                 seg_key: str = 'gt_seg_map',
                 out_key: str = 'gt_edge_map') -> None:
        owner = 'GenerateSemanticEdge'
        self.ignore_index = check_int(
            ignore_index, 'ignore_index', owner, optional=True)
        self.connectivity = check_int(connectivity, 'connectivity', owner)
        self.width = check_int(width, 'width', owner, low=1)
        _neighbourhood(connectivity, width)  # validate early
        self.num_classes = check_int(
            num_classes, 'num_classes', owner, low=1, optional=True)
        self.seg_key = check_str(seg_key, 'seg_key', owner)
        self.out_key = check_str(out_key, 'out_key', owner)

    def transform(self, results: dict) -> dict:
        label = _get_label(results, self.seg_key)
        results[self.out_key] = semantic_edge_map(label, self.ignore_index,
                                                  self.connectivity,
                                                  self.width, self.num_classes)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'ignore_index={self.ignore_index}, '
                f'connectivity={self.connectivity}, width={self.width}, '
                f'num_classes={self.num_classes}, '
                f"seg_key='{self.seg_key}', out_key='{self.out_key}')")


@TRANSFORMS.register_module()
class GenerateSobelBoundary(BaseTransform):
    """Binary Sobel boundary of the label map (InverseForm's target).

    See :func:`sobel_boundary_map`. Place it after the geometric transforms.

    Required Keys:

    - gt_seg_map (or ``seg_key``): (H, W) integer class ids

    Added Keys:

    - gt_edge_map (or ``out_key``): (H, W) uint8 (0, 1, ``ignore_index``)

    Args:
        threshold (float): magnitude threshold. Defaults to 0.
        ignore_index (int | None): ignored label. Defaults to 255.
        seg_key (str): input key. Defaults to 'gt_seg_map'.
        out_key (str): output key. Defaults to 'gt_edge_map' (packed by
            mmseg's ``PackSegInputs``).
    """

    def __init__(self,
                 threshold: float = 0.0,
                 ignore_index: Optional[int] = 255,
                 seg_key: str = 'gt_seg_map',
                 out_key: str = 'gt_edge_map') -> None:
        owner = 'GenerateSobelBoundary'
        self.threshold = check_number(threshold, 'threshold', owner, low=0)
        self.ignore_index = check_int(
            ignore_index, 'ignore_index', owner, optional=True)
        self.seg_key = check_str(seg_key, 'seg_key', owner)
        self.out_key = check_str(out_key, 'out_key', owner)

    def transform(self, results: dict) -> dict:
        label = _get_label(results, self.seg_key)
        results[self.out_key] = sobel_boundary_map(label, self.ignore_index,
                                                   self.threshold)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(threshold={self.threshold}, '
                f'ignore_index={self.ignore_index}, '
                f"seg_key='{self.seg_key}', out_key='{self.out_key}')")
