# Copyright (c) mmboundary contributors. All rights reserved.
# The official code's defaults (jia2lin3yuan1/2020-instanceSeg): binary
# margin 1, pair window 33x65 with dense radius 4, dilation 4 and the dense
# positive axes (118 offsets), every pixel a pair centre ('all'), replicate
# borders, |diff| clamped at 5, input 550, ImageNet-initialised backbone,
# the verifier at the widths of the code's refineNet (256-channel extractor,
# trunk 256/256/256/512/512, FC 1024, heads 512).
# Where the code has no counterpart (scoring, NMS) the main config's values
# are kept.
_base_ = './dvis_r50-fpn_1xb8-55e_coco-700.py'

img_scale = (550, 550)
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(init_cfg=None),
    mask_head=dict(
        loss_binary=dict(margin=1.0),
        loss_pi=dict(
            window=(33, 65),
            dense_radius=4,
            dilation=4,
            dense_axes=True,
            pair_mode='all',
            border='replicate',
            max_diff=5.0),
        verify_head=dict(
            sampling_ratio=0,  # torchvision's adaptive default
            extractor_channels=256,
            conv_channels=(256, 256, 256, 512, 512),
            fc_channels=1024,
            head_fc_channels=512)))
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
