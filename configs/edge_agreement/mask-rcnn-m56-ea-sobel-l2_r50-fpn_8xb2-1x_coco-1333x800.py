# Copyright (c) mmboundary contributors. All rights reserved.
# Edge Agreement Head (Sobel, L2, alpha = 1) with 56x56 masks (paper
# Table 3). Baseline: mask-rcnn-m56_r50-fpn_8xb2-1x_coco-1333x800.py.
_base_ = './mask-rcnn-m56_r50-fpn_8xb2-1x_coco-1333x800.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        mask_head=dict(
            type='EdgeAgreementMaskHead',
            loss_edge=dict(
                type='EdgeAgreementLoss',
                filters=['sobel'],
                p=2,
                loss_weight=1.0))))
