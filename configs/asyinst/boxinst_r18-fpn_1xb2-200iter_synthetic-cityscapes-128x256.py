# Copyright (c) mmboundary contributors. All rights reserved.
# Compact BoxInst on the synthetic Cityscapes data: mmdet's BoxInst with a
# ResNet-18/FPN-64 trained from scratch on 128x256 images from boxes only
# (read from the converter's instance JSON), the symmetric colour affinity
# (delta = gamma = 0, lambda_c = 1) warmed up over the first 80 of 200
# iterations (the paper's 10k of 24k). Small enough to train and test on a
# CPU in a few minutes. Compare with
# boxinst-proj_r18-fpn_1xb2-200iter_synthetic-cityscapes-128x256.py
# (projection loss only) and
# asyinst_r18-fpn_1xb2-200iter_synthetic-cityscapes-128x256.py.
#
# Data: python tools/dataset_converters/generate_synthetic_cityscapes.py \
#           --out data/synthetic_cityscapes
#       python tools/dataset_converters/cityscapes.py data/synthetic_cityscapes
_base_ = ['mmdet::boxinst/boxinst_r50_fpn_ms-90k_coco.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# ---- frequently modified parameters ----
data_root = 'data/synthetic_cityscapes/'
img_scale = (256, 128)  # (w, h): half of the 512x256 synthetic images
max_iters = 200
warmup_iters = 80
lr = 1e-3
num_classes = 8
mask_stride = 4  # the paper's 2 at full resolution; 4 keeps CPU runs short

channels = 64
model = dict(
    data_preprocessor=dict(
        type='AsyInstDataPreprocessor',
        mask_stride=mask_stride,
        depth_thresh=None),
    backbone=dict(
        depth=18,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    bbox_head=dict(
        num_classes=num_classes,
        in_channels=channels,
        feat_channels=channels,
        stacked_convs=2,
        num_params=169),  # 3 dynamic layers of 8 channels on 8 + 2 inputs
    mask_head=dict(
        type='AsyInstMaskHead',
        feat_channels=8,
        mask_out_stride=mask_stride,
        topk_masks_per_img=32,
        mask_feature_head=dict(
            in_channels=channels,
            feat_channels=32,
            out_channels=8,
            num_stacked_convs=2),
        loss_color=dict(
            type='AsymmetricAffinityLoss',
            delta=0.0,
            gamma=0.0,
            loss_weight=1.0,
            loss_name='loss_mask_pairwise'),
        loss_depth=None),
    test_cfg=dict(nms_pre=500, max_per_img=50))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_color'],
        warmup_iters=warmup_iters)
]

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),  # box supervision only
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
    _delete_=True,
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='CityscapesDataset',
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesDataset',
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/'),
        test_mode=True,
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mask AP and Boundary AP (mmboundary's BoundaryAPMetric) side by side
val_evaluator = dict(
    _delete_=True,
    type='BoundaryAPMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric=['bbox', 'segm', 'boundary'])
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[int(max_iters * 0.8)],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=2)
