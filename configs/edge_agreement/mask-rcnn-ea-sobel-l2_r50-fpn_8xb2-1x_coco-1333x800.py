# Copyright (c) mmboundary contributors. All rights reserved.
# Edge Agreement Head, the paper's best setting: Sobel filters, L2 loss,
# alpha = 1, 28x28 masks (Zimmermann and Siems, Tables 1-3 "Sobel"/"L2").
# Baseline: mask-rcnn_r50-fpn_8xb2-1x_coco-1333x800.py.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# ---- frequently modified parameters ----
edge_filters = ['sobel']  # any of sobel/prewitt/kayyali/roberts/laplace(8)
edge_p = 2  # L_p exponent (paper eq. 5)
edge_weight = 1.0  # the paper's alpha

model = dict(
    roi_head=dict(
        mask_head=dict(
            type='EdgeAgreementMaskHead',
            loss_edge=dict(
                type='EdgeAgreementLoss',
                filters=edge_filters,
                p=edge_p,
                loss_weight=edge_weight))))
