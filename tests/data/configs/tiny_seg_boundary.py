# Copyright (c) mmboundary contributors. All rights reserved.
# tiny_seg.py evaluated with mIoU and the boundary metrics, for the
# tools/test.py --out test.
_base_ = ['./tiny_seg.py']
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', metrics=['mBIoU', 'mBA'])
]
test_evaluator = val_evaluator
