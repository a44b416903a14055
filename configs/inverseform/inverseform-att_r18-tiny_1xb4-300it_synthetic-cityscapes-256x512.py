# Released-code parity (NOT in the paper): the compact InverseForm config
# plus the edge-attention cross-entropy of the Qualcomm release (the
# segmentation CE where the boundary head's sigmoid > 0.8, weight 0.1).
_base_ = './inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'

model = dict(
    type='EdgeAttentionEncoderDecoder',
    edge_attention=dict(threshold=0.8, loss_weight=0.1))
