# Boundary head with the class-balanced BCE only (eq. 6 with gamma = 0; an
# ablation the paper does not report) on HRNet-w18. The head
# (../_base_/inverseform_boundary-head_hr18.py) is the released
# HighResolutionHead without its sigmoid over the concatenated HRNet
# branches (270 channels). It is an auxiliary head: dropped at inference.
_base_ = [
    './fcn_hr18_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/inverseform_boundary-head_hr18.py',
]

model = dict(auxiliary_head=_base_.boundary_head)
