# InverseForm (Euclidean, eq. 6) on HRNet-w48: the HRNet-w18 InverseForm
# config with the w48 backbone; the boundary head sees the concatenated
# 720 channels, as the released HighResolutionHead.
_base_ = './inverseform_hr18_4xb2-80k_cityscapes-512x1024.py'

model = dict(
    pretrained='open-mmlab://msra/hrnetv2_w48',
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=(48, 96, 192, 384)))),
    decode_head=dict(in_channels=[48, 96, 192, 384], channels=720),
    auxiliary_head=dict(in_channels=[48, 96, 192, 384], channels=720))
