# Copyright (c) mmboundary contributors. All rights reserved.
# DVIS-700, ResNet-50 (paper Tables 3/4: 32.6 mask AP on val2017, 30.3 on
# test-dev): the DVIS model base (paper values where the paper states them,
# the official code's where it is silent; backbone and FPN from mmdet's COCO
# Mask R-CNN) on COCO at short edge 700 with mmdet's YOLACT schedule (the
# official code's parent).
_base_ = [
    '../_base_/models/dvis_r50-fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    '../_base_/schedules/dvis_sgd-55e.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=_base_.img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=_base_.img_scale, keep_ratio=True),
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
