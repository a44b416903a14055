# Copyright (c) mmboundary contributors. All rights reserved.
# Compact projection-only baseline (paper Table 1 "Baseline"): the compact
# BoxInst without any affinity term.
_base_ = ['./boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_color=None, loss_depth=None))
# no affinity weight to warm up; boxes and stride checked before training
custom_hooks = [dict(type='AsyInstCheckHook')]
