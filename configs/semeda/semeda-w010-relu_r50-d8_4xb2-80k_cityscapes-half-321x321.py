# SEMEDA ablation: lambda = (0.0, 1.0, 0.0) after ReLU (Table 1 reports
# (0, 0.5, 0) after ReLU: 65.9).
_base_ = './semeda_r50-d8_4xb2-80k_cityscapes-half-321x321.py'

model = dict(
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        dict(
            type='SemedaLoss',
            num_classes=19,
            edge_net_checkpoint=None,
            layer_weights=(0.0, 1.0, 0.0),
            before_relu=False,
            distance='l1',
            loss_weight=0.02)
    ]))
