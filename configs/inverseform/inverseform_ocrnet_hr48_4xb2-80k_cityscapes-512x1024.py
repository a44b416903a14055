# InverseForm on OCRNet-HRNet-w48 (Table 4 "OCR w/ ours", release README
# OCRNet-48 86.0 -> 86.3): a boundary head on the HRNet features (the
# release's second, OCR-feature edge head is not replicated) with
# eq. 6 = CE + 0.3 L_bxe + 0.3 L_if (Euclidean); InverseNet and its
# pretraining: ../_base_/inverseform_inverse-net_224.py.
_base_ = [
    './ocrnet_hr48_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/inverseform_inverse-net_224.py',
]

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    auxiliary_head=dict(
        type='BoundaryHead',
        in_channels=[48, 96, 192, 384],
        in_index=(0, 1, 2, 3),
        input_transform='resize_concat',
        channels=720,
        num_convs=1,
        kernel_size=1,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='BoundaryBCELoss', loss_weight=0.3),
            dict(
                type='InverseFormLoss',
                inverse_net_checkpoint=None,
                distance='euclidean',
                inverse_net=_base_.inverse_net,
                tiling='cover',
                loss_weight=0.3)
        ]))
