auto_scale_lr = dict(base_batch_size=2, enable=False)
backend_args = None
channels = 64
custom_hooks = [
    dict(type='AsyInstCheckHook'),
    dict(
        loss_paths=[
            'mask_head.loss_color',
            'mask_head.loss_depth',
        ],
        type='LossWeightWarmupHook',
        warmup_iters=125),
    dict(type='RandomStateHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'mmboundary',
    ])
data_root = 'data/synthetic_cityscapes/'
dataset_type = 'CityscapesDataset'
default_hooks = dict(
    checkpoint=dict(
        _scope_='mmdet', by_epoch=False, interval=300, type='CheckpointHook'),
    logger=dict(_scope_='mmdet', interval=10, type='LoggerHook'),
    param_scheduler=dict(_scope_='mmdet', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmdet', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmdet', type='IterTimerHook'),
    visualization=dict(_scope_='mmdet', type='DetVisualizationHook'))
default_scope = 'mmdet'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
img_scale = (
    256,
    128,
)
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(
    _scope_='mmdet', by_epoch=False, type='LogProcessor', window_size=50)
lr = 0.001
max_iters = 120
model = dict(
    backbone=dict(
        avg_down=False,
        base_channels=16,
        deep_stem=True,
        depth=18,
        dilations=(
            1,
            1,
            1,
        ),
        frozen_stages=-1,
        init_cfg=dict(
            checkpoint='work_dirs/main_job_start/segmentor.pth',
            prefix='backbone.',
            type='Pretrained'),
        norm_cfg=dict(requires_grad=True, type='BN'),
        norm_eval=False,
        num_stages=3,
        out_indices=(
            0,
            1,
            2,
        ),
        stem_channels=16,
        strides=(
            1,
            2,
            2,
        ),
        style='pytorch',
        type='ResNet'),
    bbox_head=dict(
        center_sampling=True,
        centerness_on_reg=True,
        conv_bias=True,
        dcn_on_last_conv=False,
        feat_channels=64,
        in_channels=64,
        loss_bbox=dict(loss_weight=1.0, type='GIoULoss'),
        loss_centerness=dict(
            loss_weight=1.0, type='CrossEntropyLoss', use_sigmoid=True),
        loss_cls=dict(
            alpha=0.25,
            gamma=2.0,
            loss_weight=1.0,
            type='FocalLoss',
            use_sigmoid=True),
        norm_on_bbox=True,
        num_classes=8,
        num_params=169,
        stacked_convs=2,
        strides=[
            8,
            16,
            32,
            64,
            128,
        ],
        type='BoxInstBboxHead'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        bottom_pixels_removed=10,
        depth_thresh=0.01,
        mask_stride=4,
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        pad_size_divisor=32,
        pairwise_color_thresh=0.3,
        pairwise_dilation=2,
        pairwise_size=3,
        std=[
            58.395,
            57.12,
            57.375,
        ],
        type='AsyInstDataPreprocessor'),
    mask_head=dict(
        feat_channels=8,
        loss_color=dict(
            delta=2.5,
            gamma=1.5,
            loss_name='loss_mask_pairwise',
            loss_weight=1.0,
            type='AsymmetricAffinityLoss'),
        loss_depth=dict(
            delta=3.5,
            gamma=2.5,
            loss_name='loss_mask_depth',
            loss_weight=0.1,
            type='AsymmetricAffinityLoss'),
        loss_mask=dict(
            activate=True,
            eps=5e-06,
            loss_weight=1.0,
            type='DiceLoss',
            use_sigmoid=True),
        mask_feature_head=dict(
            end_level=2,
            feat_channels=32,
            in_channels=64,
            mask_stride=8,
            norm_cfg=dict(requires_grad=True, type='BN'),
            num_stacked_convs=2,
            out_channels=8,
            start_level=0),
        mask_out_stride=4,
        num_layers=3,
        size_of_interest=8,
        topk_masks_per_img=32,
        type='AsyInstMaskHead'),
    neck=dict(
        add_extra_convs='on_output',
        in_channels=[
            16,
            32,
            64,
        ],
        num_outs=5,
        out_channels=64,
        relu_before_extra_convs=True,
        start_level=1,
        type='FPN'),
    test_cfg=dict(
        mask_thr=0.5,
        max_per_img=50,
        min_bbox_size=0,
        nms=dict(iou_threshold=0.6, type='nms'),
        nms_pre=500,
        score_thr=0.05),
    type='BoxInst')
num_classes = 8
optim_wrapper = dict(
    clip_grad=dict(max_norm=10, norm_type=2),
    optimizer=dict(lr=0.001, type='AdamW', weight_decay=0.0001),
    type='OptimWrapper')
param_scheduler = [
    dict(begin=0, by_epoch=False, end=75, start_factor=0.01, type='LinearLR'),
    dict(
        begin=0,
        by_epoch=False,
        end=300,
        gamma=0.1,
        milestones=[
            240,
        ],
        type='MultiStepLR'),
]
randomness = dict(seed=0)
resume = False
test_cfg = dict(type='TestLoop')
test_dataloader = dict(
    batch_size=1,
    dataset=dict(
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        backend_args=None,
        data_prefix=dict(img='leftImg8bit/val/'),
        data_root='data/synthetic_cityscapes/',
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=[
            dict(backend_args=None, type='LoadImageFromFile'),
            dict(keep_ratio=True, scale=(
                256,
                128,
            ), type='Resize'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(
                meta_keys=(
                    'img_id',
                    'img_path',
                    'ori_shape',
                    'img_shape',
                    'scale_factor',
                ),
                type='PackDetInputs'),
        ],
        test_mode=True,
        type='CityscapesDataset'),
    drop_last=False,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    ann_file=
    'data/synthetic_cityscapes/annotations/instancesonly_filtered_gtFine_val.json',
    backend_args=None,
    metric=[
        'bbox',
        'segm',
        'boundary',
    ],
    type='BoundaryAPMetric')
test_pipeline = [
    dict(backend_args=None, type='LoadImageFromFile'),
    dict(keep_ratio=True, scale=(
        256,
        128,
    ), type='Resize'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'scale_factor',
        ),
        type='PackDetInputs'),
]
train_cfg = dict(max_iters=300, type='IterBasedTrainLoop', val_interval=300)
train_dataloader = dict(
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    batch_size=2,
    dataset=dict(
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        backend_args=None,
        data_prefix=dict(img='leftImg8bit/train/'),
        data_root='data/synthetic_cityscapes/',
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=[
            dict(backend_args=None, type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True),
            dict(keep_ratio=True, scale=(
                256,
                128,
            ), type='Resize'),
            dict(prob=0.5, type='RandomFlip'),
            dict(backend_args=None, type='LoadCityscapesDepth'),
            dict(type='ResizeFlipDepth'),
            dict(
                meta_keys=(
                    'img_id',
                    'img_path',
                    'ori_shape',
                    'img_shape',
                    'scale_factor',
                    'flip',
                    'flip_direction',
                    'gt_depth_map',
                ),
                type='PackDetInputs'),
        ],
        type='CityscapesDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=True, type='InfiniteSampler'))
train_pipeline = [
    dict(backend_args=None, type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(keep_ratio=True, scale=(
        256,
        128,
    ), type='Resize'),
    dict(prob=0.5, type='RandomFlip'),
    dict(backend_args=None, type='LoadCityscapesDepth'),
    dict(type='ResizeFlipDepth'),
    dict(
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'scale_factor',
            'flip',
            'flip_direction',
            'gt_depth_map',
        ),
        type='PackDetInputs'),
]
val_cfg = None
val_dataloader = None
val_evaluator = None
val_interval = 120
vis_backends = [
    dict(_scope_='mmdet', type='LocalVisBackend'),
]
visualizer = dict(
    _scope_='mmdet',
    name='visualizer',
    type='DetLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = 'work_dirs/main_job/instance/asyinst/seed0'
