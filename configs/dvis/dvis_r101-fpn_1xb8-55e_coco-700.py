# Copyright (c) mmboundary contributors. All rights reserved.
# DVIS-700, ResNet-101 (paper Tables 3/4: 35.3 mask AP on val2017, 32.7 on
# test-dev); otherwise as the R50 config.
_base_ = './dvis_r50-fpn_1xb8-55e_coco-700.py'

init_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/' \
    'mask_rcnn_r101_fpn_1x_coco/' \
    'mask_rcnn_r101_fpn_1x_coco_20200204-1efe0ed5.pth'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.', checkpoint=init_ckpt)),
    neck=dict(
        init_cfg=dict(type='Pretrained', prefix='neck.',
                      checkpoint=init_ckpt)))
