# Copyright (c) mmboundary contributors. All rights reserved.
"""The trivial predictor row of each table (what a model must beat)."""
import glob
import json
import os.path as osp
from typing import Dict

import numpy as np

from .protocol import plain
from .rows import TASKS, metric_value, scaled_metric


def trivial_semantic(root: str, evaluator_cfg) -> Dict:
    """Predict the majority training class everywhere: mIoU (as IoUMetric
    counts it) and the table's BoundaryMetric on that prediction."""
    import cv2
    import torch
    from mmseg.datasets import CityscapesDataset

    from mmboundary.evaluation.metrics import BoundaryMetric

    def paths(split):
        return sorted(
            glob.glob(
                osp.join(root, 'gtFine', split, '*', '*_labelTrainIds.png')))

    counts = np.zeros(256, np.int64)
    for path in paths('train'):
        lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        counts += np.bincount(lab.ravel(), minlength=256)
    majority = int(np.argmax(counts[:255]))
    boundary = [e for e in evaluator_cfg if e.get('type') == 'BoundaryMetric']
    kwargs = {k: v for k, v in boundary[0].items() if k != 'type'} \
        if boundary else dict(trimap_widths=[1, 3])
    metric = BoundaryMetric(**plain(kwargs))
    classes = CityscapesDataset.METAINFO['classes']
    metric.dataset_meta = dict(classes=classes)
    val = np.zeros(256, np.int64)
    labels = paths('val')
    for path in labels:
        lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        val += np.bincount(lab.ravel(), minlength=256)
        gt = torch.from_numpy(lab.astype(np.int64))[None]
        metric.process({}, [
            dict(
                pred_sem_seg=dict(data=torch.full_like(gt, majority)),
                gt_sem_seg=dict(data=gt),
                img_path=path)
        ])
    scores = metric.evaluate(len(labels))
    val = val[:len(classes)]
    # predicting `majority` everywhere (ignored pixels excluded, as
    # IoUMetric does): IoU = |gt == m| / |valid| for m, 0 for the others
    ious = np.where(val > 0, 0.0, np.nan)
    ious[majority] = val[majority] / val.sum()
    metrics = {
        k: metric_value(scores, k)
        for k in TASKS['semantic']['boundary']
    }
    metrics['mIoU'] = round(100 * float(np.nanmean(ious)), 4)
    return dict(
        name=f'trivial: always class {majority} ({classes[majority]})',
        metrics=metrics)


def trivial_instance(root: str) -> Dict:
    """One whole-image instance of the majority training class per val
    image, score 1, evaluated by the table's ``BoundaryAPMetric``."""
    import torch
    from mmdet.datasets import CityscapesDataset

    from mmboundary.evaluation.metrics import BoundaryAPMetric
    ann_dir = osp.join(root, 'annotations')
    with open(osp.join(ann_dir,
                       'instancesonly_filtered_gtFine_train.json')) as f:
        train_ann = json.load(f)
    names = {c['id']: c['name'] for c in train_ann['categories']}
    counts = {}
    for ann in train_ann['annotations']:
        counts[ann['category_id']] = counts.get(ann['category_id'], 0) + 1
    classes = list(CityscapesDataset.METAINFO['classes'])
    majority = names[max(counts, key=lambda c: (counts[c], -c))]
    label = classes.index(majority)
    val_file = osp.join(ann_dir, 'instancesonly_filtered_gtFine_val.json')
    with open(val_file) as f:
        images = json.load(f)['images']
    metric = BoundaryAPMetric(
        ann_file=val_file, metric=['bbox', 'segm', 'boundary'])
    metric.dataset_meta = dict(classes=classes)
    for img in images:
        h, w = img['height'], img['width']
        metric.process({}, [
            dict(
                img_id=img['id'],
                ori_shape=(h, w),
                pred_instances=dict(
                    bboxes=torch.tensor([[0.0, 0.0, w, h]]),
                    scores=torch.ones(1),
                    labels=torch.tensor([label]),
                    masks=torch.ones(1, h, w, dtype=torch.bool)))
        ])
    scores = metric.evaluate(len(images))
    return dict(
        name=f'trivial: one whole-image {majority} per image',
        metrics={
            key: scaled_metric(scores, key, scale)
            for key, _, scale in TASKS['instance']['metrics']
        })
