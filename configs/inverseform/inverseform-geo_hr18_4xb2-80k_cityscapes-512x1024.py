# InverseForm on HRNet-w18 with the geodesic distance (eqs. 3-4,
# lambda = 0.1; Table 5's L_if,geo column) and a homography InverseNet.
_base_ = './inverseform_hr18_4xb2-80k_cityscapes-512x1024.py'

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
