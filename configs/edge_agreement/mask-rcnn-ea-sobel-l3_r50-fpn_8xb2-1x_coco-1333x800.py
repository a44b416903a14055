# Copyright (c) mmboundary contributors. All rights reserved.
# Edge Agreement Head, Sobel, L3 loss, alpha = 1 (paper Table 2).
# Baseline: mask-rcnn_r50-fpn_8xb2-1x_coco-1333x800.py.
_base_ = './mask-rcnn-ea-sobel-l2_r50-fpn_8xb2-1x_coco-1333x800.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(roi_head=dict(mask_head=dict(loss_edge=dict(p=3))))
