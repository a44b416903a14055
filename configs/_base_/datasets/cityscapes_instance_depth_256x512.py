# Copyright (c) mmboundary contributors. All rights reserved.
# cityscapes_instance_256x512.py plus metric depth. mmdet's transforms do
# not move ``gt_depth_map``, so ``AlignDepth`` applies them to it with the
# image's random parameters. mmdet's ``PackDetInputs`` has no depth field:
# the (H, W) float32 map rides in the data sample's metainfo
# (``data_sample.gt_depth_map``, a numpy array, 0 = invalid).
_base_ = ['./cityscapes_instance_256x512.py']
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'gt_depth_map')
# the base's pipelines with depth loaded after the image and moved by the
# base's geometric transforms (train: resize and flip; test: resize)
train_pipeline = [
    *_base_.train_pipeline[:2],
    dict(type='LoadCityscapesDepth', backend_args=_base_.backend_args),
    dict(type='AlignDepth', transforms=_base_.train_pipeline[2:4]),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
test_pipeline = [
    _base_.test_pipeline[0],
    dict(type='LoadCityscapesDepth', backend_args=_base_.backend_args),
    dict(type='AlignDepth', transforms=_base_.test_pipeline[1:2]),
    _base_.test_pipeline[2],
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
