# Copyright (c) mmboundary contributors. All rights reserved.
# Compact Edge Agreement Mask R-CNN (Sobel, L2, alpha = 1) on the synthetic
# Cityscapes instance data; trains on a CPU. Baseline:
# mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py.
_base_ = './mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'

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
