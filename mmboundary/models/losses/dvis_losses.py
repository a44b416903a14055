# Copyright (c) mmboundary contributors. All rights reserved.
"""Losses of DVIS, Deep Variational Instance Segmentation (Yuan, Chen and
Li, NeurIPS 2020, Sec. 3.3, eqs. 3-7).

The network predicts one real-valued map ``f`` per image (background 0,
instances at different positive values). The label convention of every
loss here is an id map ``gt_ids`` (B, H, W) int64 at map resolution:

* ``0``: background,
* ``k >= 1``: instance k (ids are arbitrary: the losses are invariant to
  any permutation of them),
* ``-1`` (any negative value): ignored (crowd regions, batch padding).

The robust base function is the paper's Huber function (Sec. 3.3)
``L_h(v) = v^2 / (2 theta)`` for ``v < theta`` and ``v - theta / 2``
otherwise, i.e. torch's ``smooth_l1_loss`` with ``beta = theta``.
"""
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmboundary.registry import MODELS
from mmboundary.utils.validation import (check_bool, check_choice, check_int,
                                         check_loss_name, check_number,
                                         check_sequence)

_PAIR_MODES = ('fg_fg', 'any_fg', 'all')
_BORDERS = ('valid', 'replicate')


def dvis_huber(v: Tensor, theta: float = 0.1) -> Tensor:
    """Elementwise L_h of the paper (Sec. 3.3), for ``v >= 0``.

    Args:
        v (Tensor): any shape.
        theta (float): switch point (0.1 in the paper).

    Returns:
        Tensor: same shape as ``v``.
    """
    return F.smooth_l1_loss(
        v, torch.zeros_like(v), beta=theta, reduction='none')


def _huber_grad(v: Tensor, theta: float) -> Tensor:
    """d L_h / d v for ``v >= 0``: ``v / theta`` below theta, else 1."""
    return torch.where(v < theta, v / theta, torch.ones_like(v))


def _compute_dtype(x: Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _as_map(pred: Tensor, name: str) -> Tensor:
    """(B, 1, H, W) or (B, H, W) -> (B, H, W)."""
    if pred.dim() == 4:
        if pred.shape[1] != 1:
            raise ValueError(
                f'{name}: expects a one-channel map (B, 1, H, W), got shape '
                f'{tuple(pred.shape)}; DVIS predicts a single real-valued '
                'instance-label map.')
        pred = pred[:, 0]
    if pred.dim() != 3:
        raise ValueError(f'{name}: expects (B, 1, H, W) or (B, H, W), got '
                         f'shape {tuple(pred.shape)}.')
    return pred


def _ids(gt_ids: Tensor, pred: Tensor, name: str,
         ignore_index: Optional[int]) -> Tensor:
    if gt_ids.dim() == 4 and gt_ids.shape[1] == 1:
        gt_ids = gt_ids[:, 0]
    if gt_ids.shape != pred.shape:
        raise ValueError(
            f'{name}: gt_ids of shape {tuple(gt_ids.shape)} does not match '
            f'the map {tuple(pred.shape)}; sample the ids at map resolution '
            '(DVISHead does this).')
    gt_ids = gt_ids.long()
    if ignore_index is not None:
        gt_ids = gt_ids.masked_fill(gt_ids == int(ignore_index), -1)
    return gt_ids


def stratified_offsets(window: Union[int, Sequence[int]] = (129, 129),
                       dense_radius: int = 8,
                       dilation: int = 8,
                       dense_axes: bool = False) -> Tensor:
    """Pixel-pair offsets of the stratified window (paper Sec. 4).

    An offset ``(dy, dx)`` with ``|dy| <= kh // 2`` and ``|dx| <= kw // 2``
    is kept iff it lies in the half plane ``dy > 0 or (dy == 0 and dx > 0)``
    (each unordered pair once) and one of these holds: ``|dx| + |dy| <
    dense_radius`` (dense centre), ``dy % dilation == 0 and dx % dilation ==
    0`` (dilated grid), or, with ``dense_axes``, ``dy == 0 or dx == 0`` (the
    official code's always-dense positive axes). The paper's window is
    ``(129, 129), 8, 8`` (200 offsets); the official code's default is
    ``(33, 65), 4, 4, dense_axes=True`` (118 offsets).

    Args:
        window (int | Sequence[int]): odd window side(s) (kh, kw).
        dense_radius (int): c, L1 radius (exclusive) of the dense centre.
        dilation (int): r, stride of the sparse grid.
        dense_axes (bool): also keep every offset on the two axes.

    Returns:
        Tensor: (K, 2) int64 ``(dy, dx)``, sorted by dy then dx.
    """
    kh, kw = (window, window) if isinstance(window, int) else window
    for side in (kh, kw):
        if int(side) != side or side < 3 or side % 2 == 0:
            raise ValueError(
                f'stratified_offsets: window={window} must be odd and >= 3 '
                '(a centre pixel plus a radius), e.g. 129 (paper) or '
                '(33, 65) (official code).')
    if dilation < 1:
        raise ValueError(f'stratified_offsets: dilation={dilation} must be '
                         '>= 1 (e.g. 8 as in the paper).')
    if dense_radius < 1:
        raise ValueError(f'stratified_offsets: dense_radius={dense_radius} '
                         'must be >= 1 (e.g. 8 as in the paper).')
    if min(kh, kw) < dense_radius:
        raise ValueError(
            f'stratified_offsets: window={window} is smaller than the dense '
            f'radius (dense_radius={dense_radius}); use a window of at least '
            f'{dense_radius + 1 - dense_radius % 2} or a smaller '
            'dense_radius (paper: window 129, dense_radius 8).')
    ry, rx = kh // 2, kw // 2
    dy, dx = torch.meshgrid(
        torch.arange(-ry, ry + 1), torch.arange(-rx, rx + 1), indexing='ij')
    half = (dy > 0) | ((dy == 0) & (dx > 0))
    keep = (dy.abs() + dx.abs() < dense_radius)
    keep |= (dy % dilation == 0) & (dx % dilation == 0)
    if dense_axes:
        keep |= (dy == 0) | (dx == 0)
    keep &= half
    return torch.stack([dy[keep], dx[keep]], dim=1).long()


class _PairViews:
    """Every offset's partner map as a view of a padded source, in stripes.

    The map and its ids are padded by the window radius: with
    ``border='valid'`` the ids by -1 (padding is ignored, so pairs leaving
    the map are not counted), with ``'replicate'`` by edge replication (the
    official code's clamped partners). For offset ``(dy, dx)`` the partners
    of the centre rows ``y0:y1`` are then ``source[:, ry + dy + y0:ry + dy
    + y1, rx + dx:rx + dx + W]``: a view, nothing is copied. Rows are
    visited in stripes of about ``tile_elems`` pixels (B x rows x W), so the
    per-pair temporaries of one offset stay in cache. With ``'valid'``,
    offsets whose partners all lie outside the map are dropped.
    """

    def __init__(self,
                 pred: Tensor,
                 ids: Tensor,
                 offsets: Tensor,
                 border: str,
                 tile_elems: int = 2**15):
        self.border = border
        B, H, W = pred.shape
        self.offsets = [(int(a), int(b)) for a, b in offsets.tolist()
                        if border == 'replicate' or (abs(a) < H and abs(b) < W)
                        ]
        self.B, self.H, self.W = B, H, W
        self.ry = max([abs(a) for a, _ in self.offsets] + [0])
        self.rx = max([abs(b) for _, b in self.offsets] + [0])
        ry, rx = self.ry, self.rx
        ids = ids.int()
        if border == 'replicate':
            rows = (torch.arange(H + 2 * ry, device=pred.device) - ry).clamp(
                0, H - 1)
            cols = (torch.arange(W + 2 * rx, device=pred.device) - rx).clamp(
                0, W - 1)
            self.rows, self.cols = rows, cols
            self.q_pred = pred[:, rows][:, :, cols]
            self.q_ids = ids[:, rows][:, :, cols]
        else:
            self.q_pred = F.pad(pred, (rx, rx, ry, ry))
            self.q_ids = F.pad(ids, (rx, rx, ry, ry), value=-1)
        self.stripe = max(1, min(H, int(tile_elems) // max(B * W, 1)))

    def centre(self, y0: int, y1: int) -> tuple:
        """Centre rows ``y0:y1`` in the padded source."""
        return (slice(None), slice(self.ry + y0, self.ry + y1),
                slice(self.rx, self.rx + self.W))

    def stripes(self) -> Iterator[Tuple[int, int, List[tuple]]]:
        """Yields ``(y0, y1, partner slices)``, one slice per offset."""
        for y0 in range(0, self.H, self.stripe):
            y1 = min(self.H, y0 + self.stripe)
            yield y0, y1, [(slice(None),
                            slice(self.ry + dy + y0, self.ry + dy + y1),
                            slice(self.rx + dx, self.rx + dx + self.W))
                           for dy, dx in self.offsets]

    def eligible(self, pair_mode: str) -> Tuple[Tensor, Optional[Tensor]]:
        """Padded bool maps: pixels that may count (not ignored; for
        ``'fg_fg'`` on an instance) and, for ``'any_fg'``, the FG pixels (a
        pair of eligible pixels counts iff one of them is FG)."""
        if pair_mode == 'fg_fg':
            return self.q_ids > 0, None
        fg = self.q_ids > 0 if pair_mode == 'any_fg' else None
        return self.q_ids >= 0, fg

    def fold(self, grad_q: Tensor) -> Tensor:
        """Gradient w.r.t. the padded source -> gradient w.r.t. the map."""
        if self.border != 'replicate':
            return grad_q[:, self.ry:self.ry + self.H,
                          self.rx:self.rx + self.W]
        out = grad_q.new_zeros((grad_q.shape[0], self.H, grad_q.shape[2]))
        out.index_add_(1, self.rows, grad_q)
        res = out.new_zeros((out.shape[0], self.H, self.W))
        res.index_add_(2, self.cols, out)
        return res


class _PairLossFunction(torch.autograd.Function):
    """Sum of the pair loss over the stratified window, offset by offset.

    For every stripe of rows and offset, with ``v = d`` for same-instance
    pairs and ``v = relu(margin - d)`` otherwise, ``l = w L_h(v)`` (``w = 1``
    or ``pos_weight``, 0 for pairs that do not count), ``L_h(v) = h (v - h
    / 2) / theta`` with ``h = min(v, theta)``; ``dl/d(a - q) = +-w h / theta
    sign(a - q)`` (the hinge's zero slope is carried by ``v = 0``). All
    temporaries are preallocated stripe buffers written in place, and the
    gradient w.r.t. the map is accumulated during the forward pass into one
    buffer of the padded map's size: no per-pair tensor is kept, so peak
    memory is O(B H W) whatever the number of offsets.
    """

    @staticmethod
    def forward(ctx, pred, ids, offsets, border, pair_mode, margin, pos_weight,
                theta, max_diff, need_grad, tile_elems):
        views = _PairViews(pred, ids, offsets, border, tile_elems)
        B, W, n0 = views.B, views.W, views.stripe
        ids = ids.int()
        elig, fg = views.eligible(pair_mode)
        inelig = ~elig
        # every pixel eligible (e.g. 'all' without ignored pixels): no mask
        masked = bool(inelig.any()) or fg is not None
        total = pred.new_zeros(())
        count = torch.zeros((), dtype=torch.int64, device=pred.device)
        full = 0
        grad_p = torch.zeros_like(pred) if need_grad else None
        grad_q = torch.zeros_like(views.q_pred) if need_grad else None
        size = B * n0 * W  # flat buffers: every stripe's view contiguous
        diff, v, h, w, wa = (pred.new_empty(size) for _ in range(5))
        same, off, tmp = (
            torch.empty(size, dtype=torch.bool, device=pred.device)
            for _ in range(3))
        w_same = pred.new_tensor(1.0 / theta)
        w_diff = pred.new_tensor(-pos_weight / theta)
        m2 = pred.new_tensor(margin)
        for y0, y1, slices in views.stripes():
            n = y1 - y0
            bufs = [
                t[:B * n * W].view(B, n, W)
                for t in (diff, v, h, w, wa, same, off, tmp)
            ]
            D, V, Hh, Wt, Wa, S, Off, T = bufs
            a, ga = pred[:, y0:y1], ids[:, y0:y1]
            cs = views.centre(y0, y1)
            ia = inelig[cs]
            for qs in slices:
                torch.sub(a, views.q_pred[qs], out=D)
                torch.eq(ga, views.q_ids[qs], out=S)
                if masked:
                    # pairs that do not count
                    torch.logical_or(ia, inelig[qs], out=Off)
                    if fg is not None:
                        torch.logical_or(fg[cs], fg[qs], out=T)
                        Off.logical_or_(T.logical_not_())
                    count -= Off.sum()
                full += B * n * W
                torch.abs(D, out=V)
                if max_diff is not None:
                    torch.gt(V, max_diff, out=T)  # no gradient beyond
                    V.clamp_(max=max_diff)
                # v = d (same) or relu(margin - d) (different instances)
                torch.sub(m2, V, out=Hh).clamp_(min=0)
                torch.where(S, V, Hh, out=V)
                torch.clamp(V, max=theta, out=Hh)
                # signed weights: +1 / theta same, -pos_weight / theta not
                torch.where(S, w_same, w_diff, out=Wt)
                if masked:
                    Wt.masked_fill_(Off, 0)
                torch.add(V, Hh, alpha=-0.5, out=V).mul_(Hh)
                total += torch.dot(V.view(-1), torch.abs(Wt, out=Wa).view(-1))
                if need_grad:
                    g = Hh.mul_(Wt).mul_(torch.sign(D, out=D))
                    if max_diff is not None:
                        g.masked_fill_(T, 0)
                    grad_p[:, y0:y1] += g
                    grad_q[qs] -= g
        if need_grad:
            ctx.save_for_backward(grad_p + views.fold(grad_q))
        cnt = (count + full).to(pred.dtype).cpu()
        ctx.mark_non_differentiable(cnt)
        return total, cnt

    @staticmethod
    def backward(ctx, grad_total, grad_count):
        grad, = ctx.saved_tensors
        return (grad * grad_total, None, None, None, None, None, None, None,
                None, None, None)


def permutation_invariant_loss(
        pred: Tensor,
        gt_ids: Tensor,
        offsets: Tensor,
        pair_mode: str = 'fg_fg',
        border: str = 'valid',
        margin: float = 1.0,
        pos_weight: float = 3.0,
        theta: float = 0.1,
        max_diff: Optional[float] = None,
        tile_elems: int = 2**15) -> Tuple[Tensor, Tensor]:
    """Summed permutation-invariant pair loss (paper eqs. 4-5).

    For every counted pair (p, q = p + delta) with ``d = |f(p) - f(q)|``:
    ``L_h(d)`` if ``gt(p) == gt(q)``, else ``pos_weight * L_h(relu(margin -
    d))`` (eq. 5 with the hinge the text and the code use). A pair counts
    iff neither pixel is ignored and ``pair_mode`` holds: ``'fg_fg'`` both
    pixels on instances (paper Sec. 4), ``'any_fg'`` at least one, ``'all'``
    every pair (official code, ``pi_hasBG=1``).

    Args:
        pred (Tensor): (B, H, W) map, usually ``relu`` of the raw output.
        gt_ids (Tensor): (B, H, W) int64 ids (0 BG, >0 instance, <0 ignore).
        offsets (Tensor): (K, 2) ``(dy, dx)`` from :func:`stratified_offsets`.
        pair_mode (str): ``'fg_fg'``, ``'any_fg'`` or ``'all'``.
        border (str): ``'valid'`` or ``'replicate'`` (see :class:`_PairViews`).
        margin (float): m2 of eq. 5.
        pos_weight (float): weight of different-instance pairs.
        theta (float): Huber switch point.
        max_diff (float, optional): clamp of d (5.0 in the official code).
        tile_elems (int): pixels per stripe of rows (speed only; the result
            does not depend on it).

    Returns:
        tuple[Tensor, Tensor]: summed loss (scalar) and the number of pairs.
    """
    dtype = _compute_dtype(pred)
    return _PairLossFunction.apply(
        pred.to(dtype), gt_ids.long(),
        offsets.long().cpu(), border, pair_mode, float(margin),
        float(pos_weight), float(theta),
        None if max_diff is None else float(max_diff),
        torch.is_grad_enabled() and pred.requires_grad, int(tile_elems))


def _check_common(name, loss_weight, loss_name, reduction, reductions):
    check_loss_name(loss_name, name)
    check_choice(reduction, reductions, 'reduction', name)
    check_number(loss_weight, 'loss_weight', name, low=0)
    if reduction not in reductions:
        raise ValueError(f'{name}: reduction={reduction!r} is not one of '
                         f'{reductions}.')
    if loss_weight < 0:
        raise ValueError(f'{name}: loss_weight={loss_weight} must be >= 0.')


@MODELS.register_module()
class DVISBinaryLoss(nn.Module):
    """Binary BG/FG margin loss (paper eq. 3).

    ``l(p) = L_h(relu(f(p)))`` on background and ``L_h(relu(m1 - f(p)))`` on
    instances, applied to the raw (pre-ReLU) output as in the official code,
    so FG pixels with negative output still get a gradient. Pixel weights
    (official code): ``w = clip(cbrt(N / (A + 1)) * c_w, lo, hi)`` with ``N``
    the number of valid pixels of the image and ``A`` the area of the pixel's
    instance (the BG area on background). Loss ``= sum w l / (sum w +
    1e-4)`` over valid pixels.

    Args:
        margin (float): m1 (2 in the paper, 1 in the official code).
        theta (float): Huber switch point.
        pixel_weight (str, optional): ``'inv_cbrt_area'`` or None (w = 1).
        weight_clip (tuple[float, float]): clip of the pixel weights.
        class_weight (Sequence[float], optional): c_w per FG class (BG uses
            1); needs ``gt_labels`` in forward.
        reduction (str): ``'mean'`` (weighted mean) or ``'sum'``.
        loss_weight (float): multiplier (10 in the official code).
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 margin: float = 2.0,
                 theta: float = 0.1,
                 pixel_weight: Optional[str] = 'inv_cbrt_area',
                 weight_clip: Tuple[float, float] = (1.0, 10.0),
                 class_weight: Optional[Sequence[float]] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 10.0,
                 loss_name: str = 'loss_binary'):
        super().__init__()
        name = 'DVISBinaryLoss'
        _check_common(name, loss_weight, loss_name, reduction, ('mean', 'sum'))
        check_number(margin, 'margin', name)
        check_number(theta, 'theta', name)
        weight_clip = check_sequence(weight_clip, 'weight_clip', name, 2)
        for i, v in enumerate(weight_clip):
            check_number(v, f'weight_clip[{i}]', name, low=0)
        if weight_clip[0] > weight_clip[1]:
            raise ValueError(f'{name}: weight_clip={tuple(weight_clip)} must '
                             'be (low, high) with low <= high, e.g. (1, 10).')
        if class_weight is not None:
            class_weight = check_sequence(
                class_weight, 'class_weight', name, min_length=1)
            for i, v in enumerate(class_weight):
                check_number(v, f'class_weight[{i}]', name, low=0)
        if margin <= 0:
            raise ValueError(f'DVISBinaryLoss: margin={margin} must be > 0 '
                             '(the paper uses m1 = 2).')
        if theta <= 0:
            raise ValueError(f'DVISBinaryLoss: theta={theta} must be > 0 '
                             '(the paper uses 0.1).')
        if pixel_weight not in ('inv_cbrt_area', None):
            raise ValueError(
                f'DVISBinaryLoss: pixel_weight={pixel_weight!r} must be '
                '"inv_cbrt_area" or None.')
        self.margin, self.theta = float(margin), float(theta)
        self.pixel_weight = pixel_weight
        self.weight_clip = tuple(weight_clip)
        self.class_weight = None if class_weight is None else list(
            class_weight)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def pixel_weights(self,
                      gt_ids: Tensor,
                      gt_labels: Optional[Sequence[Tensor]] = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """(B, H, W) weights in ``dtype``; 0 on ignored pixels."""
        valid = gt_ids >= 0
        if self.pixel_weight is None:
            return valid.to(dtype)
        out = torch.zeros(gt_ids.shape, dtype=dtype, device=gt_ids.device)
        for b in range(gt_ids.shape[0]):
            ids = gt_ids[b]
            n = valid[b].sum().to(dtype)
            area = torch.bincount(
                ids[valid[b]], minlength=int(ids.max().clamp(min=0)) + 1)
            w = torch.pow(n / (area.to(dtype) + 1), 1.0 / 3)
            if self.class_weight is not None:
                if gt_labels is None:
                    raise ValueError(
                        'DVISBinaryLoss: class_weight is set but forward got '
                        'no gt_labels; pass the per-image instance labels.')
                cw = torch.ones_like(w)
                lab = gt_labels[b].long().to(w.device)
                k = min(len(lab), len(cw) - 1)
                cw[1:k + 1] = torch.tensor(
                    self.class_weight, dtype=dtype, device=w.device)[lab[:k]]
                w = w * cw
            w = w.clamp(*self.weight_clip)
            out[b] = torch.where(valid[b], w[ids.clamp(min=0)],
                                 torch.zeros_like(out[b]))
        return out

    def forward(self,
                pred_raw: Tensor,
                gt_ids: Tensor,
                gt_labels: Optional[Sequence[Tensor]] = None,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Args:
            pred_raw (Tensor): (B, 1, H, W) or (B, H, W) raw map.
            gt_ids (Tensor): (B, H, W) ids (0 BG, >0 instance, <0 ignore).
            gt_labels (Sequence[Tensor], optional): per image, the class of
                instance k at index k - 1 (only for ``class_weight``).
            weight (Tensor, optional): (B, H, W) pixel weights overriding the
                area weights.
            ignore_index (int, optional): id value treated as ignored.

        Returns:
            Tensor: scalar loss times ``loss_weight``.
        """
        pred = _as_map(pred_raw, 'DVISBinaryLoss')
        ids = _ids(gt_ids, pred, 'DVISBinaryLoss', ignore_index)
        pred = pred.to(_compute_dtype(pred))
        valid = ids >= 0
        if weight is not None:
            w = weight.reshape(pred.shape).to(pred.dtype) * valid
        else:
            w = self.pixel_weights(ids, gt_labels, pred.dtype)
        fg = ids > 0
        v = torch.where(fg, (self.margin - pred).clamp(min=0),
                        pred.clamp(min=0))
        loss = (dvis_huber(v, self.theta) * w).sum()
        if self.reduction == 'mean':
            loss = loss / (w.sum() + 1e-4)
        return self.loss_weight * loss


@MODELS.register_module()
class PermutationInvariantLoss(nn.Module):
    """Permutation-invariant pair loss (paper eqs. 4-5) over a stratified
    window (paper Sec. 4: dense centre plus dilated grid).

    Same-instance pairs are pulled together (``L_h(d)``), different-instance
    pairs pushed beyond ``margin`` (``pos_weight * L_h(relu(margin - d))``).
    The default is the paper: window 129, dense radius 8, dilation 8, pairs
    on instances only. The official code's default is ``window=(33, 65),
    dense_radius=4, dilation=4, dense_axes=True, pair_mode='all',
    border='replicate', max_diff=5.0``; with no ignored pixels this equals
    its mean over K x B x H x W exactly. Pairs are enumerated as shifted
    views with a recomputing backward pass (memory O(B H W)).

    Args:
        window (int | Sequence[int]): odd window side(s) (kh, kw).
        dense_radius (int): L1 radius (exclusive) of the dense centre, c.
        dilation (int): stride of the sparse grid, r.
        dense_axes (bool): add the official code's dense positive axes.
        pair_mode (str): ``'fg_fg'`` (paper), ``'any_fg'`` or ``'all'``
            (official code).
        border (str): ``'valid'`` (pairs inside the map only) or
            ``'replicate'`` (official code; clamped partners).
        margin (float): m2 (1 in the paper).
        pos_weight (float): weight of different-instance pairs (3, code).
        theta (float): Huber switch point.
        max_diff (float, optional): clamp of |f(p) - f(q)| (5, code).
        reduction (str): ``'mean'`` over counted pairs or ``'sum'``.
        loss_weight (float): multiplier (0.2 in the official code).
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 window: Union[int, Sequence[int]] = (129, 129),
                 dense_radius: int = 8,
                 dilation: int = 8,
                 dense_axes: bool = False,
                 pair_mode: str = 'fg_fg',
                 border: str = 'valid',
                 margin: float = 1.0,
                 pos_weight: float = 3.0,
                 theta: float = 0.1,
                 max_diff: Optional[float] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 0.2,
                 loss_name: str = 'loss_pi'):
        super().__init__()
        name = 'PermutationInvariantLoss'
        _check_common(name, loss_weight, loss_name, reduction, ('mean', 'sum'))
        if isinstance(window, (list, tuple)):
            check_sequence(window, 'window', name, 2)
            for i, v in enumerate(window):
                check_int(v, f'window[{i}]', name)
            window = tuple(int(v) for v in window)
        else:
            window = check_int(window, 'window', name)
        check_int(dense_radius, 'dense_radius', name)
        check_int(dilation, 'dilation', name)
        check_bool(dense_axes, 'dense_axes', name)
        check_number(margin, 'margin', name)
        check_number(theta, 'theta', name)
        check_number(pos_weight, 'pos_weight', name, low=0)
        check_number(max_diff, 'max_diff', name, optional=True)
        if pair_mode not in _PAIR_MODES:
            raise ValueError(
                f'PermutationInvariantLoss: pair_mode={pair_mode!r} is not '
                f'one of {_PAIR_MODES} ("fg_fg" is the paper, "all" the '
                'official code).')
        if border not in _BORDERS:
            raise ValueError(f'PermutationInvariantLoss: border={border!r} '
                             f'is not one of {_BORDERS}.')
        if margin <= 0 or theta <= 0:
            raise ValueError(
                f'PermutationInvariantLoss: margin={margin} and theta='
                f'{theta} must be > 0 (paper: 1 and 0.1).')
        if max_diff is not None and max_diff <= 0:
            raise ValueError(f'PermutationInvariantLoss: max_diff={max_diff} '
                             'must be > 0 or None.')
        try:
            offsets = stratified_offsets(window, dense_radius, dilation,
                                         dense_axes)
        except ValueError as err:
            raise ValueError(f'PermutationInvariantLoss: {err}') from None
        self.register_buffer('_offsets', offsets, persistent=False)
        self.window = window
        self.pair_mode, self.border = pair_mode, border
        self.margin, self.pos_weight = float(margin), float(pos_weight)
        self.theta = float(theta)
        self.max_diff = None if max_diff is None else float(max_diff)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    @property
    def offsets(self) -> Tensor:
        """(K, 2) int64 ``(dy, dx)`` offsets of the window."""
        return self._offsets

    def forward(self,
                pred: Tensor,
                gt_ids: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Args:
            pred (Tensor): (B, 1, H, W) or (B, H, W) map (``relu`` of the
                raw output, as in the official code).
            gt_ids (Tensor): (B, H, W) ids (0 BG, >0 instance, <0 ignore).
            weight (Tensor, optional): (B, H, W); pixels with weight 0 are
                ignored (other values are not supported for pairs).
            ignore_index (int, optional): id value treated as ignored.

        Returns:
            Tensor: scalar loss times ``loss_weight``.
        """
        pred = _as_map(pred, 'PermutationInvariantLoss')
        ids = _ids(gt_ids, pred, 'PermutationInvariantLoss', ignore_index)
        if weight is not None:
            ids = ids.masked_fill(weight.reshape(ids.shape) <= 0, -1)
        total, count = permutation_invariant_loss(pred, ids, self._offsets,
                                                  self.pair_mode, self.border,
                                                  self.margin, self.pos_weight,
                                                  self.theta, self.max_diff)
        if self.reduction == 'mean':
            total = total / count.clamp(min=1)
        return self.loss_weight * total

    @torch.no_grad()
    def pair_stats(self, pred: Tensor, gt_ids: Tensor) -> dict:
        """Logging only: number of pairs and the mean |f(p) - f(q)| of
        same-instance and of different-instance pairs."""
        pred = _as_map(pred, 'PermutationInvariantLoss').float()
        ids = _ids(gt_ids, pred, 'PermutationInvariantLoss', None)
        views = _PairViews(pred, ids, self._offsets.cpu(), self.border)
        elig, fg = views.eligible(self.pair_mode)
        n = [0, 0]
        s = [0.0, 0.0]
        for y0, y1, slices in views.stripes():
            cs = views.centre(y0, y1)
            for qs in slices:
                counted = elig[cs] & elig[qs]
                if fg is not None:
                    counted &= fg[cs] | fg[qs]
                d = (views.q_pred[cs] - views.q_pred[qs]).abs()
                same = views.q_ids[cs] == views.q_ids[qs]
                for i, m in enumerate((counted & same, counted & ~same)):
                    n[i] += int(m.sum())
                    s[i] += float(d[m].sum())
        return dict(
            num_pairs=n[0] + n[1],
            same_absdiff=s[0] / max(n[0], 1),
            diff_absdiff=s[1] / max(n[1], 1))


class _MapRegularizer(nn.Module):
    """Shared constructor and input handling of the two map regularisers."""

    reductions: Tuple[str, ...] = ('mean', 'sum')

    def __init__(self, reduction: str, loss_weight: float, loss_name: str):
        super().__init__()
        _check_common(
            type(self).__name__, loss_weight, loss_name, reduction,
            self.reductions)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _inputs(self, pred: Tensor, valid: Optional[Tensor],
                weight: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """(B, H, W) map in >= float32 and (B, H, W) bool validity; a
        ``weight`` of 0 (mmseg's ``loss_decode`` convention) also marks a
        pixel ignored."""
        name = type(self).__name__
        pred = _as_map(pred, name)
        pred = pred.to(_compute_dtype(pred))
        if valid is None:
            valid = torch.ones_like(pred, dtype=torch.bool)
        if valid.dim() == 4 and valid.shape[1] == 1:
            valid = valid[:, 0]
        if valid.shape != pred.shape:
            raise ValueError(f'{name}: valid of shape {tuple(valid.shape)} '
                             f'does not match the map {tuple(pred.shape)}.')
        valid = valid.bool()
        if weight is not None:
            valid = valid & (weight.reshape(valid.shape) > 0)
        return pred, valid


@MODELS.register_module()
class MumfordShahLoss(_MapRegularizer):
    """Mumford-Shah regulariser with the Cauchy penalty (paper eq. 7).

    ``c(i, j) = log(1 + (f(i, j) - f(i, j + 1))^2 + (f(i, j) - f(i + 1,
    j))^2)`` on the pixels whose right and lower neighbours exist and, like
    themselves, are valid. ``reduction='nonzero_mean'`` averages over the
    entries with ``c > 0`` (official code; its weight 0.1 was tuned so),
    ``'mean'`` over the whole domain, ``'sum'`` sums.

    Args:
        reduction (str): ``'nonzero_mean'``, ``'mean'`` or ``'sum'``.
        loss_weight (float): multiplier (0.1 in the official code).
        loss_name (str): key in the loss dict.
    """

    reductions = ('nonzero_mean', 'mean', 'sum')

    def __init__(self,
                 reduction: str = 'nonzero_mean',
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_ms'):
        super().__init__(reduction, loss_weight, loss_name)

    def forward(self,
                pred: Tensor,
                valid: Optional[Tensor] = None,
                weight: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Args:
            pred (Tensor): (B, 1, H, W) or (B, H, W) map (``relu`` output).
            valid (Tensor, optional): (B, H, W) bool, False on ignored
                pixels (padding, crowd).
            weight (Tensor, optional): (B, H, W); weight 0 marks ignored
                pixels (mmseg's ``loss_decode`` convention).

        Returns:
            Tensor: scalar loss times ``loss_weight``.
        """
        pred, valid = self._inputs(pred, valid, weight)
        c = pred[:, :-1, :-1]
        dom = valid[:, :-1, :-1] & valid[:, :-1, 1:] & valid[:, 1:, :-1]
        cost = torch.log1p((c - pred[:, :-1, 1:])**2 +
                           (c - pred[:, 1:, :-1])**2)
        if self.reduction == 'nonzero_mean':
            dom = dom & (cost > 0)
        total = (cost * dom).sum()
        if self.reduction != 'sum':
            total = total / dom.sum().clamp(min=1)
        return self.loss_weight * total


@MODELS.register_module()
class QuantizationLoss(_MapRegularizer):
    """Quantisation loss (paper Sec. 3.2, formula from the official code):
    mean of ``|f - round(f)|`` over valid pixels with ``f > 0``; 0 (graph
    kept) when there are none. The gradient is ``sign(f - round(f))``.

    Args:
        reduction (str): ``'mean'`` or ``'sum'``.
        loss_weight (float): multiplier (0.5 in the official code).
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 0.5,
                 loss_name: str = 'loss_quant'):
        super().__init__(reduction, loss_weight, loss_name)

    def forward(self,
                pred: Tensor,
                valid: Optional[Tensor] = None,
                weight: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Args:
            pred (Tensor): (B, 1, H, W) or (B, H, W) map (``relu`` output).
            valid (Tensor, optional): (B, H, W) bool.
            weight (Tensor, optional): (B, H, W); 0 marks ignored pixels.

        Returns:
            Tensor: scalar loss times ``loss_weight``.
        """
        pred, valid = self._inputs(pred, valid, weight)
        sel = valid & (pred > 0)
        total = ((pred - torch.round(pred)).abs() * sel).sum()
        if self.reduction == 'mean':
            total = total / sel.sum().clamp(min=1)
        return self.loss_weight * total
