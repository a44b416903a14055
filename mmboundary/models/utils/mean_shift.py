# Copyright (c) mmboundary contributors. All rights reserved.
"""Mean-shift discretiser of DVIS (paper Sec. 4 "Discretization").

The real-valued instance map is clustered by blurring mean-shift at the
paper's two range bandwidths (0.4 and 0.9); every quantised value of the
converged map is one candidate instance (the official code's GPU
discretiser), optionally split into connected components. Neighbours are
visited as shifted views, so memory stays O(B H W) whatever the spatial
radius: no (2s + 1)^2-channel tensor is ever built. On the CPU the same
iterations run, bit for bit, in the fused kernel of
:mod:`~mmboundary.models.utils.mean_shift_native` (``impl='auto'``); the
torch code (``impl='torch'``) is the reference and runs on GPUs.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from mmboundary.models.utils.mean_shift_native import (
    native_available, native_blurring_mean_shift)
from mmboundary.utils.validation import (check_bool, check_int, check_number,
                                         check_sequence)

_BORDERS = ('valid', 'replicate')
_IMPLS = ('auto', 'torch', 'native')


def mean_shift_kernel(d: Tensor,
                      bandwidth: float,
                      attenuate: bool = True) -> Tensor:
    """Range kernel of the official discretiser.

    ``phi(d) = exp(-d^2 / (2 sigma^2)) / (sigma sqrt(2 pi))`` with ``sigma =
    bandwidth / 3``; with ``attenuate`` the density is multiplied by 0.1
    where it is below ``bandwidth``.

    Args:
        d (Tensor): differences, any shape.
        bandwidth (float): h.
        attenuate (bool): apply the 0.1 attenuation.

    Returns:
        Tensor: same shape as ``d``.
    """
    sigma = bandwidth / 3.0
    # in place on one fresh tensor (the discretiser calls this once per
    # neighbour offset and iteration)
    norm = sigma * math.sqrt(2 * math.pi)
    phi = (d * d).div_(-2 * sigma * sigma).exp_().div_(norm)
    if attenuate:
        phi.mul_(
            torch.where(phi < bandwidth, phi.new_tensor(0.1),
                        phi.new_tensor(1.0)))
    return phi


def blurring_mean_shift(x: Tensor,
                        spatial_radius: int,
                        bandwidth: float,
                        num_iters: int = 4,
                        valid: Optional[Tensor] = None,
                        border: str = 'valid',
                        attenuate: bool = True,
                        tile_elems: int = 2**16,
                        impl: str = 'auto') -> Tensor:
    """Blurring mean-shift on a one-channel map, batched.

    Each iteration replaces every valid pixel by the kernel-weighted mean of
    its (2s + 1)^2 square neighbourhood (flat spatial kernel, range kernel
    :func:`mean_shift_kernel`), all pixels at once. With ``border='valid'``
    neighbours outside the map or invalid are left out; with
    ``'replicate'`` they are clamped into the map (official code).

    Cost: with ``'valid'`` each unordered pixel pair is weighted once (the
    range kernel is symmetric) and credited to both pixels. The constant
    ``1 / (sigma sqrt(2 pi))`` cancels in the weighted mean and the
    attenuation test ``phi < h`` is done on the exponent, so a pair costs
    one exp and a few in-place ops; invalid pixels hold a large sentinel
    whose weight underflows to 0. Rows are processed in stripes of about
    ``tile_elems`` pixels so that the temporaries stay in cache; memory is
    O(B H W) whatever s.

    Args:
        x (Tensor): (B, 1, H, W) map, >= 0.
        spatial_radius (int): s.
        bandwidth (float): h (> 0).
        num_iters (int): iterations (4 in the official code).
        valid (Tensor, optional): (B, 1, H, W) bool.
        border (str): ``'valid'`` or ``'replicate'``.
        attenuate (bool): see :func:`mean_shift_kernel`.
        tile_elems (int): pixels per stripe (speed only; the result does
            not depend on it).
        impl (str): ``'torch'``: the shifted-view code above (the
            reference; any device); ``'native'``: the fused CPU kernel of
            :mod:`~mmboundary.models.utils.mean_shift_native` (same pairs,
            weights and sums in one pass per pair, float32 in another
            order); ``'auto'``: native for a float32 CPU map with
            ``'valid'`` borders when the kernel is available, else torch.

    Raises:
        ValueError: on NaN or inf among the valid pixels (an empty map gives
            an empty result).

    Returns:
        Tensor: (B, 1, H, W) shifted map; 0 on invalid pixels.
    """
    if bandwidth <= 0:
        raise ValueError(f'blurring_mean_shift: bandwidth={bandwidth} must '
                         'be > 0 (the paper uses 0.4 and 0.9).')
    if border not in _BORDERS:
        raise ValueError(f'blurring_mean_shift: border={border!r} is not '
                         f'one of {_BORDERS}.')
    if impl not in _IMPLS:
        raise ValueError(f'blurring_mean_shift: impl={impl!r} is not one of '
                         f'{_IMPLS}.')
    s = int(spatial_radius)
    B, _, H, W = x.shape
    # half precision overflows on the sentinel's sums (NaN on invalid
    # pixels): compute in fp32, return the input's dtype
    in_dtype = x.dtype
    if in_dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    if valid is None:
        valid = torch.ones_like(x, dtype=torch.bool)
    valid = valid.reshape(x.shape)
    bad = int((~torch.isfinite(x.detach()) & valid).sum())
    if bad:
        raise ValueError(
            f'blurring_mean_shift: the map has {bad} NaN or inf value(s) '
            f'among its {int(valid.sum())} valid pixels; the network '
            'produced non-finite outputs (a diverged or corrupt checkpoint, '
            'or an fp16 overflow): fix the model, the discretiser cannot '
            'group them.')
    x = torch.where(valid, x, torch.zeros_like(x))
    vf = valid.to(x.dtype)
    if x.numel() == 0:
        return x.clone().to(in_dtype)
    symmetric = border != 'replicate'
    # exponent e = -d^2 / (2 sigma^2); phi < h  <=>  e < log(h sigma
    # sqrt(2 pi)); the factor 1 / (sigma sqrt(2 pi)) cancels in num / den
    sigma = bandwidth / 3.0
    scale = -1.0 / (2 * sigma * sigma)
    att_thr = math.log(bandwidth * sigma * math.sqrt(2 * math.pi))
    log_att = math.log(0.1)
    # invalid pixels (and 'valid' padding) hold a sentinel far from every
    # value: their weight exp(scale * d^2) underflows to exactly 0
    sentinel = float(x.detach().abs().max()) * 4 + 1e3 * bandwidth
    # 'valid': each unordered pair {p, p + d} once (half the offsets);
    # offsets with no partner inside the map are skipped
    offsets = [
        (dy, dx) for dy in range(-s, s + 1) for dx in range(-s, s + 1)
        if not symmetric or (
            (dy > 0 or (dy == 0 and dx >= 0)) and abs(dy) < H and abs(dx) < W)
    ]
    rows = max(1, min(H, int(tile_elems) // max(B * W, 1)))
    if impl == 'auto':
        impl = 'native' if (x.device.type == 'cpu' and x.dtype == torch.float32
                            and not x.requires_grad
                            and native_available()) else 'torch'
    if impl == 'native':
        if x.device.type != 'cpu' or x.dtype != torch.float32:
            raise ValueError(
                'blurring_mean_shift: impl="native" needs a float32 CPU map '
                f"(got {x.dtype} on {x.device}); use impl='torch'.")
        return native_blurring_mean_shift(x.detach() * vf, valid, offsets, s,
                                          num_iters, scale, att_thr, log_att,
                                          attenuate, sentinel, symmetric,
                                          rows).to(in_dtype)
    t = x.new_empty((B, 1, rows, W))
    m = torch.empty((B, 1, rows, W), dtype=torch.bool, device=x.device)
    x = x * vf
    for _ in range(num_iters):
        xs = torch.where(valid, x, x.new_tensor(sentinel))
        if symmetric:
            xp = torch.nn.functional.pad(xs, (s, s, s, s), value=sentinel)
        else:
            xp = torch.nn.functional.pad(xs, (s, s, s, s), mode='replicate')
        num = torch.zeros_like(xp)  # padded: partners' credits land inside
        den = torch.zeros_like(xp)
        for y0 in range(0, H, rows):
            y1 = min(H, y0 + rows)
            n = y1 - y0
            tt, mm = t[:, :, :n], m[:, :, :n]
            xc = xs[:, :, y0:y1]
            cs = (..., slice(s + y0, s + y1), slice(s, s + W))
            num_c, den_c = num[cs], den[cs]
            for dy, dx in offsets:
                ps = (..., slice(s + y0 + dy,
                                 s + y1 + dy), slice(s + dx, s + dx + W))
                xq = xp[ps]
                torch.sub(xc, xq, out=tt)
                tt.square_().mul_(scale)
                if attenuate:
                    torch.lt(tt, att_thr, out=mm)
                    tt.add_(mm, alpha=log_att)
                tt.exp_()
                num_c.addcmul_(tt, xq)
                den_c.add_(tt)
                if symmetric and (dy, dx) != (0, 0):
                    num[ps].addcmul_(tt, xc)
                    den[ps].add_(tt)
        num = num[..., s:s + H, s:s + W]
        den = den[..., s:s + H, s:s + W]
        x = torch.where(den > 0, num / den.clamp(min=1e-30),
                        torch.zeros_like(x)) * vf
    return x.to(in_dtype)


def _components(mask: np.ndarray) -> Tuple[np.ndarray, int]:
    from scipy import ndimage
    return ndimage.label(mask, structure=np.ones((3, 3), dtype=int))


def _perimeter(mask: Tensor) -> int:
    """Pixels of ``mask`` with a 4-neighbour outside it (or the map)."""
    m = torch.nn.functional.pad(mask[None, None].float(), (1, 1, 1, 1))[0, 0]
    inner = (m[:-2, 1:-1] * m[2:, 1:-1] * m[1:-1, :-2] * m[1:-1, 2:]) > 0
    return int((mask & ~inner).sum())


def extend_boxes(masks: Tensor,
                 min_size: int = 8,
                 max_extend: float = 16.0) -> Tensor:
    """Tight boxes of masks, enlarged as in the official code.

    Each side ``b = x1 - x0 + 1`` becomes ``clip(b + min(0.2 b,
    max_extend), min_size, W)``, centred on the tight box and shifted into
    the map.

    Args:
        masks (Tensor): (N, H, W) bool.
        min_size (int): minimum side.
        max_extend (float): cap of the enlargement.

    Returns:
        Tensor: (N, 4) float xyxy in map pixels (half-open).
    """
    N, H, W = masks.shape
    if N == 0:
        return masks.new_zeros((0, 4), dtype=torch.float32)
    out = []
    for axis, size in ((2, W), (1, H)):
        proj = masks.any(dim=3 - axis)  # (N, size)
        idx = torch.arange(size, device=masks.device)
        lo = torch.where(proj, idx, size).min(dim=1).values.float()
        hi = torch.where(proj, idx, -1).max(dim=1).values.float()
        b = hi - lo + 1
        b2 = (b + torch.clamp(0.2 * b, max=max_extend)).clamp(
            min=min(min_size, size), max=size)
        c = (lo + hi) / 2
        start = torch.minimum((c - b2 / 2).clamp(min=0), size - b2)
        out.append((start, start + b2))
    (x0, x1), (y0, y1) = out
    return torch.stack([x0, y0, x1, y1], dim=1)


@TASK_UTILS.register_module()
class MeanShiftDiscretizer:
    """Turns DVIS maps into candidate instances (paper Sec. 4).

    Per bandwidth ``h`` (paper: 0.4 and 0.9) and image: blurring mean-shift
    (:func:`blurring_mean_shift`), labels ``round(x / (h + 0.01))``, one
    candidate per label value ("bin") with mean input value ``mu > bg_thr``
    and area ``> size_thr``; with ``merge_unions`` also the union of kept
    bins whose means differ by less than ``h``; with ``split_components``
    the 8-connected components (``True``: instead, ``'both'``: in
    addition), filtered by size, mean and the area/perimeter test. The
    largest ``num_keep`` per bandwidth are kept; exact duplicates across
    bandwidths are dropped (``dedup``).

    Args:
        bandwidths (Sequence[float]): range bandwidths h.
        spatial_radii (Sequence[int]): spatial radius s per bandwidth.
        num_iters (int): mean-shift iterations.
        num_keep (Sequence[int]): candidates kept per bandwidth.
        size_thr (Sequence[int]): minimum area (exclusive) per bandwidth.
        bg_thr (float): minimum mean value (exclusive) of a candidate.
        merge_unions (bool): add unions of close bins.
        split_components (bool | str): False, True or ``'both'``.
        a2p_ratio_thr (float): components with perimeter above
            ``a2p_perimeter_thr`` need area / perimeter >= this.
        a2p_perimeter_thr (int): see above.
        border (str): ``'valid'`` or ``'replicate'``.
        attenuate (bool): see :func:`mean_shift_kernel`.
        dedup (bool): drop exact duplicate masks.
        impl (str): mean-shift implementation (:func:`blurring_mean_shift`):
            ``'auto'`` (the fused CPU kernel when available), ``'native'``
            or ``'torch'`` (the shifted-view code, the reference).
    """

    def __init__(self,
                 bandwidths: Sequence[float] = (0.4, 0.9),
                 spatial_radii: Sequence[int] = (7, 11),
                 num_iters: int = 4,
                 num_keep: Sequence[int] = (40, 20),
                 size_thr: Sequence[int] = (5, 20),
                 bg_thr: float = 0.3,
                 merge_unions: bool = True,
                 split_components: Union[bool, str] = False,
                 a2p_ratio_thr: float = 1.8,
                 a2p_perimeter_thr: int = 15,
                 border: str = 'valid',
                 attenuate: bool = True,
                 dedup: bool = True,
                 impl: str = 'auto'):
        name = 'MeanShiftDiscretizer'
        bandwidths = check_sequence(
            bandwidths, 'bandwidths', name, min_length=1)
        n = len(bandwidths)
        for i, b in enumerate(bandwidths):
            check_number(b, f'bandwidths[{i}]', name)
            if not b > 0:
                raise ValueError(
                    f'MeanShiftDiscretizer: bandwidth {b} in bandwidths='
                    f'{tuple(bandwidths)} must be > 0; the paper uses '
                    '(0.4, 0.9).')
        per_bandwidth = [('spatial_radii', spatial_radii, 1),
                         ('num_keep', num_keep, 1), ('size_thr', size_thr, 0)]
        for key, val, low in per_bandwidth:
            check_sequence(val, key, name)
            if len(val) != n:
                raise ValueError(
                    f'MeanShiftDiscretizer: {key}={tuple(val)} needs one '
                    f'entry per bandwidth ({n}: {tuple(bandwidths)}).')
            for i, v in enumerate(val):
                check_int(v, f'{key}[{i}]', name, low=low)
        check_int(num_iters, 'num_iters', name, low=1)
        check_number(bg_thr, 'bg_thr', name, low=0)
        check_bool(merge_unions, 'merge_unions', name)
        check_number(a2p_ratio_thr, 'a2p_ratio_thr', name, low=0)
        check_int(a2p_perimeter_thr, 'a2p_perimeter_thr', name, low=0)
        check_bool(attenuate, 'attenuate', name)
        check_bool(dedup, 'dedup', name)
        if split_components not in (False, True, 'both'):
            raise ValueError(
                f'MeanShiftDiscretizer: split_components='
                f'{split_components!r} must be False, True or "both".')
        if border not in _BORDERS:
            raise ValueError(f'MeanShiftDiscretizer: border={border!r} is '
                             f'not one of {_BORDERS}.')
        if impl not in _IMPLS:
            raise ValueError(f'MeanShiftDiscretizer: impl={impl!r} is not '
                             f'one of {_IMPLS}.')
        self.bandwidths = [float(b) for b in bandwidths]
        self.spatial_radii = [int(s) for s in spatial_radii]
        self.num_iters = int(num_iters)
        self.num_keep = [int(k) for k in num_keep]
        self.size_thr = [int(k) for k in size_thr]
        self.bg_thr = float(bg_thr)
        self.merge_unions = merge_unions
        self.split_components = split_components
        self.a2p_ratio_thr = a2p_ratio_thr
        self.a2p_perimeter_thr = a2p_perimeter_thr
        self.border = border
        self.attenuate = attenuate
        self.dedup = dedup
        self.impl = impl

    @torch.no_grad()
    def __call__(self,
                 x: Tensor,
                 valid: Optional[Tensor] = None) -> List[InstanceData]:
        """Args:
            x (Tensor): (B, 1, H, W) map after ReLU (detached).
            valid (Tensor, optional): (B, 1, H, W) bool, False on padding.

        Returns:
            list[InstanceData]: per image ``masks`` (N, H, W) bool, ``means``
            (N,), ``areas`` (N,), ``bandwidth_idx`` (N,) int64 and
            ``boxes`` (N, 4) float xyxy in map pixels. An empty map (H or W
            = 0) gives no candidates.

        Raises:
            ValueError: on NaN or inf among the valid pixels.
        """
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError('MeanShiftDiscretizer: expects a (B, 1, H, W) '
                             f'map, got {tuple(x.shape)}.')
        x = x.detach().float()
        if valid is None:
            valid = torch.ones_like(x, dtype=torch.bool)
        valid = valid.reshape(x.shape).bool()
        x = torch.where(valid, x, torch.zeros_like(x))  # padding: 0, not NaN
        per_image = [[] for _ in range(x.shape[0])]
        for i, h in enumerate(self.bandwidths):
            shifted = blurring_mean_shift(
                x,
                self.spatial_radii[i],
                h,
                self.num_iters,
                valid,
                self.border,
                self.attenuate,
                impl=self.impl)
            for b in range(x.shape[0]):
                cands = self._candidates(shifted[b, 0], x[b, 0], valid[b, 0],
                                         i)
                per_image[b].extend(cands)
        return [self._pack(c, x[b, 0]) for b, c in enumerate(per_image)]

    def _candidates(self, xt: Tensor, x0: Tensor, valid: Tensor,
                    i: int) -> List[Tuple[Tensor, int]]:
        h = self.bandwidths[i]
        labels = torch.round(xt / (h + 0.01)).long()
        vals, inv = torch.unique(labels[valid], return_inverse=True)
        n = len(vals)
        if n == 0:
            return []
        area = torch.bincount(inv, minlength=n)
        mu = torch.zeros(
            n, dtype=x0.dtype, device=x0.device).scatter_add_(
                0, inv, x0[valid]) / area.clamp(min=1)
        full = torch.full_like(labels, -1)
        full[valid] = inv
        keep = ((mu > self.bg_thr) &
                (area > self.size_thr[i])).nonzero().flatten().tolist()
        masks = [full == k for k in keep]
        if self.merge_unions:
            emitted = set()
            for k in keep:
                group = tuple(j for j in keep if abs(float(mu[j] - mu[k])) < h)
                if len(group) > 1 and group not in emitted:
                    emitted.add(group)
                    masks.append(
                        torch.isin(full,
                                   torch.tensor(group, device=full.device)))
        if self.split_components:
            masks = self._split(masks, x0, i)
        masks.sort(key=lambda m: -int(m.sum()))
        return [(m, i) for m in masks[:self.num_keep[i]]]

    def _split(self, masks: List[Tensor], x0: Tensor, i: int) -> List[Tensor]:
        out = []
        for m in masks:
            lab, n = _components(m.cpu().numpy())
            parts = []
            if n > 1 or self.split_components is True:
                lab = torch.from_numpy(lab).to(m.device)
                for k in range(1, n + 1):
                    c = lab == k
                    area = int(c.sum())
                    if area <= self.size_thr[i] or float(
                            x0[c].mean()) <= self.bg_thr:
                        continue
                    per = _perimeter(c)
                    if (per > self.a2p_perimeter_thr
                            and area / per < self.a2p_ratio_thr):
                        continue
                    parts.append(c)
            if self.split_components == 'both':
                out.append(m)
                if n > 1:
                    out.extend(parts)
            else:
                out.extend(parts)
        return out

    def _pack(self, cands: List[Tuple[Tensor, int]],
              x0: Tensor) -> InstanceData:
        (H, W), device = x0.shape, x0.device
        if self.dedup and cands:
            uniq, seen = [], []
            for m, i in cands:
                if any(torch.equal(m, s) for s in seen):
                    continue
                seen.append(m)
                uniq.append((m, i))
            cands = uniq
        res = InstanceData()
        if not cands:
            res.masks = torch.zeros((0, H, W), dtype=torch.bool, device=device)
            res.bandwidth_idx = torch.zeros((0, ),
                                            dtype=torch.long,
                                            device=device)
        else:
            res.masks = torch.stack([m for m, _ in cands])
            res.bandwidth_idx = torch.tensor([i for _, i in cands],
                                             dtype=torch.long,
                                             device=device)
        res.areas = res.masks.flatten(1).sum(1).float()
        res.means = (res.masks * x0).flatten(1).sum(1) / res.areas.clamp(min=1)
        res.boxes = extend_boxes(res.masks).to(device)
        return res
