# InverseForm with the geodesic distance on HRNet-w48 (Table 5 column
# L_if,geo, HRNet-w48 row).
_base_ = './inverseform-geo_hr18_4xb2-80k_cityscapes-512x1024.py'

model = dict(
    pretrained='open-mmlab://msra/hrnetv2_w48',
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=(48, 96, 192, 384)))),
    decode_head=dict(in_channels=[48, 96, 192, 384], channels=720),
    auxiliary_head=dict(in_channels=[48, 96, 192, 384], channels=720))
