# Copyright (c) mmboundary contributors. All rights reserved.
"""The Ubernet-style multi-task edge branch of the SEMEDA ablation.

SEMEDA (Chen, Dapogny and Cord, 2020) Fig. 2-(b) and Table 1: an extra head
on the segmentor's features predicts the 8-neighbour semantic edges of the
GT and is trained with cross-entropy; unlike SEMEDA, its gradient never
passes through the segmentation output.
"""
import torch
from mmseg.models.decode_heads import FCNHead

from mmboundary.registry import MMSEG_MODELS
from mmboundary.utils.label_boundary import edge_target


@MMSEG_MODELS.register_module()
class UbernetEdgeHead(FCNHead):
    """An FCN head that predicts 2-class semantic edges, for
    ``auxiliary_head``.

    Identical to mmseg's ``FCNHead`` except for the targets: the GT label
    map (N, 1, H, W) is replaced by its 8-neighbour edge map (1 = a
    neighbour has another label; pixels next to ``ignore_index`` are
    ignored), see :func:`~mmboundary.models.utils.semantic_edge_net.
    edge_target`. ``num_classes`` must be 2; the edge term weight lambda_1 of
    Table 1 is the ``loss_weight`` of its ``loss_decode``.

    Args:
        **kwargs: As for ``FCNHead``.
    """

    def __init__(self, **kwargs) -> None:
        num_classes = kwargs.get('num_classes')
        if num_classes != 2:
            raise ValueError(
                f'UbernetEdgeHead predicts edge / non-edge: num_classes must '
                f'be 2, got {num_classes}.')
        super().__init__(**kwargs)

    def _stack_batch_gt(self, batch_data_samples) -> torch.Tensor:
        """(N, 1, H, W) edge targets in {0, 1, ignore_index}."""
        labels = super()._stack_batch_gt(batch_data_samples)
        edges = edge_target(labels[:, 0], self.ignore_index)
        return edges.unsqueeze(1).to(labels.dtype)
