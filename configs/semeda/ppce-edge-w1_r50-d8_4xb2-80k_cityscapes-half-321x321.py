# "PPCE on edges" (paper eq. 5, Fig. 2-(c)): cross-entropy between the
# frozen edge net's output on the prediction and the GT edges, lambda_1 = 1
# (Table 1: 64.1 mIoU).
_base_ = './semeda_r50-d8_4xb2-80k_cityscapes-half-321x321.py'

model = dict(
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        dict(
            type='SemedaLoss',
            num_classes=19,
            edge_net_checkpoint=None,
            mode='edge_ce',
            loss_weight=1.0)
    ]))
