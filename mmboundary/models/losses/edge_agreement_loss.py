# Copyright (c) mmboundary contributors. All rights reserved.
"""Edge Agreement Loss.

`Faster Training of Mask R-CNN by Focusing on Instance Boundaries
<https://arxiv.org/abs/1809.07069>`_ (Zimmermann and Siems). Fixed edge
detection filters are applied to the predicted mask probabilities and to the
ground-truth mask of every positive RoI, and the filter responses are compared
with an L_p loss (paper Sec. 3.2, eq. 5). Nothing is trained: the kernels are
constants.

Padding convention (used by every filter and by the Gaussian smoother):
every kernel is stored as a 3x3 kernel and applied with one pixel of padding
on each side (``padding_mode='zeros'`` by default, like TensorFlow's
``'SAME'`` padding of the reference code; ``'replicate'`` is available).
The 2x2 Roberts kernels are placed in the *bottom-right* 2x2 corner of the
3x3 kernel, i.e. ``out[i, j] = k00 x[i, j] + k01 x[i, j+1] + k10 x[i+1, j] +
k11 x[i+1, j+1]``; with zero padding this is exactly the 'same' convolution
of a 2x2 kernel (0 pixels of padding before, 1 after) used by TensorFlow and
``torch.nn.functional.conv2d(padding='same')``. Because all kernels share
one 3x3 footprint, 2x2 and 3x3 filters can be mixed freely and are applied
together in one pass. Output maps have the size of the input mask.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmboundary.registry import MODELS
from mmboundary.utils.label_boundary import near_mask_torch
from mmboundary.utils.validation import (check_bool, check_loss_name,
                                         check_number)

# Raw kernels exactly as defined in the paper (Sec. 3.1, eq. 3) and the
# reference code (cross-correlation, as in ``F.conv2d``). Each entry is a
# list of (channel name, kernel) pairs; 2x2 kernels are Roberts only.
_RAW_KERNELS: Dict[str, List[Tuple[str, List[List[float]]]]] = {
    # First-order derivative, 3x3 (Sobel and Feldman). ``sobel_v``
    # responds to horizontal edges (derivative along rows), ``sobel_h`` to
    # vertical edges.
    'sobel': [
        ('sobel_v', [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
        ('sobel_h', [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
    ],
    'prewitt': [
        ('prewitt_h', [[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
        ('prewitt_v', [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    ],
    # Kayyali: two diagonal kernels. Note that the second is the negative of
    # the first, so both channels give the same |difference|; kept as in the
    # reference code so loss values are comparable.
    'kayyali': [
        ('kayyali_senw', [[6, 0, -6], [0, 0, 0], [-6, 0, 6]]),
        ('kayyali_nesw', [[-6, 0, 6], [0, 0, 0], [6, 0, -6]]),
    ],
    # Roberts cross: 2x2 diagonal differences.
    'roberts': [
        ('roberts_d', [[1, 0], [0, -1]]),
        ('roberts_a', [[0, -1], [1, 0]]),
    ],
    # The paper's Laplacian (eq. 3): 4-neighbour second derivative.
    'laplace': [
        ('laplace', [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    ],
    # 8-neighbour Laplacian (the kernel of the reference code).
    'laplace8': [
        ('laplace8', [[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
    ],
}

#: Largest absolute response of each raw filter to a binary unit step edge
#: (a 0/1 half-plane) in any of the 8 principal orientations. With
#: ``normalize=True`` the kernels are divided by this gain so that a unit
#: step gives a peak response of exactly 1 for every filter.
STEP_GAINS: Dict[str, float] = {
    'sobel': 4.0,
    'prewitt': 3.0,
    'kayyali': 6.0,
    'roberts': 1.0,
    'laplace': 2.0,  # a diagonal step; an axis-aligned step gives 1
    'laplace8': 3.0,
}

#: Valid filter names.
EDGE_FILTERS: Tuple[str, ...] = tuple(_RAW_KERNELS)

#: Valid loss formulations (paper eq. 5 and the two variants of Sec. 5.6.3).
EDGE_LOSS_MODES: Tuple[str, ...] = ('lp', 'bce_mul', 'bce_exp')

_PADDING_MODES = ('zeros', 'replicate')
_Filters = Union[str, Sequence[str]]


def _check_filters(filters: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """Validate filter names; a single string is one filter."""
    if isinstance(filters, str):
        filters = (filters, )
    filters = tuple(filters)
    unknown = [f for f in filters if f not in _RAW_KERNELS]
    if unknown:
        raise ValueError(f'EdgeAgreementLoss: unknown filter(s) {unknown} in '
                         f'`filters`; valid filters are {list(EDGE_FILTERS)}')
    if len(set(filters)) != len(filters):
        raise ValueError(f'EdgeAgreementLoss: `filters` {list(filters)} '
                         'lists a filter more than once')
    return filters


def edge_kernels(filters: Union[str, Sequence[str]],
                 normalize: bool = False) -> Tuple[Tensor, List[str]]:
    """Build the fixed edge-detection kernels, stacked as conv weights.

    Args:
        filters (str | Sequence[str]): Names from :data:`EDGE_FILTERS`.
        normalize (bool): Divide each kernel by its :data:`STEP_GAINS` entry.
            Defaults to False (the paper's raw kernels).

    Returns:
        tuple[Tensor, list[str]]: Weights of shape ``(D, 1, 3, 3)`` (2x2
        kernels in the bottom-right corner, see the module docstring) and
        the ``D`` channel names.
    """
    filters = _check_filters(filters)
    weights, names = [], []
    for name in filters:
        gain = STEP_GAINS[name] if normalize else 1.0
        for channel, kernel in _RAW_KERNELS[name]:
            k = torch.tensor(kernel, dtype=torch.float32) / gain
            full = torch.zeros(3, 3)
            full[3 - k.shape[0]:, 3 - k.shape[1]:] = k
            weights.append(full)
            names.append(channel)
    if not weights:
        return torch.zeros(0, 1, 3, 3), names
    return torch.stack(weights)[:, None], names


def gaussian_kernel3x3(sigma: float = 1.0) -> Tensor:
    """A normalised 3x3 Gaussian kernel of shape ``(1, 1, 3, 3)``.

    The paper smooths with "an approximate 3x3 Gaussian kernel" (Sec.
    5.6.1); with ``sigma=1`` the weights are about 0.204 (centre), 0.124
    (edge) and 0.075 (corner).
    """
    if sigma <= 0:
        raise ValueError(f'EdgeAgreementLoss: `smooth_sigma` must be > 0, got '
                         f'{sigma}')
    g = torch.exp(-torch.tensor([1.0, 0.0, 1.0]) / (2 * sigma**2))
    k = g[:, None] * g[None, :]
    return (k / k.sum())[None, None]


def _filter3x3(x: Tensor, weight: Tensor, padding_mode: str) -> Tensor:
    """3x3 'same' cross-correlation of ``(N, H, W)`` maps with ``D`` kernels.

    Same result as ``F.conv2d`` on the explicitly padded input, computed as a
    weighted sum of the 9 shifted views: for maps this small and one input
    channel this is several times faster than a convolution on CPU (mainly
    in the backward pass) and needs no device-specific code.

    Args:
        x (Tensor): Maps of shape ``(N, H, W)``.
        weight (Tensor): Kernels of shape ``(D, 1, 3, 3)``.
        padding_mode (str): ``'zeros'`` or ``'replicate'``; one pixel on
            each side.

    Returns:
        Tensor: Responses of shape ``(N, D, H, W)``.
    """
    h, w = x.shape[-2:]
    mode = 'constant' if padding_mode == 'zeros' else 'replicate'
    xp = F.pad(x[:, None], (1, 1, 1, 1), mode=mode)[:, 0]
    shifted = torch.stack(
        [xp[:, a:a + h, b:b + w] for a in range(3) for b in range(3)], dim=1)
    return torch.einsum('dk,nkhw->ndhw', weight.reshape(-1, 9).to(x), shifted)


def edge_maps(mask: Tensor,
              kernels: Tensor,
              magnitude_kernels: Optional[Tensor] = None,
              smooth_kernel: Optional[Tensor] = None,
              padding_mode: str = 'zeros',
              eps: float = 1e-6) -> Tensor:
    """Filter responses of a batch of masks.

    Args:
        mask (Tensor): Masks of shape ``(N, S, S)``.
        kernels (Tensor): Filters of shape ``(D, 1, 3, 3)``.
        magnitude_kernels (Tensor, optional): The two Sobel kernels
            ``(2, 1, 3, 3)``; if given, the gradient magnitude
            ``sqrt(gx^2 + gy^2 + eps)`` is appended as one more channel.
        smooth_kernel (Tensor, optional): A ``(1, 1, 3, 3)`` smoother applied
            before filtering.
        padding_mode (str): ``'zeros'`` or ``'replicate'``.
        eps (float): Keeps the magnitude differentiable at 0.

    Returns:
        Tensor: Responses of shape ``(N, D [+ 1], S, S)``.
    """
    x = mask
    if smooth_kernel is not None:
        x = _filter3x3(x, smooth_kernel, padding_mode)[:, 0]
    d = kernels.shape[0]
    bank = kernels if magnitude_kernels is None else torch.cat(
        [kernels.to(magnitude_kernels), magnitude_kernels])
    out = _filter3x3(x, bank, padding_mode)
    if magnitude_kernels is None:
        return out
    mag = torch.sqrt(out[:, d:].pow(2).sum(dim=1, keepdim=True) + eps)
    return torch.cat([out[:, :d], mag], dim=1)


def _footprint_radius(smooth_pred: bool, smooth_gt: bool) -> int:
    """Chebyshev radius of the inputs one output pixel depends on: 1 for
    the 3x3 filters, 2 after the 3x3 smoother."""
    return 1 + int(smooth_pred or smooth_gt)


def edge_agreement_map(prob: Tensor,
                       target: Tensor,
                       kernels: Tensor,
                       p: float = 2.0,
                       normalize: bool = False,
                       magnitude: bool = False,
                       smooth_pred: bool = False,
                       smooth_gt: bool = False,
                       smooth_sigma: float = 1.0,
                       padding_mode: str = 'zeros') -> Tensor:
    """Per-pixel L_p edge disagreement (paper eq. 5 before the mean).

    ``L[n, i, j] = mean_D |e_pred[n, :, i, j] - e_gt[n, :, i, j]|^p`` with
    ``e = edge_maps(mask)`` over the ``D`` filter channels (plus the Sobel
    magnitude channel if ``magnitude``). The one home of the formula: the
    RoI form (:func:`edge_agreement_loss`) and the semantic form
    (:func:`semantic_edge_agreement_loss`) both reduce this map.

    Args:
        prob (Tensor): Predicted masks ``(N, S, S)`` (float32).
        target (Tensor): Target masks ``(N, S, S)`` (float32, no gradient).
        kernels (Tensor): ``(D, 1, 3, 3)`` filters (:func:`edge_kernels`).
        p (float): Exponent, > 0.
        normalize (bool): Whether the magnitude's Sobel kernels are
            normalised (as ``kernels``).
        magnitude (bool): Append the Sobel gradient magnitude channel.
        smooth_pred (bool): 3x3 Gaussian smoothing of ``prob`` first.
        smooth_gt (bool): 3x3 Gaussian smoothing of ``target`` first.
        smooth_sigma (float): Sigma of the smoother.
        padding_mode (str): ``'zeros'`` or ``'replicate'``.

    Returns:
        Tensor: ``(N, S, S)`` per-pixel losses.
    """
    mag_k = None
    if magnitude:
        mag_k = edge_kernels('sobel', normalize)[0].to(prob.device)
    gauss = None
    if smooth_pred or smooth_gt:
        gauss = gaussian_kernel3x3(smooth_sigma).to(prob.device)
    e_pred = edge_maps(prob, kernels, mag_k, gauss if smooth_pred else None,
                       padding_mode)
    e_gt = edge_maps(target, kernels, mag_k, gauss if smooth_gt else None,
                     padding_mode)
    diff = (e_pred - e_gt).abs()
    if p == 2:
        loss = diff.square()
    elif p == 1:
        loss = diff
    else:
        loss = diff.pow(p)
    return loss.mean(dim=1)


def _select_pred(pred: Tensor, label: Optional[Tensor]) -> Tuple[Tensor, bool]:
    """Return ``(N, S, S)`` values and whether they are logits."""
    if pred.dim() == 3:
        return pred, False
    if pred.dim() != 4:
        raise ValueError('EdgeAgreementLoss: `pred` must be mask logits '
                         '(N, C, S, S) or probabilities (N, S, S), got shape '
                         f'{tuple(pred.shape)}')
    n, c = pred.shape[:2]
    if label is None:
        if c != 1:
            raise ValueError(
                'EdgeAgreementLoss: `label` (the class of each RoI, shape '
                f'(N,)) is required for class-specific mask logits with C={c}'
                ' channels (pass zeros for a class-agnostic head); a semantic'
                ' segmentation (mmseg loss_decode) passes integer class '
                'labels of shape (N, H, W) as `target` instead')
        return pred[:, 0], True
    label = label.reshape(-1).long()
    if label.numel() != n:
        raise ValueError(f'EdgeAgreementLoss: `label` has {label.numel()} '
                         f'entries but `pred` has {n} RoIs')
    if n > 0 and (label.min() < 0 or label.max() >= c):
        raise ValueError(f'EdgeAgreementLoss: `label` values must be in '
                         f'[0, {c - 1}] to select a channel of `pred`')
    return pred[torch.arange(n, device=pred.device), label], True


def _checked_kernels(kernels: Optional[Tensor], filters: _Filters,
                     normalize: bool, magnitude: bool, p: float,
                     padding_mode: str, reduction: str) -> Tensor:
    """Validate the arguments both forms share; build the kernels."""
    if not p > 0:
        raise ValueError(f'EdgeAgreementLoss: `p` must be > 0, got {p}')
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f'EdgeAgreementLoss: unknown `padding_mode` '
                         f'{padding_mode!r}; valid: {list(_PADDING_MODES)}')
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'EdgeAgreementLoss: unknown `reduction` '
                         f'{reduction!r}; valid: none, mean, sum')
    if kernels is None:
        kernels = edge_kernels(filters, normalize)[0]
    if kernels.shape[0] == 0 and not magnitude:
        raise ValueError('EdgeAgreementLoss: no filter selected; give at '
                         f'least one of {list(EDGE_FILTERS)} in `filters` or '
                         'set `magnitude=True`')
    return kernels


def edge_agreement_loss(pred: Tensor,
                        target: Tensor,
                        label: Optional[Tensor] = None,
                        kernels: Optional[Tensor] = None,
                        filters: Union[str, Sequence[str]] = ('sobel', ),
                        p: float = 2.0,
                        normalize: bool = False,
                        magnitude: bool = False,
                        smooth_pred: bool = False,
                        smooth_gt: bool = False,
                        smooth_sigma: float = 1.0,
                        mode: str = 'lp',
                        exp_divisor: float = 4.0,
                        padding_mode: str = 'zeros',
                        weight: Optional[Tensor] = None,
                        reduction: str = 'mean',
                        avg_factor: Optional[float] = None,
                        ignore_index: Optional[int] = None) -> Tensor:
    """Edge agreement loss between predicted and ground-truth masks.

    Per pixel, with ``e = filters(mask)`` (``D`` channels):

    * ``mode='lp'`` (paper eq. 5): ``L = mean_D |e_pred - e_gt|^p``;
    * ``mode='bce_mul'`` (Sec. 5.6.3): ``BCE(pred, gt) * L``;
    * ``mode='bce_exp'`` (Sec. 5.6.3): ``BCE(pred, gt) * exp(L /
      exp_divisor)`` (the paper writes ``/4``; the reference code uses 16).

    The per-pixel loss is averaged over the pixels of each RoI, giving one
    value per RoI, which is then weighted and reduced. ``mean`` over RoIs of
    per-RoI means equals the reference code's mean over all pixels.

    Args:
        pred (Tensor): Mask logits ``(N, C, S, S)`` (the channel of ``label``
            is selected, then sigmoid is applied) or already selected mask
            probabilities ``(N, S, S)`` in [0, 1].
        target (Tensor): Ground-truth masks ``(N, S, S)`` in [0, 1].
        label (Tensor, optional): Class of each RoI, shape ``(N, )``. Needed
            when ``C > 1``; class-agnostic heads pass zeros.
        kernels (Tensor, optional): Pre-built ``(D, 1, 3, 3)`` kernels (see
            :func:`edge_kernels`); built from ``filters``/``normalize`` if
            None.
        filters (str | Sequence[str]): Filter names, any combination of
            :data:`EDGE_FILTERS`. Defaults to ``('sobel', )``.
        p (float): Exponent of the L_p loss, > 0. Defaults to 2.
        normalize (bool): Scale each filter so a unit step responds with 1.
            Defaults to False (the paper's raw kernels).
        magnitude (bool): Append the Sobel gradient magnitude as a channel.
        smooth_pred (bool): 3x3 Gaussian smoothing of the prediction before
            filtering (Sec. 5.6.1).
        smooth_gt (bool): 3x3 Gaussian smoothing of the target.
        smooth_sigma (float): Sigma of the smoother. Defaults to 1.
        mode (str): One of :data:`EDGE_LOSS_MODES`. Defaults to ``'lp'``.
        exp_divisor (float): Divisor inside ``exp`` for ``'bce_exp'``.
        padding_mode (str): ``'zeros'`` (default, as the reference code) or
            ``'replicate'``.
        weight (Tensor, optional): Per-RoI weight ``(N, )``.
        reduction (str): ``'none'`` (per-RoI values ``(N, )``), ``'mean'``
            or ``'sum'``.
        avg_factor (float, optional): Divide the sum by this instead of N
            (``reduction='mean'`` only).
        ignore_index (int, optional): Target value to ignore. Pixels whose
            filter footprint touches an ignored pixel do not count.

    Returns:
        Tensor: The loss; a zero that keeps the graph when N is 0.
    """
    if mode not in EDGE_LOSS_MODES:
        raise ValueError(f'EdgeAgreementLoss: unknown `mode` {mode!r}; valid '
                         f'modes are {list(EDGE_LOSS_MODES)}')
    kernels = _checked_kernels(kernels, filters, normalize, magnitude, p,
                               padding_mode, reduction)

    sel, is_logits = _select_pred(pred, label)
    if target.shape != sel.shape:
        raise ValueError(
            f'EdgeAgreementLoss: mask size mismatch: `pred` gives masks of '
            f'shape {tuple(sel.shape)} but `target` has shape '
            f'{tuple(target.shape)}; the mask head output size must equal '
            'the target mask size (train_cfg.rcnn.mask_size)')
    n = sel.shape[0]
    if n == 0:
        # No positive RoI: a zero that stays connected to the graph.
        zero = sel.sum() * 0
        return sel.new_zeros(0) + zero if reduction == 'none' else zero

    # Targets are constants: no gradient ever flows into them.
    target = target.detach().to(torch.float32)
    valid = None
    if ignore_index is not None:
        ignored = target == ignore_index
        if ignored.any():
            valid = ~near_mask_torch(ignored,
                                     _footprint_radius(smooth_pred, smooth_gt))
            target = torch.where(ignored, torch.zeros_like(target), target)
    t_min, t_max = target.min(), target.max()
    if t_min < 0 or t_max > 1:
        raise ValueError(
            'EdgeAgreementLoss: `target` must hold mask values in [0, 1], '
            f'got values in [{t_min.item():g}, {t_max.item():g}]')

    # Compute in float32 even under autocast: raw Kayyali responses reach
    # 24 and 24^4 overflows float16.
    with torch.autocast(device_type=sel.device.type, enabled=False):
        sel = sel.float()
        prob = sel.sigmoid() if is_logits else sel
        loss = edge_agreement_map(prob, target, kernels, p, normalize,
                                  magnitude, smooth_pred, smooth_gt,
                                  smooth_sigma, padding_mode)
        if mode != 'lp':
            if is_logits:
                bce = F.binary_cross_entropy_with_logits(
                    sel, target, reduction='none')
            else:
                bce = F.binary_cross_entropy(
                    prob.clamp(1e-6, 1 - 1e-6), target, reduction='none')
            if mode == 'bce_mul':
                loss = bce * loss
            else:
                loss = bce * torch.exp(loss / exp_divisor)

        if valid is None:
            per_roi = loss.flatten(1).mean(dim=1)
        else:
            v = valid.float()
            per_roi = (loss *
                       v).flatten(1).sum(1) / v.flatten(1).sum(1).clamp(min=1)

        if weight is not None:
            weight = weight.float()
            if weight.numel() != n:
                raise ValueError(f'EdgeAgreementLoss: `weight` must have one '
                                 f'entry per RoI ({n}), got shape '
                                 f'{tuple(weight.shape)}')
            per_roi = per_roi * weight.reshape(-1)
        if reduction == 'none':
            return per_roi
        if reduction == 'sum':
            return per_roi.sum()
        if avg_factor is None:
            return per_roi.mean()
        return per_roi.sum() / (avg_factor + torch.finfo(torch.float32).eps)


def is_semantic_call(pred: Tensor, target: Tensor,
                     label: Optional[Tensor]) -> bool:
    """Whether a call is the semantic form: ``(N, C, H, W)`` logits with
    ``C > 1``, no RoI ``label`` and ``(N, H, W)`` integer class indices
    (what mmseg's ``loss_decode`` passes)."""
    return (label is None and pred.dim() == 4 and pred.shape[1] > 1
            and target.dim() == 3 and not target.is_floating_point()
            and not target.dtype == torch.bool)


def semantic_edge_agreement_loss(seg_logits: Tensor,
                                 seg_label: Tensor,
                                 kernels: Optional[Tensor] = None,
                                 filters: _Filters = ('sobel', ),
                                 p: float = 2.0,
                                 normalize: bool = False,
                                 magnitude: bool = False,
                                 smooth_pred: bool = False,
                                 smooth_gt: bool = False,
                                 smooth_sigma: float = 1.0,
                                 padding_mode: str = 'zeros',
                                 weight: Optional[Tensor] = None,
                                 reduction: str = 'mean',
                                 avg_factor: Optional[float] = None,
                                 ignore_index: Optional[int] = 255) -> Tensor:
    """Edge agreement loss of a semantic segmentation (mmseg form).

    The per-class edges of the softmax are compared with the per-class
    edges of the one-hot target: with ``P = softmax(seg_logits)`` and
    ``Y = one_hot(seg_label)``, both ``(N, C, H, W)``, and ``e`` the ``D``
    filter responses of one class map,

    ``L[n, i, j] = mean_C mean_D |e(P[n, c])[i, j] - e(Y[n, c])[i, j]|^p``

    (:func:`edge_agreement_map` on every class map), and ``'mean'`` averages
    it over the valid pixels of the batch: the paper's eq. 5,
    ``M_p(|e_gt - e_pred|)^p``, a mean over every element. A pixel is valid
    if no pixel of its filter footprint (3x3; 5x5 with smoothing) is
    labelled ``ignore_index``; neither the prediction nor the target at an
    ignored pixel reaches a valid response, so ignored pixels get no
    gradient.

    Args:
        seg_logits (Tensor): ``(N, C, H, W)`` class logits, ``C >= 2``.
        seg_label (Tensor): ``(N, H, W)`` integer labels in ``[0, C)`` or
            ``ignore_index``.
        kernels, filters, p, normalize, magnitude, smooth_pred, smooth_gt,
            smooth_sigma, padding_mode: As for :func:`edge_agreement_loss`.
        weight (Tensor, optional): ``(N, H, W)`` pixel weights (mmseg's
            pixel sampler).
        reduction (str): ``'none'`` (the ``(N, H, W)`` map, 0 at invalid
            pixels), ``'mean'`` (over valid pixels) or ``'sum'``.
        avg_factor (float, optional): Divide the sum by this instead of the
            number of valid pixels (``'mean'`` only).
        ignore_index (int, optional): Ignored label. Defaults to 255.

    Returns:
        Tensor: The loss; a zero that keeps the graph when every pixel is
        ignored.
    """
    kernels = _checked_kernels(kernels, filters, normalize, magnitude, p,
                               padding_mode, reduction)
    if seg_logits.dim() != 4 or seg_logits.shape[1] < 2:
        raise ValueError(
            'EdgeAgreementLoss (semantic form): `seg_logits` must be '
            f'(N, C, H, W) with C >= 2 classes, got {tuple(seg_logits.shape)}')
    n, c, h, w = seg_logits.shape
    if tuple(seg_label.shape) != (n, h, w):
        raise ValueError(
            'EdgeAgreementLoss (semantic form): `seg_label` must have shape '
            f'{(n, h, w)} to match `seg_logits` {tuple(seg_logits.shape)}, '
            f'got {tuple(seg_label.shape)}')
    label = seg_label.detach().long()
    if ignore_index is None:
        ignored = torch.zeros_like(label, dtype=torch.bool)
    else:
        ignored = label == ignore_index
    bad = ~ignored & ((label < 0) | (label >= c))
    if bad.any():
        raise ValueError(
            'EdgeAgreementLoss (semantic form): `seg_label` holds '
            f'{int(label[bad][0])}, outside the {c} classes [0, {c - 1}] and '
            f'not the ignore_index {ignore_index}; check num_classes and '
            'the label maps')
    # Ignored pixels become class 0 here; no valid response reads them.
    onehot = F.one_hot(label.masked_fill(ignored, 0), c).permute(0, 3, 1, 2)
    onehot = onehot.float()
    valid = ~near_mask_torch(ignored, _footprint_radius(
        smooth_pred, smooth_gt)) if ignored.any() else ~ignored

    # float32 even under autocast, as in edge_agreement_loss.
    with torch.autocast(device_type=seg_logits.device.type, enabled=False):
        prob = seg_logits.float().softmax(dim=1)
        per_class = edge_agreement_map(
            prob.flatten(0, 1), onehot.flatten(0, 1), kernels, p, normalize,
            magnitude, smooth_pred, smooth_gt, smooth_sigma, padding_mode)
        loss = per_class.view(n, c, h, w).mean(dim=1) * valid.float()
        if weight is not None:
            if weight.numel() != n * h * w:
                raise ValueError(
                    'EdgeAgreementLoss (semantic form): `weight` must have '
                    f'one entry per pixel {(n, h, w)}, got shape '
                    f'{tuple(weight.shape)}')
            loss = loss * weight.reshape(n, h, w).float()
        if reduction == 'none':
            return loss
        if reduction == 'sum':
            return loss.sum()
        if avg_factor is None:
            return loss.sum() / valid.sum().clamp(min=1)
        return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)


@MODELS.register_module()
class EdgeAgreementLoss(nn.Module):
    """Edge Agreement Loss (Zimmermann and Siems, paper Sec. 3).

    Registered once in mmengine's root ``MODELS``, so ``type=
    'EdgeAgreementLoss'`` resolves from both the mmdet and the mmseg scope:
    in an mmdet mask head it compares the RoI masks (the paper), in an
    mmseg decode head's ``loss_decode`` the per-class edges of the softmax
    and of the one-hot label map (:meth:`forward`).
    It has no trainable parameters: the kernels are non-persistent buffers
    and never enter checkpoints. See :func:`edge_agreement_loss` for the
    formula and the module docstring for the padding convention.

    Args:
        filters (str | Sequence[str]): Any combination of ``'sobel'``,
            ``'prewitt'``, ``'kayyali'``, ``'roberts'`` (2x2), ``'laplace'``
            (4-neighbour, paper eq. 3) and ``'laplace8'``. Defaults to
            ``('sobel', )``, the paper's best.
        p (float): Exponent of the L_p loss (paper eq. 5). Defaults to 2.
        loss_weight (float): The paper's alpha. Defaults to 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over RoIs.
        smooth_gt (bool): Gaussian-smooth the target first (Sec. 5.6.1).
        smooth_pred (bool): Gaussian-smooth the prediction first.
        smooth_sigma (float): Sigma of the 3x3 smoother. Defaults to 1.
        magnitude (bool): Add the Sobel gradient magnitude as a channel.
        normalize (bool): Scale each filter so a unit step gives a peak
            response of 1 (:data:`STEP_GAINS`), making ``loss_weight``
            comparable across filters. Defaults to False (paper).
        mode (str): ``'lp'`` (default), ``'bce_mul'`` or ``'bce_exp'``
            (Sec. 5.6.3).
        exp_divisor (float): Divisor in ``exp(L / exp_divisor)`` for
            ``'bce_exp'``. Defaults to 4 (paper).
        padding_mode (str): ``'zeros'`` (default) or ``'replicate'``.
        loss_name (str): Key of the loss in the loss dict; must start with
            ``'loss_'``. Defaults to ``'loss_mask_edge'``.
    """

    def __init__(self,
                 filters: Union[str, Sequence[str]] = ('sobel', ),
                 p: float = 2.0,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 smooth_gt: bool = False,
                 smooth_pred: bool = False,
                 smooth_sigma: float = 1.0,
                 magnitude: bool = False,
                 normalize: bool = False,
                 mode: str = 'lp',
                 exp_divisor: float = 4.0,
                 padding_mode: str = 'zeros',
                 loss_name: str = 'loss_mask_edge') -> None:
        super().__init__()
        owner = 'EdgeAgreementLoss'
        p = check_number(p, 'p', owner, low=0, low_open=True)
        loss_weight = check_number(loss_weight, 'loss_weight', owner, low=0)
        smooth_gt = check_bool(smooth_gt, 'smooth_gt', owner)
        smooth_pred = check_bool(smooth_pred, 'smooth_pred', owner)
        smooth_sigma = check_number(
            smooth_sigma, 'smooth_sigma', owner, low=0, low_open=True)
        magnitude = check_bool(magnitude, 'magnitude', owner)
        normalize = check_bool(normalize, 'normalize', owner)
        exp_divisor = check_number(
            exp_divisor, 'exp_divisor', owner, low=0, low_open=True)
        check_loss_name(loss_name, owner)
        if not isinstance(filters, str) and not isinstance(
                filters, (list, tuple)):
            raise TypeError(f'{owner}: `filters` must be a filter name or a '
                            f'list of names, got {filters!r}')
        if mode not in EDGE_LOSS_MODES:
            raise ValueError(f'EdgeAgreementLoss: unknown `mode` {mode!r}; '
                             f'valid modes are {list(EDGE_LOSS_MODES)}')
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f'EdgeAgreementLoss: unknown `padding_mode` {padding_mode!r};'
                f' valid: {list(_PADDING_MODES)}')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'EdgeAgreementLoss: unknown `reduction` '
                             f'{reduction!r}; valid: none, mean, sum')
        self.filters = _check_filters(filters)
        if not self.filters and not magnitude:
            raise ValueError('EdgeAgreementLoss: no filter selected; give at '
                             f'least one of {list(EDGE_FILTERS)} in `filters`'
                             ' or set `magnitude=True`')
        kernels, self.channel_names = edge_kernels(self.filters, normalize)
        self.register_buffer('kernels', kernels, persistent=False)
        self.p = float(p)
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.smooth_gt = smooth_gt
        self.smooth_pred = smooth_pred
        self.smooth_sigma = smooth_sigma
        gaussian_kernel3x3(smooth_sigma)  # validates sigma early
        self.magnitude = magnitude
        self.normalize = normalize
        self.mode = mode
        self.exp_divisor = exp_divisor
        self.padding_mode = padding_mode
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                label: Optional[Tensor] = None,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Compute the loss.

        Two forms, told apart by the inputs (:func:`is_semantic_call`):

        * mask heads (mmdet): ``pred`` mask logits ``(N, C, S, S)`` with
          the RoI ``label`` (or ``C = 1``), or probabilities ``(N, S, S)``;
          ``target`` masks ``(N, S, S)`` in [0, 1]
          (:func:`edge_agreement_loss`);
        * semantic segmentation (mmseg ``loss_decode``): ``pred`` class
          logits ``(N, C, H, W)`` with ``C > 1``, no ``label``, ``target``
          integer labels ``(N, H, W)``; per-class edges of the softmax
          against the one-hot target (:func:`semantic_edge_agreement_loss`,
          ``mode='lp'`` only).

        Args:
            pred (Tensor): Mask logits ``(N, C, S, S)``, selected mask
                probabilities ``(N, S, S)`` or class logits ``(N, C, H, W)``.
            target (Tensor): Masks ``(N, S, S)`` in [0, 1], or integer
                class labels ``(N, H, W)``.
            label (Tensor, optional): RoI classes ``(N, )`` selecting the
                channel of ``pred``; zeros for class-agnostic heads. None
                for the semantic form.
            weight (Tensor, optional): Per-RoI weights ``(N, )``; per-pixel
                ``(N, H, W)`` in the semantic form.
            avg_factor (float, optional): Normaliser for ``'mean'``.
            reduction_override (str, optional): Overrides ``reduction``.
            ignore_index (int, optional): Target value to ignore (mmseg's
                ``loss_decode`` passes it).

        Returns:
            Tensor: ``loss_weight`` times the loss.
        """
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        common = dict(
            kernels=self.kernels,
            p=self.p,
            normalize=self.normalize,
            magnitude=self.magnitude,
            smooth_pred=self.smooth_pred,
            smooth_gt=self.smooth_gt,
            smooth_sigma=self.smooth_sigma,
            padding_mode=self.padding_mode,
            weight=weight,
            reduction=reduction,
            avg_factor=avg_factor,
            ignore_index=ignore_index)
        if is_semantic_call(pred, target, label):
            if self.mode != 'lp':
                raise ValueError(
                    f'EdgeAgreementLoss: mode={self.mode!r} multiplies the '
                    'RoI mask BCE and is defined for mask heads only; the '
                    "semantic form (mmseg loss_decode) needs mode='lp'")
            loss = semantic_edge_agreement_loss(pred, target, **common)
            return self.loss_weight * loss
        loss = edge_agreement_loss(
            pred,
            target,
            label=label,
            mode=self.mode,
            exp_divisor=self.exp_divisor,
            **common)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item.

        Loss names must start with ``loss_`` to be included in the total
        loss that is back-propagated.
        """
        return self._loss_name

    def extra_repr(self) -> str:
        """Short summary for ``print(module)``."""
        return (f'filters={list(self.filters)}, p={self.p}, '
                f'loss_weight={self.loss_weight}, mode={self.mode!r}, '
                f'normalize={self.normalize}, magnitude={self.magnitude}, '
                f'smooth_gt={self.smooth_gt}, smooth_pred={self.smooth_pred}')
