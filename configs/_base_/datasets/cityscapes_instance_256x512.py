# Copyright (c) mmboundary contributors. All rights reserved.
# cityscapes_instance_1024x2048.py sized for the synthetic 256x512 root
# written by
#   python tools/dataset_converters/generate_synthetic_cityscapes.py
#   python tools/dataset_converters/cityscapes.py data/synthetic_cityscapes
# the same transforms at a quarter of the sizes, batches of 4, boxes under
# 8 pixels filtered, COCO-style mask AP. For the real dataset use the
# full-resolution base.
_base_ = ['./cityscapes_instance_1024x2048.py']
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

data_root = 'data/synthetic_cityscapes/'
backend_args = _base_.backend_args
train_pipeline = [
    *_base_.train_pipeline[:2],
    dict(type='RandomResize', scale=[(512, 200), (512, 256)], keep_ratio=True),
    *_base_.train_pipeline[3:],
]
test_pipeline = [
    _base_.test_pipeline[0],
    dict(type='Resize', scale=(512, 256), keep_ratio=True),
    *_base_.test_pipeline[2:],
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        data_root=data_root,
        filter_cfg=dict(min_size=8),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        filter_cfg=dict(min_size=8),
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric=['bbox', 'segm'],
    backend_args=backend_args)
test_evaluator = val_evaluator
