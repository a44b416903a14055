# Ubernet-style multi-task baseline on Pascal VOC 2012 aug (paper Table 2,
# "deepLab + Edge Ubernet-style").
_base_ = './deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py'

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
        num_classes=21,
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
