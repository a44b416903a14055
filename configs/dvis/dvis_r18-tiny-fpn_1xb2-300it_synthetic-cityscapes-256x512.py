# Copyright (c) mmboundary contributors. All rights reserved.
# Compact DVIS on the synthetic Cityscapes instance data: a ResNet-18 with a
# quarter of the channels (16-128) + FPN-64, trained from scratch on CPU.
# Paper losses and window; differences from the paper configs, all for the
# tiny budget: a smaller verifier, train-time mean-shift with radii 3/5 and 2
# iterations, ground-truth masks added to the verifier's training candidates
# from the start, and connected components added at test time (the map of a
# briefly trained model does not yet separate every instance).
#
# Data: python tools/dataset_converters/generate_synthetic_cityscapes.py \
#           --out data/synthetic_cityscapes
#       python tools/dataset_converters/cityscapes.py data/synthetic_cityscapes
_base_ = [
    '../_base_/datasets/cityscapes_instance_256x512.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# ---- frequently modified parameters ----
data_root = 'data/synthetic_cityscapes/'
max_iters = 300
batch_size = 2
lr = 1e-3
num_classes = 8
channels = 64

norm_cfg = dict(type='BN', requires_grad=True)
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
        depth=18,
        base_channels=16,
        stem_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        type='FPN',
        in_channels=[16, 32, 64, 128],
        out_channels=channels,
        start_level=1,
        num_outs=3,
        upsample_cfg=dict(mode='bilinear')),
    mask_head=dict(
        type='DVISHead',
        num_classes=num_classes,
        in_channels=channels,
        feat_channels=channels,
        norm_cfg=norm_cfg,
        loss_binary=dict(type='DVISBinaryLoss', margin=2.0, loss_weight=10.0),
        loss_pi=dict(
            type='PermutationInvariantLoss',
            window=(129, 129),
            dense_radius=8,
            dilation=8,
            pair_mode='fg_fg',
            loss_weight=0.2),
        loss_ms=dict(type='MumfordShahLoss', loss_weight=0.1),
        loss_quant=dict(type='QuantizationLoss', loss_weight=0.5),
        discretizer=dict(
            type='MeanShiftDiscretizer',
            bandwidths=(0.4, 0.9),
            spatial_radii=(7, 11),
            num_keep=(40, 20),
            size_thr=(5, 20),
            split_components='both'),
        verify_head=dict(
            type='DVISVerifyHead',
            extractor_channels=channels,
            conv_channels=(32, 32, 64, 64),
            fc_channels=256,
            head_fc_channels=128,
            roi_size=10)),
    train_cfg=dict(
        add_gt_as_candidates=True,
        max_candidates=16,
        discretizer=dict(
            spatial_radii=(3, 5), num_iters=2, split_components=False)),
    test_cfg=dict(
        score_alpha=0.5,
        score_thr=0.05,
        mask_thr=0.5,
        nms=dict(kernel='gaussian', sigma=2.0, filter_thr=0.05, nms_pre=500),
        max_per_img=100))

# pipelines of the dataset base: RandomResize to 512x(200-256) and flips for
# training, 512x256 for testing
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='BoundaryAPMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric=['bbox', 'segm', 'boundary'])
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
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
custom_hooks = [dict(type='InstanceMaskCheckHook')]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
