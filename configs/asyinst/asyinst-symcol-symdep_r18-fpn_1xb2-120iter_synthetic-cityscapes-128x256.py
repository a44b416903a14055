# Copyright (c) mmboundary contributors. All rights reserved.
# AsyInst ablation on the synthetic data (paper Table 1, "Sym. / Sym.":
# 19.948 vs BoxInst 21.145; issue 19 item 5): the compact AsyInst with both
# affinities symmetric (delta = gamma = 0), i.e. BoxInst plus a symmetric
# depth-gradient affinity (tau_d 0.01, lambda_d 0.1, warmed up like
# AsyInst's). A row of `run_main_job.py --table asyinst-ablation`.
_base_ = ['./asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    mask_head=dict(
        loss_color=dict(delta=0.0, gamma=0.0),
        loss_depth=dict(delta=0.0, gamma=0.0)))
