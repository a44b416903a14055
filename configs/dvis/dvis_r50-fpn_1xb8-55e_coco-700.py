# Copyright (c) mmboundary contributors. All rights reserved.
# DVIS-700, ResNet-50 (paper Tables 3/4: 32.6 mask AP on val2017, 30.3 on
# test-dev). Paper values where the paper states them (binary margin 2,
# window 129 with dense radius 8 and dilation 8, pairs on instances only,
# mean-shift bandwidths 0.4/0.9, short edge 700), the official code's values
# where it is silent (loss weights 10/0.2/0.1/0.5, verifier recipe);
# mmdet's YOLACT schedule (the official code's parent). Backbone and FPN
# start from mmdet's COCO Mask R-CNN (the paper: "object-detection weights
# on COCO").
_base_ = [
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# ---- frequently modified parameters ----
num_classes = 80
depth = 50
max_epochs = 55
lr = 1e-3
img_scale = (1333, 700)  # short edge 700, long edge at most 1333
init_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/' \
    'mask_rcnn_r50_fpn_1x_coco/' \
    'mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth'

model = dict(
    type='DVIS',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True),
    backbone=dict(
        type='ResNet',
        depth=depth,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', prefix='backbone.', checkpoint=init_ckpt)),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,  # P3 (stride 8) ... P5
        num_outs=3,
        upsample_cfg=dict(mode='bilinear'),
        init_cfg=dict(type='Pretrained', prefix='neck.',
                      checkpoint=init_ckpt)),
    mask_head=dict(
        type='DVISHead',
        num_classes=num_classes,
        in_channels=256,
        feat_channels=256,
        in_index=0,  # P3; map at stride 4 after the x2 decoder
        loss_binary=dict(type='DVISBinaryLoss', margin=2.0, loss_weight=10.0),
        loss_pi=dict(
            type='PermutationInvariantLoss',
            window=(129, 129),
            dense_radius=8,
            dilation=8,
            pair_mode='fg_fg',
            border='valid',
            loss_weight=0.2),
        loss_ms=dict(type='MumfordShahLoss', loss_weight=0.1),
        loss_quant=dict(type='QuantizationLoss', loss_weight=0.5),
        discretizer=dict(
            type='MeanShiftDiscretizer',
            bandwidths=(0.4, 0.9),
            spatial_radii=(7, 11),
            num_keep=(40, 20),
            size_thr=(5, 20)),
        verify_head=dict(type='DVISVerifyHead', roi_size=14)),
    train_cfg=dict(
        pos_iou_thr=0.2,
        neg_iou_thr=0.1,
        pos_weight=2.0,
        add_gt_as_candidates=False,
        max_candidates=128),
    test_cfg=dict(
        score_alpha=0.5,
        score_thr=0.05,
        mask_thr=0.5,
        nms=dict(kernel='gaussian', sigma=2.0, filter_thr=0.05, nms_pre=500),
        max_per_img=100))

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
train_dataloader = dict(
    batch_size=8, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# mask AP and Boundary AP side by side
val_evaluator = dict(
    type='BoundaryAPMetric',
    ann_file='data/coco/annotations/instances_val2017.json',
    metric=['bbox', 'segm', 'boundary'])
test_evaluator = val_evaluator

# mmdet's YOLACT recipe (SGD, 55 epochs), gradient clipping as a safety net
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[20, 42, 49, 52],
        gamma=0.1)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [dict(type='InstanceMaskCheckHook')]
# DVIS reads FPN P3 only: the output convs of P4 and P5 get no gradient
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
auto_scale_lr = dict(enable=False, base_batch_size=8)
