# Copyright (c) mmboundary contributors. All rights reserved.
# cityscapes_semantic_256x512.py plus metric depth from the disparity PNGs:
# ``LoadCityscapesDepth`` writes ``gt_depth_map`` (float32 metres, 0 =
# invalid) and ``AlignDepth`` applies the geometric transforms to it with
# the image's random parameters. ``PackSegInputs`` packs it as
# ``data_sample.gt_depth_map``.
_base_ = ['./cityscapes_semantic_256x512.py']
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

img_scale = (512, 256)  # (w, h)
crop_size = (256, 256)  # (h, w)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadCityscapesDepth'),
    dict(
        type='AlignDepth',
        transforms=[
            dict(
                type='RandomResize',
                scale=img_scale,
                ratio_range=(0.5, 2.0),
                keep_ratio=True),
            dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # annotations and depth at the original size
    dict(type='LoadAnnotations'),
    dict(type='LoadCityscapesDepth'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
