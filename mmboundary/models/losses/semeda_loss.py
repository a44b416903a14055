# Copyright (c) mmboundary contributors. All rights reserved.
"""SEMEDA semantic edge-aware loss (Chen, Dapogny and Cord, Pattern
Recognition 2020, Sec. 3.3, eqs. 5-7).

The softmax of the segmentor's logits S-hat and the one-hot GT S* both go
through a frozen, pretrained semantic edge net g_phi*
(:class:`mmboundary.models.utils.SemanticEdgeNet`); the loss matches their
embeddings (eq. 6)::

    L = sum_ij sum_l lambda_l |psi^l_ij(S-hat) - psi^l_ij(S*)|

``mode='edge_ce'`` gives the paper's "PPCE on edges" baseline instead
(eq. 5): cross-entropy between g_phi*(S-hat) and the 8-neighbour GT edges.
Either is one more entry of an mmseg decode head's ``loss_decode`` list,
next to the cross-entropy (eq. 7 is their sum).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmboundary.models.pretraining.edge_net import load_edge_net_state
from mmboundary.models.utils.frozen import FrozenAuxNet, accept_published_drop
from mmboundary.models.utils.semantic_edge_net import (SemanticEdgeNet,
                                                       one_hot_masks)
from mmboundary.registry import MODELS
from mmboundary.utils.label_boundary import edge_target
from mmboundary.utils.validation import (check_bool, check_int,
                                         check_loss_name, check_number,
                                         check_str)

_NO_WEIGHTS_MSG = (
    'SemedaLoss: the edge net has no pretrained weights. Give '
    'edge_net_checkpoint=PATH (written by `python tools/misc/'
    'train_edge_net.py CONFIG`) or add dict(type="EdgeNetPretrainHook") to '
    'custom_hooks; a random edge net is never used.')


def semeda_embedding_loss(pred_emb: Sequence[torch.Tensor],
                          gt_emb: Sequence[torch.Tensor],
                          layer_weights: Sequence[float],
                          distance: str = 'l1') -> torch.Tensor:
    """Per-pixel SEMEDA loss (eq. 6 before the sum over pixels).

    Args:
        pred_emb (Sequence[Tensor]): psi^l(S-hat), each (N, c_l, H, W).
        gt_emb (Sequence[Tensor]): psi^l(S*), same shapes.
        layer_weights (Sequence[float]): lambda_l, one per given layer.
        distance (str): 'l1' (eq. 6: sum over channels of |diff|) or 'l2'
            (sum over channels of diff^2).

    Returns:
        Tensor: (N, H, W) sum_l lambda_l d(psi^l(S-hat), psi^l(S*)).
    """
    total = None
    for lam, p, g in zip(layer_weights, pred_emb, gt_emb):
        if lam == 0:
            continue
        diff = p - g
        d = diff.abs() if distance == 'l1' else diff.pow(2)
        term = lam * d.sum(dim=1)
        total = term if total is None else total + term
    if total is None:  # unreachable with validated weights
        ref = pred_emb[0]
        return ref.new_zeros((ref.shape[0], *ref.shape[2:]))
    return total


@MODELS.register_module()
class SemedaLoss(nn.Module):
    """SEMEDA loss for any mmseg decode head (eq. 6), or PPCE on edges
    (eq. 5).

    Used as an extra entry of ``loss_decode``::

        loss_decode=[
            dict(type='CrossEntropyLoss', loss_weight=1.0),
            dict(type='SemedaLoss', num_classes=19,
                 edge_net_checkpoint='work_dirs/edge_net/x.pth',
                 layer_weights=(1.0, 0.5, 0.25)),
        ]

    **Inputs**: logits (N, C, H, W) and labels (N, H, W) at the same size
    (mmseg resizes the logits to the labels first). S-hat = softmax(logits),
    S* = one-hot(labels).

    **Ignore pixels** neither create nor hide differences: before the edge
    net, S-hat and S* are both set to the uniform distribution 1/C at ignore
    pixels (a constant, so no gradient reaches the prediction there and the
    two inputs agree there), and the per-pixel loss is summed over
    non-ignored pixels only.

    **Reduction**: the per-pixel loss is
    ``l_ij = sum_l lambda_l sum_c |psi^l_ijc(S-hat) - psi^l_ijc(S*)|``
    (squared difference for ``distance='l2'``), times ``weight`` if given.
    ``'sum'`` is eq. 6 summed over the batch; ``'mean'`` (default) divides
    that sum by the number of non-ignored pixels (or by ``avg_factor``);
    ``'none'`` returns the (N, H, W) map (0 at ignore pixels). In
    ``mode='edge_ce'`` l_ij is the edge cross-entropy at the pixels whose
    edge target is defined. The result is multiplied by ``loss_weight``.

    **The edge net** is a :class:`SemanticEdgeNet` wrapped in
    :class:`~mmboundary.models.utils.FrozenAuxNet`: parameters frozen
    (``requires_grad=False``: no optimizer update, no DDP gradient sync),
    always in eval mode, and marked training-only in checkpoints. Its
    weights come from ``edge_net_checkpoint`` (verified: weights-only load,
    exact keys and shapes, class count) or from
    :class:`~mmboundary.engine.hooks.EdgeNetPretrainHook`; the forward
    refuses to run with unloaded weights.

    Args:
        num_classes (int): C; must equal the decode head's ``num_classes``
            (checked where the loss sees the logits: a ValueError names both
            counts on the first forward).
        edge_net_checkpoint (str, optional): Path of a pretrained edge net.
            None: the weights must come from ``EdgeNetPretrainHook`` (or a
            resumed checkpoint). Defaults to None.
        layer_weights (Sequence[float]): lambda_1..lambda_3 of eq. 6;
            three non-negative numbers, not all zero. Defaults to
            (1.0, 0.5, 0.25) (Table 1, 66.5 mIoU).
        before_relu (bool): Match psi^1, psi^2 before ReLU (the paper's
            better choice) or after it; psi^3 is compared as logits before,
            or as the softmax after. Defaults to True.
        distance (str): 'l1' (eq. 6) or 'l2'. Defaults to 'l1'.
        mode (str): 'embedding' (SEMEDA, eq. 6) or 'edge_ce' (PPCE on
            edges, eq. 5). Defaults to 'embedding'.
        kernel_size (int): Edge-net kernel size. Defaults to 3.
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        ignore_index (int): Ignored label, overridden by the
            ``ignore_index`` that mmseg passes. Defaults to 255.
        loss_name (str, optional): Key in the loss dict; must start with
            ``loss_``. Defaults to 'loss_semeda' ('loss_edge_ce' in
            ``mode='edge_ce'``).
    """

    def __init__(self,
                 num_classes: int,
                 edge_net_checkpoint: Optional[str] = None,
                 layer_weights: Sequence[float] = (1.0, 0.5, 0.25),
                 before_relu: bool = True,
                 distance: str = 'l1',
                 mode: str = 'embedding',
                 kernel_size: int = 3,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: Optional[str] = None) -> None:
        super().__init__()
        owner = 'SemedaLoss'
        num_classes = check_int(num_classes, 'num_classes', owner, low=2)
        check_str(edge_net_checkpoint, 'edge_net_checkpoint', owner, True)
        if isinstance(layer_weights, str) or not isinstance(
                layer_weights, (list, tuple)) or not all(
                    isinstance(w, (int, float)) and not isinstance(w, bool)
                    for w in layer_weights):
            raise TypeError(f'{owner}: `layer_weights` must be a list of 3 '
                            f'numbers, got {layer_weights!r}')
        before_relu = check_bool(before_relu, 'before_relu', owner)
        kernel_size = check_int(kernel_size, 'kernel_size', owner, low=1)
        loss_weight = check_number(loss_weight, 'loss_weight', owner, low=0)
        ignore_index = check_int(ignore_index, 'ignore_index', owner)
        if mode not in ('embedding', 'edge_ce'):
            raise ValueError(f"SemedaLoss: mode must be 'embedding' or "
                             f"'edge_ce', got {mode!r}.")
        if distance not in ('l1', 'l2'):
            raise ValueError(f"SemedaLoss: distance must be 'l1' or 'l2', "
                             f'got {distance!r}.')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError("SemedaLoss: reduction must be 'none', 'mean' "
                             f"or 'sum', got {reduction!r}.")
        weights = tuple(float(w) for w in layer_weights)
        if len(weights) != 3:
            raise ValueError(
                f'SemedaLoss: layer_weights={tuple(layer_weights)} has '
                f'{len(weights)} values but the edge net has 3 layers; give '
                'lambda_1..lambda_3.')
        if mode == 'embedding' and (any(w < 0 for w in weights)
                                    or not any(w > 0 for w in weights)):
            raise ValueError(
                f'SemedaLoss: layer_weights={weights} must be non-negative '
                'with at least one > 0 (all-zero weights make the loss '
                'identically 0); use e.g. (1.0, 0.5, 0.25).')
        if loss_name is None:
            loss_name = 'loss_semeda' if mode == 'embedding' else \
                'loss_edge_ce'
        check_loss_name(loss_name, owner)
        self.num_classes = int(num_classes)
        self.edge_net_checkpoint = edge_net_checkpoint
        self.layer_weights = weights
        self.before_relu = bool(before_relu)
        self.distance = distance
        self.mode = mode
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.ignore_index = int(ignore_index)
        self._loss_name = loss_name
        self.edge_net = accept_published_drop(
            FrozenAuxNet(
                SemanticEdgeNet(self.num_classes, kernel_size=kernel_size)),
            owner, 'edge net')
        self._ready = False
        if edge_net_checkpoint is not None:
            self.load_edge_net(edge_net_checkpoint)

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict."""
        return self._loss_name

    def load_edge_net(self, path: str) -> None:
        """Load verified edge-net weights from ``path`` (see
        :func:`~mmboundary.models.pretraining.edge_net.load_edge_net_state`
        for the checks)."""
        state = load_edge_net_state(path, self.num_classes,
                                    self.edge_net.net.kernel_size)
        self.edge_net.load_verified(state)
        self._ready = False  # re-verified on the next forward

    def _check_edge_net(self) -> None:
        """Refuse unloaded weights; restore weights changed after loading."""
        self.edge_net.check_weights(
            _NO_WEIGHTS_MSG, 'SemedaLoss', self.edge_net_checkpoint
            or 'the pretrained edge net')
        self._ready = True

    def _inputs(self, pred: torch.Tensor, target: torch.Tensor,
                ignore_index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        ignore = (target == ignore_index).unsqueeze(1)
        probs = pred.softmax(dim=1).masked_fill(ignore, 1.0 / pred.shape[1])
        gt = one_hot_masks(target, self.num_classes, ignore_index)
        return probs, gt.to(probs.dtype)

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): (N, C, H, W) logits.
            target (Tensor): (N, H, W) labels in [0, C) or ``ignore_index``.
            weight (Tensor, optional): (N, H, W) pixel weights.
            avg_factor (float, optional): Denominator of ``'mean'``.
            reduction_override (str, optional): Overrides ``reduction``.
            ignore_index (int, optional): Overrides ``self.ignore_index``.

        Returns:
            Tensor: Scalar, or (N, H, W) for reduction 'none'.
        """
        reduction = reduction_override or self.reduction
        ignore_index = self.ignore_index if ignore_index is None \
            else int(ignore_index)
        if pred.dim() != 4 or pred.shape[1] != self.num_classes:
            raise ValueError(
                f'SemedaLoss: logits of shape {tuple(pred.shape)} have '
                f'{pred.shape[1] if pred.dim() == 4 else "?"} channels but '
                f'num_classes={self.num_classes}. The edge net needs one '
                'softmax channel per class: set SemedaLoss num_classes to the'
                " decode head's num_classes (use_sigmoid heads with one "
                'output channel are not supported).')
        if target.shape != (pred.shape[0], *pred.shape[2:]):
            raise ValueError(
                f'SemedaLoss: target shape {tuple(target.shape)} does not '
                f'match logits {tuple(pred.shape)}; resize the logits to the '
                'labels first (mmseg decode heads do).')
        if not self._ready:
            self._check_edge_net()
        probs, gt = self._inputs(pred, target, ignore_index)
        valid = target != ignore_index
        if self.mode == 'embedding':
            depth = max(i + 1 for i, w in enumerate(self.layer_weights)
                        if w > 0)
            pred_out = self.edge_net(probs, num_layers=depth)
            with torch.no_grad():
                gt_out = self.edge_net(gt, num_layers=depth)
            if self.before_relu:
                p_emb, g_emb = pred_out.pre_act, gt_out.pre_act
            else:
                p_emb, g_emb = pred_out.post_act, gt_out.post_act
            pixel = semeda_embedding_loss(p_emb, g_emb, self.layer_weights,
                                          self.distance)
        else:  # PPCE on edges, eq. 5
            edges = edge_target(target, ignore_index)
            valid = edges != ignore_index
            logits = self.edge_net(probs).pre_act[-1]
            pixel = F.cross_entropy(
                logits.float(), edges.masked_fill(~valid, 0), reduction='none')
        pixel = pixel * valid.to(pixel.dtype)
        if weight is not None:
            pixel = pixel * weight.to(pixel.dtype)
        if reduction == 'none':
            loss = pixel
        elif reduction == 'sum':
            loss = pixel.sum()
        else:
            denom = valid.sum().clamp(min=1) if avg_factor is None \
                else avg_factor
            loss = pixel.sum() / denom
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        """Settings shown by ``print(model)``."""
        return (f'num_classes={self.num_classes}, mode={self.mode!r}, '
                f'layer_weights={self.layer_weights}, '
                f'before_relu={self.before_relu}, '
                f'distance={self.distance!r}, reduction={self.reduction!r},'
                f' loss_weight={self.loss_weight}')
