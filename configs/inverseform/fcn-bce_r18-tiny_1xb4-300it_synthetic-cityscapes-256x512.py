# Compact boundary-head ablation (not in the paper): the baseline plus an
# auxiliary BoundaryHead on the backbone's stride-8 features trained with the
# class-balanced boundary BCE only (eq. 6 with gamma = 0), so that the
# InverseForm term's own contribution can be isolated. Same budget as the
# baseline (300 iterations, batch 4). The head is dropped at inference.
_base_ = './fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'

# beta of eq. 6 (the released code's edge weight)
boundary_bce_weight = 0.3
model = dict(
    auxiliary_head=dict(
        type='BoundaryHead',
        in_channels=64,
        in_index=0,
        channels=64,
        num_convs=1,
        kernel_size=3,
        dropout_ratio=0.0,
        norm_cfg=_base_.norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='BoundaryBCELoss', loss_weight=boundary_bce_weight)
        ]))

# The baseline's pipeline plus the Sobel boundary target (Sec. 3.5) after
# the geometric transforms; PackSegInputs packs it as gt_edge_map.
train_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(type='GenerateSobelBoundary'),
    _base_.train_pipeline[-1],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
