# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/misc/run_main_job.py: config preparation, trivial baseline, table.

The full job (training for minutes) is ``make demo``; here only its parts.
"""
import glob
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmboundary.testing._utils import REPO_ROOT
from .test_generate_synthetic_cityscapes import _load_tool

pytest.importorskip('cityscapesscripts')


def _load_job():
    path = osp.join(REPO_ROOT, 'tools', 'misc', 'run_main_job.py')
    spec = importlib.util.spec_from_file_location('_run_main_job', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


job = _load_job()


def test_rows_point_at_existing_configs():
    assert len(job.ROWS) >= 1
    names = [name for name, _ in job.ROWS]
    assert len(set(names)) == len(names)
    for _, config in job.ROWS:
        assert osp.isfile(osp.join(REPO_ROOT, config)), config


def test_prepare_config_applies_the_shared_budget(tmp_path):
    src = job.ROWS[0][1]
    dst = str(tmp_path / 'cfg.py')
    iters = job.prepare_config(src, dst, 30, '/data/cs', 7)
    assert iters == 30
    cfg = Config.fromfile(dst)
    original = Config.fromfile(osp.join(REPO_ROOT, src))
    scale = 30 / original.train_cfg.max_iters
    assert cfg.train_cfg.max_iters == 30
    assert cfg.train_cfg.val_interval == 30
    assert cfg.default_hooks.checkpoint.interval == 30
    for new, old in zip(cfg.param_scheduler, original.param_scheduler):
        assert new['end'] == int(round(old['end'] * scale))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == '/data/cs/'
    assert cfg.randomness.seed == 7
    assert cfg.test_evaluator[-1]['type'] == 'BoundaryMetric'
    assert 'mmboundary' in cfg.custom_imports.imports
    # no budget given: the config's own
    assert job.prepare_config(src, dst, None, '/data/cs', 0) == \
        original.train_cfg.max_iters


def test_prepare_config_adds_boundary_metric_once(tmp_path):
    base = osp.join(REPO_ROOT, job.ROWS[0][1])
    dst = str(tmp_path / 'cfg.py')
    # the row's config already has BoundaryMetric: not added twice
    job.prepare_config(base, dst, 30, '/data/cs', 0)
    types = [e['type'] for e in Config.fromfile(dst).test_evaluator]
    assert types.count('BoundaryMetric') == 1
    # a row without it gets one that reports every table column
    src = tmp_path / 'no_boundary.py'
    src.write_text(f'_base_ = {base!r}\n'
                   "test_evaluator = [dict(type='IoUMetric')]\n")
    job.prepare_config(str(src), dst, 30, '/data/cs', 0)
    evaluator = Config.fromfile(dst).test_evaluator
    assert [e['type'] for e in evaluator] == ['IoUMetric', 'BoundaryMetric']
    assert 1 in evaluator[1]['trimap_widths']


def test_trivial_baseline_is_the_majority_class_miou(tmp_path):
    root = str(tmp_path / 'cs')
    _load_tool('generate_synthetic_cityscapes').generate(
        root,
        seed=2,
        num_train=2,
        num_val=2,
        height=128,
        width=256,
        verbose=False)
    _load_tool('cityscapes').convert(root, verbose=False)
    assert job.data_ready(root)

    def labels(split):
        return [
            cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in sorted(
                glob.glob(
                    osp.join(root, 'gtFine', split, '*',
                             '*_labelTrainIds.png')))
        ]

    train = np.concatenate([lab.ravel() for lab in labels('train')])
    majority = np.bincount(train[train != 255]).argmax()
    gt = np.concatenate([lab.ravel() for lab in labels('val')])
    valid = gt != 255
    ious = []
    for c in range(19):
        inter = ((gt == c) & (majority == c) & valid).sum()
        union = (((gt == c) | (majority == c)) & valid).sum()
        if union:
            ious.append(inter / union)
    got_class, got_miou = job.trivial_miou(root)
    assert got_class == majority
    assert got_miou == pytest.approx(100 * np.mean(ious), abs=1e-9)


def test_results_table():
    rows = [
        dict(
            name='A',
            iters=300,
            mIoU=28.4,
            boundary=dict(mBIoU=20.125, mBF=None),
            train_s=12.5),
        dict(
            name='B',
            iters=300,
            mIoU=30.0,
            boundary=dict(mBIoU=None),
            train_s=40.0)
    ]
    table = job.format_table(rows, (0, 2.5))
    # only the boundary columns some row reports are shown
    assert table.splitlines() == [
        '| Method | iters | mIoU (%) | mBIoU (%) | train time (s) |',
        '|---|---|---|---|---|',
        '| trivial: always class 0 | - | 2.50 | - | - |',
        '| A | 300 | 28.40 | 20.12 | 12.5 |',
        '| B | 300 | 30.00 | - | 40.0 |',
    ]
    # no row reports a boundary metric: no boundary column at all
    for r in rows:
        r['boundary'] = {}
    assert job.format_table(rows, (0, 2.5)).splitlines()[0] == \
        '| Method | iters | mIoU (%) | train time (s) |'


def test_main_job_compares_baseline_and_semeda():
    """Issue 5: the baseline and SEMEDA share data, budget and seed."""
    configs = [Config.fromfile(osp.join(REPO_ROOT, c)) for _, c in job.ROWS]
    kinds = [[
        loss['type'] for loss in _as_list(cfg.model.decode_head.loss_decode)
    ] for cfg in configs]
    assert kinds[0] == ['CrossEntropyLoss']
    assert any('SemedaLoss' in k for k in kinds[1:])
    for cfg in configs[1:]:
        assert cfg.train_cfg.max_iters == configs[0].train_cfg.max_iters
        assert cfg.train_dataloader.batch_size == \
            configs[0].train_dataloader.batch_size
        assert cfg.train_pipeline == configs[0].train_pipeline


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]
