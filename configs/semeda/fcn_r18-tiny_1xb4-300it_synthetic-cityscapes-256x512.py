# The compact baseline of the SEMEDA evidence runs: configs/baseline's FCN
# on a tiny ResNet-18 (synthetic Cityscapes, CPU, 300 iterations), unchanged.
# Its dataset base already validates with IoUMetric and BoundaryMetric
# (trimap mIoU at 1 and 3 pixels as in SEMEDA Sec. 4.4, Boundary IoU,
# boundary F-score, mBA), so this file only names the baseline inside
# configs/semeda/ next to the SEMEDA variants.
_base_ = '../baseline/fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
