# Copyright (c) mmboundary contributors. All rights reserved.
"""Edge Agreement Head for Mask R-CNN (mmdet 3.x).

`Faster Training of Mask R-CNN by Focusing on Instance Boundaries
<https://arxiv.org/abs/1809.07069>`_ (Zimmermann and Siems, Sec. 3.2, Fig. 2).

The "head" has no layers of its own: it is an :class:`FCNMaskHead` whose
training loss gets one (or more) extra parameter-free terms that compare edge
maps of the predicted and ground-truth masks of the positive RoIs. Inference
and the learnable parameters are those of :class:`FCNMaskHead` unchanged.
"""
from typing import Dict, List, Sequence, Union

import torch
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmengine.config import ConfigDict
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from mmboundary.registry import MMDET_MODELS

ConfigType = Union[dict, ConfigDict]


@MMDET_MODELS.register_module()
class EdgeAgreementMaskHead(FCNMaskHead):
    """FCN mask head with the Edge Agreement Loss added to training.

    Switch an mmdet model to it by changing the mask head ``type`` and adding
    a ``loss_edge`` entry; everything else (``num_convs``, ``class_agnostic``,
    ``upsample_cfg``, ``loss_mask``, ...) is passed to :class:`FCNMaskHead`.

    Training outputs, next to ``loss_mask``, one entry per edge loss keyed by
    its ``loss_name`` (``'loss_mask_edge'`` by default). The loss receives the
    mask logits ``(N, C, S, S)``, the mask targets ``(N, S, S)`` and the label
    of each positive RoI (zeros for a class-agnostic head), so it selects the
    ground-truth class channel itself. ``S`` is whatever the head outputs and
    ``train_cfg.rcnn.mask_size`` asks for (28 or 56 in the paper).

    Args:
        loss_edge (dict | list[dict]): Config(s) of the edge loss(es), built
            from the registry. Defaults to Sobel, L2, weight 1 (the paper's
            best setting).
        *args, **kwargs: Forwarded to :class:`FCNMaskHead`.
    """

    def __init__(self,
                 *args,
                 loss_edge: Union[ConfigType, Sequence[ConfigType]] = dict(
                     type='EdgeAgreementLoss',
                     filters=('sobel', ),
                     p=2,
                     loss_weight=1.0),
                 **kwargs) -> None:
        if not isinstance(loss_edge, (dict, list, tuple)) or (
                not isinstance(loss_edge, dict)
                and not all(isinstance(c, dict) for c in loss_edge)):
            raise TypeError('EdgeAgreementMaskHead: `loss_edge` must be a '
                            'loss config dict or a list of them, got '
                            f'{loss_edge!r}')
        super().__init__(*args, **kwargs)
        cfgs = [loss_edge] if isinstance(loss_edge, dict) else list(loss_edge)
        if not cfgs:
            raise ValueError('EdgeAgreementMaskHead: `loss_edge` is empty; '
                             'give at least one loss config')
        losses = [MMDET_MODELS.build(cfg) for cfg in cfgs]
        names = [loss.loss_name for loss in losses]
        if len(set(names)) != len(names) or 'loss_mask' in names:
            raise ValueError(
                'EdgeAgreementMaskHead: the `loss_name`s of `loss_edge` must '
                f"be unique and differ from 'loss_mask', got {names}")
        # Losses have no parameters and only non-persistent buffers, so the
        # state dict stays that of FCNMaskHead.
        self.loss_edge = nn.ModuleList(losses)

    def loss_and_target(self, mask_preds: Tensor, sampling_results: List,
                        batch_gt_instances: List,
                        rcnn_train_cfg: ConfigDict) -> Dict:
        """Mask loss of :class:`FCNMaskHead` plus the edge agreement loss.

        Args:
            mask_preds (Tensor): Mask logits ``(N, C, S, S)`` of the positive
                RoIs (``C = 1`` when class-agnostic).
            sampling_results (list[SamplingResult]): Per-image samples.
            batch_gt_instances (list[InstanceData]): Per-image ground truth
                with ``masks``.
            rcnn_train_cfg (ConfigDict): ``train_cfg.rcnn`` (``mask_size``).

        Returns:
            dict: ``loss_mask`` (a dict with ``loss_mask`` and one entry per
            edge loss) and ``mask_targets`` ``(N, S, S)``.
        """
        mask_size = rcnn_train_cfg.get('mask_size', None)
        if mask_size is not None and tuple(mask_preds.shape[-2:]) != tuple(
                _pair(mask_size)):
            raise ValueError(
                'EdgeAgreementMaskHead: the head outputs masks of size '
                f'{tuple(mask_preds.shape[-2:])} but train_cfg.rcnn.mask_size'
                f' is {mask_size}; make them equal (for 56x56 masks use a '
                '28x28 mask RoI extractor or a x4 upsample)')
        results = super().loss_and_target(
            mask_preds=mask_preds,
            sampling_results=sampling_results,
            batch_gt_instances=batch_gt_instances,
            rcnn_train_cfg=rcnn_train_cfg)
        mask_targets = results['mask_targets']
        pos_labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        if self.class_agnostic:
            pos_labels = torch.zeros_like(pos_labels)
        for loss in self.loss_edge:
            results['loss_mask'][loss.loss_name] = loss(
                mask_preds, mask_targets, label=pos_labels)
        return results
