# Copyright (c) mmboundary contributors. All rights reserved.
# The compact Edge Agreement Mask R-CNN with its edge loss warmed up linearly
# from 0 to alpha = 1 over the first 60 iterations.
_base_ = [
    '../../../configs/edge_agreement/mask-rcnn-ea-sobel-l2_r18-fpn_'
    '1xb2-120iter_synthetic-cityscapes-128x256.py'
]
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

custom_hooks = [
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['roi_head.mask_head.loss_edge.0'],
        warmup_iters=60,
        start_factor=0.0)
]
