# Copyright (c) mmboundary contributors. All rights reserved.
# Baseline of the Edge Agreement experiments: mmdet's Mask R-CNN R50-FPN 1x
# COCO, unchanged (28x28 masks, mask BCE only). Compare with
# mask-rcnn-ea-*_r50-fpn_8xb2-1x_coco-1333x800.py.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)
