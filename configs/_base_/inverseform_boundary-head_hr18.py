# Copyright (c) mmboundary contributors. All rights reserved.
# InverseForm's boundary head on HRNet features, for the HRNet and OCRNet
# configs: the released HighResolutionHead without its sigmoid, a 1x1
# conv-BN-ReLU over the concatenated HRNet branches (HRNet-w18: 270
# channels), then a 1x1 conv to one boundary logit, trained with the
# class-balanced BCE (eq. 6). An auxiliary head: dropped at inference. A
# config inherits it beside its segmentor and sets
# ``model = dict(auxiliary_head=_base_.boundary_head)``; on HRNet-w48 it
# overrides in_channels and channels (720).
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
