# Copyright (c) mmboundary contributors. All rights reserved.
"""Class-balanced boundary BCE (InverseForm eq. 6's L_bxe; the released
code's ``bce2d``, after HED), pure torch, one sigmoid."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from mmboundary.registry import MODELS
from mmboundary.utils.validation import (check_bool, check_choice, check_int,
                                         check_loss_name, check_number)


def balanced_bce_with_logits(logits: torch.Tensor,
                             target: torch.Tensor,
                             ignore_index: int = 255,
                             balance: str = 'batch') -> torch.Tensor:
    """Per-pixel class-balanced BCE-with-logits.

    ``l_i = BCE(z_i, y_i)``; with P = #{y = 1}, Q = #{y = 0} (valid pixels
    of the batch for ``'batch'``, of each image for ``'image'``) the weight
    is ``Q / (P + Q)`` on boundary pixels and ``P / (P + Q)`` on the others
    (so the rare boundary class weighs as much as the background), 1 for
    ``'none'``, and 0 on ignored pixels. P = 0 gives the negatives weight 0
    (HED's / the released code's behaviour).

    Args:
        logits (Tensor): (N, H, W) boundary logits.
        target (Tensor): (N, H, W) in {0, 1, ``ignore_index``}.
        ignore_index (int): Ignored value. Defaults to 255.
        balance (str): 'batch', 'image' or 'none'. Defaults to 'batch'.

    Returns:
        Tensor: (N, H, W) weighted losses ``w_i * l_i``.
    """
    valid = target != ignore_index
    pos = (target == 1) & valid
    neg = (target == 0) & valid
    y = pos.to(logits.dtype)
    loss = F.binary_cross_entropy_with_logits(logits, y, reduction='none')
    if balance == 'none':
        weight = valid.to(logits.dtype)
    else:
        dims = (0, 1, 2) if balance == 'batch' else (1, 2)
        p = pos.sum(dims, keepdim=True).to(logits.dtype)
        q = neg.sum(dims, keepdim=True).to(logits.dtype)
        total = (p + q).clamp(min=1)
        weight = pos.to(logits.dtype) * (q / total) + neg.to(logits.dtype) * (
            p / total)
    return weight * loss


@MODELS.register_module()
class BoundaryBCELoss(nn.Module):
    """Class-balanced boundary BCE (InverseForm eq. 6's L_bxe).

    Works as an entry of an mmseg head's ``loss_decode`` (it accepts
    ``weight=`` and ``ignore_index=``, unlike mmseg's ``BoundaryLoss``) and
    in mmdet heads alike. Inputs: (N, 1, H, W) or (N, H, W) logits and an
    (N, H, W) or (N, 1, H, W) target in {0, 1, ``ignore_index``}.

    The loss is ``loss_weight * sum_i w_i * l_i * weight_i / D``
    (:func:`balanced_bce_with_logits`), D = N * H * W (the released code's
    average over all pixels), the number of valid pixels with
    ``avg_non_ignore=True``, or ``avg_factor``. ``'sum'`` returns the
    numerator, ``'none'`` the (N, H, W) map.

    Args:
        balance (str): 'batch' (released code), 'image' or 'none'.
            Defaults to 'batch'.
        avg_non_ignore (bool): Divide by the valid pixels. Defaults to
            False.
        reduction (str): 'mean', 'sum' or 'none'. Defaults to 'mean'.
        loss_weight (float): beta of eq. 6. Defaults to 1.0.
        ignore_index (int): Ignored target value (mmseg passes its own).
            Defaults to 255.
        loss_name (str): Starts with ``loss_``. Defaults to
            'loss_boundary_bce'.
    """

    def __init__(self,
                 balance: str = 'batch',
                 avg_non_ignore: bool = False,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_boundary_bce') -> None:
        super().__init__()
        owner = 'BoundaryBCELoss'
        self.balance = check_choice(balance, ('batch', 'image', 'none'),
                                    'balance', owner)
        self.avg_non_ignore = check_bool(avg_non_ignore, 'avg_non_ignore',
                                         owner)
        self.reduction = check_choice(reduction, ('mean', 'sum', 'none'),
                                      'reduction', owner)
        self.loss_weight = check_number(
            loss_weight, 'loss_weight', owner, low=0)
        self.ignore_index = check_int(ignore_index, 'ignore_index', owner)
        check_loss_name(loss_name, owner)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict."""
        return self._loss_name

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
            pred (Tensor): (N, 1, H, W) or (N, H, W) logits.
            target (Tensor): (N, H, W) or (N, 1, H, W).
            weight (Tensor, optional): (N, H, W) pixel weights.
            avg_factor (float, optional): Denominator of ``'mean'``.
            reduction_override (str, optional): Overrides ``reduction``.
            ignore_index (int, optional): Overrides ``self.ignore_index``.

        Returns:
            Tensor: scalar, or (N, H, W) for ``'none'``.
        """
        reduction = reduction_override or self.reduction
        ignore = self.ignore_index if ignore_index is None \
            else int(ignore_index)
        if pred.dim() == 4:
            if pred.shape[1] != 1:
                raise ValueError(
                    'BoundaryBCELoss needs 1-channel boundary logits, got '
                    f'{tuple(pred.shape)}; use it in a BoundaryHead (or a '
                    'head with out_channels=1).')
            pred = pred[:, 0]
        if target.dim() == 4 and target.shape[1] == 1:
            target = target[:, 0]
        if tuple(target.shape) != tuple(pred.shape):
            raise ValueError(
                f'BoundaryBCELoss: target shape {tuple(target.shape)} does '
                f'not match logits {tuple(pred.shape)}.')
        pixel = balanced_bce_with_logits(pred.float(), target, ignore,
                                         self.balance)
        if weight is not None:
            pixel = pixel * weight.to(pixel.dtype)
        if reduction == 'none':
            loss = pixel
        elif reduction == 'sum':
            loss = pixel.sum()
        else:
            if avg_factor is not None:
                denom = avg_factor
            elif self.avg_non_ignore:
                denom = (target != ignore).sum().clamp(min=1)
            else:
                denom = max(pixel.numel(), 1)
            loss = pixel.sum() / denom
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        """Settings shown by ``print(model)``."""
        return (f'balance={self.balance!r}, reduction={self.reduction!r}, '
                f'loss_weight={self.loss_weight}')
