# Copyright (c) mmboundary contributors. All rights reserved.
# Table 3 depth grid cell delta_d = 1.5, gamma_d = 0.0 (no colour).
# The depth-only config with these delta_d, gamma_d.
_base_ = ['./asyinst-asydep_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_depth=dict(delta=1.5, gamma=0.0)))
