# Copyright (c) mmboundary contributors. All rights reserved.
# Edge Agreement Head, Sobel, L4 loss scaled by alpha = 1/16 (paper Table 2
# and Sec. 5.3: 1/16 is about the L2/L4 loss ratio early in training).
# Baseline: mask-rcnn_r50-fpn_8xb2-1x_coco-1333x800.py.
_base_ = './mask-rcnn-ea-sobel-l2_r50-fpn_8xb2-1x_coco-1333x800.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    roi_head=dict(mask_head=dict(loss_edge=dict(p=4, loss_weight=1 / 16))))
