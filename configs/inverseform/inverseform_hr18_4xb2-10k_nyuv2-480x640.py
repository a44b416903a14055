# InverseForm on HRNet-w18, NYU-Depth-v2: Table 1 row "HRNet-w18 w/ ours"
# (S+E: 34.79 mIoU, 40.72 mBA), = Table 5 "Ours, L_if,euc". Eq. 6 = CE +
# 0.3 L_bxe + 0.3 L_if with the Euclidean distance; InverseNet on 224 x 224
# tiles pooled 2x (9.66 M parameters), pretrained on the NYU training
# boundaries by the hook (or by tools/misc/train_inverse_net.py this config).
_base_ = [
    './fcn-bce_hr18_4xb2-10k_nyuv2-480x640.py',
    '../_base_/inverseform_inverse-net_224.py',
]

model = dict(
    auxiliary_head=dict(loss_decode=[
        dict(type='BoundaryBCELoss', loss_weight=_base_.boundary_bce_weight),
        dict(
            type='InverseFormLoss',
            inverse_net_checkpoint=None,
            distance='euclidean',
            inverse_net=_base_.inverse_net,
            tiling='cover',
            loss_weight=0.3)
    ]))
# pretraining tiles are drawn from label maps rescaled like the pipeline's
# zoom (1.0 to 1.5)
custom_hooks = [
    dict(
        _base_.custom_hooks[0],
        settings=dict(
            _base_.custom_hooks[0].settings, label_scale_range=(1.0, 1.5)))
]
