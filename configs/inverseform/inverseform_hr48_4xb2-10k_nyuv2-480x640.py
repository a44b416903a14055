# InverseForm (Euclidean, eq. 6) on HRNet-w48, NYU-Depth-v2: Table 1 row
# "HRNet-w48 w/ ours" (S+E: 47.42 mIoU, 59.34 mBA), = Table 5 "Ours,
# L_if,euc". The HRNet-w18 config with the w48 backbone; the boundary head
# sees the concatenated 720 channels, as the released HighResolutionHead.
_base_ = './inverseform_hr18_4xb2-10k_nyuv2-480x640.py'

w48 = (48, 96, 192, 384)  # HRNet-w48 branch widths
stages = {f'stage{i}': dict(num_channels=w48[:i]) for i in (2, 3, 4)}
model = dict(
    pretrained='open-mmlab://msra/hrnetv2_w48',
    backbone=dict(extra=stages),
    decode_head=dict(in_channels=list(w48), channels=sum(w48)),
    auxiliary_head=dict(in_channels=list(w48), channels=sum(w48)))
