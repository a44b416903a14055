# Released-code tiling on OCRNet-HRNet-w48, for comparison (not the
# paper's recipe): every boundary map is resized to 672 x 1344 and cut into
# 3 x 6 tiles of 224, as the Qualcomm release does. (Its edge-attention CE
# needs EdgeAttentionEncoderDecoder; OCRNet is a cascade segmentor, so it is
# not reproduced here.)
_base_ = './inverseform_ocrnet_hr48_4xb2-80k_cityscapes-512x1024.py'

model = dict(
    auxiliary_head=dict(loss_decode=[
        dict(type='BoundaryBCELoss', loss_weight=0.3),
        dict(
            type='InverseFormLoss',
            inverse_net_checkpoint=None,
            distance='euclidean',
            inverse_net=_base_.inverse_net,
            tiling='resize_grid',
            grid=(3, 6),
            loss_weight=0.3)
    ]))
