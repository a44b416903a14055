# Copyright (c) mmboundary contributors. All rights reserved.
# Window-range ablation (paper Supp. Table 7, run there on PASCAL VOC): range
# 16, i.e. a 17x17 window (dense radius 8, dilation 8: 60 offsets).
# Range 128 is the main config dvis_r50-fpn_1xb8-55e_coco-700.py.
_base_ = './dvis_r50-fpn_1xb8-55e_coco-700.py'

model = dict(mask_head=dict(loss_pi=dict(window=(17, 17))))
