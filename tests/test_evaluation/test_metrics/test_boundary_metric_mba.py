# Copyright (c) mmboundary contributors. All rights reserved.
"""mBA as CascadePSP publishes it (per image, then averaged over images),
the pooled variant, and the per-radius averaging on images large enough to
have distinct radii (issue 14, item 3)."""
import cv2
import numpy as np
import pytest
import torch

from mmboundary.evaluation import BoundaryMetric
from mmboundary.evaluation.functional import mba_radii, mean_boundary_accuracy


def sample(gt, pred):
    return dict(
        img_path='img.png',
        gt_sem_seg=dict(data=torch.as_tensor(gt)[None]),
        pred_sem_seg=dict(data=torch.as_tensor(pred)[None]))


def evaluate(pairs, metrics=('mBA', 'mBAPooled')):
    metric = BoundaryMetric(metrics=list(metrics))
    metric.dataset_meta = dict(classes=('a', 'b'))
    for gt, pred in pairs:
        metric.process({}, [sample(gt, pred)])
    return metric.evaluate(len(pairs))


def split(h, w, col):
    """Class 0 left of column ``col``, class 1 from it on."""
    label = np.zeros((h, w), dtype=np.int64)
    label[:, col:] = 1
    return label


def cascadepsp_mba(gt, seg):
    """CascadePSP's ``compute_boundary_acc`` for binary masks, written from
    its published definition (morphological gradient of the GT with a disk
    of radius 1 + int((r_max - 1) / 5 * i), r_max = (H + W) / 300)."""
    gt = gt.astype(np.uint8)
    seg = seg.astype(np.uint8)
    h, w = gt.shape
    max_radius = (w + h) / 300
    accs = []
    for i in range(5):
        r = 1 + int((max_radius - 1) / 5 * i)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                           (2 * r + 1, 2 * r + 1))
        band = cv2.morphologyEx(gt, cv2.MORPH_GRADIENT, kernel) > 0
        good = (gt[band] == seg[band]).sum()
        accs.append(good / band.sum())
    return sum(accs) / 5


def test_radii_are_distinct_on_600x900():
    # r_max = 1500 / 300 = 5: 1 + int(4 / 5 * i) for i = 0..4
    assert mba_radii((600, 900)) == [1, 1, 2, 3, 4]
    assert mba_radii((1024, 2048)) == [1, 2, 4, 6, 8]
    assert mba_radii((300, 300)) == [1, 1, 1, 1, 1]


def test_hand_value_with_distinct_radii():
    # GT edge at column 450, prediction at 452: columns 450, 451 are wrong.
    # The band of radius r is columns 450 - r .. 449 + r (2r columns);
    # r = 1 holds one wrong column, r >= 2 both:
    # r = 1, 1, 2, 3, 4 -> 1/2, 1/2, 2/4, 4/6, 6/8 -> mean 7/12
    gt, pred = split(600, 900, 450), split(600, 900, 452)
    assert mean_boundary_accuracy(gt, pred) == pytest.approx(7 / 12)
    assert cascadepsp_mba(gt, pred) == pytest.approx(7 / 12)
    res = evaluate([(gt, pred)])
    assert res['mBA'] == res['mBAPooled'] == round(7 / 12 * 100, 2)  # 58.33


def test_per_image_mean_differs_from_pooled():
    big = (split(600, 900, 450), split(600, 900, 452))  # mBA 7/12
    small = (split(300, 300, 150), split(300, 300, 150))  # perfect: 1
    res = evaluate([big, small])
    # CascadePSP: mean of the two images' mBA
    assert res['mBA'] == round((7 / 12 + 1) / 2 * 100, 2)  # 79.17
    # pooled per radius step: the small image adds 600 correct band pixels
    # (radius 1) to each step of the big one (600 * 2r pixels, 600 or
    # 1200 wrong)
    pooled = np.mean([(1200 + 0) / 1800, 1200 / 1800, 1800 / 3000, 3000 / 4200,
                      4200 / 5400])
    assert res['mBAPooled'] == round(pooled * 100, 2)  # 68.51
    assert res['mBA'] != res['mBAPooled']


def test_matches_cascadepsp_on_mixed_sizes():
    rng = np.random.default_rng(3)
    pairs = []
    for h, w in [(600, 900), (310, 470), (128, 256), (450, 451)]:
        coarse = rng.integers(0, 2, (6, 8)).astype(np.uint8)
        gt = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_NEAREST)
        pred = np.roll(gt, int(rng.integers(1, 6)), axis=int(rng.integers(2)))
        flip = rng.random((h, w)) < 0.02
        pred = np.where(flip, 1 - pred, pred)
        pairs.append((gt.astype(np.int64), pred.astype(np.int64)))
    per_image = [cascadepsp_mba(g, p) for g, p in pairs]
    res = evaluate(pairs)
    assert res['mBA'] == round(float(np.mean(per_image)) * 100, 2)
    for (g, p), ref in zip(pairs, per_image):
        assert mean_boundary_accuracy(g, p) == pytest.approx(ref)


def test_default_metrics_report_per_image_mba_only():
    gt, pred = split(600, 900, 450), split(600, 900, 452)
    metric = BoundaryMetric()
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process({}, [sample(gt, pred)])
    res = metric.evaluate(1)
    assert res['mBA'] == 58.33 and 'mBAPooled' not in res
