# Compact InverseForm (eq. 6, Euclidean distance; Table 1 "S+E"): the
# BCE-only boundary head config plus the InverseForm loss on the same head,
# same budget. The InverseNet (32 x 32 tiles, dense 2*32^2 -> 256 -> 64 -> 6,
# 541,382 parameters) is pretrained by InverseNetPretrainHook on the training
# GT boundaries before the first iteration (1000 steps of batch 64, about
# 20-25 s on one idle CPU core), cached in work_dirs/inverseform_inverse_net
# and reused by later runs and seeds. 32 px tiles (instead of 64) keep that
# one-off cost small enough for the main job's budget; the separation report
# still meets the targets (configs/inverseform/README.md).
_base_ = './fcn-bce_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'

inverse_net = dict(tile_size=32, hidden=(256, 64), in_pool=1)
model = dict(
    auxiliary_head=dict(loss_decode=[
        dict(type='BoundaryBCELoss', loss_weight=_base_.boundary_bce_weight),
        dict(
            type='InverseFormLoss',
            inverse_net_checkpoint=None,
            distance='euclidean',
            inverse_net=inverse_net,
            tiling='cover',
            # gamma of eq. 6 (the released code's value)
            loss_weight=0.3)
    ]))
custom_hooks = [
    dict(
        type='InverseNetPretrainHook',
        cache_dir='work_dirs/inverseform_inverse_net',
        settings=dict(
            steps=1000,
            batch_size=64,
            tiles_per_image=64,
            label_scale_range=(0.75, 1.5)))
]
