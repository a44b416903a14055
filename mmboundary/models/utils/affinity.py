# Copyright (c) mmboundary contributors. All rights reserved.
"""Pixel-pair affinities of box-supervised instance segmentation.

`AsyInst: Asymmetric Affinity with DepthGrad and Color for Box-Supervised
Instance Segmentation <https://arxiv.org/abs/2212.03517>`_ (Yang et al.),
built on BoxInst (Tian et al., CVPR 2021).

An *edge* joins a pixel ``p`` of the mask grid to one of its ``K**2 - 1``
dilated neighbours ``q = p + D * o`` with ``o`` in the ``K x K`` offsets
without the centre, in row-major order; for ``K = 3`` the channel order is
``(-1,-1), (-1,0), (-1,1), (0,-1), (0,1), (1,-1), (1,0), (1,1)`` (dy, dx),
the order of mmdet's ``unfold_wo_center``. Neighbours outside the map read
as 0 (zero padding), as there.

Functions:

* :func:`dilated_neighbours`: the neighbour maps of a tensor.
* :func:`rgb_to_lab`: sRGB to CIE-Lab (D65, 2 deg), skimage's constants.
* :func:`color_affinity`: BoxInst's colour edges (paper Sec. 5.3, eq. 12).
* :func:`downsample_depth`: depth to the mask grid without mixing invalid
  pixels.
* :func:`depth_grad_affinity`: the depth-gradient edges of eq. 1
  (Sec. 3.1).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'dilated_neighbours', 'rgb_to_lab', 'srgb_bytes_to_lab', 'color_affinity',
    'downsample_depth', 'depth_grad_affinity'
]

# sRGB (D65) -> XYZ, rows X, Y, Z; and the D65 2 deg white point. These are
# the constants of skimage.color (``xyz_from_rgb``, illuminant 'D65', '2').
_XYZ_FROM_RGB = ((0.412453, 0.357580, 0.180423),
                 (0.212671, 0.715160, 0.072169), (0.019334, 0.119193,
                                                  0.950227))
_D65_WHITE = (0.95047, 1.0, 1.08883)


def _check_kernel(kernel_size: int, dilation: int) -> None:
    if int(kernel_size) != kernel_size or kernel_size < 3 or \
            kernel_size % 2 == 0:
        raise ValueError(f'kernel_size must be an odd integer >= 3, got '
                         f'{kernel_size!r}')
    if int(dilation) != dilation or dilation < 1:
        raise ValueError(f'dilation must be a positive integer, got '
                         f'{dilation!r}')


def dilated_neighbours(x: Tensor,
                       kernel_size: int = 3,
                       dilation: int = 2) -> Tensor:
    """The ``K**2 - 1`` dilated neighbours of every pixel.

    Args:
        x (Tensor): (B, C, H, W).
        kernel_size (int): K, odd.
        dilation (int): D.

    Returns:
        Tensor: (B, C, K**2 - 1, H, W); channel k holds ``x`` at
        ``p + D * o_k`` (0 outside the map), the values and order of mmdet's
        ``unfold_wo_center``, taken by slicing one padded tensor.
    """
    _check_kernel(kernel_size, dilation)
    if x.dim() != 4:
        raise ValueError(f'expected a (B, C, H, W) tensor, got shape '
                         f'{tuple(x.shape)}')
    h, w = x.shape[-2:]
    r = kernel_size // 2
    pad = r * dilation
    padded = F.pad(x, (pad, pad, pad, pad))
    out = []
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            y0, x0 = pad + dy * dilation, pad + dx * dilation
            out.append(padded[:, :, y0:y0 + h, x0:x0 + w])
    return torch.stack(out, dim=2)


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB in [0, 1] to CIE-Lab (D65 white, 2 deg observer).

    The formula and constants of ``skimage.color.rgb2lab``: linearise
    ``((c + 0.055) / 1.055) ** 2.4`` if ``c > 0.04045`` else ``c / 12.92``;
    XYZ by skimage's matrix; divide by the D65 white; ``f(t) = t ** (1/3)``
    if ``t > 0.008856`` else ``7.787 t + 16 / 116``; ``L = 116 f_y - 16``,
    ``a = 500 (f_x - f_y)``, ``b = 200 (f_y - f_z)``.

    Args:
        rgb (Tensor): (..., 3, H, W) sRGB in [0, 1]. fp16/bf16 are computed
            in fp32; fp64 stays fp64.

    Returns:
        Tensor: (..., 3, H, W) Lab, L in [0, 100].
    """
    if rgb.dim() < 3 or rgb.shape[-3] != 3:
        raise ValueError('rgb_to_lab expects (..., 3, H, W), got shape '
                         f'{tuple(rgb.shape)}')
    if not rgb.is_floating_point():
        raise TypeError(f'rgb_to_lab expects floats in [0, 1], got '
                        f'{rgb.dtype}')
    if rgb.dtype not in (torch.float32, torch.float64):
        rgb = rgb.float()
    return _linear_rgb_to_lab(_srgb_to_linear(rgb))


def _srgb_to_linear(rgb: Tensor) -> Tensor:
    """skimage's sRGB gamma expansion."""
    return torch.where(rgb > 0.04045,
                       ((rgb.clamp(min=0.04045) + 0.055) / 1.055)**2.4,
                       rgb / 12.92)


def _linear_rgb_to_lab(lin: Tensor) -> Tensor:
    """Linear RGB (..., 3, H, W) to Lab with skimage's constants."""
    m = torch.tensor(_XYZ_FROM_RGB, dtype=lin.dtype, device=lin.device)
    white = torch.tensor(_D65_WHITE, dtype=lin.dtype, device=lin.device)
    xyz = (torch.movedim(lin, -3, -1) @ m.T).movedim(-1, -3)
    xyz = xyz / white[:, None, None]
    f = torch.where(xyz > 0.008856,
                    xyz.clamp(min=0.008856)**(1.0 / 3.0),
                    7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f.unbind(dim=-3)
    return torch.stack(
        (116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)), dim=-3)


def srgb_bytes_to_lab(rgb: Tensor) -> Tensor:
    """:func:`rgb_to_lab` of ``rgb / 255`` for 8-bit sRGB, in fp64.

    The gamma expansion is a 256-entry table computed with the same formula,
    so the result equals ``rgb_to_lab(rgb.double() / 255)`` exactly.

    Args:
        rgb (Tensor): (..., 3, H, W) uint8 sRGB.

    Returns:
        Tensor: (..., 3, H, W) fp64 Lab.
    """
    if rgb.dtype != torch.uint8:
        raise TypeError(f'srgb_bytes_to_lab expects uint8, got {rgb.dtype}')
    table = _srgb_to_linear(
        torch.arange(256, dtype=torch.float64, device=rgb.device) / 255.0)
    return _linear_rgb_to_lab(table[rgb.long()])


def color_affinity(lab: Tensor,
                   valid: Tensor,
                   kernel_size: int = 3,
                   dilation: int = 2,
                   thresh: float = 0.3) -> Tensor:
    """BoxInst's colour edges on the mask grid.

    ``S_c(e) = exp(-||Lab(p) - Lab(q)||_2 / 2)``; the edge is positive iff
    ``S_c(e) * valid(q) >= thresh`` (mmdet's ``BoxInstDataPreprocessor``,
    batched).

    Args:
        lab (Tensor): (B, 3, h, w) Lab image on the mask grid.
        valid (Tensor): (B, 1, h, w) image validity (padding and removed
            bottom rows are 0).
        kernel_size (int): K. Defaults to 3.
        dilation (int): D. Defaults to 2.
        thresh (float): tau_c. Defaults to 0.3.

    Returns:
        Tensor: (B, K**2 - 1, h, w) float 0/1 edge masks.
    """
    _check_kernel(kernel_size, dilation)
    h, w = lab.shape[-2:]
    r = kernel_size // 2
    pad = r * dilation
    lab_pad = F.pad(lab, (pad, pad, pad, pad))
    valid = valid.to(lab.dtype)[:, 0]
    valid_pad = F.pad(valid, (pad, pad, pad, pad))
    out = lab.new_empty((lab.shape[0], kernel_size**2 - 1, h, w))
    for k, k_mirror, dy, dx in _half_offsets(kernel_size):
        y0, x0 = pad + dy * dilation, pad + dx * dilation
        # sqrt of the squares summed over the channels in order: the value
        # of mmdet's ``torch.norm(diff, dim=1)`` without its slow strided
        # reduction
        diff = lab - lab_pad[:, :, y0:y0 + h, x0:x0 + w]
        sq = diff[:, 0] * diff[:, 0]
        for c in range(1, diff.shape[1]):
            sq = sq + diff[:, c] * diff[:, c]
        similarity = torch.exp(-torch.sqrt(sq) * 0.5)
        out[:, k] = similarity * valid_pad[:, y0:y0 + h, x0:x0 + w] >= thresh
        # the edge (q, q - D o) of the mirrored offset at q = p + D o has
        # the same similarity, bit for bit (negated differences, same
        # squares); its neighbour is p
        _shift_into(out[:, k_mirror], similarity * valid >= thresh,
                    dy * dilation, dx * dilation)
    return out


def _half_offsets(kernel_size: int):
    """``(k, k_mirror, dy, dx)`` for the first half of the neighbour
    channels: offset ``o = (dy, dx)`` is channel ``k`` and ``-o`` is channel
    ``k_mirror`` (the row-major order without the centre is symmetric)."""
    r = kernel_size // 2
    n = kernel_size**2 - 1
    k = 0
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                return
            yield k, n - 1 - k, dy, dx
            k += 1


def _shift_into(dst: Tensor, src: Tensor, oy: int, ox: int) -> None:
    """``dst[..., y, x] = src[..., y - oy, x - ox]`` where that is inside
    ``src``, 0 elsewhere (``dst`` and ``src``: (..., h, w))."""
    h, w = src.shape[-2:]
    dst.zero_()
    dst[..., max(oy, 0):min(h, h + oy), max(ox, 0):min(w, w + ox)] = \
        src[..., max(-oy, 0):min(h, h - oy), max(-ox, 0):min(w, w - ox)]


def downsample_depth(depth: Tensor,
                     stride: int,
                     valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Average depth over ``stride x stride`` cells made only of valid pixels.

    A cell is valid iff all its ``stride**2`` pixels are valid; its depth is
    their mean. Invalid cells get depth 0. Invalid pixels are never averaged
    with valid ones.

    Args:
        depth (Tensor): (B, 1, H, W), 0 = invalid.
        stride (int): the mask stride s; H and W are cropped to multiples
            of it (as ``avg_pool2d``).
        valid (Tensor, optional): (B, 1, H, W) extra validity (e.g. the
            image mask); defaults to ``depth > 0``.

    Returns:
        tuple[Tensor, Tensor]: ``depth_s`` and bool ``valid_s``, each
        (B, 1, H // s, W // s).
    """
    n = stride * stride
    if stride == 1 or valid is not None:
        v = depth > 0
        if valid is not None:
            v = v & (valid > 0)
        if stride == 1:
            return torch.where(v, depth, depth.new_zeros(())), v
        valid_s = F.avg_pool2d(v.to(depth.dtype), stride, stride) * n > \
            n - 0.5
    else:
        # all pixels valid iff the cell's minimum is > 0 (NaN is not):
        # the minimum over the cell's rows, then over its columns
        b, c, h, w = depth.shape
        hs, ws = h // stride, w // stride
        rows = depth[..., :hs * stride, :ws * stride].reshape(
            b, c, hs, stride, ws * stride).amin(3)
        valid_s = rows.reshape(b, c, hs, ws, stride).amin(4) > 0
    # a valid cell has only valid pixels, so the plain mean is the mean of
    # its valid depths; the other cells are set to 0
    total = F.avg_pool2d(depth, stride, stride) * n
    depth_s = torch.where(valid_s, total / n, depth.new_zeros(()))
    return depth_s, valid_s


def depth_grad_affinity(depth: Tensor,
                        valid: Optional[Tensor] = None,
                        kernel_size: int = 3,
                        dilation: int = 2,
                        thresh: float = 0.01) -> Tensor:
    """AsyInst's depth-gradient edges (paper Sec. 3.1, eq. 1).

    For the edge ``(p, q = p + D o)`` with midpoint ``m = p + (D / 2) o``,
    ``Diff(e) = |G(p, m) - G(m, q)| = |d_p + d_q - 2 d_m|``, the absolute
    second difference of depth along the edge. The edge is positive iff
    ``Diff(e) <= thresh`` and ``p``, ``m`` and ``q`` all have valid depth.

    Args:
        depth (Tensor): (B, 1, h, w) depth on the mask grid.
        valid (Tensor, optional): (B, 1, h, w) validity; defaults to
            ``depth > 0``.
        kernel_size (int): K. Defaults to 3.
        dilation (int): D, even (the midpoint must be a pixel).
        thresh (float): tau_d, in the unit of ``depth``. Defaults to 0.01.

    Returns:
        Tensor: (B, K**2 - 1, h, w) float 0/1 edge masks, the channel order
        and geometry of :func:`color_affinity`.
    """
    if int(dilation) != dilation or dilation < 2 or dilation % 2:
        raise ValueError(
            f'the depth-gradient affinity needs an even dilation (the edge '
            f'midpoint p + D/2 * o must be a pixel), got dilation='
            f'{dilation!r}; use pairwise_dilation=2 (the paper) or 4')
    _check_kernel(kernel_size, dilation)
    if valid is None:
        valid = depth > 0
    h, w = depth.shape[-2:]
    r = kernel_size // 2
    pad = r * dilation
    half = dilation // 2
    # invalid depth (and outside the map) as NaN: the second difference of
    # any triple with an invalid depth is NaN, and NaN <= thresh is False,
    # so no validity masks are combined per edge
    nan = float('nan')
    depth = torch.where(valid > 0, depth, depth.new_full((), nan))[:, 0]
    depth_pad = F.pad(depth, (pad, pad, pad, pad), value=nan)
    twice_pad = 2.0 * depth_pad  # exact: the 2 d_m of every edge
    out = depth.new_empty((depth.shape[0], kernel_size**2 - 1, h, w))
    for k, k_mirror, dy, dx in _half_offsets(kernel_size):
        ym, xm = pad + dy * half, pad + dx * half
        yq, xq = pad + dy * dilation, pad + dx * dilation
        diff = depth + depth_pad[:, yq:yq + h, xq:xq + w]
        diff.sub_(twice_pad[:, ym:ym + h, xm:xm + w]).abs_()
        torch.le(diff, thresh, out=out[:, k])
        # the edge (q, q - D o) at q = p + D o: the same three depths (a + b
        # = b + a exactly in floating point), so the same decision
        _shift_into(out[:, k_mirror], out[:, k], dy * dilation, dx * dilation)
    return out
