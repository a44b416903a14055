# Boundary head with the class-balanced BCE only (eq. 6 with gamma = 0; an
# ablation the paper does not report) on HRNet-w18, NYU-Depth-v2. The head
# of the Cityscapes config fcn-bce_hr18_4xb2-80k_cityscapes-512x1024.py:
# the released HighResolutionHead without its sigmoid, a 1x1 conv-BN-ReLU
# over the concatenated HRNet branches (270 channels), then a 1x1 conv to
# one boundary logit; an auxiliary head, dropped at inference.
_base_ = './fcn_hr18_4xb2-10k_nyuv2-480x640.py'

boundary_bce_weight = 0.3  # beta of eq. 6 (released code)
boundary_head = dict(
    type='BoundaryHead',
    in_channels=[18, 36, 72, 144],
    in_index=(0, 1, 2, 3),
    input_transform='resize_concat',
    channels=270,
    num_convs=1,
    kernel_size=1,
    dropout_ratio=0.0,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    align_corners=False,
    loss_decode=[
        dict(type='BoundaryBCELoss', loss_weight=boundary_bce_weight)
    ])
model = dict(auxiliary_head=boundary_head)
