# Copyright (c) mmboundary contributors. All rights reserved.
"""AsyInst mask head: BoxInst's head with asymmetric colour and depth terms.

`AsyInst: Asymmetric Affinity with DepthGrad and Color for Box-Supervised
Instance Segmentation <https://arxiv.org/abs/2212.03517>`_ (Yang et al.),
Sec. 5.3, eq. 13::

    L_mask = L_proj + lambda_c L_color + lambda_d L_depth

``L_proj`` is mmdet's BoxInst projection term, unchanged. ``L_color`` and
``L_depth`` are :class:`~mmboundary.models.losses.AsymmetricAffinityLoss`
instances, each normalised by its own edge count (eq. 11). Inference is
mmdet's CondInst inference: no depth is needed.
"""
from typing import List, Optional

import torch
from mmdet.models.dense_heads import BoxInstMaskHead
from mmdet.utils import InstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from mmboundary.registry import MMDET_MODELS, MODELS
from mmboundary.utils.validation import check_int

__all__ = ['AsyInstMaskHead']


@MMDET_MODELS.register_module()
class AsyInstMaskHead(BoxInstMaskHead):
    """BoxInst mask head with AsyInst's affinity losses (eq. 13).

    Targets come from
    :class:`~mmboundary.models.data_preprocessors.AsyInstDataPreprocessor`
    (or mmdet's ``BoxInstDataPreprocessor`` when there is no depth term):
    ``gt_instances.masks`` (box masks), ``gt_instances.pairwise_masks``
    (colour edges, (N, K**2 - 1, h, w)) and, for the depth term,
    ``gt_instances.depth_pairwise_masks`` (same shape).

    The warm-up of lambda_c and lambda_d (paper Sec. 6.1: linear over the
    first 10k iterations) is :class:`~mmboundary.engine.LossWeightWarmupHook`
    with ``loss_paths=['mask_head.loss_color', 'mask_head.loss_depth']``;
    the head itself reads no iteration counter, so it runs outside a Runner
    and nothing in it must be resumed.

    With ``loss_color=dict(type='AsymmetricAffinityLoss', delta=0,
    gamma=0)``, ``loss_depth=None`` and the hook's factor equal to mmdet's
    ``min(iter / warmup_iters, 1)``, the losses equal mmdet's
    ``BoxInstMaskHead`` (``loss_mask_project``, ``loss_mask_pairwise``).

    Args:
        loss_color (dict, optional): colour affinity loss (lambda_c as its
            ``loss_weight``); None disables the term (projection only).
            Defaults to AsyInst's delta_c, gamma_c, lambda_c = 2.5, 1.5, 1.0.
        loss_depth (dict, optional): depth-gradient affinity loss; None
            disables it. Defaults to delta_d, gamma_d, lambda_d = 3.5, 2.5,
            0.1 with ``loss_name='loss_mask_depth'``.
        pairwise_size (int): K. Defaults to 3.
        pairwise_dilation (int): D; even when ``loss_depth`` is set.
            Defaults to 2.
        **kwargs: ``CondInstMaskHead`` arguments (``mask_feature_head``,
            ``mask_out_stride``, ``loss_mask``...). ``warmup_iters`` is
            refused: use ``LossWeightWarmupHook``.
    """

    def __init__(self,
                 *args,
                 loss_color: Optional[dict] = dict(
                     type='AsymmetricAffinityLoss',
                     delta=2.5,
                     gamma=1.5,
                     loss_weight=1.0),
                 loss_depth: Optional[dict] = dict(
                     type='AsymmetricAffinityLoss',
                     delta=3.5,
                     gamma=2.5,
                     loss_weight=0.1,
                     loss_name='loss_mask_depth'),
                 pairwise_size: int = 3,
                 pairwise_dilation: int = 2,
                 **kwargs) -> None:
        if 'warmup_iters' in kwargs:
            raise ValueError(
                'AsyInstMaskHead does not take warmup_iters (got '
                f"{kwargs['warmup_iters']!r}): warm the affinity weights up "
                "with custom_hooks=[dict(type='LossWeightWarmupHook', "
                "loss_paths=['mask_head.loss_color', 'mask_head.loss_depth']"
                ', warmup_iters=10000)]')
        owner = 'AsyInstMaskHead'
        named = dict(loss_color=loss_color, loss_depth=loss_depth)
        for name, cfg in named.items():
            if cfg is not None and not isinstance(cfg, dict):
                raise TypeError(
                    f'{owner}: `{name}` must be a loss config dict (e.g. '
                    "dict(type='AsymmetricAffinityLoss', delta=2.5, "
                    f'gamma=1.5)) or None to disable the term, got {cfg!r}')
        pairwise_size = check_int(pairwise_size, 'pairwise_size', owner, low=3)
        if pairwise_size % 2 == 0:
            raise ValueError(f'{owner}: `pairwise_size` must be odd (a '
                             f'centred K x K neighbourhood), got '
                             f'{pairwise_size}')
        pairwise_dilation = check_int(
            pairwise_dilation, 'pairwise_dilation', owner, low=1)
        super().__init__(
            *args,
            pairwise_size=pairwise_size,
            pairwise_dilation=pairwise_dilation,
            warmup_iters=0,
            **kwargs)
        if loss_depth is not None and pairwise_dilation % 2:
            raise ValueError(
                f'pairwise_dilation={pairwise_dilation} is odd: the depth '
                'term (eq. 1) needs the midpoint p + D/2 * o of every edge; '
                'use an even pairwise_dilation (2, as the paper) or set '
                'loss_depth=None')
        self.loss_color = self._build_affinity_loss(loss_color, 'loss_color')
        self.loss_depth = self._build_affinity_loss(loss_depth, 'loss_depth')
        names = [
            m.loss_name for m in (self.loss_color, self.loss_depth)
            if m is not None
        ]
        if len(set(names)) != len(names) or 'loss_mask_project' in names:
            raise ValueError(
                f'AsyInstMaskHead: the affinity loss names {names} must be '
                "distinct and differ from 'loss_mask_project'; set "
                "loss_depth=dict(..., loss_name='loss_mask_depth')")

    def _build_affinity_loss(self, cfg: Optional[dict], key: str):
        if cfg is None:
            return None
        try:
            loss = MODELS.build(cfg)
        except (TypeError, ValueError, KeyError) as err:
            msg = err.args[0] if isinstance(err, KeyError) and err.args \
                else str(err)
            raise type(err)(f'AsyInstMaskHead: `{key}`: {msg}') from err
        for attr, value in (('kernel_size', self.pairwise_size),
                            ('dilation', self.pairwise_dilation)):
            own = getattr(loss, attr, None)
            if own is None:
                setattr(loss, attr, value)
            elif own != value:
                raise ValueError(
                    f'AsyInstMaskHead: {key}.{attr}={own} differs from the '
                    f'head (pairwise_size={self.pairwise_size}, '
                    f'pairwise_dilation={self.pairwise_dilation}); drop it '
                    'from the loss config')
        for attr in ('loss_name', 'loss_weight'):
            if not hasattr(loss, attr):
                raise TypeError(f'AsyInstMaskHead: {key} ({type(loss)}) '
                                f'has no {attr}')
        return loss

    def loss_by_feat(self, mask_preds: List[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict], positive_infos: InstanceList,
                     **kwargs) -> dict:
        """Projection, colour and depth losses.

        Args:
            mask_preds (list[Tensor]): per image (num_pos, h, w) mask
                logits at ``mask_out_stride``.
            batch_gt_instances (list[InstanceData]): with ``bboxes``,
                ``masks``, ``pairwise_masks`` and, for the depth term,
                ``depth_pairwise_masks``.
            batch_img_metas (list[dict]): image metas.
            positive_infos (list[InstanceData]): from the box head.

        Returns:
            dict[str, Tensor]: ``loss_mask_project`` and one key per
            affinity term (their ``loss_name``).
        """
        if positive_infos is None:
            raise ValueError('AsyInstMaskHead needs positive_infos from the '
                             'box head (BoxInstBboxHead)')
        terms = [(m, i)
                 for i, m in enumerate((self.loss_color, self.loss_depth))
                 if m is not None]
        k = self.pairwise_size**2 - 1
        loss_project = 0.
        sums = [0. for _ in terms]
        avgs = [0. for _ in terms]
        total_pos = 0
        for idx, mask_pred in enumerate(mask_preds):
            gt = self._with_stacked_edges(batch_gt_instances[idx])
            mask_pred, targets, edges, num_pos = self._get_targets_single(
                mask_pred, gt, positive_infos[idx])
            total_pos += num_pos
            if num_pos == 0 or targets is None:
                zero = mask_pred.new_zeros(1).mean()
                loss_project = loss_project + zero
                sums = [s + zero for s in sums]
                continue
            loss_project = loss_project + self.loss_mask(
                mask_pred.max(dim=1, keepdim=True)[0],
                targets.max(dim=1, keepdim=True)[0],
                reduction_override='none').sum() + self.loss_mask(
                    mask_pred.max(dim=2, keepdim=True)[0],
                    targets.max(dim=2, keepdim=True)[0],
                    reduction_override='none').sum()
            for j, (module, which) in enumerate(terms):
                w = edges[:, which * k:(which + 1) * k]
                avgs[j] += w.sum().clamp(min=1.0)
                sums[j] = sums[j] + module(
                    mask_pred, w, reduction_override='sum')
        losses = dict(loss_mask_project=loss_project / max(total_pos, 1))
        for j, (module, _) in enumerate(terms):
            avg = avgs[j] if isinstance(avgs[j], Tensor) and avgs[j] > 0 \
                else 1.0
            losses[module.loss_name] = sums[j] / avg
        return losses

    def _with_stacked_edges(self, gt_instances: InstanceData) -> InstanceData:
        """A view of the targets whose ``pairwise_masks`` stack colour and
        depth edges along dim 1, so that mmdet's target selection (random or
        top-k proposals) treats both identically."""
        for key in ('bboxes', 'masks', 'pairwise_masks'):
            if key not in gt_instances:
                raise KeyError(
                    f'AsyInstMaskHead: gt_instances has no {key!r}; use '
                    "data_preprocessor=dict(type='AsyInstDataPreprocessor'"
                    ', ...) (or mmdet BoxInstDataPreprocessor) and load '
                    'boxes with LoadAnnotations(with_bbox=True)')
        edges = [gt_instances.pairwise_masks]
        if self.loss_depth is not None:
            if 'depth_pairwise_masks' not in gt_instances:
                raise KeyError(
                    'AsyInstMaskHead: loss_depth is set but gt_instances has '
                    "no 'depth_pairwise_masks'; set depth_thresh in "
                    'AsyInstDataPreprocessor and load depth with '
                    'LoadCityscapesDepth + AlignDepth, or set '
                    'loss_depth=None')
            edges.append(gt_instances.depth_pairwise_masks)
        out = InstanceData(metainfo=gt_instances.metainfo)
        out.bboxes = gt_instances.bboxes
        out.masks = gt_instances.masks
        out.pairwise_masks = torch.cat(edges, dim=1) if len(edges) > 1 \
            else edges[0]
        return out
