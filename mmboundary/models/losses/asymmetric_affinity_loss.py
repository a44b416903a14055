# Copyright (c) mmboundary contributors. All rights reserved.
"""AsyInst's asymmetric affinity loss (and BoxInst's pairwise loss).

`AsyInst: Asymmetric Affinity with DepthGrad and Color for Box-Supervised
Instance Segmentation <https://arxiv.org/abs/2212.03517>`_ (Yang et al.).

For an edge ``e = (p, q)`` with mask logits ``y_p`` and ``y_q``:

* eq. 2: ``P(Y_e = 1) = s(y_p) s(y_q) + s(-y_p) s(-y_q)`` (``s`` the
  sigmoid), the probability that both ends get the same label;
* eq. 9: the offset ``delta`` shifts both logits,
  ``P_delta = P(Y_e = 1)`` evaluated at ``y - delta``;
* eqs. 10-11: the per-edge loss
  ``l = -exp(gamma (P_delta - 0.5)) log P_delta``, averaged over the
  positive edges. The modulating factor is differentiated through (App. A,
  eq. 17), never detached.

With ``delta = gamma = 0`` this is BoxInst's pairwise loss ``-log P``
(eq. 3), computed with the same operations as mmdet 3.3's
``BoxInstMaskHead.get_pairwise_affinity``. The loss is monotone in
``P_delta`` iff ``0 <= gamma < e`` (App. A, eqs. 20-21), so other values are
rejected. Everything is computed in fp32 (autocast off).
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmboundary.models.utils.affinity import dilated_neighbours
from mmboundary.registry import MODELS
from mmboundary.utils.validation import (check_choice, check_int,
                                         check_loss_name, check_number)

__all__ = [
    'pairwise_log_same_prob', 'asymmetric_pair_loss',
    'asymmetric_affinity_loss', 'AsymmetricAffinityLoss'
]


def _check_gamma(gamma: float) -> None:
    if not 0.0 <= gamma < math.e:
        raise ValueError(
            f'gamma={gamma!r} is outside [0, e): the asymmetric affinity '
            'loss is then not monotone in P_delta (AsyInst App. A, eqs. '
            '20-21); use a value in [0, 2.718), e.g. 1.5 (colour) or 2.5 '
            '(depth)')


def _log_same_prob(log_fg: Tensor, log_bg: Tensor, log_fg_q: Tensor,
                   log_bg_q: Tensor) -> Tensor:
    """log(exp(a) + exp(b)) of the two 'same label' terms, max-shifted."""
    same_fg = log_fg + log_fg_q
    same_bg = log_bg + log_bg_q
    max_ = torch.max(same_fg, same_bg)
    return torch.log(torch.exp(same_fg - max_) +
                     torch.exp(same_bg - max_)) + max_


def pairwise_log_same_prob(mask_logits: Tensor,
                           kernel_size: int = 3,
                           dilation: int = 2,
                           delta: float = 0.0) -> Tensor:
    """``log P_delta`` of every edge (eqs. 2 and 9).

    Args:
        mask_logits (Tensor): (n, h, w) mask logits.
        kernel_size (int): K. Defaults to 3.
        dilation (int): D. Defaults to 2.
        delta (float): the offset of eq. 9. Defaults to 0.

    Returns:
        Tensor: (n, K**2 - 1, h, w) fp32; channel k is the edge
        ``(p, p + D o_k)``. Out-of-map neighbours read log-probability 0
        (mmdet's zero padding); give them weight 0.
    """
    if mask_logits.dim() != 3:
        raise ValueError('mask_logits must be (n, h, w), got shape '
                         f'{tuple(mask_logits.shape)}')
    with torch.autocast(mask_logits.device.type, enabled=False):
        y = mask_logits.float()
        if delta:
            y = y - delta
        log_fg = F.logsigmoid(y).unsqueeze(1)
        log_bg = F.logsigmoid(-y).unsqueeze(1)
        log_fg_q = dilated_neighbours(log_fg, kernel_size, dilation)
        log_bg_q = dilated_neighbours(log_bg, kernel_size, dilation)
        return _log_same_prob(log_fg[:, :, None], log_bg[:, :, None], log_fg_q,
                              log_bg_q)[:, 0]


def _modulate(log_p: Tensor, gamma: float) -> Tensor:
    """``-exp(gamma (P - 0.5)) log P`` from ``log P`` (eqs. 10-11)."""
    if gamma == 0:
        return -log_p
    return -torch.exp(gamma * (torch.exp(log_p) - 0.5)) * log_p


def asymmetric_pair_loss(y_p: Tensor,
                         y_q: Tensor,
                         delta: float = 0.0,
                         gamma: float = 0.0) -> Tensor:
    """Per-edge asymmetric loss ``l(y_p, y_q; delta, gamma)``.

    Args:
        y_p (Tensor): logits of one end, any shape.
        y_q (Tensor): logits of the other end, broadcastable to ``y_p``.
        delta (float): offset (eq. 9).
        gamma (float): smoothness of the factor (eq. 10), in [0, e).

    Returns:
        Tensor: fp32 ``-exp(gamma (P_delta - 0.5)) log P_delta``,
        element-wise.
    """
    _check_gamma(gamma)
    with torch.autocast(y_p.device.type, enabled=False):
        a = y_p.float() - delta
        b = y_q.float() - delta
        log_p = _log_same_prob(
            F.logsigmoid(a), F.logsigmoid(-a), F.logsigmoid(b),
            F.logsigmoid(-b))
        return _modulate(log_p, gamma)


def _weighted_edge_sum(mask_logits: Tensor, weight: Tensor, kernel_size: int,
                       dilation: int, delta: float, gamma: float) -> Tensor:
    """``sum_e weight_e * l_e`` over the edges of non-zero weight only.

    The same per-edge values as the dense path (:func:`pairwise_log_same_prob`
    followed by eqs. 10-11; an out-of-map neighbour reads log-probability 0,
    as mmdet's zero padding), gathered at the weighted edges: the cost is
    proportional to the number of positive edges, not to ``n K**2 h w``.
    """
    with torch.autocast(mask_logits.device.type, enabled=False):
        n, h, w = mask_logits.shape
        inst, chan, ys, xs = weight.nonzero(as_tuple=True)
        r = kernel_size // 2
        offsets = torch.tensor([(dy, dx) for dy in range(-r, r + 1)
                                for dx in range(-r, r + 1) if dy or dx],
                               device=mask_logits.device) * dilation
        qy = ys + offsets[chan, 0]
        qx = xs + offsets[chan, 1]
        inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
        y = mask_logits.float()
        if delta:
            y = y - delta
        a = y[inst, ys, xs]
        b = y[inst, qy.clamp(0, h - 1), qx.clamp(0, w - 1)]
        zero = a.new_zeros(())
        log_p = _log_same_prob(
            F.logsigmoid(a), F.logsigmoid(-a),
            torch.where(inside, F.logsigmoid(b), zero),
            torch.where(inside, F.logsigmoid(-b), zero))
        return (_modulate(log_p, gamma) * weight[inst, chan, ys, xs]).sum()


def asymmetric_affinity_loss(mask_logits: Tensor,
                             edge_weight: Tensor,
                             kernel_size: int = 3,
                             dilation: int = 2,
                             delta: float = 0.0,
                             gamma: float = 0.0,
                             reduction: str = 'mean',
                             avg_factor: Optional[float] = None) -> Tensor:
    """The affinity loss of eq. 11 over weighted edges.

    Args:
        mask_logits (Tensor): (n, h, w) mask logits.
        edge_weight (Tensor): (n, K**2 - 1, h, w) edge weights: 1 for the
            positive in-box edges (``E^in`` with ``S(e) >= tau``), 0
            otherwise.
        kernel_size (int): K.
        dilation (int): D.
        delta (float): offset (eq. 9).
        gamma (float): smoothness (eq. 10), in [0, e).
        reduction (str): 'mean' (``sum / avg_factor``), 'sum' or 'none'.
        avg_factor (float, optional): the N of eq. 11; defaults to
            ``max(sum(edge_weight), 1)``.

    Returns:
        Tensor: fp32 scalar, or (n, K**2 - 1, h, w) for 'none'.
    """
    _check_gamma(gamma)
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got "
                         f'{reduction!r}')
    n, h, w = mask_logits.shape if mask_logits.dim() == 3 else (None, ) * 3
    expected = (n, kernel_size**2 - 1, h, w)
    if mask_logits.dim() != 3 or tuple(edge_weight.shape) != expected:
        raise ValueError(
            f'edge_weight has shape {tuple(edge_weight.shape)} but the '
            f'edges of mask_logits {tuple(mask_logits.shape)} have '
            f'{expected}; the pairwise masks must be on the mask '
            'grid (data preprocessor mask_stride == head mask_out_stride)')
    weight = edge_weight.detach().float()
    if reduction == 'none':
        log_p = pairwise_log_same_prob(mask_logits, kernel_size, dilation,
                                       delta)
        return _modulate(log_p, gamma) * weight
    total = _weighted_edge_sum(mask_logits, weight, kernel_size, dilation,
                               delta, gamma)
    if reduction == 'sum':
        return total
    if avg_factor is None:
        avg_factor = weight.sum().clamp(min=1.0)
    return total / avg_factor


@MODELS.register_module()
class AsymmetricAffinityLoss(nn.Module):
    """AsyInst's asymmetric affinity loss (eq. 11) on a mask head.

    ``delta = gamma = 0`` gives BoxInst's symmetric pairwise loss.
    ``loss_weight`` is the lambda of eq. 13 (a plain attribute, so
    :class:`~mmboundary.engine.LossWeightWarmupHook` can ramp it, as the
    paper's warm-up does).

    Args:
        delta (float): offset (eq. 9). AsyInst: 2.5 (colour), 3.5 (depth).
        gamma (float): smoothness (eq. 10), in [0, e). AsyInst: 1.5
            (colour), 2.5 (depth).
        kernel_size (int, optional): K; None takes the head's
            ``pairwise_size``.
        dilation (int, optional): D; None takes the head's
            ``pairwise_dilation``.
        reduction (str): 'mean', 'sum' or 'none'. Defaults to 'mean'.
        loss_weight (float): lambda. Defaults to 1.0.
        loss_name (str): the key in the loss dict; starts with 'loss_'.
    """

    def __init__(self,
                 delta: float = 0.0,
                 gamma: float = 0.0,
                 kernel_size: Optional[int] = None,
                 dilation: Optional[int] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_mask_pairwise') -> None:
        super().__init__()
        owner = 'AsymmetricAffinityLoss'
        delta = check_number(delta, 'delta', owner)
        gamma = check_number(gamma, 'gamma', owner)
        _check_gamma(gamma)
        check_int(kernel_size, 'kernel_size', owner, low=1, optional=True)
        check_int(dilation, 'dilation', owner, low=1, optional=True)
        if kernel_size is not None and (kernel_size < 3
                                        or kernel_size % 2 == 0):
            raise ValueError(f'{owner}: `kernel_size` must be odd and >= 3 '
                             f'(or None to take the head\'s pairwise_size), '
                             f'got {kernel_size!r}')
        check_choice(reduction, ('none', 'mean', 'sum'), 'reduction', owner)
        loss_weight = check_number(loss_weight, 'loss_weight', owner, low=0)
        check_loss_name(loss_name, owner)
        self.delta = float(delta)
        self.gamma = float(gamma)
        self.kernel_size = None if kernel_size is None else int(kernel_size)
        self.dilation = None if dilation is None else int(dilation)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """The key of this loss in the loss dict."""
        return self._loss_name

    def forward(self,
                mask_logits: Tensor,
                edge_weight: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Weighted loss.

        Args:
            mask_logits (Tensor): (n, h, w) mask logits.
            edge_weight (Tensor): (n, K**2 - 1, h, w) positive in-box edges.
            weight (Tensor, optional): extra weight broadcastable to
                ``edge_weight`` (multiplied in).
            avg_factor (float, optional): N of eq. 11.
            reduction_override (str, optional): overrides ``reduction``.

        Returns:
            Tensor: ``loss_weight * loss``.
        """
        if kwargs:
            raise TypeError('AsymmetricAffinityLoss.forward got unexpected '
                            f'arguments {sorted(kwargs)}')
        if self.kernel_size is None or self.dilation is None:
            raise RuntimeError(
                'AsymmetricAffinityLoss: kernel_size and dilation are unset; '
                'set them in the config or build it inside AsyInstMaskHead')
        if weight is not None:
            edge_weight = edge_weight * weight
        loss = asymmetric_affinity_loss(
            mask_logits,
            edge_weight,
            kernel_size=self.kernel_size,
            dilation=self.dilation,
            delta=self.delta,
            gamma=self.gamma,
            reduction=reduction_override or self.reduction,
            avg_factor=avg_factor)
        return self.loss_weight * loss
