# Copyright (c) mmboundary contributors. All rights reserved.
"""Label map -> boundary operations, the one home of numpy and torch twins.

Every boundary target mmboundary derives from a ground-truth label map is
defined here, once, with a numpy version (data pipeline, pretraining) and a
torch version (inside losses and heads, on the device):

* 8-neighbour semantic edges: :func:`semantic_edge_map` (numpy, (H, W))
  and :func:`edge_target` (torch, (N, H, W));
* Sobel boundary: :func:`sobel_boundary_map` (numpy) and
  :func:`sobel_boundary_target` (torch).

The transforms (:mod:`mmboundary.datasets.transforms.boundary`), the losses
(SEMEDA, InverseForm), the heads and the edge-net / InverseNet pretraining
all call these functions; the twins are tested against each other.
"""
from typing import Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    'semantic_edge_map', 'sobel_boundary_map', 'edge_target',
    'sobel_boundary_target', 'check_label_map', 'neighbourhood_kernel'
]


def check_label_map(label, key='label'):
    """Raise TypeError / ValueError unless ``label`` is an (H, W) integer
    numpy array; the message names ``key``."""
    if not isinstance(label, np.ndarray):
        raise TypeError(f'{key} must be a numpy array of shape (H, W), '
                        f'got {type(label).__name__}')
    if label.ndim != 2:
        raise ValueError(f'{key} must have shape (H, W), got shape '
                         f'{label.shape}')
    if not np.issubdtype(label.dtype, np.integer):
        raise TypeError(f'{key} must have an integer dtype (class ids), '
                        f'got {label.dtype}')


def neighbourhood_kernel(connectivity, width):
    """uint8 ``(2w+1) x (2w+1)`` square (8) or diamond (4) kernel."""
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
    check_label_map(label)
    kernel = neighbourhood_kernel(connectivity, width)
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
    check_label_map(label)
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


def edge_target(label: torch.Tensor,
                ignore_index: int = 255,
                ignore_radius: int = 1) -> torch.Tensor:
    """8-neighbour semantic edge target E* (SEMEDA Sec. 3.3), in torch.

    A pixel is an edge (1) if one of its 8 neighbours inside the image has
    another label, else 0. Pixels closer than ``ignore_radius`` (Chebyshev
    distance) to an ignore pixel, and ignore pixels, get ``ignore_index``:
    the ignore label neither creates nor hides an edge. Away from ignore
    regions this equals :func:`semantic_edge_map` (``connectivity=8,
    width=1``); the test checks it.

    Args:
        label (Tensor): (N, H, W) integer labels.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        ignore_radius (int): Pixels within this distance of an ignore pixel
            are ignored in the target; >= 1 (the 3x3 window). Pretraining
            uses the edge net's receptive radius. Defaults to 1.

    Returns:
        Tensor: (N, H, W) long, values in {0, 1, ignore_index}.
    """
    if label.dim() != 3:
        raise ValueError('edge_target expects (N, H, W) labels, got shape '
                         f'{tuple(label.shape)}.')
    lab = label.long()
    ignore = lab == ignore_index
    x = lab.float().unsqueeze(1)
    # Neighbours outside the image do not count: replicate the border.
    xp = F.pad(x, (1, 1, 1, 1), mode='replicate')
    # Labels are small integers, so max != min over the 3x3 window <=> some
    # neighbour differs (ignore pixels are handled below).
    wmax = F.max_pool2d(xp, 3, stride=1)
    wmin = -F.max_pool2d(-xp, 3, stride=1)
    edge = (wmax != wmin).squeeze(1).long()
    radius = max(int(ignore_radius), 1)
    near_ignore = F.max_pool2d(
        ignore.float().unsqueeze(1), 2 * radius + 1, stride=1,
        padding=radius).squeeze(1) > 0
    return edge.masked_fill(near_ignore, ignore_index)


def sobel_boundary_target(label: torch.Tensor,
                          ignore_index: int = 255,
                          threshold: float = 0.0) -> torch.Tensor:
    """Binary Sobel boundary of (N, H, W) label maps (InverseForm Sec. 3.5),
    the torch twin of :func:`sobel_boundary_map`.

    ``g = sqrt(Sx(y)^2 + Sy(y)^2)`` with the 3x3 Sobel kernels
    ``Sx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` and ``Sy = Sx^T``
    (cross-correlation, border replicated) on the class-id map ``y``; the
    boundary is ``g > threshold``. Every pixel whose 3x3 window holds an
    ignore pixel is ``ignore_index`` (the numpy twin fills ignore regions by
    their nearest valid label instead, which a device op cannot do cheaply);
    everywhere else the two twins agree exactly.

    Args:
        label (Tensor): (N, H, W) or (N, 1, H, W) integer labels.
        ignore_index (int): Ignored label. Defaults to 255.
        threshold (float): Magnitude threshold, >= 0. Defaults to 0.

    Returns:
        Tensor: (N, H, W) long in {0, 1, ignore_index}.
    """
    if label.dim() == 4 and label.shape[1] == 1:
        label = label[:, 0]
    if label.dim() != 3:
        raise ValueError('sobel_boundary_target expects (N, H, W) labels, '
                         f'got shape {tuple(label.shape)}.')
    lab = label.long()
    ignore = lab == ignore_index
    x = lab.masked_fill(ignore, 0).float().unsqueeze(1)
    xp = F.pad(x, (1, 1, 1, 1), mode='replicate')
    kx = x.new_tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
    kernels = torch.stack([kx, kx.t()]).unsqueeze(1)  # (2, 1, 3, 3)
    g = F.conv2d(xp, kernels)
    out = (g.pow(2).sum(1).sqrt() > threshold).long()
    near_ignore = F.max_pool2d(
        ignore.float().unsqueeze(1), 3, stride=1, padding=1).squeeze(1) > 0
    return out.masked_fill(near_ignore, ignore_index)
