# Copyright (c) mmboundary contributors. All rights reserved.
# Asymmetric depth-gradient affinity only (Table 1 row 3 / Table 3 depth
# delta = 3.5, gamma = 2.5, 19.547 AP).
_base_ = ['./asyinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

# AsyInst's depth term (delta_d = 3.5, gamma_d = 2.5, lambda_d = 0.1), no
# colour term; the depth-only grid cells inherit this config
model = dict(mask_head=dict(loss_color=None))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_depth'],
        warmup_iters=_base_.warmup_iters)
]
