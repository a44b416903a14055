# Copyright (c) mmboundary contributors. All rights reserved.
# InverseForm's InverseNet at Cityscapes scale, for the HRNet and OCRNet
# configs: 224 x 224 tiles pooled 2x (dense 2*112^2 -> 384 -> 64 -> 6,
# 9.66 M parameters, a tenth of the released 100.4 M), pretrained on the
# training GT boundaries by InverseNetPretrainHook before the first
# iteration (or by tools/misc/train_inverse_net.py CONFIG). A config
# inherits it beside its segmentor and passes ``_base_.inverse_net`` to
# InverseFormLoss.
inverse_net = dict(tile_size=224, hidden=(384, 64), in_pool=2)
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
