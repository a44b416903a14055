# Copyright (c) mmboundary contributors. All rights reserved.
# Symmetric colour + asymmetric depth affinity (Table 1 row 6, 21.669 AP).
_base_ = ['./asyinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    mask_head=dict(
        loss_color=dict(delta=0.0, gamma=0.0, loss_weight=1.0),
        loss_depth=dict(delta=3.5, gamma=2.5, loss_weight=0.1)))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_color', 'mask_head.loss_depth'],
        warmup_iters=_base_.warmup_iters)
]
