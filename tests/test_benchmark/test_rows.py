# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.rows: the declared rows, their baselines and the
row selection of ``--rows``."""
import os.path as osp

import pytest

from mmboundary.benchmark import rows as job
from mmboundary.testing._utils import REPO_ROOT


def test_rows_are_declared_once_per_method():
    names = [r.name for r in job.ROWS]
    assert len(set(names)) == len(names)
    assert [t for t in job.TASKS] == ['semantic', 'instance']
    for task in job.TASKS:
        rows = job.task_rows(task)
        assert rows, task
        assert rows[0].method_keys == ()  # the baseline
        for row in rows[1:]:
            assert row.method_keys
            assert osp.isfile(osp.join(REPO_ROOT, row.readme))
            if row.paper is None:  # no claim against this baseline
                continue
            claim, key = row.paper
            assert key in [k for k, _, _ in job.TASKS[task]['metrics']]
    for row in job.ROWS:
        assert osp.isfile(osp.join(REPO_ROOT, row.config)), row.config
    # today's methods; the others join as one Row each when they exist
    assert names == [
        'FCN (CE)', 'FCN + SEMEDA', 'FCN + boundary BCE', 'FCN + InverseForm',
        'Mask R-CNN', 'Mask R-CNN + Edge Agreement', 'BoxInst', 'AsyInst',
        'DVIS'
    ]


def test_row_selection():
    names = [r.name for r in job.select_rows(['FCN + SEMEDA'])]
    assert names == ['FCN (CE)', 'FCN + SEMEDA']  # baseline added
    names = [r.name for r in job.select_rows(['instance'])]
    assert names == [r.name for r in job.ROWS if r.task == 'instance']
    assert names[:2] == ['Mask R-CNN', 'Mask R-CNN + Edge Agreement']
    # AsyInst brings its own baseline (BoxInst) and the table's
    names = [r.name for r in job.select_rows(['AsyInst'])]
    assert names == ['Mask R-CNN', 'BoxInst', 'AsyInst']
    assert job.select_rows(None) == job.ROWS
    with pytest.raises(ValueError, match=r"unknown row \['InverseForm'\]"):
        job.select_rows(['FCN (CE)', 'InverseForm'])


def test_metric_lookup():
    metrics = {'coco/segm_mAP': 0.25, 'mIoU': 41.0}
    assert job.metric_value(metrics, 'mIoU') == 41.0
    assert job.metric_value(metrics, 'segm_mAP') == 0.25  # any prefix/
    assert job.metric_value(metrics, 'mAP') is None  # not a name suffix
    assert job.scaled_metric(metrics, 'coco/segm_mAP', 100.0) == 25.0
    assert job.scaled_metric({'a': 1 / 3}, 'a', 100.0) == 33.3333
    assert job.scaled_metric(metrics, 'mBF', 1.0) is None
