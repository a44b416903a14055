# Copyright (c) mmboundary contributors. All rights reserved.
# Cityscapes baseline of paper Table 5 (28x28 masks): mmdet's Mask R-CNN
# R50-FPN Cityscapes recipe unchanged (8 GPUs x 1 image, 8 epochs of an 8x
# repeated dataset, initialised from COCO). Compare with
# mask-rcnn-ea-sobel-l2_r50-fpn_8xb1-64e_cityscapes-2048x1024.py.
_base_ = 'mmdet::cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)
