# Copyright (c) mmboundary contributors. All rights reserved.
# Compact AsyInst on the synthetic Cityscapes data, the AsyInst row of the
# main job's instance table: the compact BoxInst with the paper's asymmetric
# colour (delta_c, gamma_c, lambda_c = 2.5, 1.5, 1.0) and depth-gradient
# (delta_d, gamma_d, lambda_d = 3.5, 2.5, 0.1) affinities, both weights
# warmed up over the first 50 iterations. Depth comes from the synthetic
# disparity and camera files (LoadCityscapesDepth); ResizeFlipDepth gives it
# the image's resize and flip, so the geometric transforms (and the size
# arguments the main job compares) are those of the BoxInst config.
#
# tau_d: the paper's 0.01 (metres). On data version 1 it made 4.2 % of the
# valid in-box depth edges positive against 0.8 % of the in-box colour edges
# (tau_c = 0.3; the version-1 textures were noisy), i.e. within 0.1 of the
# colour fraction, so the paper's value is kept (the shares on data version
# 2: configs/asyinst/README.md). Measured with
#   python tools/analysis_tools/asyinst_affinity_stats.py CONFIG \
#       --num-batches 24 --depth-thresh 0.01 0.03 0.1 0.3 1 3
# (fractions 0.042 / 0.125 / 0.305 / 0.409 / 0.515 / 0.643).
_base_ = ['./boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

model = dict(
    data_preprocessor=dict(depth_thresh=0.01),
    mask_head=dict(
        loss_color=dict(delta=2.5, gamma=1.5, loss_weight=1.0),
        loss_depth=dict(
            _delete_=True,
            type='AsymmetricAffinityLoss',
            delta=3.5,
            gamma=2.5,
            loss_weight=0.1,
            loss_name='loss_mask_depth')))
custom_hooks = [
    dict(type='AsyInstCheckHook'),  # depth/boxes/stride before training
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['mask_head.loss_color', 'mask_head.loss_depth'],
        warmup_iters=50)
]

# the compact BoxInst's pipeline, then depth with its resize and flip
train_pipeline = [
    *_base_.train_pipeline[:4],
    dict(type='LoadCityscapesDepth', backend_args=None),
    dict(type='ResizeFlipDepth'),  # the image's resize and flip, to depth
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'flip', 'flip_direction', 'gt_depth_map'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
