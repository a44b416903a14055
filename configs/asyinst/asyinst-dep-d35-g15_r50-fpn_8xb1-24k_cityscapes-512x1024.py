# Copyright (c) mmboundary contributors. All rights reserved.
# Table 3 depth grid cell delta_d = 3.5, gamma_d = 1.5 (no colour).
_base_ = ['./asyinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    mask_head=dict(
        loss_color=None,
        loss_depth=dict(delta=3.5, gamma=1.5, loss_weight=0.1)))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_depth'],
        warmup_iters=_base_.warmup_iters)
]
