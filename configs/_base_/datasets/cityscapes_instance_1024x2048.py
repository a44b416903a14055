# Copyright (c) mmboundary contributors. All rights reserved.
# Instance segmentation on Cityscapes at full resolution (mmdet
# ``CityscapesDataset``: 8 classes from the COCO-style JSONs that
# ``tools/dataset_converters/cityscapes.py ROOT`` writes to
# ``ROOT/annotations/``). The data half of mmdet's Mask R-CNN Cityscapes
# recipe: training at a long edge of 2048 and a random short edge of
# 800-1024, testing at 2048x1024, one image per GPU, boxes under 32 pixels
# filtered; mask AP and Boundary AP side by side.
# cityscapes_instance_256x512.py sizes it for the synthetic root.
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes/'
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomResize',
        scale=[(2048, 800), (2048, 1024)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    # annotations are loaded after Resize: metrics use the original size
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
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
# mask AP and Boundary AP (mmboundary's BoundaryAPMetric) side by side
val_evaluator = dict(
    type='BoundaryAPMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric=['bbox', 'segm', 'boundary'])
test_evaluator = val_evaluator
