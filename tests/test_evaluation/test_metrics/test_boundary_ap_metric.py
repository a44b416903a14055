# Copyright (c) mmboundary contributors. All rights reserved.
import json

import numpy as np
import pytest
import torch

from mmboundary.evaluation.functional import boundary_iou, mask_to_boundary

pytest.importorskip('mmdet', reason='BoundaryAPMetric needs mmdet')
fce = pytest.importorskip(
    'faster_coco_eval', reason='boundary AP needs faster-coco-eval')
from faster_coco_eval.core import mask as fce_mask  # noqa: E402

from mmboundary.evaluation import BoundaryAPMetric  # noqa: E402
from mmboundary.evaluation.metrics.boundary_ap_metric import (  # noqa: E402
    boundary_rle, build_boundary_cocoeval)

H = W = 200  # d = round(0.02 * 282.8) = 6
CATEGORIES = [dict(id=24, name='person'), dict(id=26, name='car')]
CLASSES = ('person', 'car')


def box_mask(top, left, h, w, shape=(H, W)):
    mask = np.zeros(shape, dtype=np.uint8)
    mask[max(top, 0):top + h, max(left, 0):left + w] = 1
    return mask


def rle(mask):
    r = fce_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    r['counts'] = r['counts'].decode()
    return r


def coco_gt(objects, polygons=False):
    """objects: (image_id, category_id, top, left, h, w)."""
    anns = []
    for i, (img, cat, top, left, h, w) in enumerate(objects):
        if polygons:  # as Cityscapes converters write them
            x0, y0, x1, y1 = left, top, left + w, top + h
            seg = [[x0, y0, x1, y0, x1, y1, x0, y1]]
        else:
            seg = rle(box_mask(top, left, h, w))
        anns.append(
            dict(
                id=i + 1,
                image_id=img,
                category_id=cat,
                segmentation=seg,
                area=float(h * w),
                bbox=[left, top, w, h],
                iscrowd=0))
    images = [
        dict(id=i, width=W, height=H, file_name=f'{i}.png') for i in (1, 2)
    ]
    return dict(images=images, categories=CATEGORIES, annotations=anns)


def data_sample(img_id, dets):
    """dets: (label, score, top, left, h, w)."""
    masks = np.stack([box_mask(*d[2:]) for d in dets]).astype(bool)
    boxes = [[d[3], d[2], d[3] + d[5], d[2] + d[4]] for d in dets]
    return dict(
        img_id=img_id,
        ori_shape=(H, W),
        pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32),
            scores=torch.tensor([d[1] for d in dets]),
            labels=torch.tensor([d[0] for d in dets]),
            masks=torch.from_numpy(masks)))


def evaluate(tmp_path, gt, samples, **kwargs):
    ann_file = tmp_path / 'gt.json'
    ann_file.write_text(json.dumps(gt))
    metric = BoundaryAPMetric(ann_file=str(ann_file), **kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    for s in samples:
        metric.process({}, [s])
    return metric.evaluate(len(samples))


SMALL_GT = [(1, 24, 20, 20, 8, 8), (1, 26, 60, 60, 8, 8),
            (2, 24, 100, 100, 8, 8), (2, 26, 150, 30, 8, 8)]
# shifts of 0, 1, 2, 3 px: mask IoU 1, 56/72, 48/80, 40/88 (+ one false
# positive)
SMALL_DETS = {
    1: [(0, 0.9, 20, 20, 8, 8), (1, 0.8, 61, 60, 8, 8),
        (1, 0.95, 120, 120, 8, 8)],
    2: [(0, 0.7, 100, 102, 8, 8), (1, 0.6, 153, 30, 8, 8)]
}


@pytest.mark.parametrize('polygons', [False, True])
def test_boundary_ap_equals_segm_ap_for_small_objects(tmp_path, polygons):
    # every 8x8 object lies inside its own 6-px band, so Boundary IoU equals
    # mask IoU (Cheng et al., Sec. 5) and the two APs coincide
    samples = [data_sample(i, SMALL_DETS[i]) for i in (1, 2)]
    res = evaluate(tmp_path, coco_gt(SMALL_GT, polygons), samples)
    for item in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'):
        assert res[f'coco/boundary_{item}'] == res[f'coco/segm_{item}']
    assert 0 < res['coco/segm_mAP'] < 1


def test_classwise_boundary_ap(tmp_path):
    samples = [data_sample(i, SMALL_DETS[i]) for i in (1, 2)]
    res = evaluate(tmp_path, coco_gt(SMALL_GT), samples, classwise=True)
    for name in CLASSES:
        assert res[f'coco/{name}_boundary_precision'] == \
            res[f'coco/{name}_precision']
    assert res['coco/person_precision'] != res['coco/car_precision']


def test_boundary_ap_lower_for_shifted_boundary(tmp_path):
    gt = coco_gt([(1, 26, 50, 50, 100, 100)])
    samples = [
        data_sample(1, [(1, 0.9, 50, 52, 100, 100)]),
        data_sample(2, [(0, 0.1, 0, 0, 5, 5)])
    ]
    res = evaluate(tmp_path, gt, samples, metric=['bbox', 'segm', 'boundary'])
    miou = 98 / 102
    # bands of 2256 px share 1880: 1880 / 2632 = 0.714
    biou = boundary_iou(box_mask(50, 50, 100, 100), box_mask(50, 52, 100, 100))
    assert biou == pytest.approx(1880 / 2632)
    thrs = np.linspace(0.5, 0.95, 10)
    # one true positive per threshold it clears: AP is 1 or 0 there
    assert res['coco/segm_mAP'] == round(np.mean(thrs <= miou), 3)
    assert res['coco/boundary_mAP'] == round(np.mean(thrs <= biou), 3)
    assert res['coco/boundary_mAP'] < res['coco/segm_mAP']
    # the boxes are the masks' rectangles, so box IoU = mask IoU
    assert res['coco/bbox_mAP'] == round(np.mean(thrs <= miou), 3)


def test_faster_coco_eval_matches_numpy_boundary_iou():
    # the IoU faster-coco-eval matches with equals our
    # min(mask IoU, boundary_iou) (objects touching the border included)
    gts = [
        box_mask(10, 10, 30, 40, (60, 90)),
        box_mask(0, 50, 25, 40, (60, 90))
    ]
    dts = [
        box_mask(12, 13, 30, 40, (60, 90)),
        box_mask(2, 52, 20, 38, (60, 90)),
        box_mask(0, 0, 60, 90, (60, 90))
    ]
    gt = dict(
        images=[dict(id=1, height=60, width=90)],
        categories=[dict(id=1, name='a')],
        annotations=[
            dict(
                id=i + 1,
                image_id=1,
                category_id=1,
                segmentation=rle(m),
                area=float(m.sum()),
                bbox=[0, 0, 1, 1],
                iscrowd=0) for i, m in enumerate(gts)
        ])
    coco_gt_api = fce.COCO(gt)
    coco_dt = coco_gt_api.loadRes([
        dict(image_id=1, category_id=1, segmentation=rle(m), score=1 - i / 10)
        for i, m in enumerate(dts)
    ])
    for ratio, fast in [(0.02, True), (0.05, True), (0.05, False)]:
        ev = build_boundary_cocoeval(
            coco_gt_api, coco_dt, ratio, fast_boundary=fast)
        ev.evaluate()
        ious = np.asarray(ev.ious[(1, 1)])
        expected = np.array([[
            min((d & g).sum() / (d | g).sum(),
                boundary_iou(g, d, dilation_ratio=ratio)) for g in gts
        ] for d in dts])
        np.testing.assert_allclose(ious, expected, rtol=0, atol=1e-12)
        assert (expected < np.array([[(d & g).sum() / (d | g).sum()
                                      for g in gts] for d in dts])).any()


def test_boundary_rle_matches_library_and_numpy():
    shape = (50, 70)
    masks = [
        box_mask(10, 10, 20, 30, shape),
        box_mask(0, 0, 50, 70, shape),  # whole image: a frame
        box_mask(40, 60, 20, 20, shape),  # corner, touches two borders
        np.zeros(shape, dtype=np.uint8),  # empty
        np.pad(np.ones((1, 40), np.uint8), ((25, 24), (5, 25))),  # line
    ]
    rng = np.random.default_rng(0)
    masks.append((rng.random(shape) < 0.6).astype(np.uint8))
    anns = [dict(image_id=1, segmentation=rle(m)) for m in masks]
    fce_mask.calculateRleForAllAnnotations(anns, {1: shape}, True, True, 0.05,
                                           1)
    for m, ann in zip(masks, anns):
        ours = fce_mask.decode(boundary_rle(ann['rle'], 0.05))
        np.testing.assert_array_equal(ours, fce_mask.decode(ann['boundary']))
        np.testing.assert_array_equal(ours,
                                      mask_to_boundary(m, dilation_ratio=0.05))


def test_bad_input(tmp_path):
    with pytest.raises(KeyError, match="'boundry'"):
        BoundaryAPMetric(metric=['segm', 'boundry'])
    with pytest.raises(ValueError, match='boundary_dilation_ratio'):
        BoundaryAPMetric(boundary_dilation_ratio=0)
    with pytest.raises(KeyError, match='metric_items'):
        BoundaryAPMetric(metric_items=['mAP_xl'])
    # annotation id 0 silently breaks COCO matching: warn, naming the file
    gt = coco_gt(SMALL_GT)
    gt['annotations'][0]['id'] = 0
    ann_file = tmp_path / 'ids0.json'
    ann_file.write_text(json.dumps(gt))
    with pytest.warns(UserWarning, match='ids0.json: an annotation has id 0'):
        BoundaryAPMetric(ann_file=str(ann_file))
