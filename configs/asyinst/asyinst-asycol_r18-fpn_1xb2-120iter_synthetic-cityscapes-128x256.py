# Copyright (c) mmboundary contributors. All rights reserved.
# AsyInst ablation on the synthetic data (paper Table 1 / Table 3, issue 19
# item 5): the compact BoxInst with the asymmetric colour affinity only
# (delta_c 2.5, gamma_c 1.5, lambda_c 1.0; no depth term), the paper's
# "AsyInst (w/o depth)" (Table 2: 24.10; Table 3 colour (2.5, 1.5): 24.095
# vs BoxInst 21.145). A row of `run_main_job.py --table asyinst-ablation`.
_base_ = ['./boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(mask_head=dict(loss_color=dict(delta=2.5, gamma=1.5)))
