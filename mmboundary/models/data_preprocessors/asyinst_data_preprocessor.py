# Copyright (c) mmboundary contributors. All rights reserved.
"""Box masks, colour and depth-gradient edges for BoxInst/AsyInst, batched.

A drop-in for mmdet 3.3's ``BoxInstDataPreprocessor`` that computes the
colour affinity batched on the model's device with a torch Lab conversion
(no scikit-image, no per-image host round trip), and optionally AsyInst's
depth-gradient affinity (paper Sec. 3.1, eq. 1) from the depth map that
``LoadCityscapesDepth`` + ``AlignDepth`` put through the pipeline.
"""
import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.structures.mask import BitmapMasks
from mmengine.model import ImgDataPreprocessor

from mmboundary.models.utils.affinity import (color_affinity,
                                              depth_grad_affinity,
                                              downsample_depth,
                                              srgb_bytes_to_lab)
from mmboundary.registry import MMDET_MODELS
from mmboundary.utils.validation import check_int, check_number, check_str

__all__ = ['AsyInstDataPreprocessor']


class _BatchedNormalize(ImgDataPreprocessor):
    """mmengine's ``ImgDataPreprocessor.forward`` for lists of uint8
    (3, H, W) images, writing each normalised image straight into the padded
    batch: the same operations per pixel (``(float(x) - mean) / std``, pad
    value outside), so the same values, in two passes instead of six. Any
    other input goes to mmengine's implementation.

    It sits between ``DetDataPreprocessor`` and ``ImgDataPreprocessor`` in
    :class:`AsyInstDataPreprocessor`'s MRO, so ``DetDataPreprocessor.forward``
    (metainfo, box types, batch augments) is unchanged.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalise and pad a batch (see the class doc)."""
        data = self.cast_data(data)
        images = data['inputs']
        if not (self._enable_normalize and self.mean.shape[0] == 3
                and isinstance(images, (list, tuple)) and images and all(
                    isinstance(t, torch.Tensor) and t.dtype == torch.uint8
                    and t.dim() == 3 and t.shape[0] == 3 for t in images)):
            return super().forward(data, training)
        div = self.pad_size_divisor
        b_h = math.ceil(max(t.shape[1] for t in images) / div) * div
        b_w = math.ceil(max(t.shape[2] for t in images) / div) * div
        batch = images[0].new_empty((len(images), 3, b_h, b_w),
                                    dtype=torch.float32)
        for i, img in enumerate(images):
            h, w = img.shape[1:]
            view = batch[i, :, :h, :w]
            for c in range(3):  # uint8 -> float32, exact as .float()
                view[c].copy_(img[2 - c if self._channel_conversion else c])
            view.sub_(self.mean).div_(self.std)
            batch[i, :, h:, :] = self.pad_value
            batch[i, :, :h, w:] = self.pad_value
        data['inputs'] = batch
        data.setdefault('data_samples', None)
        return data


@MMDET_MODELS.register_module()
class AsyInstDataPreprocessor(DetDataPreprocessor, _BatchedNormalize):
    """BoxInst pseudo-mask preprocessor with an optional depth affinity.

    In training, for every image of the batch (padded to ``(Hb, Wb)``; the
    mask grid is ``(h, w) = (Hb / s, Wb / s)``):

    * image validity: 1 inside ``img_shape`` except the bottom
      ``int(bottom_pixels_removed * img_h / Hb)`` rows (mmdet's rule),
      sampled at ``[s // 2::s, s // 2::s]``;
    * colour edges: de-normalise, ``avg_pool2d`` by ``s``, truncate to
      bytes (as mmdet's ``.byte()``), :func:`rgb_to_lab`, then
      :func:`color_affinity` with ``pairwise_color_thresh``: the same
      ``pairwise_masks`` as mmdet's ``BoxInstDataPreprocessor``;
    * depth edges (``depth_thresh`` set): the (H, W) depth of
      ``metainfo[depth_key]`` (metres, 0 = invalid, shape ``img_shape``),
      times ``depth_scale``, invalidated on padding and removed rows,
      averaged over ``s x s`` cells made only of valid pixels
      (:func:`downsample_depth`), then :func:`depth_grad_affinity`;
    * box masks: 1 on ``[int(y1):int(y2 + 1), int(x1):int(x2 + 1)]``, as
      mmdet (uint8 ``BitmapMasks`` of the padded size).

    Added to each ``data_sample.gt_instances``: ``masks`` (N, Hb, Wb),
    ``pairwise_masks`` (N, K**2 - 1, h, w) and, with depth,
    ``depth_pairwise_masks`` (N, K**2 - 1, h, w). The edge tensors are
    broadcast views of one per-image map.

    Args:
        mask_stride (int): s; equal to the mask head's ``mask_out_stride``
            and dividing ``pad_size_divisor``. Defaults to 4.
        pairwise_size (int): K. Defaults to 3.
        pairwise_dilation (int): D. Defaults to 2.
        pairwise_color_thresh (float): tau_c. Defaults to 0.3.
        bottom_pixels_removed (int): Defaults to 10 (BoxInst).
        depth_thresh (float, optional): tau_d of eq. 1 in the unit of
            ``depth * depth_scale``; None (default) disables depth.
        depth_key (str): metainfo key of the depth map. Defaults to
            'gt_depth_map' (list it in ``PackDetInputs(meta_keys=...)``).
        depth_scale (float): factor applied to depth. Defaults to 1.
        **kwargs: ``DetDataPreprocessor`` arguments; ``mean`` and ``std``
            are required (the colour term de-normalises).
    """

    def __init__(self,
                 *args,
                 mask_stride: int = 4,
                 pairwise_size: int = 3,
                 pairwise_dilation: int = 2,
                 pairwise_color_thresh: float = 0.3,
                 bottom_pixels_removed: int = 10,
                 depth_thresh: Optional[float] = None,
                 depth_key: str = 'gt_depth_map',
                 depth_scale: float = 1.0,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self._enable_normalize:
            raise ValueError('AsyInstDataPreprocessor needs mean and std '
                             '(the colour affinity de-normalises the image), '
                             'e.g. mean=[123.675, 116.28, 103.53], '
                             'std=[58.395, 57.12, 57.375]')
        owner = 'AsyInstDataPreprocessor'
        mask_stride = check_int(mask_stride, 'mask_stride', owner, low=1)
        if self.pad_size_divisor % mask_stride:
            raise ValueError(
                f'{owner}: pad_size_divisor={self.pad_size_divisor} is not a '
                f'multiple of `mask_stride`={mask_stride}: the mask grid '
                'would not tile the padded batch; use pad_size_divisor=32')
        pairwise_size = check_int(pairwise_size, 'pairwise_size', owner, low=3)
        if pairwise_size % 2 == 0:
            raise ValueError(f'{owner}: `pairwise_size` must be odd (a '
                             f'centred K x K neighbourhood), got '
                             f'{pairwise_size}')
        pairwise_dilation = check_int(
            pairwise_dilation, 'pairwise_dilation', owner, low=1)
        pairwise_color_thresh = check_number(
            pairwise_color_thresh,
            'pairwise_color_thresh',
            owner,
            low=0,
            high=1)
        bottom_pixels_removed = check_int(
            bottom_pixels_removed, 'bottom_pixels_removed', owner, low=0)
        depth_thresh = check_number(
            depth_thresh, 'depth_thresh', owner, low=0, optional=True)
        check_str(depth_key, 'depth_key', owner)
        depth_scale = check_number(
            depth_scale, 'depth_scale', owner, low=0, low_open=True)
        if depth_thresh is not None and pairwise_dilation % 2:
            raise ValueError(
                f'pairwise_dilation={pairwise_dilation} is odd: the '
                'depth-gradient affinity (eq. 1) needs the edge '
                'midpoint; use an even dilation (2) or depth_thresh=None')
        self.mask_stride = int(mask_stride)
        self.pairwise_size = int(pairwise_size)
        self.pairwise_dilation = int(pairwise_dilation)
        self.pairwise_color_thresh = float(pairwise_color_thresh)
        self.bottom_pixels_removed = int(bottom_pixels_removed)
        self.depth_thresh = depth_thresh
        self.depth_key = depth_key
        self.depth_scale = float(depth_scale)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalise and pad, then add box masks and edge masks (training).

        Args:
            data (dict): ``inputs`` and ``data_samples`` from the loader.
            training (bool): whether to add the training targets.

        Returns:
            dict: ``inputs`` (B, 3, Hb, Wb) and the ``data_samples``.
        """
        # the depth maps skip cast_data's deep copy of every metainfo (the
        # same arrays are put back on the input and the output samples)
        samples_in = (data.get('data_samples') or []) if training and \
            self.depth_thresh is not None else []
        maps = [
            sample.metainfo.get(self.depth_key, None) for sample in samples_in
        ]
        for sample, value in zip(samples_in, maps):
            if value is not None:
                delattr(sample, self.depth_key)
        try:
            det_data = super().forward(data, training)
        finally:
            for sample, value in zip(samples_in, maps):
                if value is not None:
                    sample.set_field(
                        value, self.depth_key, field_type='metainfo')
        inputs, data_samples = det_data['inputs'], det_data['data_samples']
        for sample, value in zip(data_samples if maps else [], maps):
            if value is not None:
                sample.set_field(value, self.depth_key, field_type='metainfo')
        if not training:
            return det_data
        b_h, b_w = inputs.shape[-2:]
        s = self.mask_stride
        k_size, dil = self.pairwise_size, self.pairwise_dilation

        # image validity (mmdet's rule), at full resolution only for depth;
        # on the mask grid it is the same mask sampled at [s // 2::s]
        limits = []
        for sample in data_samples:
            img_h, img_w = sample.img_shape[:2]
            removed = int(self.bottom_pixels_removed * float(img_h) /
                          float(b_h))
            limits.append((img_h - removed if removed > 0 else img_h, img_w))
        limits = torch.tensor(limits, device=inputs.device)
        start = s // 2
        img_mask = self._valid_mask(limits, b_h, b_w, start, s)
        img_mask = img_mask.to(inputs.dtype)

        ori = torch.mul(inputs, self.std).add_(self.mean)
        pooled = F.avg_pool2d(ori.float(), kernel_size=s, stride=s).byte()
        lab = srgb_bytes_to_lab(pooled).float()
        color = color_affinity(lab, img_mask, k_size, dil,
                               self.pairwise_color_thresh)

        depth_edges = None
        if self.depth_thresh is not None:
            depth_s, valid_s = self._depth_on_grid(data_samples, inputs,
                                                   limits)
            depth_edges = depth_grad_affinity(depth_s, valid_s, k_size, dil,
                                              self.depth_thresh)

        for i, sample in enumerate(data_samples):
            gt = sample.gt_instances
            if 'bboxes' not in gt:
                raise KeyError(
                    'AsyInstDataPreprocessor: data_sample.gt_instances has '
                    "no 'bboxes' (box supervision); load them with "
                    "LoadAnnotations(with_bbox=True) from an annotation file "
                    'with boxes')
            boxes = gt.bboxes
            boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
            boxes = boxes.detach().cpu().numpy()
            masks = np.zeros((len(boxes), b_h, b_w), dtype=np.uint8)
            for j, (x1, y1, x2, y2) in enumerate(boxes):
                masks[j, int(y1):int(y2 + 1), int(x1):int(x2 + 1)] = 1
            # BitmapMasks(masks) would np.stack (copy) the finished array
            box_masks = BitmapMasks(masks[:0], b_h, b_w)
            box_masks.masks = masks
            gt.masks = box_masks
            n = len(boxes)
            gt.pairwise_masks = color[i:i + 1].expand(n, -1, -1, -1)
            if depth_edges is not None:
                gt.depth_pairwise_masks = depth_edges[i:i + 1].expand(
                    n, -1, -1, -1)
        return {'inputs': inputs, 'data_samples': data_samples}

    @staticmethod
    def _valid_mask(limits: torch.Tensor, b_h: int, b_w: int, start: int,
                    step: int) -> torch.Tensor:
        """(B, 1, h, w) bool: pixel (start + step * r, start + step * c)
        lies above row ``limits[:, 0]`` and left of column ``limits[:, 1]``.
        """
        rows = torch.arange(start, b_h, step, device=limits.device)
        cols = torch.arange(start, b_w, step, device=limits.device)
        mask = ((rows[None, :, None] < limits[:, 0, None, None]) &
                (cols[None, None, :] < limits[:, 1, None, None]))
        return mask[:, None]

    def _depth_on_grid(self, data_samples, inputs: torch.Tensor,
                       limits: torch.Tensor):
        """(B, 1, h, w) depth on the mask grid and its bool validity.

        A cell is valid iff all its ``s x s`` pixels have valid depth and
        lie inside the image mask (above ``limits[i, 0]``, left of
        ``limits[i, 1]``), so only the cells of the top-left
        ``(limit_h // s, limit_w // s)`` block of each image can be valid:
        :func:`downsample_depth` runs on that crop of the map as loaded
        (no padded full-resolution copy, no full-resolution image mask)
        and gives the values it gives on the padded, masked batch.
        """
        s = self.mask_stride
        b, _, b_h, b_w = inputs.shape
        depth_s = inputs.new_zeros((b, 1, b_h // s, b_w // s))
        valid_s = torch.zeros_like(depth_s, dtype=torch.bool)
        for i, sample in enumerate(data_samples):
            value = sample.metainfo.get(self.depth_key, None)
            if value is None:
                raise KeyError(
                    f'AsyInstDataPreprocessor: depth_thresh is set but the '
                    f'data sample has no {self.depth_key!r}; add '
                    "dict(type='LoadCityscapesDepth') and wrap the geometric "
                    "transforms in dict(type='AlignDepth', transforms=[...]) "
                    "(or put dict(type='ResizeFlipDepth') after them) in the "
                    f'train pipeline, and list {self.depth_key!r} in '
                    'PackDetInputs(meta_keys=...); or set depth_thresh=None')
            value = torch.as_tensor(value, dtype=torch.float32)
            img_shape = tuple(sample.img_shape[:2])
            if tuple(value.shape) != img_shape:
                raise ValueError(
                    f'AsyInstDataPreprocessor: {self.depth_key} has shape '
                    f'{tuple(value.shape)} but the image has {img_shape}; '
                    'the depth map must follow the image through every '
                    'geometric transform: wrap them (Resize, RandomFlip, '
                    "RandomCrop) in dict(type='AlignDepth', transforms=...)")
            rows, cols = (int(v) // s for v in limits[i])
            if rows == 0 or cols == 0:
                continue
            crop = value[:rows * s, :cols * s].to(inputs.device)
            if self.depth_scale != 1.0:
                crop = crop * self.depth_scale
            d, v = downsample_depth(crop[None, None], s)
            depth_s[i, :, :rows, :cols] = d[0]
            valid_s[i, :, :rows, :cols] = v[0]
        return depth_s, valid_s
