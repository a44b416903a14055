# Copyright (c) mmboundary contributors. All rights reserved.
"""``build_boundary_cocoeval``'s ``iouType`` means what it says (issue 14,
item 3): 'segm' is mask AP, 'boundary' is min(mask IoU, Boundary IoU) AP,
on the fast path as in faster-coco-eval itself."""
import copy

import pytest

from mmboundary.evaluation.functional import mask_to_boundary

pytest.importorskip('mmdet', reason='BoundaryAPMetric needs mmdet')
fce = pytest.importorskip(
    'faster_coco_eval', reason='boundary AP needs faster-coco-eval')

from mmboundary.evaluation.metrics.boundary_ap_metric import \
    build_boundary_cocoeval  # noqa: E402
from .test_boundary_ap_metric import box_mask, coco_gt, rle  # noqa: E402

# one GT square, one detection missing 3 of its 40 columns
GT_BOX = (50, 50, 40, 40)
DT_BOX = (50, 50, 40, 37)


def _cocos():
    quiet = lambda *args, **kwargs: None  # noqa: E731
    gt = fce.COCO(
        copy.deepcopy(coco_gt([(1, 24, *GT_BOX)])), print_function=quiet)
    dt = gt.loadRes([
        dict(
            image_id=1,
            category_id=24,
            segmentation=rle(box_mask(*DT_BOX)),
            score=0.9)
    ])
    return gt, dt, quiet


def _map(iou_type, fast_boundary=True, library=False):
    gt, dt, quiet = _cocos()
    if library:
        ev = fce.COCOeval_faster(
            gt,
            dt,
            iouType=iou_type,
            print_function=quiet,
            boundary_dilation_ratio=0.02)
    else:
        ev = build_boundary_cocoeval(
            gt,
            dt,
            0.02,
            fast_boundary=fast_boundary,
            iouType=iou_type,
            print_function=quiet)
    ev.params.imgIds = [1]
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats[0]


def _hand_ious():
    g, d = box_mask(*GT_BOX), box_mask(*DT_BOX)
    mask_iou = (g & d).sum() / (g | d).sum()
    gb, db = mask_to_boundary(g), mask_to_boundary(d)  # d = 6 on 200x200
    return mask_iou, (gb & db).sum() / (gb | db).sum()


def test_hand_ious_are_what_the_thresholds_see():
    mask_iou, biou = _hand_ious()
    assert mask_iou == pytest.approx(1480 / 1600)  # 0.925
    # bands of width d = 6: 1600 - 28 * 28 = 816 and 1480 - 28 * 25 = 780
    # pixels; shared: the top and bottom strips (2 * 6 * 37 = 444) and, in
    # the 28 rows between, columns 50..55 and 84..86 (28 * 9 = 252)
    g, d = box_mask(*GT_BOX), box_mask(*DT_BOX)
    assert mask_to_boundary(g).sum() == 816
    assert mask_to_boundary(d).sum() == 780
    assert biou == pytest.approx(696 / (816 + 780 - 696))  # 0.7733


@pytest.mark.parametrize('fast_boundary', [True, False])
def test_segm_means_mask_iou(fast_boundary):
    # IoU 0.925 passes the thresholds 0.50 .. 0.90: 9 of 10
    assert _map('segm', fast_boundary) == pytest.approx(0.9)
    assert _map('segm',
                fast_boundary) == pytest.approx(_map('segm', library=True))


@pytest.mark.parametrize('fast_boundary', [True, False])
def test_boundary_means_min_of_mask_and_boundary_iou(fast_boundary):
    # min(0.925, 0.7733) passes the thresholds 0.50 .. 0.75: 6 of 10
    assert _map('boundary', fast_boundary) == pytest.approx(0.6)
    assert _map('boundary', fast_boundary) == pytest.approx(
        _map('boundary', library=True))
    assert _map('boundary', fast_boundary) < _map('segm', fast_boundary)


def test_unknown_iou_type_is_refused():
    gt, dt, _ = _cocos()
    with pytest.raises(ValueError, match='iouType'):
        build_boundary_cocoeval(gt, dt, 0.02, iouType='mask')
