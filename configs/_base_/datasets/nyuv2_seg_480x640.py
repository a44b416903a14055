# Copyright (c) mmboundary contributors. All rights reserved.
# NYU-Depth-v2, 40-class semantic segmentation (mmboundary
# ``NYUv2SegDataset``): 795 train / 654 test frames of 480 x 640, label PNGs
# with 0 = unlabelled (ignored through reduce_zero_label) and 1..40. Layout
# written by
#   python tools/dataset_converters/nyuv2.py nyu_depth_v2_labeled.mat \
#       --splits splits.mat --mapping classMapping40.mat -o data/nyuv2
# Pipelines follow the HRNet NYUD set-up of MTI-Net's code base (Vandenhende
# et al., ECCV 2020; the source of InverseForm Table 1's multi-task rows),
# since InverseForm's own appendix is not public: training frames flipped
# with p = 0.5 and zoomed by a factor drawn from {1.0, 1.2, 1.5}, then
# cropped back to the native 480 x 640 (MTI-Net zooms about the centre, we
# crop at a random position; no photometric distortion, as there); testing
# on the whole native frame. Images are RGB only (the depth channel is not
# used by Tables 1 and 5).
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

dataset_type = 'NYUv2SegDataset'
data_root = 'data/nyuv2/'
img_scale = (640, 480)  # (w, h), the native frame
crop_size = (480, 640)  # (h, w)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # reduce_zero_label from the dataset
    dict(
        type='RandomChoiceResize',
        scales=[(640, 480), (768, 576), (960, 720)],
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
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
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train', seg_map_path='labels40/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='labels40/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mIoU and the boundary metrics (mBIoU, mBF, trimap IoU, mBA: InverseForm
# reports mIoU and mBA) side by side.
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', trimap_widths=[1, 3])
]
test_evaluator = val_evaluator
