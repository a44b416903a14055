# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.trivial: the trivial rows, recomputed by hand on a
4-image dataset."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmboundary.benchmark import trivial as job
from mmboundary.benchmark.rows import TASKS


def _labels(root, split):
    return [
        cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in sorted(
            glob.glob(
                osp.join(root, 'gtFine', split, '*', '*_labelTrainIds.png')))
    ]


def test_trivial_semantic_is_the_majority_class(tiny_root):
    train = np.concatenate(
        [lab.ravel() for lab in _labels(tiny_root, 'train')])
    majority = np.bincount(train[train != 255]).argmax()
    gt = np.concatenate([lab.ravel() for lab in _labels(tiny_root, 'val')])
    valid = gt != 255
    ious = []
    for c in range(19):
        inter = ((gt == c) & (majority == c) & valid).sum()
        union = (((gt == c) | (majority == c)) & valid).sum()
        if union:
            ious.append(inter / union)
    trivial = job.trivial_semantic(
        tiny_root, [dict(type='BoundaryMetric', trimap_widths=[1])])
    assert trivial['name'].startswith(f'trivial: always class {majority} ')
    assert trivial['metrics']['mIoU'] == pytest.approx(
        100 * np.mean(ious), abs=1e-4)
    for key in TASKS['semantic']['boundary']:
        assert 0.0 <= trivial['metrics'][key] <= 100.0, key


def test_trivial_instance_scores_whole_image_masks(tiny_root):
    trivial = job.trivial_instance(tiny_root)
    with open(
            osp.join(tiny_root, 'annotations',
                     'instancesonly_filtered_gtFine_train.json')) as f:
        ann = json.load(f)
    counts = np.bincount([a['category_id'] for a in ann['annotations']])
    name = {c['id']: c['name'] for c in ann['categories']}[counts.argmax()]
    assert trivial['name'] == f'trivial: one whole-image {name} per image'
    # every GT instance covers less than half of its image, so a whole-image
    # mask or box never reaches IoU 0.5: every AP is exactly 0
    with open(
            osp.join(tiny_root, 'annotations',
                     'instancesonly_filtered_gtFine_val.json')) as f:
        val = json.load(f)
    sizes = {i['id']: i['height'] * i['width'] for i in val['images']}
    assert max(a['area'] / sizes[a['image_id']]
               for a in val['annotations']) < 0.5
    assert trivial['metrics'] == {
        key: 0.0
        for key, _, _ in TASKS['instance']['metrics']
    }
