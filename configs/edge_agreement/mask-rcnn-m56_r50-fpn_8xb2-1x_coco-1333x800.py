# Copyright (c) mmboundary contributors. All rights reserved.
# Baseline with 56x56 masks (paper Table 3). The mask RoIAlign outputs 28x28
# features and the head's x2 deconvolution gives 56x56 logits; the targets
# are cropped at 56x56 (train_cfg.rcnn.mask_size).
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        mask_roi_extractor=dict(roi_layer=dict(output_size=28)),
        mask_head=dict(roi_feat_size=28)),
    train_cfg=dict(rcnn=dict(mask_size=56)))
