# Compact baseline of the InverseForm evidence runs (paper Table 1 "S"):
# configs/baseline's FCN on a tiny ResNet-18, trained from scratch on the
# synthetic Cityscapes data on CPU for 300 iterations, unchanged. Its
# dataset base validates with IoUMetric and BoundaryMetric.
_base_ = '../baseline/fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
