# InverseForm on HRNet-w18 (the release README's HRNet-18 row: 77.0 -> 77.6
# mIoU; Table 1 / Table 5 use the Euclidean distance): eq. 6 = CE + 0.3
# L_bxe + 0.3 L_if. InverseNet and its pretraining:
# ../_base_/inverseform_inverse-net_224.py.
_base_ = [
    './fcn-bce_hr18_4xb2-80k_cityscapes-512x1024.py',
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
