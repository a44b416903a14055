# InverseForm (Euclidean, eq. 6) on HRNet-w48, NYU-Depth-v2: Table 1 row
# "HRNet-w48 w/ ours" (S+E: 47.42 mIoU, 59.34 mBA), = Table 5 "Ours,
# L_if,euc". The HRNet-w18 config with the w48 backbone; the boundary head
# sees the concatenated 720 channels, as the released HighResolutionHead.
_base_ = './inverseform_hr18_4xb2-10k_nyuv2-480x640.py'

model = dict(
    _base_.hrnet_w48,
    auxiliary_head=dict(
        in_channels=list(_base_.w48), channels=sum(_base_.w48)))
