# Copyright (c) mmboundary contributors. All rights reserved.
# Table 3 colour grid cell delta_c = 1.5, gamma_c = 0.0 (no depth).
_base_ = ['./boxinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    mask_head=dict(
        loss_color=dict(delta=1.5, gamma=0.0, loss_weight=1.0),
        loss_depth=None))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_color'],
        warmup_iters=_base_.warmup_iters)
]
