# Baseline of InverseForm Table 1 row "HRNet-w48, S" on NYU-Depth-v2 (paper:
# 45.70 mIoU, 56.01 mBA): the HRNet-w18 baseline with the w48 backbone.
_base_ = './fcn_hr18_4xb2-10k_nyuv2-480x640.py'

w48 = (48, 96, 192, 384)  # HRNet-w48 branch widths
stages = {f'stage{i}': dict(num_channels=w48[:i]) for i in (2, 3, 4)}
model = dict(
    pretrained='open-mmlab://msra/hrnetv2_w48',
    backbone=dict(extra=stages),
    decode_head=dict(in_channels=list(w48), channels=sum(w48)))
