# InverseForm on HRNet-w18, NYU-Depth-v2, with the geodesic distance (eqs.
# 3-4, lambda = 0.1) and a homography InverseNet: Table 5 "Ours, L_if,geo",
# 34.84 mIoU.
_base_ = './inverseform_hr18_4xb2-10k_nyuv2-480x640.py'

bce, inverse_form = _base_.model.auxiliary_head.loss_decode
model = dict(
    auxiliary_head=dict(loss_decode=[
        bce, dict(inverse_form, distance='geodesic', geodesic_lambda=0.1)
    ]))
