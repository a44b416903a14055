# Copyright (c) mmboundary contributors. All rights reserved.
# tiny_seg.py plus the SEMEDA loss and its edge-net pretraining hook, for the
# tools/misc/train_edge_net.py test.
_base_ = ['./tiny_seg.py']
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        dict(type='SemedaLoss', num_classes=3, loss_weight=0.02)
    ]))
custom_hooks = [
    dict(
        type='EdgeNetPretrainHook',
        settings=dict(
            max_epochs=4,
            crops_per_image=8,
            crop_size=(32, 32),
            batch_size=4,
            lr=0.02),
        # a few steps on 3 maps: the net need not pass its self-check
        accept_failed_check=True)
]
