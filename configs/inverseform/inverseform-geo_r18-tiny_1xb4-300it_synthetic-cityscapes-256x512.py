# Compact InverseForm with the geodesic distance (eqs. 3-4, lambda = 0.1;
# Table 5 "L_if,geo"): a homography InverseNet (8 outputs), otherwise the
# Euclidean config.
_base_ = './inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'

model = dict(
    auxiliary_head=dict(loss_decode=[
        dict(type='BoundaryBCELoss', loss_weight=_base_.boundary_bce_weight),
        dict(
            type='InverseFormLoss',
            inverse_net_checkpoint=None,
            distance='geodesic',
            geodesic_lambda=0.1,
            inverse_net=_base_.inverse_net,
            tiling='cover',
            loss_weight=0.3)
    ]))
