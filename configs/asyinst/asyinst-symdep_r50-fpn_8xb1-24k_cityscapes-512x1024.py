# Copyright (c) mmboundary contributors. All rights reserved.
# Symmetric depth-gradient affinity only (Table 1 row 2 / Table 3 depth
# "Sym.", 15.413 AP): delta_d = gamma_d = 0, lambda_d = 0.1.
_base_ = ['./asyinst-asydep_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_depth=dict(delta=0.0, gamma=0.0)))
