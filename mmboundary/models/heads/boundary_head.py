# Copyright (c) mmboundary contributors. All rights reserved.
"""Auxiliary boundary head for any mmseg segmentor (InverseForm Sec. 3.5,
Fig. 4).

An auxiliary head on the decoder's or backbone's features predicts a
1-channel boundary map b_pred (logits) trained against the Sobel boundary
of the GT (``GenerateSobelBoundary`` in the pipeline), with the
class-balanced BCE (L_bxe) and the InverseForm loss (L_if) of eq. 6 in its
``loss_decode``. As an ``auxiliary_head`` it never runs at inference.
"""
from typing import Dict, List

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import nn

from mmboundary.registry import MMSEG_MODELS
from mmboundary.utils.label_boundary import sobel_boundary_target
from mmboundary.utils.validation import check_choice, check_int, check_number


@MMSEG_MODELS.register_module()
class BoundaryHead(BaseDecodeHead):
    """Boundary head: ``num_convs`` ConvModules then a 1x1 conv to one
    boundary logit per pixel.

    With ``in_channels=[18, 36, 72, 144]``, ``in_index=(0, 1, 2, 3)``,
    ``input_transform='resize_concat'``, ``channels=270``, ``num_convs=1``,
    ``kernel_size=1`` this is the released ``HighResolutionHead`` (HRNet-18)
    without its sigmoid (the losses apply one sigmoid each).

    Targets: (N, 1, H, W) in {0, 1, ``ignore_index``}, from
    ``data_sample.gt_edge_map`` (``boundary_source='gt_edge_map'``: add
    ``GenerateSobelBoundary`` to the train pipeline) or computed on the
    device from ``gt_sem_seg`` (``'sobel'``, :func:`~mmboundary.utils.
    label_boundary.sobel_boundary_target`). The loss dict reports
    ``acc_boundary`` (pixel accuracy of sigmoid > 0.5 on valid pixels)
    instead of mmseg's ``acc_seg``.

    Args:
        num_convs (int): ConvModules before the classifier (>= 0).
            Defaults to 1.
        kernel_size (int): Their kernel size. Defaults to 1.
        boundary_source (str): 'gt_edge_map' or 'sobel'. Defaults to
            'gt_edge_map'.
        sobel_threshold (float): Magnitude threshold of ``'sobel'``.
            Defaults to 0.
        **kwargs: As for ``BaseDecodeHead`` (``num_classes`` and
            ``out_channels`` are fixed to 2 and 1).
    """

    def __init__(self,
                 num_convs: int = 1,
                 kernel_size: int = 1,
                 boundary_source: str = 'gt_edge_map',
                 sobel_threshold: float = 0.0,
                 **kwargs) -> None:
        owner = 'BoundaryHead'
        num_convs = check_int(num_convs, 'num_convs', owner, low=0)
        kernel_size = check_int(kernel_size, 'kernel_size', owner, low=1)
        if kernel_size % 2 == 0:
            raise ValueError(f'{owner}: `kernel_size` must be odd (same-size '
                             f'output), got {kernel_size}.')
        check_choice(boundary_source, ('gt_edge_map', 'sobel'),
                     'boundary_source', owner)
        sobel_threshold = check_number(
            sobel_threshold, 'sobel_threshold', owner, low=0)
        for key, val in (('num_classes', 2), ('out_channels', 1)):
            if key in kwargs and kwargs[key] != val:
                raise ValueError(
                    f'BoundaryHead predicts one boundary logit: {key} must '
                    f'be {val} (or left out), got {kwargs[key]}.')
        if kwargs.get('sampler') is not None:
            raise ValueError('BoundaryHead: pixel samplers are not supported '
                             '(the class-balanced BCE balances pixels).')
        kwargs.update(num_classes=2, out_channels=1)
        kwargs.setdefault('threshold', 0.5)
        super().__init__(**kwargs)
        self.boundary_source = boundary_source
        self.sobel_threshold = sobel_threshold
        in_ch = self.in_channels
        convs = []
        for i in range(num_convs):
            convs.append(
                ConvModule(
                    in_ch if i == 0 else self.channels,
                    self.channels,
                    kernel_size,
                    padding=kernel_size // 2,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg))
        if not convs and in_ch != self.channels:
            raise ValueError(
                f'BoundaryHead: num_convs=0 needs channels == in_channels '
                f'({in_ch}), got channels={self.channels}.')
        self.convs = nn.Sequential(*convs)

    def forward(self, inputs) -> torch.Tensor:
        """(N, 1, h, w) boundary logits from the selected features."""
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.convs(x))

    def _stack_batch_gt(self, batch_data_samples) -> torch.Tensor:
        """(N, 1, H, W) boundary targets (see the class docstring)."""
        if self.boundary_source == 'sobel':
            seg = super()._stack_batch_gt(batch_data_samples)
            return sobel_boundary_target(seg[:, 0], self.ignore_index,
                                         self.sobel_threshold).unsqueeze(1)
        maps = []
        for sample in batch_data_samples:
            if 'gt_edge_map' not in sample:
                raise KeyError(
                    'BoundaryHead: the data samples have no gt_edge_map. Add '
                    "dict(type='GenerateSobelBoundary') to the train "
                    'pipeline (after the geometric transforms, before '
                    "PackSegInputs), or set boundary_source='sobel'.")
            maps.append(sample.gt_edge_map.data)
        return torch.stack(maps, dim=0).long()

    def loss_by_feat(self, seg_logits: torch.Tensor,
                     batch_data_samples: List) -> Dict[str, torch.Tensor]:
        """Every ``loss_decode`` entry on the logits resized to the target,
        plus ``acc_boundary``."""
        label = self._stack_batch_gt(batch_data_samples)
        logits = resize(
            seg_logits,
            size=label.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        label = label.squeeze(1)
        losses = dict()
        decode = self.loss_decode if isinstance(
            self.loss_decode, nn.ModuleList) else [self.loss_decode]
        for loss in decode:
            value = loss(logits, label, ignore_index=self.ignore_index)
            if loss.loss_name in losses:
                losses[loss.loss_name] = losses[loss.loss_name] + value
            else:
                losses[loss.loss_name] = value
        with torch.no_grad():
            valid = label != self.ignore_index
            hit = ((logits[:, 0] > 0) == (label == 1)) & valid
            losses['acc_boundary'] = 100.0 * hit.sum() / valid.sum().clamp(
                min=1)
        return losses
