# Copyright (c) mmboundary contributors. All rights reserved.
# Regulariser ablation (paper Supp. Table 8, row "w/ L_MS"): the
# Mumford-Shah term without the quantisation loss. The main config is the
# row "w/ quantisation and L_MS".
_base_ = './dvis_r50-fpn_1xb8-55e_coco-700.py'

model = dict(mask_head=dict(loss_quant=None))
