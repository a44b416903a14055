# Baseline for InverseForm on HRNet-w48 (paper Table 1 row "HRNet-w48, S"
# is on NYU-Depth-v2; this is its Cityscapes counterpart): mmseg's FCN on
# HRNet-w48 with the boundary metrics.
_base_ = ['./fcn_hr18_4xb2-80k_cityscapes-512x1024.py']

model = dict(
    pretrained='open-mmlab://msra/hrnetv2_w48',
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=(48, 96, 192, 384)))),
    decode_head=dict(
        in_channels=[48, 96, 192, 384], channels=sum([48, 96, 192, 384])))
