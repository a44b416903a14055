# Copyright (c) mmboundary contributors. All rights reserved.
# AsyInst on Cityscapes (paper Table 1 last row and Table 2, 24.687 AP):
# asymmetric colour (delta_c, gamma_c, lambda_c = 2.5, 1.5, 1.0) and
# asymmetric depth-gradient affinity (delta_d, gamma_d, lambda_d = 3.5, 2.5,
# 0.1; tau_d = 0.01 m on the mask grid), both weights warmed up over the
# first 10k iterations (Sec. 6.1). Depth comes from Cityscapes disparity and
# camera files (LoadCityscapesDepth), moved with the image by AlignDepth.
# Every config of this folder with a depth term inherits this one.
_base_ = ['./boxinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py']

custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

depth_thresh = 0.01  # tau_d (Sec. 6.1), metres

model = dict(
    data_preprocessor=dict(depth_thresh=depth_thresh),
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
        warmup_iters=_base_.warmup_iters)
]

# BoxInst's pipeline with depth loaded after the boxes and moved by its
# geometric transforms (crop, scale, flip)
train_pipeline = [
    *_base_.train_pipeline[:2],
    dict(type='LoadCityscapesDepth', backend_args=_base_.backend_args),
    dict(type='AlignDepth', transforms=_base_.train_pipeline[2:5]),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'flip', 'flip_direction', 'gt_depth_map'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
