# Copyright (c) mmboundary contributors. All rights reserved.
# DVIS R50 on Cityscapes (no paper number: the paper reports PASCAL VOC, SBD
# and COCO). Model as dvis_r50-fpn_1xb8-55e_coco-700.py with the 8 thing
# classes; data and schedule as mmdet's Mask R-CNN Cityscapes recipe (8 GPUs
# x 1 image, 8 epochs of an 8x repeated dataset, COCO Mask R-CNN init), so
# it compares with
# configs/edge_agreement/mask-rcnn_r50-fpn_8xb1-64e_cityscapes-2048x1024.py.
_base_ = [
    '../_base_/models/dvis_r50-fpn.py',
    '../_base_/datasets/cityscapes_instance_1024x2048.py',
    '../_base_/schedules/dvis_sgd-55e.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

num_classes = 8
model = dict(mask_head=dict(num_classes=num_classes))

# 8 epochs of the training set repeated 8 times
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=8,
        dataset=_base_.train_dataloader.dataset))

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
