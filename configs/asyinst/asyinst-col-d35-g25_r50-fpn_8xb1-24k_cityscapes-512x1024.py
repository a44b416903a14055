# Copyright (c) mmboundary contributors. All rights reserved.
# Table 3 colour grid cell delta_c = 3.5, gamma_c = 2.5 (no depth).
# BoxInst's colour term (weight 1, warmed up) with these delta_c, gamma_c.
_base_ = ['./boxinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_color=dict(delta=3.5, gamma=2.5)))
