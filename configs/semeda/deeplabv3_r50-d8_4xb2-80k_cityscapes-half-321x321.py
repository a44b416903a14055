# Plain cross-entropy baseline of the SEMEDA ablation (paper Table 1, row
# "PPCE"; Table 2, "deepLab"): Cityscapes at half resolution (1024x512),
# 321x321 random crops. DeepLabV3 R50-D8 stands in for DeepLab v2. Validation
# adds trimap and boundary metrics (SEMEDA Sec. 4.4, Fig. 5).
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

crop_size = (321, 321)
half_scale = (1024, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=half_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=half_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', trimap_widths=[1, 2, 5, 10])
]
test_evaluator = val_evaluator
