# Ubernet-style multi-task baseline (paper Fig. 2-(b), Table 1: 64.6 mIoU
# with lambda_1 = 1): an extra FCN edge head on the backbone's last stage
# (the features the ASPP decoder reads) learns the 8-neighbour GT edges with
# cross-entropy; its gradient never passes through the segmentation output.
_base_ = './deeplabv3_r50-d8_4xb2-80k_cityscapes-half-321x321.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(auxiliary_head=[
    dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    dict(
        type='UbernetEdgeHead',
        in_channels=2048,
        in_index=3,
        channels=256,
        num_convs=2,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            loss_name='loss_edge'))
])
