# Copyright (c) mmboundary contributors. All rights reserved.
# BoxInst on Cityscapes with the AsyInst paper's recipe (Sec. 6.1; Table 1
# "Baseline (BoxInst)", 21.145 AP): mmdet's BoxInst R50-FPN with boxes only,
# 8 GPUs x 1 image, 24k iterations, SGD lr 0.01 (x0.1 at 18k), 512x1024
# random crops then random scaling and flipping, mask output stride 2, the
# symmetric colour affinity (delta = gamma = 0) with lambda_c warmed up
# linearly over the first 10k iterations.
#
# The mask head is mmboundary's AsyInstMaskHead with the symmetric colour
# term, which equals mmdet's BoxInstMaskHead exactly (see
# tests/test_models/test_heads/test_asyinst_mask_head.py), and the
# preprocessor is AsyInstDataPreprocessor (the same pairwise masks as mmdet's
# BoxInstDataPreprocessor, computed batched in torch). Every config of this
# folder without a depth term inherits this one and changes only the losses.
#
# Data: tools/dataset_converters/cityscapes.py data/cityscapes (boxes are read
# from the converter's instance JSON; the masks there are used for
# evaluation only).
_base_ = ['mmdet::boxinst/boxinst_r50_fpn_ms-90k_coco.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# ---- frequently modified parameters ----
data_root = 'data/cityscapes/'
num_classes = 8
mask_stride = 2  # "the stride of output segmentation masks is set to 2"
max_iters = 24000
warmup_iters = 10000  # lambda warm-up (Sec. 6.1)
crop_size = (1024, 512)  # (w, h): "randomly cropped to half size"

model = dict(
    data_preprocessor=dict(
        type='AsyInstDataPreprocessor',
        mask_stride=mask_stride,
        depth_thresh=None),
    # Detectron2 default: stem + res2 frozen, BN frozen (paper Sec. 6.1)
    backbone=dict(
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True),
    bbox_head=dict(num_classes=num_classes),
    mask_head=dict(
        type='AsyInstMaskHead',
        mask_out_stride=mask_stride,
        loss_color=dict(
            type='AsymmetricAffinityLoss',
            delta=0.0,
            gamma=0.0,
            loss_weight=1.0,
            loss_name='loss_mask_pairwise'),
        loss_depth=None))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_color'],
        warmup_iters=warmup_iters)
]

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),  # box supervision only
    # Detectron2's order: crop, then scale (short side 800-1024), then flip
    dict(type='RandomCrop', crop_type='absolute', crop_size=crop_size),
    dict(
        type='RandomChoiceResize',
        scales=[(2048, s) for s in range(800, 1025, 32)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='CityscapesDataset',
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesDataset',
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/'),
        test_mode=True,
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
# the paper's AP is cityscapesScripts' (CityScapesMetric); COCO-style mask
# AP and Boundary AP are reported beside it
val_evaluator = [
    dict(
        type='BoundaryAPMetric',
        ann_file=data_root +
        'annotations/instancesonly_filtered_gtFine_val.json',
        metric=['bbox', 'segm', 'boundary'],
        backend_args=backend_args),
    dict(
        type='CityScapesMetric',
        seg_prefix=data_root + 'gtFine/val',
        outfile_prefix='./work_dirs/cityscapes_metric/asyinst',
        backend_args=backend_args)
]
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=8000)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[18000],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=8000))
