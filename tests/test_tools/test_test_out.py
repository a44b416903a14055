# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/test.py --out: the dumped predictions reproduce, recomputed here,
the mIoU and boundary metrics the tool printed (issue 14, item 4); and
--show-dir paints one image per val image."""
import glob
import os.path as osp
import re

import cv2
import numpy as np
from mmengine.fileio import load

from mmboundary.evaluation.functional import (mask_to_boundary,
                                              mean_boundary_accuracy)
from ..conftest import data_root_options, run_tool

CFG = 'tests/data/configs/tiny_seg_boundary.py'
NUM_CLASSES = 3


def _printed(output, key):
    values = re.findall(rf'\b{key}: ([0-9.]+)', output)
    assert values, f'{key} not printed:\n{output[-2000:]}'
    return float(values[-1])


def test_dumped_predictions_reproduce_the_printed_metrics(
        tiny_seg_run, tiny_seg_root, tmp_path):
    out = tmp_path / 'preds.pkl'
    proc = run_tool([
        'tools/test.py', CFG,
        osp.join(tiny_seg_run, 'iter_4.pth'), '--work-dir',
        str(tmp_path / 'eval'), '--out',
        str(out), '--show-dir',
        str(tmp_path / 'vis'), '--cfg-options',
        *data_root_options(tiny_seg_root)
    ])
    log = proc.stdout + proc.stderr
    results = load(str(out))
    assert len(results) == 2  # one per val image
    inter = np.zeros(NUM_CLASSES)
    union = np.zeros(NUM_CLASSES)
    b_inter = np.zeros(NUM_CLASSES)
    b_union = np.zeros(NUM_CLASSES)
    mba = []
    for res in results:
        pred = np.asarray(res['pred_sem_seg']['data'][0])
        gt = np.asarray(res['gt_sem_seg']['data'][0])
        assert pred.shape == gt.shape
        valid = gt != 255
        for c in range(NUM_CLASSES):
            p, g = (pred == c) & valid, (gt == c) & valid
            inter[c] += (p & g).sum()
            union[c] += (p | g).sum()
            pb, gb = mask_to_boundary(p), mask_to_boundary(g)
            b_inter[c] += (pb & gb).sum()
            b_union[c] += (pb | gb).sum()
        mba.append(mean_boundary_accuracy(gt, pred))
    with np.errstate(invalid='ignore'):
        miou = np.nanmean(inter / union)
        mbiou = np.nanmean(b_inter / b_union)
    assert _printed(log, 'mIoU') == round(miou * 100, 2)
    assert _printed(log, 'mBIoU') == round(mbiou * 100, 2)
    assert _printed(log, 'mBA') == round(float(np.nanmean(mba)) * 100, 2)

    # --show-dir: each val image painted once, GT and prediction side by
    # side (twice the image's width)
    painted = sorted(
        glob.glob(str(tmp_path / 'vis' / '**' / '*.png'), recursive=True))
    assert len(painted) == len(results)
    for res, path in zip(results, painted):
        h, w = np.asarray(res['gt_sem_seg']['data'][0]).shape
        assert cv2.imread(path).shape == (h, 2 * w, 3), path
