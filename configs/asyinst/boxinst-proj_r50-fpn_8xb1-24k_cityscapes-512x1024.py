# Copyright (c) mmboundary contributors. All rights reserved.
# Projection loss only (paper Table 1 "Baseline", 18.596 AP): no
# affinity term. Inherits the BoxInst root.
_base_ = ['./boxinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_color=None, loss_depth=None))
# no affinity weight to warm up; boxes and stride checked before training
custom_hooks = [dict(type='AsyInstCheckHook')]
