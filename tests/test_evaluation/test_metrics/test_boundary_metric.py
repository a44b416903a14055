# Copyright (c) mmboundary contributors. All rights reserved.
import json
import socket

import cv2
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from mmboundary.evaluation import BoundaryMetric
from mmboundary.evaluation.functional import (f_score_from_counts,
                                              mask_to_boundary,
                                              semantic_boundary_stats)

CLASSES = ('road', 'car', 'sky')


def sample(gt, pred, img_path='img.png'):
    return dict(
        img_path=img_path,
        gt_sem_seg=dict(data=torch.as_tensor(gt)[None]),
        pred_sem_seg=dict(data=torch.as_tensor(pred)[None]))


def random_maps(seed, h, w, num_classes=3):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, num_classes, (h // 6, w // 6)).astype(np.uint8)
    gt = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    pred = np.roll(gt, int(rng.integers(1, 3)), axis=1)
    flip = rng.random((h, w)) < 0.05
    pred[flip] = rng.integers(0, num_classes, flip.sum())
    gt = gt.astype(np.int64)
    gt[:3, :8] = 255
    return gt, pred.astype(np.int64)


def run_metric(samples, **kwargs):
    metric = BoundaryMetric(**kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    for s in samples:
        metric.process({}, [s])
    return metric, metric.evaluate(len(samples))


def test_hand_values_one_image():
    # 10x10: class 0 on columns < 5, prediction moves the edge to 5 | 6;
    # d = max(1, round(0.02 * 14.1)) = 1
    gt = np.ones((10, 10), dtype=np.int64)
    gt[:, :5] = 0
    pred = np.ones((10, 10), dtype=np.int64)
    pred[:, :6] = 0
    metric, res = run_metric([sample(gt, pred)], trimap_widths=[1])
    biou = metric.per_class_results['BIoU']
    # class 0: bands of 26 (GT) and 28 (pred) pixels share 18;
    # class 1: 26 and 24 share 16; class 2 absent -> NaN
    np.testing.assert_allclose(biou[:2], [18 / 36, 16 / 34])
    assert np.isnan(biou[2])
    assert res['mBIoU'] == round((18 / 36 + 16 / 34) / 2 * 100, 2)
    # trimap width 1: see test_trimap_and_mba.py
    np.testing.assert_allclose(metric.per_class_results['TrimapIoU@1'][:2],
                               [0.5, 0.0])
    assert res['mTrimapIoU@1'] == 25.0
    assert res['mNonBoundaryIoU@1'] == 100.0
    assert res['mBA'] == 50.0
    assert set(res) == {
        'mBIoU', 'mBF', 'mTrimapIoU@1', 'mNonBoundaryIoU@1', 'mBA'
    }


def test_identical_and_disjoint():
    gt, _ = random_maps(0, 36, 48)
    _, res = run_metric([sample(gt, gt)])
    assert res['mBIoU'] == res['mBF'] == res['mBA'] == 100.0
    assert res['mTrimapIoU@3'] == res['mNonBoundaryIoU@3'] == 100.0
    # every class predicted where it is not: nothing overlaps
    gt = np.zeros((20, 20), dtype=np.int64)
    gt[:, 10:] = 1
    _, res = run_metric([sample(gt, 1 - gt)], bf_tolerance=0)
    assert res['mBIoU'] == res['mBF'] == res['mBA'] == 0.0


def test_accumulates_counts_not_per_image_scores():
    samples = [
        sample(*random_maps(s, h, w))
        for s, (h, w) in enumerate([(30, 40), (48, 36), (24, 60)])
    ]
    metric, res = run_metric(samples, trimap_widths=[1, 3], bf_tolerance=1)
    # pooled Boundary IoU re-derived per class with mask_to_boundary
    inter = np.zeros(3)
    union = np.zeros(3)
    for s in samples:
        gt = s['gt_sem_seg']['data'][0].numpy()
        pred = s['pred_sem_seg']['data'][0].numpy()
        pred = np.where(gt == 255, 255, pred)
        for c in range(3):
            gb = mask_to_boundary(gt == c)
            pb = mask_to_boundary(pred == c)
            inter[c] += (gb & pb).sum()
            union[c] += (gb | pb).sum()
    np.testing.assert_allclose(metric.per_class_results['BIoU'], inter / union)
    assert res['mBIoU'] == round(np.mean(inter / union) * 100, 2)
    # the other parts: ratios of summed per-image counts
    stats = [
        semantic_boundary_stats(
            s['gt_sem_seg']['data'],
            s['pred_sem_seg']['data'],
            3,
            tolerance=1,
            trimap_widths=[1, 3]) for s in samples
    ]
    tot = {k: sum(st[k] for st in stats) for k in stats[0]}
    f = f_score_from_counts(tot['bf_prec_hit'], tot['bf_prec_total'],
                            tot['bf_rec_hit'], tot['bf_rec_total'])[0]
    assert res['mBF'] == round(np.nanmean(f) * 100, 2)
    ti = tot['trimap_inter'][1] / (
        tot['trimap_gt'][1] + tot['trimap_pred'][1] - tot['trimap_inter'][1])
    assert res['mTrimapIoU@3'] == round(np.mean(ti) * 100, 2)
    # mBA: each image's own mean over radii, then the mean over images
    mba = np.mean(
        [np.mean(st['mba_correct'] / st['mba_total']) for st in stats])
    assert res['mBA'] == round(mba * 100, 2)
    # and differs from averaging per-image Boundary IoUs
    per_image = []
    for st in stats:
        per_image.append(st['biou_inter'] /
                         (st['biou_gt'] + st['biou_pred'] - st['biou_inter']))
    assert not np.allclose(np.nanmean(per_image, 0), inter / union)


def test_ignore_and_nan_like_iou_metric():
    from mmseg.evaluation import IoUMetric
    gt = np.zeros((16, 16), dtype=np.int64)
    gt[:, 8:] = 1
    gt[:4] = 255
    pred = gt.copy()
    pred[:4] = 2  # class 2 predicted only inside ignored pixels
    pred[10, 2] = 1
    samples = [sample(gt, pred)]
    metric, res = run_metric(samples)
    iou = IoUMetric()
    iou.dataset_meta = dict(classes=CLASSES)
    iou.process({}, samples)
    iou.evaluate(1)
    area = IoUMetric.intersect_and_union(
        torch.as_tensor(pred), torch.as_tensor(gt), 3, 255)
    per_class_iou = (area[0] / area[1]).numpy()
    # class 2 appears only in ignored pixels: NaN in both metrics
    assert np.isnan(per_class_iou[2])
    for key, value in metric.per_class_results.items():
        np.testing.assert_array_equal(
            np.isnan(value), np.isnan(per_class_iou), err_msg=key)
    assert not np.isnan(list(res.values())).any()
    # a prediction inside ignored pixels changes nothing
    pred2 = pred.copy()
    pred2[:4] = 0
    _, res2 = run_metric([sample(gt, pred2)])
    assert res2 == res
    # class predicted but absent from GT: 0, not NaN (as IoUMetric)
    pred3 = pred.copy()
    pred3[12:14, 3:5] = 2
    metric3, _ = run_metric([sample(gt, pred3)])
    assert metric3.per_class_results['BIoU'][2] == 0.0
    # nan_to_num replaces absent classes before the mean
    _, res4 = run_metric(samples, nan_to_num=0, metrics=['mBIoU'])
    assert res4['mBIoU'] == pytest.approx(
        np.nansum(metric.per_class_results['BIoU']) / 3 * 100, abs=0.01)


def test_metric_subset_and_evaluator_list():
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator([
        dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
        dict(type='BoundaryMetric', metrics=['mBIoU', 'mBA'])
    ])
    evaluator.dataset_meta = dict(classes=CLASSES)
    gt, pred = random_maps(1, 30, 30)
    evaluator.process([sample(gt, pred)])
    res = evaluator.evaluate(1)
    assert set(res) == {'aAcc', 'mIoU', 'mAcc', 'mBIoU', 'mBA'}


def test_bad_input():
    with pytest.raises(ValueError, match="'mBIOU'"):
        BoundaryMetric(metrics=['mBIOU'])
    with pytest.raises(ValueError, match='dilation_ratio'):
        BoundaryMetric(dilation_ratio=0)
    with pytest.raises(ValueError, match='dilation_ratio'):
        BoundaryMetric(dilation_ratio=1.2)
    with pytest.raises(ValueError, match='trimap_widths must list'):
        BoundaryMetric(trimap_widths=[])
    with pytest.raises(ValueError, match='boundary_width'):
        BoundaryMetric(boundary_width=0)
    with pytest.raises(ValueError, match='not both'):
        BoundaryMetric(bf_tolerance=2, bf_tolerance_ratio=0.01)
    with pytest.raises(TypeError, match='trimap_width'):
        BoundaryMetric(trimap_width=[3])  # misspelt option is not swallowed
    metric = BoundaryMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    gt = np.zeros((8, 8), dtype=np.int64)
    with pytest.raises(ValueError, match='b.png.*pred and gt must have'):
        metric.process({}, [sample(gt, gt[:, :6], img_path='b.png')])


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world_size, port, samples, out_path):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        metric = BoundaryMetric(trimap_widths=[1, 3])
        metric.dataset_meta = dict(classes=CLASSES)
        # the interleaved split of mmengine's DefaultSampler
        for s in samples[rank::world_size]:
            metric.process({}, [s])
        res = metric.evaluate(len(samples))
        with open(f'{out_path}.{rank}', 'w') as f:
            json.dump(res, f)
    finally:
        dist.destroy_process_group()


def test_ddp_two_processes_match_one(tmp_path):
    samples = [
        sample(*random_maps(s, h, w))
        for s, (h, w) in enumerate([(30, 40), (48, 36), (24, 60), (40,
                                                                   40), (36,
                                                                         36)])
    ]
    _, single = run_metric(samples, trimap_widths=[1, 3])
    out = str(tmp_path / 'res')
    mp.spawn(
        _ddp_worker, args=(2, _free_port(), samples, out), nprocs=2, join=True)
    for rank in range(2):
        with open(f'{out}.{rank}') as f:
            assert json.load(f) == single
