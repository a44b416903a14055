# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS detector: backbone + FPN + :class:`DVISHead` (Yuan, Chen and Li,
NeurIPS 2020)."""
from typing import Optional

from mmdet.models.detectors.single_stage_instance_seg import \
    SingleStageInstanceSegmentor
from mmdet.structures import SampleList
from torch import Tensor

from mmboundary.registry import MMDET_MODELS
from mmboundary.utils.validation import check_dict


@MMDET_MODELS.register_module()
class DVIS(SingleStageInstanceSegmentor):
    """Deep Variational Instance Segmentation as an mmdet detector.

    A single-stage instance segmentor without box head (like mmdet's SOLO):
    ``mask_head`` is a :class:`DVISHead`, which predicts the instance-label
    map, trains on the losses of paper Sec. 3.3 and its verifier, and
    returns ``InstanceData`` predictions.

    Raises ValueError at build time when a box head is given or when the
    data pre-processor pads to a size the map stride does not divide.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 bbox_head: Optional[dict] = None,
                 mask_head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        check_dict(backbone, 'backbone', 'DVIS')
        optional = dict(
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        for key, val in optional.items():
            check_dict(val, key, 'DVIS', optional=True)
        check_dict(init_cfg, 'init_cfg', 'DVIS', optional=True, list_ok=True)
        if bbox_head is not None:
            raise ValueError('DVIS: bbox_head must be None; candidates come '
                             'from the mean-shift discretiser of mask_head.')
        if not mask_head:
            raise ValueError("DVIS: give mask_head=dict(type='DVISHead', "
                             '...).')
        check_dict(mask_head, 'mask_head', 'DVIS')
        divisor = (data_preprocessor or {}).get('pad_size_divisor', 1)
        fstride = mask_head.get('featmap_stride', 8)
        if divisor % fstride:
            raise ValueError(
                f"DVIS: data_preprocessor['pad_size_divisor']={divisor} is "
                f'not a multiple of the map branch stride {fstride}, so the '
                'map stride would not divide the padded image; set '
                'pad_size_divisor=32.')
        super().__init__(
            backbone=backbone,
            neck=neck,
            bbox_head=None,
            mask_head=mask_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True,
                **kwargs) -> SampleList:
        """mmdet's ``predict``; a batch of zero-size images (no pixel to
        run the backbone on) gets empty predictions instead of a
        convolution error.

        Returns:
            list[DetDataSample]: with ``pred_instances``.
        """
        if 0 in batch_inputs.shape[-2:]:
            results = [
                self.mask_head._empty(s.metainfo, rescale, batch_inputs.device)
                for s in batch_data_samples
            ]
            return self.add_pred_to_datasample(batch_data_samples, results)
        return super().predict(
            batch_inputs, batch_data_samples, rescale=rescale, **kwargs)
