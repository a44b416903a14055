# Copyright (c) mmboundary contributors. All rights reserved.
# Regulariser ablation (paper Supp. Table 8, row "w/o L_MS"): neither the
# Mumford-Shah term nor the quantisation loss.
_base_ = './dvis_r50-fpn_1xb8-55e_coco-700.py'

model = dict(mask_head=dict(loss_ms=None, loss_quant=None))
