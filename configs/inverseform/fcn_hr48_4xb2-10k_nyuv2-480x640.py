# Baseline of InverseForm Table 1 row "HRNet-w48, S" on NYU-Depth-v2 (paper:
# 45.70 mIoU, 56.01 mBA): the HRNet-w18 baseline with the w48 backbone.
_base_ = './fcn_hr18_4xb2-10k_nyuv2-480x640.py'

model = _base_.hrnet_w48
