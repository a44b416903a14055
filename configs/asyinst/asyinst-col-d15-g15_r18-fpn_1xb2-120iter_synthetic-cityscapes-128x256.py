# Copyright (c) mmboundary contributors. All rights reserved.
# AsyInst ablation on the synthetic data (paper Table 3 / iSAID Table 5,
# issue 19 item 5): the compact BoxInst with the asymmetric colour affinity
# at delta_c 1.5, gamma_c 1.5 (no depth term). A row of
# `run_main_job.py --table asyinst-ablation`.
_base_ = ['./boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_color=dict(delta=1.5, gamma=1.5)))
