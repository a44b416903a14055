# Baseline of Table 4's "OCR w/ ours" row and of the release README's
# OCRNet-48 model (86.0 mIoU on Cityscapes val with Mapillary pretraining
# and coarse data, which this fine-only config does not use): mmseg's
# OCRNet on HRNet-w48 with the boundary metrics.
_base_ = 'mmseg::ocrnet/ocrnet_hr48_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

crop_size = (512, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='GenerateSobelBoundary'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', trimap_widths=[1, 3])
]
test_evaluator = val_evaluator
