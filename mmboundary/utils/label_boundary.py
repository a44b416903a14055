# Copyright (c) mmboundary contributors. All rights reserved.
"""Label map -> boundary operations, the one home of numpy and torch twins.

Every boundary mmboundary derives from a label map, for a training target
or for a metric, is defined here, once, with a numpy version (data
pipeline, pretraining, metrics) and a torch version (inside losses and
heads, on the device):

* window extrema of a label map, the primitive behind every band below:
  :func:`window_max` / :func:`window_min` and the cached
  :class:`WindowExtrema` (numpy), :func:`window_extrema_torch` (torch);
* label bands (pixels whose window holds more than one label, the
  semantic boundary metrics' bands): :func:`label_band` (numpy, square or
  disk window) and :func:`label_band_torch` (square);
* 8-neighbour semantic edges: :func:`semantic_edge_map` (numpy, (H, W))
  and :func:`edge_target` (torch, (N, H, W));
* Sobel boundary: :func:`sobel_boundary_map` (numpy) and
  :func:`sobel_boundary_target` (torch);
* the inner boundary of a binary mask (Boundary IoU):
  :func:`mask_inner_boundary`;
* pixels near a mask (ignore margins, match tolerances):
  :func:`near_mask` (numpy) and :func:`near_mask_torch`.

Windows are ``(2r+1) x (2r+1)`` squares (chessboard radius ``r``), 4-
connected diamonds or OpenCV's ``MORPH_ELLIPSE`` disks. Pixels outside the
image do not exist: a window max/min is taken over the pixels inside the
image only, which is what a replicated border gives.

The transforms (:mod:`mmboundary.datasets.transforms.boundary`), the losses
(SEMEDA, InverseForm, Edge Agreement), the heads, the edge-net / InverseNet
pretraining and the boundary metrics (:mod:`mmboundary.evaluation`) all
call these functions; the twins are tested against each other and against
brute force.
"""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    'semantic_edge_map', 'sobel_boundary_map', 'edge_target',
    'sobel_boundary_target', 'check_label_map', 'neighbourhood_kernel',
    'disk_kernel', 'window_max', 'window_min', 'WindowExtrema', 'label_band',
    'mark_frame', 'near_border', 'window_contains', 'mask_inner_boundary',
    'near_mask', 'window_extrema_torch', 'label_band_torch', 'near_mask_torch'
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


def disk_kernel(radius):
    """uint8 disk kernel of size ``2r+1``: OpenCV's ``MORPH_ELLIPSE``, the
    mBA band's window (CascadePSP)."""
    if not isinstance(radius, (int, np.integer)) or radius < 1:
        raise ValueError(f'radius must be an integer >= 1, got {radius!r}')
    size = 2 * int(radius) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def window_max(array: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Maximum of ``array`` over the ``kernel`` window around every pixel.

    Pixels outside the image do not exist (the replicated border never
    changes a window maximum, since every replicated value also lies in
    the window).

    Args:
        array (np.ndarray): (H, W) uint8 / uint16 / float32 map.
        kernel (np.ndarray): uint8 window, odd sides, centred.

    Returns:
        np.ndarray: (H, W), same dtype.
    """
    return cv2.dilate(array, kernel, borderType=cv2.BORDER_REPLICATE)


def window_min(array: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Minimum of ``array`` over the ``kernel`` window; see
    :func:`window_max`."""
    return cv2.erode(array, kernel, borderType=cv2.BORDER_REPLICATE)


class WindowExtrema:
    """Square-window max and min of a uint8 label map, cached per radius.

    The window of radius ``r`` around ``p`` is the ``(2r+1) x (2r+1)``
    square centred on ``p``, clipped to the image. Square windows compose
    (a ``(2a+1)`` square after a ``(2b+1)`` square is a ``(2a+2b+1)``
    square), so a larger radius is derived from the largest cached smaller
    one; several radii cost little more than the largest.

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
            kernel = neighbourhood_kernel(8, radius - base)
            self._cache[radius] = (window_max(mx,
                                              kernel), window_min(mn, kernel))
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


def label_band(label: np.ndarray,
               radius: int,
               shape: str = 'square',
               border: bool = False) -> np.ndarray:
    """Band of a label map: pixels whose window holds more than one label.

    Every label, the ignore label included, is a region of its own; both
    sides of a label change are in the band. At ``radius=1`` with a square
    window and no ignore label this is :func:`semantic_edge_map`
    (``connectivity=8, width=1``).

    Args:
        label (np.ndarray): (H, W) uint8 label map.
        radius (int): Window radius, >= 1.
        shape (str): ``'square'`` (chessboard ball, the Boundary IoU /
            trimap / F-score bands) or ``'disk'`` (:func:`disk_kernel`, the
            mBA band). Defaults to ``'square'``.
        border (bool): Also mark the ``radius`` outermost rows and columns
            (Boundary IoU's image border). Defaults to False.

    Returns:
        np.ndarray: (H, W) bool.
    """
    if shape == 'square':
        kernel = neighbourhood_kernel(8, radius)
    elif shape == 'disk':
        kernel = disk_kernel(radius)
    else:
        raise ValueError(f"shape must be 'square' or 'disk', got {shape!r}")
    band = window_max(label, kernel) != window_min(label, kernel)
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
    """Whether flat pixel indices lie within ``radius`` of the border (the
    pixels :func:`mark_frame` marks), (K, ) bool."""
    h, w = shape
    y, x = np.divmod(flat_idx, w)
    return (y < radius) | (y >= h - radius) | (x < radius) | (x >= w - radius)


def window_contains(label: np.ndarray, flat_idx: np.ndarray,
                    classes: np.ndarray, radius: int) -> np.ndarray:
    """Exact test of whether the square window around each pixel holds a
    given label.

    Per label, either the windows are read directly (few pixels, small
    window) or an integral image of ``label == c`` is built on the bounding
    box of the queried pixels (plus ``radius``) and window sums are read,
    whichever touches fewer pixels.

    Args:
        label (np.ndarray): uint8 label map of shape (H, W).
        flat_idx (np.ndarray): Flat indices of the queried pixels, (K, ).
        classes (np.ndarray): Label queried at each pixel, (K, ).
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


def mask_inner_boundary(mask: np.ndarray, width: int) -> np.ndarray:
    """Inner boundary band of a binary mask (Boundary IoU, Sec. 4).

    The mask pixels within chessboard distance ``width`` of a background
    pixel or of the image border: the mask minus its erosion by a
    ``(2w+1) x (2w+1)`` square with a constant-zero border (equal to the
    reference's one-pixel zero padding and ``w`` erosions by 3x3).

    Args:
        mask (np.ndarray): (H, W) bool or uint8 in {0, 1}.
        width (int): Band width ``w`` in pixels, >= 1.

    Returns:
        np.ndarray: (H, W) bool.
    """
    m = np.ascontiguousarray(mask)
    m = m.view(np.uint8) if m.dtype == bool else m
    eroded = cv2.erode(
        m,
        neighbourhood_kernel(8, width),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0)
    return (m != 0) & (eroded == 0)


def near_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within chessboard distance ``radius`` of a True pixel.

    Args:
        mask (np.ndarray): (H, W) bool.
        radius (int): Distance in pixels, >= 0 (0 returns a copy).

    Returns:
        np.ndarray: (H, W) bool.
    """
    if radius == 0:
        return np.array(mask, dtype=bool)
    m = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    return window_max(m, neighbourhood_kernel(8, radius)).view(bool)


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


def _binary_edges_uint8(label: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """:func:`semantic_edge_map`'s binary output for the common case (uint8
    labels, ignore 255), in nine single-pass operations on three buffers.

    The window max runs on ``label + 1`` (ignore wraps to 0, never a max),
    the window min on the labels themselves (ignore is 255, never a min).
    For a valid pixel both differences ``max - (label + 1)`` and ``label -
    min`` are >= 0, and it is an edge iff one of them is > 0; ignored
    pixels get 255 from the ``label == 255`` mask. Every step after the two
    morphology calls writes into a buffer it reads (cv2's element-wise
    operations run in place), so only three 1-byte maps are allocated: a
    fresh map costs a page fault per 4 KiB, about as much as a pass.
    """
    enc = np.add(label, np.uint8(1))  # wraps: ignore (255) -> 0
    upper = cv2.dilate(enc, kernel, borderType=cv2.BORDER_REPLICATE)
    lower = cv2.erode(label, kernel, borderType=cv2.BORDER_REPLICATE)
    cv2.subtract(upper, enc, dst=upper)
    cv2.subtract(label, lower, dst=lower)
    cv2.bitwise_or(upper, lower, dst=upper)
    cv2.min(upper, 1, dst=upper)
    cv2.compare(label, 255, cv2.CMP_EQ, dst=lower)  # 255 where ignored
    return cv2.max(upper, lower, dst=upper)


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
    if (num_classes is None and ignore_index == 255 and label.dtype == np.uint8
            and label.size):
        return _binary_edges_uint8(label, kernel)
    if ignore_index is None:
        valid = np.ones(label.shape, bool)
    else:
        valid = label != ignore_index
    enc, top = _encode(label, valid, ignore_index)
    upper = window_max(enc, kernel)  # ignore is 0: never the maximum
    low_in = enc.copy()
    low_in[~valid] = top  # ignore is the top value: never the minimum
    lower = window_min(low_in, kernel)
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
        near = window_max(mask.view(np.uint8), kernel).view(bool)
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


def window_extrema_torch(x: torch.Tensor,
                         radius: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Square-window ``(max, min)`` of (N, H, W) maps, the torch twin of
    :class:`WindowExtrema` (pixels outside the image do not exist).

    Args:
        x (Tensor): (N, H, W) float maps (labels as floats are exact below
            2**24).
        radius (int): Window radius (chessboard distance), >= 1.

    Returns:
        tuple[Tensor, Tensor]: ``(max, min)``, each (N, H, W).
    """
    k = 2 * int(radius) + 1
    xp = F.pad(x.unsqueeze(1), (radius, ) * 4, mode='replicate')
    mx = F.max_pool2d(xp, k, stride=1).squeeze(1)
    mn = -F.max_pool2d(-xp, k, stride=1).squeeze(1)
    return mx, mn


def label_band_torch(label: torch.Tensor, radius: int = 1) -> torch.Tensor:
    """(N, H, W) bool: pixels whose square window holds more than one label,
    the torch twin of :func:`label_band` (``shape='square'``)."""
    mx, mn = window_extrema_torch(label.float(), radius)
    return mx != mn


def near_mask_torch(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """(N, H, W) bool: pixels within chessboard distance ``radius`` of a
    True pixel of the (N, H, W) ``mask``; the torch twin of
    :func:`near_mask`."""
    k = 2 * int(radius) + 1
    near = F.max_pool2d(
        mask.float().unsqueeze(1), k, stride=1, padding=int(radius))
    return near.squeeze(1) > 0


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
    # max != min over the 3x3 window <=> some neighbour differs (ignore
    # pixels are handled below).
    edge = label_band_torch(lab, 1).long()
    near_ignore = near_mask_torch(lab == ignore_index,
                                  max(int(ignore_radius), 1))
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
    return out.masked_fill(near_mask_torch(ignore, 1), ignore_index)
