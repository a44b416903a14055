# InverseForm on HRNet-w18 (the release README's HRNet-18 row: 77.0 -> 77.6
# mIoU; Table 1 / Table 5 use the Euclidean distance): eq. 6 = CE + 0.3
# L_bxe + 0.3 L_if. InverseNet: 224 x 224 tiles pooled 2x (dense
# 2*112^2 -> 384 -> 64 -> 6, 9.66 M parameters, a tenth of the released
# 100.4 M), pretrained on the training GT boundaries by the hook (or by
# tools/misc/train_inverse_net.py this config) before training.
_base_ = './fcn-bce_hr18_4xb2-80k_cityscapes-512x1024.py'

inverse_net = dict(tile_size=224, hidden=(384, 64), in_pool=2)
model = dict(
    auxiliary_head=dict(loss_decode=[
        dict(type='BoundaryBCELoss', loss_weight=_base_.boundary_bce_weight),
        dict(
            type='InverseFormLoss',
            inverse_net_checkpoint=None,
            distance='euclidean',
            inverse_net=inverse_net,
            tiling='cover',
            loss_weight=0.3)
    ]))
custom_hooks = [
    dict(
        type='InverseNetPretrainHook',
        settings=dict(
            steps=3000,
            batch_size=64,
            tiles_per_image=8,
            label_scale_range=(0.5, 2.0),
            max_shift_px=16.0))
]
