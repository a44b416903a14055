# Copyright (c) mmboundary contributors. All rights reserved.
# Symmetric colour + asymmetric depth affinity (Table 1 row 6, 21.669 AP).
# AsyInst with the colour term made symmetric.
_base_ = ['./asyinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_color=dict(delta=0.0, gamma=0.0)))
