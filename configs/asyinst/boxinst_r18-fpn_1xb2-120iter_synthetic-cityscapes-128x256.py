# Copyright (c) mmboundary contributors. All rights reserved.
# Compact BoxInst on the synthetic Cityscapes data, the BoxInst row of the
# main job's instance table: the compact Mask R-CNN config (same data, 128x256
# images, batch 2, AdamW schedule, ResNet-18/FPN-64 backbone from scratch)
# with mmdet's BoxInst model (CondInst heads) trained from boxes only (read
# from the converter's instance JSON), the symmetric colour affinity
# (delta = gamma = 0, lambda_c = 1) warmed up over the first 50 of 120
# iterations (the paper's 10k of 24k). Compare with
# boxinst-proj_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py
# (projection loss only) and
# asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py.
#
# Data: python tools/dataset_converters/generate_synthetic_cityscapes.py \
#           --out data/synthetic_cityscapes
#       python tools/dataset_converters/cityscapes.py data/synthetic_cityscapes
_base_ = [
    '../edge_agreement/'
    'mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'
]

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# mmdet::boxinst/boxinst_r50_fpn_ms-90k_coco.py's model at the compact
# scale: the Mask R-CNN config's backbone, FPN channels and classes; mask
# stride 4 (the paper's 2 at full resolution; 4 keeps CPU runs short)
model = dict(
    _delete_=True,
    type='BoxInst',
    data_preprocessor=dict(
        type='AsyInstDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        mask_stride=4,
        pairwise_size=3,
        pairwise_dilation=2,
        pairwise_color_thresh=0.3,
        bottom_pixels_removed=10,
        depth_thresh=None),
    backbone=_base_.model.backbone,
    neck=dict(
        type='FPN',
        in_channels=_base_.model.neck.in_channels,
        out_channels=_base_.channels,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5,
        relu_before_extra_convs=True),
    bbox_head=dict(
        type='BoxInstBboxHead',
        num_params=169,  # 3 dynamic layers of 8 channels on 8 + 2 inputs
        num_classes=_base_.num_classes,
        in_channels=_base_.channels,
        stacked_convs=2,
        feat_channels=_base_.channels,
        strides=[8, 16, 32, 64, 128],
        norm_on_bbox=True,
        centerness_on_reg=True,
        dcn_on_last_conv=False,
        center_sampling=True,
        conv_bias=True,
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    mask_head=dict(
        type='AsyInstMaskHead',
        num_layers=3,
        feat_channels=8,
        size_of_interest=8,
        mask_out_stride=4,
        topk_masks_per_img=32,
        mask_feature_head=dict(
            in_channels=_base_.channels,
            feat_channels=32,
            start_level=0,
            end_level=2,
            out_channels=8,
            mask_stride=8,
            num_stacked_convs=2,
            norm_cfg=dict(type='BN', requires_grad=True)),
        loss_mask=dict(
            type='DiceLoss',
            use_sigmoid=True,
            activate=True,
            eps=5e-6,
            loss_weight=1.0),
        loss_color=dict(
            type='AsymmetricAffinityLoss',
            delta=0.0,
            gamma=0.0,
            loss_weight=1.0,
            loss_name='loss_mask_pairwise'),
        loss_depth=None),
    test_cfg=dict(
        nms_pre=500,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=50,
        mask_thr=0.5))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_color'],
        warmup_iters=50)
]

# the Mask R-CNN config's pipeline with box supervision only
train_pipeline = [
    _base_.train_pipeline[0],
    dict(type='LoadAnnotations', with_bbox=True),
    *_base_.train_pipeline[2:],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
