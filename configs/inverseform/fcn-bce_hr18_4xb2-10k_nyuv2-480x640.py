# Boundary head with the class-balanced BCE only (eq. 6 with gamma = 0; an
# ablation the paper does not report) on HRNet-w18, NYU-Depth-v2. The head
# of ../_base_/inverseform_boundary-head_hr18.py:
# the released HighResolutionHead without its sigmoid, a 1x1 conv-BN-ReLU
# over the concatenated HRNet branches (270 channels), then a 1x1 conv to
# one boundary logit; an auxiliary head, dropped at inference.
_base_ = [
    './fcn_hr18_4xb2-10k_nyuv2-480x640.py',
    '../_base_/inverseform_boundary-head_hr18.py',
]

model = dict(auxiliary_head=_base_.boundary_head)
