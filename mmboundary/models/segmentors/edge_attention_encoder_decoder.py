# Copyright (c) mmboundary contributors. All rights reserved.
"""The released InverseForm code's edge-attention term (not in the paper).

The Qualcomm release (``JointEdgeSegLoss``, from GSCNN) adds a segmentation
cross-entropy restricted to the pixels where the boundary head is confident
(sigmoid > 0.8), weight 0.1. The paper's eq. 6 has no such term, so it is
off by default: use :class:`EdgeAttentionEncoderDecoder` instead of
``EncoderDecoder`` to turn it on (released-code parity configs only).
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.utils import add_prefix
from torch import nn

from mmboundary.models.heads.boundary_head import BoundaryHead
from mmboundary.registry import MMSEG_MODELS
from mmboundary.utils.validation import check_dict, check_number


def edge_attention_ce(seg_logits: torch.Tensor,
                      seg_label: torch.Tensor,
                      edge_logits: torch.Tensor,
                      threshold: float = 0.8,
                      ignore_index: int = 255,
                      align_corners: bool = False) -> torch.Tensor:
    """Segmentation CE on confident boundary pixels (released code).

    Args:
        seg_logits (Tensor): (N, C, h, w) segmentation logits.
        seg_label (Tensor): (N, H, W) labels.
        edge_logits (Tensor): (N, 1, h', w') boundary logits.
        threshold (float): Pixels with sigmoid(edge) > threshold (strict)
            count. Defaults to 0.8.
        ignore_index (int): Ignored label. Defaults to 255.
        align_corners (bool): For the resizes. Defaults to False.

    Returns:
        Tensor: mean CE over the selected non-ignored pixels (0 with a
        graph when there are none). No gradient reaches ``edge_logits``.
    """
    size = seg_label.shape[-2:]
    seg = resize(
        seg_logits, size=size, mode='bilinear', align_corners=align_corners)
    with torch.no_grad():
        edge = resize(
            edge_logits.float(),
            size=size,
            mode='bilinear',
            align_corners=align_corners)[:, 0].sigmoid()
        label = torch.where(edge > threshold, seg_label.long(),
                            torch.full_like(seg_label.long(), ignore_index))
        count = (label != ignore_index).sum()
    ce = F.cross_entropy(
        seg.float(), label, ignore_index=ignore_index, reduction='sum')
    return ce / count.clamp(min=1)


@MMSEG_MODELS.register_module()
class EdgeAttentionEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` plus the released code's edge-attention CE.

    Needs exactly one :class:`BoundaryHead` among the auxiliary heads. The
    training loss gains ``decode.loss_edge_att = loss_weight *
    edge_attention_ce(...)``; inference is unchanged.

    Args:
        edge_attention (dict): ``threshold`` (0.8) and ``loss_weight``
            (0.1, the released value).
        *args, **kwargs: As for ``EncoderDecoder``.
    """

    def __init__(self,
                 *args,
                 edge_attention: Optional[dict] = None,
                 **kwargs) -> None:
        owner = 'EdgeAttentionEncoderDecoder'
        check_dict(edge_attention, 'edge_attention', owner, optional=True)
        cfg = dict(threshold=0.8, loss_weight=0.1)
        unknown = sorted(set(edge_attention or {}) - set(cfg))
        if unknown:
            raise KeyError(f'{owner}: unknown `edge_attention` key(s) '
                           f'{unknown}; known: {sorted(cfg)}.')
        cfg.update(edge_attention or {})
        threshold = check_number(cfg['threshold'],
                                 "edge_attention['threshold']", owner, 0, 1)
        loss_weight = check_number(
            cfg['loss_weight'], "edge_attention['loss_weight']", owner, low=0)
        super().__init__(*args, **kwargs)
        self.edge_threshold = threshold
        self.edge_loss_weight = loss_weight
        heads = self._aux_heads()
        found = [h for h in heads if isinstance(h, BoundaryHead)]
        if len(found) != 1:
            raise ValueError(
                'EdgeAttentionEncoderDecoder needs exactly one BoundaryHead '
                f'in auxiliary_head, found {len(found)}; add '
                "dict(type='BoundaryHead', ...) or use EncoderDecoder.")

    def _aux_heads(self) -> List[nn.Module]:
        if not self.with_auxiliary_head:
            return []
        if isinstance(self.auxiliary_head, nn.ModuleList):
            return list(self.auxiliary_head)
        return [self.auxiliary_head]

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict:
        """Decode and auxiliary losses as in ``EncoderDecoder``, plus the
        edge-attention CE."""
        x = self.extract_feat(inputs)
        seg_logits = self.decode_head.forward(x)
        losses = add_prefix(
            self.decode_head.loss_by_feat(seg_logits, data_samples), 'decode')
        many = isinstance(self.auxiliary_head, nn.ModuleList)
        edge_logits = None
        for idx, head in enumerate(self._aux_heads()):
            logits = head.forward(x)
            losses.update(
                add_prefix(
                    head.loss_by_feat(logits, data_samples),
                    f'aux_{idx}' if many else 'aux'))
            if isinstance(head, BoundaryHead):
                edge_logits = logits
        label = self.decode_head._stack_batch_gt(data_samples)[:, 0]
        losses['decode.loss_edge_att'] = self.edge_loss_weight * \
            edge_attention_ce(seg_logits, label, edge_logits,
                              self.edge_threshold,
                              self.decode_head.ignore_index,
                              self.align_corners)
        return losses
