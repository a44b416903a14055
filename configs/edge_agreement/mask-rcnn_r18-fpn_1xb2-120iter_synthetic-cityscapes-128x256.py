# Copyright (c) mmboundary contributors. All rights reserved.
# Compact baseline on the synthetic Cityscapes instance data: a Mask R-CNN
# with a small ResNet-18/FPN-64 trained from scratch, small enough to train
# on a CPU in minutes. Compare with
# mask-rcnn-ea-sobel-l2_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py.
#
# Data: python tools/dataset_converters/generate_synthetic_cityscapes.py \
#           --out data/synthetic_cityscapes
#       python tools/dataset_converters/cityscapes.py data/synthetic_cityscapes
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/cityscapes_instance_256x512.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# ---- frequently modified parameters ----
data_root = 'data/synthetic_cityscapes/'
img_scale = (256, 128)  # (w, h): half of the 512x256 synthetic images
max_iters = 120
val_interval = 120
lr = 1e-3
num_classes = 8  # the 8 Cityscapes instance classes

channels = 64
model = dict(
    backbone=dict(
        depth=18,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(
            in_channels=channels, fc_out_channels=256,
            num_classes=num_classes),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(
            in_channels=channels,
            conv_out_channels=channels,
            num_classes=num_classes)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=250),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300), rcnn=dict(max_per_img=50)))

# Iteration-based training from the shared synthetic instance dataset
# (configs/_base_/datasets/cityscapes_instance_256x512.py) at half
# resolution (its pipelines with a fixed resize to img_scale); no worker
# processes, so runs stay light on a small CPU.
train_pipeline = [
    *_base_.train_pipeline[:2],
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    *_base_.train_pipeline[3:],
]
test_pipeline = [
    _base_.test_pipeline[0],
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    *_base_.test_pipeline[2:],
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# mask AP and Boundary AP (mmboundary's BoundaryAPMetric) side by side
val_evaluator = dict(
    type='BoundaryAPMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric=['bbox', 'segm', 'boundary'])
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
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
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=2)
