# The compact baseline of the SEMEDA evidence runs: configs/baseline's FCN
# on a tiny ResNet-18 (synthetic Cityscapes, CPU, 300 iterations), unchanged
# except that validation adds the boundary metrics (trimap mIoU at 1 and 3
# pixels, as SEMEDA Sec. 4.4, Boundary IoU, boundary F-score, mBA).
_base_ = '../baseline/fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', trimap_widths=[1, 3])
]
test_evaluator = val_evaluator
