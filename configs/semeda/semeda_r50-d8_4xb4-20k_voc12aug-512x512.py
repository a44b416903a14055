# SEMEDA on Pascal VOC 2012 aug (paper Table 2, "deepLab + SEMEDA"):
# cross-entropy + edge-aware loss, lambda = (1, 0.5, 0.25) before ReLU.
_base_ = './deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py'

model = dict(
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        dict(
            type='SemedaLoss',
            num_classes=21,
            edge_net_checkpoint=None,
            layer_weights=(1.0, 0.5, 0.25),
            before_relu=True,
            distance='l1',
            loss_weight=0.02)
    ]))
custom_hooks = [
    dict(
        type='EdgeNetPretrainHook',
        settings=dict(noise_std=1.0, max_epochs=5, crop_size=(128, 128)))
]
