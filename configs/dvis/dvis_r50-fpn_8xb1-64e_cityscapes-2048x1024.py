# Copyright (c) mmboundary contributors. All rights reserved.
# DVIS R50 on Cityscapes (no paper number: the paper reports PASCAL VOC, SBD
# and COCO). Model as dvis_r50-fpn_1xb8-55e_coco-700.py with the 8 thing
# classes; data and schedule as mmdet's Mask R-CNN Cityscapes recipe (8 GPUs
# x 1 image, 8 epochs of an 8x repeated dataset, COCO Mask R-CNN init), so
# it compares with
# configs/edge_agreement/mask-rcnn_r50-fpn_8xb1-64e_cityscapes-2048x1024.py.
_base_ = './dvis_r50-fpn_1xb8-55e_coco-700.py'

data_root = 'data/cityscapes/'
dataset_type = 'CityscapesDataset'
num_classes = 8
model = dict(mask_head=dict(num_classes=num_classes))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomResize',
        scale=[(2048, 800), (2048, 1024)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
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
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='RepeatDataset',
        times=8,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/instancesonly_filtered_gtFine_train.json',
            data_prefix=dict(img='leftImg8bit/train/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=train_pipeline)))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/'),
        test_mode=True,
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='BoundaryAPMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric=['bbox', 'segm', 'boundary'])
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=0.01))
max_epochs = 8
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[7],
        gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(enable=False, base_batch_size=8)
