# Copyright (c) mmboundary contributors. All rights reserved.
# Cityscapes baseline with 56x56 masks (paper Table 5): 28x28 mask RoIAlign
# features, x2 deconvolution to 56x56 logits, 56x56 targets. The COCO
# checkpoint still loads: conv weights do not depend on the RoI size. Compare
# with
# mask-rcnn-m56-ea-sobel-l2_r50-fpn_8xb1-64e_cityscapes-2048x1024.py.
_base_ = './mask-rcnn_r50-fpn_8xb1-64e_cityscapes-2048x1024.py'

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        mask_roi_extractor=dict(roi_layer=dict(output_size=28)),
        mask_head=dict(roi_feat_size=28)),
    train_cfg=dict(rcnn=dict(mask_size=56)))
