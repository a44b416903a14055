# Copyright (c) mmboundary contributors. All rights reserved.
# Semantic segmentation on a Cityscapes-format root (mmseg
# ``CityscapesDataset``: 19 classes from ``*_gtFine_labelTrainIds.png``).
# By default the synthetic root written by
#   python tools/dataset_converters/generate_synthetic_cityscapes.py
#   python tools/dataset_converters/cityscapes.py data/synthetic_cityscapes
# Pipelines are sized for its 256x512 images. For the real dataset set
# ``data_root = 'data/cityscapes/'`` in the dataloaders (and scale the
# pipeline sizes, e.g. ``img_scale = (2048, 1024)``).
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

dataset_type = 'CityscapesDataset'
data_root = 'data/synthetic_cityscapes/'
img_scale = (512, 256)  # (w, h)
crop_size = (256, 256)  # (h, w)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # annotations are loaded after Resize: metrics use the original size
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mIoU and the boundary metrics (mBIoU, mBF, trimap IoU, mBA) side by side.
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', trimap_widths=[1, 3])
]
test_evaluator = val_evaluator
