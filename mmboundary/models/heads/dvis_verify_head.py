# Copyright (c) mmboundary contributors. All rights reserved.
"""Verification head of DVIS (paper Sec. 4 "Classification and
Verification"; layer recipe of the official code's ``refineNet``).

Each candidate instance is described by RoIAlign features of the FPN level
P3 and the RoIAligned predicted map (turned into a soft membership of the
candidate); a small CNN classifies it into the semantic classes (plus
background) and regresses its IoU with the best-matching ground-truth
instance, as in Mask Scoring R-CNN.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmcv.ops import RoIAlign
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmboundary.registry import MMDET_MODELS
from mmboundary.utils.validation import (check_dict, check_int, check_number,
                                         check_sequence)

_MASK_INPUTS = ('soft', 'binary')


@MMDET_MODELS.register_module()
class DVISVerifyHead(BaseModule):
    """Classifies candidates and predicts their IoU (paper Sec. 4).

    Args:
        num_classes (int): C (class ``C`` is background, mmdet convention).
        in_channels (int): channels of the FPN feature (P3).
        roi_size (int): RoIAlign output size (14 in the official code).
        sampling_ratio (int): RoIAlign samples per bin side; 0 (default):
            adaptive, ``ceil(roi side / roi_size)`` on the feature map, as
            torchvision's default the official code uses, whose cost grows
            with the box (a box of the whole image on P3 of a 704x1344
            input takes 12 x 7 samples per bin); 2: Mask R-CNN's four
            regular locations per bin (He et al. 2017, Sec. 3), a fixed
            cost per candidate.
        featmap_stride (int): stride of the FPN feature.
        map_stride (int): stride of the predicted map.
        extractor_channels (int): channels of the conv after RoIAlign.
        conv_channels (Sequence[int]): conv1x1 then conv3x3 trunk widths.
        fc_channels (int): shared FC width.
        head_fc_channels (int): hidden FC width of the two outputs.
        mask_input (str): ``'soft'``: ``clamp(pi_margin - |v - mu|, 0)`` of
            the RoIAligned map (official code); ``'binary'``: the RoIAligned
            candidate mask (paper).
        pi_margin (float): margin of the soft membership.
        loss_cls (dict): classification loss (mmdet, softmax CE).
        loss_iou (dict): IoU regression loss (the paper's Huber function).
        init_cfg (dict, optional): defaults to Xavier-uniform.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 256,
                 roi_size: int = 14,
                 sampling_ratio: int = 0,
                 featmap_stride: int = 8,
                 map_stride: int = 4,
                 extractor_channels: int = 256,
                 conv_channels: Sequence[int] = (256, 256, 256, 512, 512),
                 fc_channels: int = 1024,
                 head_fc_channels: int = 512,
                 mask_input: str = 'soft',
                 pi_margin: float = 1.0,
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=False,
                     loss_weight=1.0),
                 loss_iou: dict = dict(
                     type='SmoothL1Loss', beta=0.1, loss_weight=1.0),
                 init_cfg: Optional[dict] = dict(
                     type='Xavier',
                     distribution='uniform',
                     layer=['Conv2d', 'Linear'])):
        name = 'DVISVerifyHead'
        positive = dict(
            num_classes=num_classes,
            in_channels=in_channels,
            roi_size=roi_size,
            featmap_stride=featmap_stride,
            map_stride=map_stride,
            extractor_channels=extractor_channels,
            fc_channels=fc_channels,
            head_fc_channels=head_fc_channels)
        for key, val in positive.items():
            check_int(val, key, name, low=1)
        check_int(sampling_ratio, 'sampling_ratio', name, low=0)
        check_sequence(conv_channels, 'conv_channels', name)
        for i, ch in enumerate(conv_channels):
            check_int(ch, f'conv_channels[{i}]', name, low=1)
        check_number(pi_margin, 'pi_margin', name, low=0, low_open=True)
        check_dict(loss_cls, 'loss_cls', name)
        check_dict(loss_iou, 'loss_iou', name)
        check_dict(init_cfg, 'init_cfg', name, optional=True, list_ok=True)
        super().__init__(init_cfg=init_cfg)
        if mask_input not in _MASK_INPUTS:
            raise ValueError(f'DVISVerifyHead: mask_input={mask_input!r} is '
                             f'not one of {_MASK_INPUTS}.')
        if roi_size < 2 or roi_size % 2:
            raise ValueError(f'DVISVerifyHead: roi_size={roi_size} must be '
                             'even and >= 2 (the trunk max-pools by 2).')
        if not conv_channels:
            raise ValueError('DVISVerifyHead: conv_channels must not be '
                             'empty.')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.extractor_channels = extractor_channels
        self.conv_channels = tuple(int(c) for c in conv_channels)
        self.fc_channels = fc_channels
        self.head_fc_channels = head_fc_channels
        self.roi_size = roi_size
        self.map_stride = map_stride
        self.mask_input = mask_input
        self.pi_margin = pi_margin
        self.feat_roi = RoIAlign(
            roi_size,
            spatial_scale=1.0 / featmap_stride,
            sampling_ratio=sampling_ratio,
            aligned=True)
        self.map_roi = RoIAlign(
            roi_size,
            spatial_scale=1.0 / map_stride,
            sampling_ratio=sampling_ratio,
            aligned=True)
        self.extractor = ConvModule(
            in_channels,
            extractor_channels,
            3,
            padding=1,
            norm_cfg=dict(type='BN'),
            act_cfg=None)
        act = dict(type='LeakyReLU', negative_slope=0.1)
        layers = []
        prev = extractor_channels + 1
        for i, ch in enumerate(conv_channels):
            k = 1 if i == 0 else 3
            layers.append(
                ConvModule(
                    prev,
                    ch,
                    k,
                    padding=k // 2,
                    act_cfg=act,
                    padding_mode='replicate' if k == 3 else 'zeros'))
            prev = ch
        self.trunk = nn.Sequential(*layers, nn.MaxPool2d(2))
        flat = prev * (roi_size // 2)**2
        self.fc = nn.Sequential(
            nn.Linear(flat, fc_channels), nn.LeakyReLU(0.1))
        self.cls_branch = nn.Sequential(
            nn.Linear(fc_channels, head_fc_channels), nn.LeakyReLU(0.1),
            nn.Linear(head_fc_channels, num_classes + 1))
        self.iou_branch = nn.Sequential(
            nn.Linear(fc_channels, head_fc_channels), nn.LeakyReLU(0.1),
            nn.Linear(head_fc_channels, 1), nn.ReLU())
        self.loss_cls = MMDET_MODELS.build(loss_cls)
        self.loss_iou = MMDET_MODELS.build(loss_iou)

    def macs_per_candidate(self) -> int:
        """Multiply-accumulates of the convs and FCs for one candidate.

        RoIAlign, BN, activations, max-pooling and biases are not counted
        (they are a few per output element, the MACs a few hundred). With
        ``r = roi_size``, ``E = extractor_channels``, trunk widths ``c_i``
        (``c_0 = E + 1``), ``F = fc_channels``, ``G = head_fc_channels``::

            r^2 (9 C_in E + (E + 1) c_1 + 9 sum_i c_i c_{i+1})
            + (r / 2)^2 c_last F + 2 F G + G (num_classes + 1) + G

        Returns:
            int: MACs per candidate (FLOPs are about twice as many).
        """
        area = self.roi_size**2
        macs = area * 9 * self.in_channels * self.extractor_channels
        prev = self.extractor_channels + 1
        for i, ch in enumerate(self.conv_channels):
            macs += area * (1 if i == 0 else 9) * prev * ch
            prev = ch
        macs += (self.roi_size // 2)**2 * prev * self.fc_channels
        macs += 2 * self.fc_channels * self.head_fc_channels
        macs += self.head_fc_channels * (self.num_classes + 1)
        macs += self.head_fc_channels  # IoU output
        return macs

    def forward(self,
                feat: Tensor,
                inst_map: Tensor,
                rois: Tensor,
                means: Tensor,
                cand_masks: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Args:
            feat (Tensor): (B, C, H / 8, W / 8) FPN feature.
            inst_map (Tensor): (B, 1, H / 4, W / 4) map after ReLU. It is
                detached here: the verifier never trains the map through
                this input.
            rois (Tensor): (N, 5) ``[b, x1, y1, x2, y2]`` in input pixels.
            means (Tensor): (N,) mean map value of each candidate.
            cand_masks (Tensor, optional): (N, H / 4, W / 4) candidate masks
                (needed for ``mask_input='binary'``).

        Returns:
            tuple[Tensor, Tensor]: class logits (N, C + 1) and IoU (N,).
        """
        rois = rois.to(feat.dtype)
        x = self.extractor(self.feat_roi(feat, rois))
        if self.mask_input == 'soft':
            v = self.map_roi(inst_map.detach().to(feat.dtype), rois)
            m = (self.pi_margin -
                 (v - means.detach().to(v.dtype).view(-1, 1, 1, 1)).abs()
                 ).clamp(min=0)
        else:
            if cand_masks is None:
                raise ValueError('DVISVerifyHead: mask_input="binary" needs '
                                 'cand_masks.')
            own = rois.clone()
            own[:, 0] = torch.arange(len(rois), device=rois.device)
            m = self.map_roi(cand_masks.detach()[:, None].to(feat.dtype), own)
        x = self.trunk(torch.cat([x, m], dim=1))
        x = self.fc(x.flatten(1))
        return self.cls_branch(x), self.iou_branch(x)[:, 0]

    def loss(self, cls_logits: Tensor, iou_pred: Tensor, labels: Tensor,
             iou_targets: Tensor, weights: Tensor) -> dict:
        """Weighted verifier losses, each ``sum w l / (sum w + 1e-4)``.

        Args:
            cls_logits (Tensor): (N, C + 1).
            iou_pred (Tensor): (N,).
            labels (Tensor): (N,) int64 in [0, C] (C = background).
            iou_targets (Tensor): (N,) best IoU with a GT instance.
            weights (Tensor): (N,) sample weights (0 = ignored).

        Returns:
            dict: ``loss_verify_cls`` and ``loss_verify_iou``.
        """
        avg = float(weights.sum()) + 1e-4
        return dict(
            loss_verify_cls=self.loss_cls(
                cls_logits, labels, weight=weights, avg_factor=avg),
            loss_verify_iou=self.loss_iou(
                iou_pred,
                iou_targets.to(iou_pred.dtype),
                weight=weights.to(iou_pred.dtype),
                avg_factor=avg))
