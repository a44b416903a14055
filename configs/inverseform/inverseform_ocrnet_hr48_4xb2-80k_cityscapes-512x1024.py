# InverseForm on OCRNet-HRNet-w48 (Table 4 "OCR w/ ours", release README
# OCRNet-48 86.0 -> 86.3): a boundary head on the HRNet features (the
# release's second, OCR-feature edge head is not replicated) with
# eq. 6 = CE + 0.3 L_bxe + 0.3 L_if (Euclidean); InverseNet and its
# pretraining: ../_base_/inverseform_inverse-net_224.py.
_base_ = [
    './ocrnet_hr48_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/inverseform_boundary-head_hr18.py',
    '../_base_/inverseform_inverse-net_224.py',
]

# the boundary head on the 720 concatenated HRNet-w48 channels
model = dict(
    auxiliary_head=dict(
        _base_.boundary_head,
        in_channels=[48, 96, 192, 384],
        channels=720,
        loss_decode=[
            dict(
                type='BoundaryBCELoss',
                loss_weight=_base_.boundary_bce_weight),
            dict(
                type='InverseFormLoss',
                inverse_net_checkpoint=None,
                distance='euclidean',
                inverse_net=_base_.inverse_net,
                tiling='cover',
                loss_weight=0.3)
        ]))
