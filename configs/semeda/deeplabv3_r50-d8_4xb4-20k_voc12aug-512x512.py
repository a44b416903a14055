# Plain cross-entropy baseline on Pascal VOC 2012 aug (paper Table 2,
# "deepLab"): mmseg's DeepLabV3 R50-D8 recipe, plus trimap and boundary
# metrics (SEMEDA Sec. 4.4).
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryMetric', trimap_widths=[1, 2, 5, 10])
]
test_evaluator = val_evaluator
