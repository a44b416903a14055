# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/misc/run_main_job.py: row declarations, protocol checks, shared
start cache, statistics, tables, figures and the README results block.

The full job (training for minutes) is ``make demo``; here only its parts,
on hand-made numbers and a 4-image dataset.
"""
import copy
import glob
import importlib.util
import json
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.reproducibility import git_root
from .test_generate_synthetic_cityscapes import _load_tool

pytest.importorskip('cityscapesscripts')


def _load_job():
    path = osp.join(REPO_ROOT, 'tools', 'misc', 'run_main_job.py')
    spec = importlib.util.spec_from_file_location('_run_main_job', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


job = _load_job()
START = '/starts/segmentor.pth'


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('main_job') / 'cs')
    _load_tool('generate_synthetic_cityscapes').generate(
        root,
        seed=2,
        num_train=2,
        num_val=2,
        height=128,
        width=256,
        verbose=False)
    _load_tool('cityscapes').convert(root, verbose=False)
    return root


def _two_semantic_rows():
    """The semantic baseline and SEMEDA rows (hand-made records cover
    these two; other rows may be declared beside them)."""
    return [
        r for r in job.task_rows('semantic')
        if r.name in ('FCN (CE)', 'FCN + SEMEDA')
    ]


def _written():
    return {r.name: job.load_config(r.config) for r in job.ROWS}


def _fake_start():
    base = job.task_rows('semantic')[0]
    return dict(
        checkpoint_path=START,
        backbone=job.load_config(base.config).model.backbone.to_dict())


def _resolved(seed=0, iters=None):
    return {
        r.name:
        job.resolve_config(
            job.load_config(r.config), r.task, (iters or {}).get(r.task),
            '/data/cs', seed, _fake_start())
        for r in job.ROWS
    }


# ------------------------------------------------------------ declarations
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


def test_row_configs_share_the_protocol_as_written_and_resolved():
    written = _written()
    job.check_rows(job.ROWS, written)
    resolved = _resolved(seed=3, iters={'semantic': 40})
    job.check_rows(job.ROWS, resolved)
    for task in job.TASKS:
        rows = job.task_rows(task)
        ref = job.protocol_of(resolved[rows[0].name])
        for row in rows[1:]:
            assert job.protocol_of(resolved[row.name]) == ref
            base = job.baseline_of(row, job.ROWS)
            diff = job.config_differences(resolved[row.name],
                                          resolved[base.name])
            assert diff and all(job._under(k, row.method_keys) for k in diff)
    sem = resolved['FCN + SEMEDA']
    base = resolved['FCN (CE)']
    # only the method differs: SEMEDA adds its loss and its hook
    diff = job.config_differences(sem, base)
    assert diff[:2] == ['custom_hooks', 'model.decode_head.loss_decode']
    assert all(
        k.startswith('model.decode_head.loss_decode.') for k in diff[2:])
    assert [d['type'] for d in sem.model.decode_head.loss_decode] == \
        ['CrossEntropyLoss', 'SemedaLoss']
    assert base.model.decode_head.loss_decode['type'] == 'CrossEntropyLoss'
    for cfg in (sem, base):  # same budget, seed and start
        assert cfg.train_cfg.max_iters == 40
        assert cfg.randomness.seed == 3
        assert cfg.load_from == START
    ea = resolved['Mask R-CNN + Edge Agreement']
    mrcnn = resolved['Mask R-CNN']
    diff = job.config_differences(ea, mrcnn)
    assert 'model.roi_head.mask_head.type' in diff
    assert 'model.roi_head.mask_head.loss_edge.filters' in diff
    assert all(k.startswith('model.roi_head.mask_head.') for k in diff)
    for cfg in (ea, mrcnn):
        assert cfg.train_cfg.max_iters == \
            job.load_config(
                job.task_rows('instance')[0].config).train_cfg.max_iters
        assert cfg.load_from is None
        assert cfg.model.backbone.init_cfg == dict(
            type='Pretrained', checkpoint=START, prefix='backbone.')
        assert cfg.model.neck.in_channels == [16, 32, 64]


def _mutated(path, value):
    cfgs = _written()
    cfg = copy.deepcopy(cfgs['FCN + SEMEDA'])
    node = cfg
    keys = path.split('.')
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[keys[-1]] = value
    cfgs['FCN + SEMEDA'] = cfg
    return cfgs


@pytest.mark.parametrize('path, value, what', [
    ('train_cfg.max_iters', 301, 'budget'),
    ('train_dataloader.batch_size', 2, 'batch'),
    ('train_dataloader.dataset.data_root', 'data/other/', 'data'),
    ('test_dataloader.dataset.data_prefix.img_path', 'x', 'data'),
    ('train_dataloader.dataset.pipeline.3.crop_size', (128, 128), 'crop'),
    ('randomness.seed', 5, 'seed'),
    ('load_from', 'other.pth', 'start'),
    ('model.backbone.base_channels', 32, 'start'),
])
def test_a_row_off_its_tables_protocol_is_refused(path, value, what):
    with pytest.raises(ValueError) as e:
        job.check_rows(job.ROWS, _mutated(path, value))
    msg = str(e.value)
    assert "row 'FCN + SEMEDA'" in msg and f'its {what} differs' in msg
    assert 'semeda_r18-tiny' in msg and "baseline 'FCN (CE)'" in msg


def test_a_difference_outside_the_method_keys_is_refused():
    with pytest.raises(
            ValueError,
            match=r"at \['optim_wrapper.optimizer.lr'"
            r"\], outside its method_keys"):
        job.check_rows(job.ROWS, _mutated('optim_wrapper.optimizer.lr', 0.1))
    rows = list(job.ROWS)
    i = [r.name for r in rows].index('FCN + SEMEDA')
    rows[i] = rows[i]._replace(
        method_keys=('model.decode_head.loss_decode', 'custom_hooks',
                     'model.neck'))
    with pytest.raises(
            ValueError, match=r"method_keys \['model.neck'\] do "
            'not differ'):
        job.check_rows(rows, _written())
    rows[i] = rows[i]._replace(method_keys=())
    with pytest.raises(ValueError, match='declare method_keys'):
        job.check_rows(rows, _written())
    rows = list(job.ROWS)
    rows[0] = rows[0]._replace(method_keys=('model', ))
    with pytest.raises(
            ValueError, match="'FCN \\(CE\\)' is the semantic "
            'baseline'):
        job.check_rows(rows, _written())
    rows = list(job.ROWS) + [rows[i]]
    with pytest.raises(
            ValueError, match=r"\['FCN \+ SEMEDA'\] are declared "
            'twice'):
        job.check_rows(rows, _written())
    rows = [job.ROWS[0]._replace(task='panoptic')]
    with pytest.raises(ValueError, match="unknown task 'panoptic'"):
        job.check_rows(rows, _written())


def test_a_row_compared_with_its_own_baseline():
    """A row may declare another row as its baseline (AsyInst is BoxInst
    plus its terms): its config is checked against that row, its protocol
    still against the table's."""
    cfgs = _written()
    semeda = job.ROWS[[r.name for r in job.ROWS].index('FCN + SEMEDA')]
    variant = copy.deepcopy(cfgs['FCN + SEMEDA'])
    variant.model.decode_head.loss_decode[1]['loss_weight'] = 7.0
    cfgs['SEMEDA w7'] = variant
    row = job.Row(
        'SEMEDA w7',
        semeda.config,
        'semantic',
        method_keys=('model.decode_head.loss_decode', ),
        baseline='FCN + SEMEDA')
    rows = list(job.ROWS) + [row]
    job.check_rows(rows, cfgs)
    assert job.baseline_of(row, rows) is semeda
    assert job.baseline_of(rows[0], rows) is None
    assert job.baseline_of(semeda, rows) is rows[0]
    # against the table's baseline, its hook would be a stray difference
    with pytest.raises(
            ValueError, match=r"its baseline 'FCN \(CE\)' at "
            r"\['custom_hooks'"):
        job.check_rows(rows[:-1] + [row._replace(baseline=None)], cfgs)
    with pytest.raises(
            ValueError, match="baseline 'nope' is not a "
            'semantic row'):
        job.check_rows(rows[:-1] + [row._replace(baseline='nope')], cfgs)
    with pytest.raises(ValueError, match='must be declared before it'):
        job.check_rows([rows[0], row] + rows[1:-1], cfgs)
    # --rows with the variant brings in its baseline and the table's
    picked = job.select_rows(['SEMEDA w7'], rows)
    assert [r.name
            for r in picked] == ['FCN (CE)', 'FCN + SEMEDA', 'SEMEDA w7']
    # its paired difference is to its own baseline
    records = {
        n: [dict(seed=0, iters=1, train_s=1.0, metrics=dict(mIoU=v))]
        for n, v in (('FCN (CE)', 10.0), ('FCN + SEMEDA', 12.0), ('SEMEDA w7',
                                                                  15.0))
    }
    entries = job.summarize_task('semantic', records, picked)
    assert entries[2]['compared_with'] == 'FCN + SEMEDA'
    assert entries[2]['difference']['mIoU']['mean'] == 3.0
    assert entries[1]['difference']['mIoU']['mean'] == 2.0
    assert '| SEMEDA w7 | FCN + SEMEDA | +3.00 |' in \
        job.format_differences('semantic', entries)


# issue 24: one compute thread per run, whatever the jobs or the cores
@pytest.mark.parametrize('jobs, device, cores, runs, expected', [
    (None, 'cpu', 2, 9, (2, 1)),
    (None, 'cpu', 16, 9, (4, 1)),
    (None, 'cpu', 16, 2, (2, 1)),
    (None, 'cuda (H200)', 16, 9, (1, 1)),
    (3, 'cpu', 2, 9, (3, 1)),
    (1, 'cpu', 2, 9, (1, 1)),
    (4, 'cpu', 8, 1, (1, 1)),
])
def test_plan_jobs(jobs, device, cores, runs, expected, monkeypatch):
    monkeypatch.delenv('MMBOUNDARY_COMPUTE_THREADS', raising=False)
    assert job.plan_jobs(jobs, device, cores, runs) == expected
    monkeypatch.setenv('MMBOUNDARY_COMPUTE_THREADS', '3')
    assert job.plan_jobs(jobs, device, cores, runs) == (expected[0], 3)


def test_run_rows_in_parallel_later_seeds_after_the_first(monkeypatch):
    """Two runs at a time; a row's later seed starts only after its first
    seed finished (its frozen net is pretrained once); records come back
    per row in seed order whatever the finishing order."""
    import threading
    import time
    rows = _two_semantic_rows()
    events, lock = [], threading.Lock()

    def fake_run(row, cfg, seed, args, sha):
        with lock:
            events.append(('start', row.name, seed))
        # the baseline's first seed is slow: SEMEDA seed 0 overtakes it
        time.sleep(0.3 if (row.name, seed) == ('FCN (CE)', 0) else 0.05)
        with lock:
            events.append(('end', row.name, seed))
        return dict(name=row.name, seed=seed, cfg=cfg)

    monkeypatch.setattr(job, 'run_row_seed', fake_run)
    monkeypatch.setattr(
        job, 'resolve_rows', lambda rows, args, start, seed:
        {r.name: f'{r.name}@{seed}'
         for r in rows})
    args = job.parse_args(['--seeds', '0', '1', '--jobs', '2'])
    records = job.run_rows(rows, args, dict(sha256='x'), 'cpu')
    assert {
        n: [(r['seed'], r['cfg']) for r in runs]
        for n, runs in records.items()
    } == {
        'FCN (CE)': [(0, 'FCN (CE)@0'), (1, 'FCN (CE)@1')],
        'FCN + SEMEDA': [(0, 'FCN + SEMEDA@0'), (1, 'FCN + SEMEDA@1')]
    }
    assert job.THREADS['n'] == 1  # issue 24: not the cores // jobs
    order = [e[:2] + (e[2], ) for e in events]
    # both first seeds ran side by side
    assert order[:2] == [('start', 'FCN (CE)', 0),
                         ('start', 'FCN + SEMEDA', 0)]
    for name in ('FCN (CE)', 'FCN + SEMEDA'):
        assert order.index(('end', name, 0)) < order.index(('start', name, 1))
    # SEMEDA seed 1 did not wait for the slow baseline seed 0
    assert order.index(('start', 'FCN + SEMEDA', 1)) < order.index(
        ('end', 'FCN (CE)', 0))


def test_run_rows_stops_on_a_failure(monkeypatch):
    rows = _two_semantic_rows()
    started = []

    def fake_run(row, cfg, seed, args, sha):
        started.append((row.name, seed))
        if row.name == 'FCN (CE)':
            raise RuntimeError('tools/train.py failed')
        return dict(seed=seed)

    monkeypatch.setattr(job, 'run_row_seed', fake_run)
    monkeypatch.setattr(
        job, 'resolve_rows',
        lambda rows, args, start, seed: {r.name: None
                                         for r in rows})
    args = job.parse_args(['--seeds', '0', '1', '2', '--jobs', '1'])
    with pytest.raises(RuntimeError, match='train.py failed'):
        job.run_rows(rows, args, dict(sha256='x'), 'cpu')
    assert len(started) < 6  # the queued runs were cancelled


def test_method_tables_and_their_store(tmp_path):
    records = _records(
        {
            'FCN (CE)': ([30.0, 31.0], [20.0, 21.0]),
            'FCN + SEMEDA': ([31.0, 33.0], [21.0, 23.0]),
        },
        seeds=(0, 1))
    entries = job.summarize_task('semantic', records, _two_semantic_rows())
    results = dict(
        command='python tools/misc/run_main_job.py --seeds 0 1',
        machine='test machine',
        date='2026-12-01 03:00 UTC',
        load_average_start=0.06,
        load_average_end=12.34,
        tasks=dict(semantic=dict(rows=entries)))
    tables = job.method_tables(results)
    assert list(tables) == ['semeda']
    table = tables['semeda']
    assert table['columns'][:4] == [
        'Method', 'statistic', 'mIoU (%)', 'mBIoU (%)'
    ]
    assert table['rows'][0][:4] == [
        'FCN (CE)', 'mean ± std', '30.50 ± 0.71', '20.50 ± 0.71'
    ]
    assert table['rows'][1][:4] == [
        'FCN + SEMEDA', 'mean ± std', '32.00 ± 1.41', '22.00 ± 1.41'
    ]
    # differences 1 and 2: mean 1.5, std 0.707, t(0.975, 1) = 12.706
    half = 12.7062 * math.sqrt(0.5) / math.sqrt(2)
    assert table['rows'][2][:3] == [
        'FCN + SEMEDA - FCN (CE)', 'paired difference',
        f'+1.50 [{1.5 - half:+.2f}, {1.5 + half:+.2f}] within noise'
    ]
    assert table['rows'][2][-1] == 300
    assert any('within noise: mIoU, mBIoU' in n for n in table['notes'])
    data = job.store_tables(str(tmp_path), results)
    with open(tmp_path / 'tables.json') as f:
        stored = json.load(f)
    assert stored == data
    assert stored['command'] == results['command']
    assert stored['machine'] == 'test machine'
    assert stored['date'] == '2026-12-01 03:00 UTC'
    # the numbers themselves: the one-decimal display string would give
    # [0.1, 12.3]
    assert stored['load_average'] == [0.06, 12.34]
    assert stored['tables']['semeda']['rows'][0][0] == 'FCN (CE)'


def test_load_averages_are_numbers_shown_with_one_decimal(tmp_path):
    new = dict(load_average_start=0.06, load_average_end=12.34)
    assert job.load_averages(new) == (0.06, 12.34)
    assert job.format_load_average(new) == '0.1 / 12.3'
    assert job.with_load_averages(new) == new
    # results written before the numbers were kept: their display string
    old = dict(command='c', load_average='1.5 / 2.0')
    assert job.load_averages(old) == (1.5, 2.0)
    assert job.format_load_average(old) == '1.5 / 2.0'
    assert job.with_load_averages(old) == dict(
        command='c', load_average_start=1.5, load_average_end=2.0)
    records = _records({'FCN (CE)': ([30.0], [20.0])}, seeds=(0, ))
    entries = job.summarize_task('semantic', records, _two_semantic_rows()[:1])
    old.update(
        machine='m', elapsed_s=60.0, tasks=dict(semantic=dict(rows=entries)))
    assert job.store_tables(str(tmp_path), old)['load_average'] == [1.5, 2.0]
    entry = job.history_entry(old)
    assert (entry['load_average_start'], entry['load_average_end'],
            'load_average' in entry) == (1.5, 2.0, False)


def test_main_keeps_the_two_load_averages(tmp_path, monkeypatch):
    """The run's results.json holds the load averages as numbers; only
    results.md shows them rounded (training and data faked)."""
    rows = _two_semantic_rows()
    loads = [0.06, 12.34]  # at the start, at the end
    monkeypatch.setattr(job.os, 'getloadavg', lambda: (loads.pop(0), 0.0, 0.0))
    for name in ('check_rows', 'ensure_data'):
        monkeypatch.setattr(job, name, lambda *args: None)
    monkeypatch.setattr(job, 'select_rows', lambda names: rows)
    monkeypatch.setattr(job, 'pick_device', lambda: 'cpu')
    monkeypatch.setattr(
        job, 'ensure_start', lambda args, row: dict(
            key='k' * 64,
            config='c.py',
            iters=4,
            seed=0,
            train_s=1.0,
            status='reused'))
    monkeypatch.setattr(job, 'resolve_rows', lambda *args: {})
    monkeypatch.setattr(
        job, 'run_rows', lambda *args: _records(
            {
                'FCN (CE)': ([30.0], [20.0]),
                'FCN + SEMEDA': ([29.0], [20.5])
            },
            seeds=(0, )))
    monkeypatch.setattr(job, 'trivial_semantic',
                        lambda *args: dict(name='t', metrics=dict(mIoU=2.0)))
    monkeypatch.setattr(job, 'draw_figures', lambda *args: {})
    work_dir = tmp_path / 'work'
    assert job.main(['--work-dir', str(work_dir)]) == 0
    assert loads == []
    results = json.loads((work_dir / 'results.json').read_text())
    assert 'load_average' not in results
    assert (results['load_average_start'],
            results['load_average_end']) == (0.06, 12.34)
    tables = json.loads((work_dir / job.TABLES_JSON).read_text())
    assert tables['load_average'] == [0.06, 12.34]
    assert 'load average 0.1 / 12.3 at the start and end' in (
        work_dir / 'results.md').read_text()


def test_resolve_config_applies_the_shared_budget():
    src = job.task_rows('semantic')[0].config
    original = job.load_config(src)
    cfg = job.resolve_config(
        job.load_config(src), 'semantic', 30, '/data/cs', 7, _fake_start())
    scale = 30 / original.train_cfg.max_iters
    assert cfg.train_cfg.max_iters == 30
    assert cfg.default_hooks.checkpoint.interval == 30
    for new, old in zip(cfg.param_scheduler, original.param_scheduler):
        assert new['end'] == int(round(old['end'] * scale))
        assert new['begin'] == int(round(old['begin'] * scale))
    for loader in ('train_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == '/data/cs/'
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.randomness.seed == 7
    assert [e['type'] for e in cfg.test_evaluator].count('BoundaryMetric') == 1
    assert cfg.load_from == START
    # no budget given: the config's own; no start: from scratch
    cfg = job.resolve_config(
        job.load_config(src), 'semantic', None, '/data/cs', 0, None)
    assert cfg.train_cfg.max_iters == original.train_cfg.max_iters
    assert cfg.get('load_from') is None
    # instance: the evaluator's annotations follow the data root, the
    # MultiStepLR milestones the budget
    src = job.task_rows('instance')[0].config
    original = job.load_config(src)
    cfg = job.resolve_config(
        job.load_config(src), 'instance', 60, '/data/cs', 0, None)
    assert cfg.test_evaluator.ann_file == \
        '/data/cs/annotations/instancesonly_filtered_gtFine_val.json'
    milestones = [s for s in original.param_scheduler
                  if 'milestones' in s][0]['milestones']
    assert [
        s for s in cfg.param_scheduler if 'milestones' in s
    ][0]['milestones'] == [int(round(m * 60 / 120)) for m in milestones]
    # AsyInst's loss-weight warm-up keeps its share of the schedule
    asy = [r for r in job.ROWS if r.name == 'AsyInst'][0].config
    written = job.load_config(asy)
    hook = [
        h for h in written.custom_hooks if h['type'] == 'LossWeightWarmupHook'
    ][0]
    assert written.train_cfg.max_iters == 120 and hook['warmup_iters'] == 50
    cfg = job.resolve_config(
        job.load_config(asy), 'instance', 60, '/d', 0, None)
    assert [
        h['warmup_iters'] for h in cfg.custom_hooks
        if h['type'] == 'LossWeightWarmupHook'
    ] == [25]


def test_semantic_row_without_boundary_metric_gets_one(tmp_path):
    base = osp.join(REPO_ROOT, job.task_rows('semantic')[0].config)
    src = tmp_path / 'no_boundary.py'
    src.write_text(f'_base_ = {base!r}\n'
                   "test_evaluator = [dict(type='IoUMetric')]\n")
    cfg = job.resolve_config(
        job.load_config(str(src)), 'semantic', 30, '/d', 0, None)
    assert [e['type'] for e in cfg.test_evaluator] == \
        ['IoUMetric', 'BoundaryMetric']
    assert 1 in cfg.test_evaluator[1]['trimap_widths']


def test_instance_backbone_takes_the_segmentors_weights(tmp_path):
    """The mapping is exact: every backbone.* weight of the segmentor lands
    in the instance backbone, and the FPN gets its output channels."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmseg.registry import MODELS as SEG_MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    import mmdet.models  # noqa: F401
    seg_cfg = job.load_config(
        job.task_rows('semantic')[0].config).model.backbone.to_dict()
    # explicit scopes: an earlier test may have left another default scope
    with SEG_MODELS.switch_scope_and_registry('mmseg') as registry:
        seg = registry.build(seg_cfg)
    torch.manual_seed(0)
    for p in seg.parameters():
        p.data.normal_()
    ckpt = str(tmp_path / 'seg.pth')
    torch.save(
        dict(state_dict={
            'backbone.' + k: v
            for k, v in seg.state_dict().items()
        }), ckpt)
    cfg, channels = job.instance_backbone(seg_cfg, ckpt)
    with DET_MODELS.switch_scope_and_registry('mmdet') as registry:
        det = registry.build(cfg)
    det.init_weights()
    det_state = det.state_dict()
    assert set(det_state) == set(seg.state_dict())
    for k, v in seg.state_dict().items():
        assert torch.equal(det_state[k], v), k
    det.eval()
    outs = det(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == channels == [16, 32, 64]
    assert [o.shape[-1] for o in outs] == [16, 8, 4]  # strides 4, 8, 16
    with pytest.raises(ValueError, match="'MixVisionTransformer' has no"):
        job.instance_backbone(dict(type='MixVisionTransformer'), ckpt)


# ----------------------------------------------------------- arguments
def test_arguments():
    args = job.parse_args([])
    assert args.seeds == [0] and args.rows is None
    assert args.iters == dict(semantic=100, instance=300)
    assert args.start_iters == 300 and args.jobs is None
    args = job.parse_args(['--seeds', '0', '1', '2', '--iters', 'semantic=9'])
    assert args.seeds == [0, 1, 2]
    assert args.iters == dict(semantic=9, instance=300)


@pytest.mark.parametrize('argv, message', [
    (['--seeds', '0', '1', '0'], 'a seed is given twice'),
    (['--seeds', '0', '--seeds', '1'], '--seeds given twice'),
    (['--rows', 'FCN (CE)', '--rows', 'x'], '--rows given twice'),
    (['--iters', 'semantic'], "expected TASK=N with TASK one of"),
    (['--iters', 'panoptic=3'], "expected TASK=N"),
    (['--iters', 'semantic=0'], 'N must be a positive integer'),
    (['--iters', 'semantic=3', 'semantic=4'], "task 'semantic' given twice"),
    (['--jobs', '0'], '--jobs 0: give at least 1'),
])
def test_bad_arguments_exit_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        job.parse_args(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_row_selection():
    names = [r.name for r in job.select_rows(['FCN + SEMEDA'])]
    assert names == ['FCN (CE)', 'FCN + SEMEDA']  # baseline added
    names = [r.name for r in job.select_rows(['instance'])]
    assert names == [r.name for r in job.ROWS if r.task == 'instance']
    assert names[:2] == ['Mask R-CNN', 'Mask R-CNN + Edge Agreement']
    assert job.select_rows(None) == job.ROWS
    with pytest.raises(ValueError, match=r"unknown row \['InverseForm'\]"):
        job.select_rows(['FCN (CE)', 'InverseForm'])
    with pytest.raises(SystemExit, match='unknown row'):
        job.main(['--rows', 'PointRend'])


# --------------------------------------------------------------- statistics
def test_t_distribution_matches_scipy():
    stats = pytest.importorskip('scipy.stats')
    for df in (1, 2, 3, 4, 5, 6, 9, 10, 29, 30, 101):
        for t in (-7.5, -2.0, -0.3, 0.0, 0.4, 1.0, 2.776, 12.7):
            assert job.t_cdf(t, df) == pytest.approx(
                stats.t.cdf(t, df), abs=1e-12)
        for p in (0.6, 0.9, 0.975, 0.995, 0.025):
            assert job.t_quantile(p, df) == pytest.approx(
                stats.t.ppf(p, df), rel=1e-9)
    with pytest.raises(ValueError, match='df must be a positive integer'):
        job.t_cdf(1.0, 0)
    with pytest.raises(ValueError, match=r'p must be in \(0, 1\)'):
        job.t_quantile(1.0, 3)


def test_mean_and_sample_std_on_hand_values():
    assert job.mean_std([1.0, 2.0, 3.0, 4.0]) == dict(
        mean=2.5, std=pytest.approx(math.sqrt(5 / 3)), n=4)
    assert job.mean_std([7.0]) == dict(mean=7.0, std=None, n=1)
    with pytest.raises(ValueError, match='no values'):
        job.mean_std([])


def test_paired_difference_on_hand_values():
    stats = pytest.importorskip('scipy.stats')
    # diffs 1, 2.5, 2: mean 11/6, sample var (25+16+1)/36/2 = 7/12
    d = job.paired_difference([31.0, 33.0, 32.0], [30.0, 30.5, 30.0])
    assert d['mean'] == pytest.approx(11 / 6)
    assert d['std'] == pytest.approx(math.sqrt(7 / 12))
    half = 4.302652729911275 * math.sqrt(7 / 12) / math.sqrt(3)
    assert (d['low'], d['high']) == (pytest.approx(11 / 6 - half),
                                     pytest.approx(11 / 6 + half))
    lo, hi = stats.t.interval(
        0.95, 2, loc=11 / 6, scale=math.sqrt(7 / 12) / math.sqrt(3))
    assert (d['low'], d['high']) == (pytest.approx(lo), pytest.approx(hi))
    assert d['low'] < 0 < d['high'] and d['verdict'] == 'within noise'
    d = job.paired_difference([1.0, 1.2, 1.1], [0.0, 0.0, 0.0])
    assert d['low'] > 0 and d['verdict'] == 'higher'
    d = job.paired_difference([0.0, 0.0, 0.0, 0.0], [1.0, 1.2, 1.1, 1.0])
    assert d['high'] < 0 and d['verdict'] == 'lower'
    assert d['mean'] == pytest.approx(-1.075)
    d = job.paired_difference([5.0], [3.0])
    assert d == dict(
        mean=2.0, std=None, n=1, low=None, high=None, verdict='one seed')
    with pytest.raises(ValueError, match='pair them by seed'):
        job.paired_difference([1.0, 2.0], [1.0])


# ------------------------------------------------------------------ tables
def _records(values, seeds=(0, 1, 2)):
    """{row: [record per seed]} with mIoU and mBIoU from ``values``."""
    return {
        name: [
            dict(
                name=name,
                seed=s,
                iters=300,
                train_s=10.0 * (i + 1),
                test_s=5.0,
                metrics=dict(mIoU=m, mBIoU=b, mBF=None))
            for i, (s, m, b) in enumerate(zip(seeds, *vals))
        ]
        for name, vals in values.items()
    }


def test_tables_with_seeds():
    rows = _two_semantic_rows()
    records = _records({
        'FCN (CE)': ([30.0, 30.5, 30.0], [20.0, 21.0, 22.0]),
        'FCN + SEMEDA': ([31.0, 33.0, 32.0], [21.0, 22.1, 23.05]),
    })
    entries = job.summarize_task('semantic', records, rows)
    trivial = dict(
        name='trivial: always class 0 (road)',
        metrics=dict(mIoU=2.5, mBIoU=1.0))
    assert job.format_table('semantic', entries, trivial).splitlines() == [
        '| Method | iters | mIoU (%) | mBIoU (%) | train time (s) |',
        '|---|---|---|---|---|',
        '| trivial: always class 0 (road) | - | 2.50 | 1.00 | - |',
        '| FCN (CE) (baseline) | 300 | 30.17 ± 0.29 | 21.00 ± 1.00 | 20 |',
        '| FCN + SEMEDA | 300 | 32.00 ± 1.00 | 22.05 ± 1.03 | 20 |',
        '',
        'Mean ± sample standard deviation over 3 seeds (0, 1, 2).',
    ]
    text = job.format_differences('semantic', entries)
    # mBIoU diffs 1.0, 1.1, 1.05: interval above 0
    assert '| FCN + SEMEDA | FCN (CE) | +1.83 [-0.06, +3.73] within noise | ' \
        '+1.05 [+0.93, +1.17] higher |' in text
    assert ('FCN + SEMEDA vs FCN (CE) (paired over 3 seeds, 95 % t '
            'interval): higher: mBIoU; within noise: mIoU.') in text
    # seeds that do not pair are refused, not mixed
    records['FCN + SEMEDA'][2]['seed'] = 5
    with pytest.raises(ValueError, match='do not pair'):
        job.summarize_task('semantic', records, rows)


def test_tables_with_one_seed():
    rows = _two_semantic_rows()
    records = _records(
        {
            'FCN (CE)': ([30.0], [20.0]),
            'FCN + SEMEDA': ([29.0], [20.5])
        },
        seeds=(0, ))
    entries = job.summarize_task('semantic', records, rows)
    table = job.format_table('semantic', entries, dict(name='t', metrics={}))
    assert table.splitlines()[3] == \
        '| FCN (CE) (baseline) | 300 | 30.00 | 20.00 | 10 |'
    text = job.format_differences('semantic', entries)
    assert '| FCN + SEMEDA | FCN (CE) | -1.00 | +0.50 |' in text
    assert 'one seed, so no interval' in text


# ------------------------------------------------------------- start cache
def _fake_train(calls):
    """Stands in for tools/train.py: writes iter_N.pth into --work-dir."""

    def run(cmd, log_file, prefix=''):
        calls.append(cmd)
        cfg = Config.fromfile(cmd[2])
        work_dir = cmd[cmd.index('--work-dir') + 1]
        torch.save(
            dict(
                state_dict={
                    'backbone.w': torch.full((2, ), float(len(calls)))
                },
                optimizer={}),
            osp.join(work_dir, f'iter_{cfg.train_cfg.max_iters}.pth'))

    return run


def test_start_cache_reused_and_invalidated(tiny_root, tmp_path, monkeypatch,
                                            capsys):
    calls = []
    monkeypatch.setattr(job, 'run', _fake_train(calls))
    start_dir = str(tmp_path / 'start')
    args = job.parse_args([
        '--data-root', tiny_root, '--start-dir', start_dir, '--start-iters',
        '7'
    ])
    base = job.task_rows('semantic')[0]
    first = job.ensure_start(args, base)
    assert len(calls) == 1 and first['status'].startswith('trained')
    assert Config.fromfile(calls[0][2]).train_cfg.max_iters == 7
    ckpt = first['checkpoint_path']
    assert torch.load(ckpt)['state_dict']['backbone.w'].tolist() == [1, 1]
    # same inputs: reused, nothing trained
    again = job.ensure_start(args, base)
    assert len(calls) == 1 and again['status'] == 'reused'
    assert again['key'] == first['key']
    # other settings (iterations): stale, retrained
    args.start_iters = 8
    job.ensure_start(args, base)
    assert len(calls) == 2
    assert 'stale: config changed' in capsys.readouterr().out
    # other data: stale
    label = sorted(
        glob.glob(
            osp.join(tiny_root, 'gtFine', 'train', '*',
                     '*_labelTrainIds.png')))[0]
    lab = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    lab[:4] = 0
    cv2.imwrite(label, lab)
    os.utime(label, (1, 1))
    third = job.ensure_start(args, base)
    assert len(calls) == 3
    assert 'stale: data changed' in capsys.readouterr().out
    assert third['key'] != first['key']
    # a corrupted checkpoint: rebuilt, and the message names the file
    with open(third['checkpoint_path'], 'r+b') as f:
        f.seek(10)
        f.write(b'garbage')
    job.ensure_start(args, base)
    out = capsys.readouterr().out
    assert len(calls) == 4
    assert f"corrupted: {third['checkpoint_path']} does not match its " \
        'sha256' in out
    # a truncated manifest: rebuilt
    with open(osp.join(start_dir, 'segmentor.json'), 'w') as f:
        f.write('{"key": ')
    job.ensure_start(args, base)
    assert len(calls) == 5
    assert 'segmentor.json is unreadable' in capsys.readouterr().out
    assert job.ensure_start(args, base)['status'] == 'reused'
    assert len(calls) == 5


def test_check_start_cache_reasons(tmp_path):
    start_dir = str(tmp_path)
    src = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict={'backbone.w': torch.ones(2)}), src)
    inputs = dict(recipe='1', config='a' * 64, data='b' * 64)
    assert job.check_start_cache(start_dir, inputs) == (None, 'missing')
    job.write_start(start_dir, src, inputs, dict(key=job.start_key(inputs)))
    manifest, why = job.check_start_cache(start_dir, inputs)
    assert why == 'ok' and manifest['inputs'] == inputs
    _, why = job.check_start_cache(start_dir, dict(inputs, recipe='2'))
    assert why.startswith('stale: recipe changed')
    # weights without a backbone are no start
    torch.save(dict(state_dict={'decode_head.w': torch.ones(2)}), src)
    job.write_start(start_dir, src, inputs, dict(key=job.start_key(inputs)))
    _, why = job.check_start_cache(start_dir, inputs)
    assert why.endswith('holds no backbone.* weights')
    os.remove(osp.join(start_dir, 'segmentor.pth'))
    _, why = job.check_start_cache(start_dir, inputs)
    assert why.startswith('corrupted:') and why.endswith('is missing')


# ------------------------------------------------------ trivial predictors
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
    for key in job.TASKS['semantic']['boundary']:
        assert 0.0 <= trivial['metrics'][key] <= 100.0, key


def test_trivial_instance_scores_whole_image_masks(tiny_root):
    trivial = job.trivial_instance(tiny_root)
    ann = json.load(
        open(
            osp.join(tiny_root, 'annotations',
                     'instancesonly_filtered_gtFine_train.json')))
    counts = np.bincount([a['category_id'] for a in ann['annotations']])
    name = {c['id']: c['name'] for c in ann['categories']}[counts.argmax()]
    assert trivial['name'] == f'trivial: one whole-image {name} per image'
    # every GT instance covers less than half of its image, so a whole-image
    # mask or box never reaches IoU 0.5: every AP is exactly 0
    val = json.load(
        open(
            osp.join(tiny_root, 'annotations',
                     'instancesonly_filtered_gtFine_val.json')))
    sizes = {i['id']: i['height'] * i['width'] for i in val['images']}
    assert max(a['area'] / sizes[a['image_id']]
               for a in val['annotations']) < 0.5
    assert trivial['metrics'] == {
        key: 0.0
        for key, _, _ in job.TASKS['instance']['metrics']
    }


# ----------------------------------------------------------- figures
def test_figures_are_drawn(tiny_root, tmp_path, monkeypatch):
    pytest.importorskip('matplotlib')
    _, gts = job.gt_boundaries('semantic', tiny_root, 2)
    assert len(gts) == 2 and gts[0].any() and gts[0].dtype == bool
    monkeypatch.setattr(job, 'predict_boundaries',
                        lambda task, cfg, ckpt, images, device: gts)
    records = _records(
        {
            'FCN (CE)': ([30.0, 30.5], [20.0, 21.0]),
            'FCN + SEMEDA': ([31.0, 33.0], [21.0, 22.1]),
        },
        seeds=(0, 1))
    for runs in records.values():
        for r in runs:
            r.update(resolved_config='x.py', checkpoint='x.pth')
    entries = job.summarize_task('semantic', records, _two_semantic_rows())
    for e in entries:  # the bar chart needs every boundary metric
        for k in job.TASKS['semantic']['boundary']:
            e['summary'].setdefault(k, dict(mean=5.0, std=1.0, n=2))
    figures = job.draw_figures('semantic', entries, tiny_root, str(tmp_path),
                               2, 'cpu')
    assert figures == {
        'boundaries': 'semantic_boundaries.png',
        'boundary metrics': 'semantic_boundary_metrics.png'
    }
    for name in figures.values():
        img = cv2.imread(str(tmp_path / name))
        assert img is not None and img.shape[0] > 100


# ------------------------------------------------------------------ README
def test_readme_results_equal_the_stored_results():
    """Issue 14 item 5: the README's results block is what the tool renders
    from the stored results it cites, byte for byte."""
    if git_root(REPO_ROOT) is None:  # issue 24: the stale line needs git
        pytest.skip('not a git checkout: whether the results are stale '
                    '(made from other code) cannot be checked')
    path = osp.join(REPO_ROOT, job.PUBLISH_DIR, 'results.json')
    with open(path) as f:
        results = json.load(f)
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        readme = f.read()
    assert readme.count(job.README_BEGIN) == 1
    assert job.readme_block(results) in readme
    with open(osp.join(REPO_ROOT, job.PUBLISH_DIR, 'results.md')) as f:
        assert f.read() == job.format_results(results, '../../')
    for data in results['tasks'].values():
        for name in data['figures'].values():
            assert osp.isfile(osp.join(REPO_ROOT, job.PUBLISH_DIR, name))
    # every row of the stored tables is a declared row with its config
    declared = {r.name: r.config for r in job.ROWS}
    for data in results['tasks'].values():
        for e in data['rows']:
            assert declared[e['name']] == e['config']


def test_replace_readme_block():
    block = job.README_BEGIN + '\nnew\n' + job.README_END
    text = f'a\n{job.README_BEGIN}\nold\n{job.README_END}\nb\n'
    assert job.replace_readme_block(text, block, 'R.md') == \
        f'a\n{block}\nb\n'
    with pytest.raises(ValueError, match='R.md has no results block'):
        job.replace_readme_block('a\n', block, 'R.md')


def _results(command, elapsed_s, reused=False):
    records = _records(
        {
            'FCN (CE)': ([30.0], [20.0]),
            'FCN + SEMEDA': ([29.0], [20.5])
        },
        seeds=(0, ))
    if reused:  # runs from an earlier invocation carry the flag
        records['FCN (CE)'][0]['reused'] = True
        records['FCN + SEMEDA'][0]['reused'] = False
    entries = job.summarize_task('semantic', records, _two_semantic_rows())
    results = dict(
        command=command,
        machine='test machine',
        seeds=[0],
        start=dict(
            key='k' * 64,
            config='c.py',
            iters=4,
            seed=0,
            train_s=1.0,
            status='reused'),
        tasks=dict(
            semantic=dict(
                rows=entries,
                trivial=dict(name='t', metrics=dict(mIoU=2.0)),
                figures=dict(boundaries='semantic_boundaries.png'))),
        elapsed_s=elapsed_s,
        load_average_start=1.0,
        load_average_end=2.0)
    return results


def _publish_tree(tmp_path, monkeypatch):
    """A repository root in ``tmp_path``: a work dir with a figure, a
    README with an empty results block, SEMEDA's README with its block."""
    monkeypatch.setattr(job, 'REPO_ROOT', str(tmp_path))
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'semantic_boundaries.png').write_bytes(b'png')
    readme = tmp_path / 'README.md'
    readme.write_text(f'# x\n\n{job.README_BEGIN}\n{job.README_END}\nend\n')
    method_readme = tmp_path / 'configs' / 'semeda' / 'README.md'
    method_readme.parent.mkdir(parents=True)
    from mmboundary.utils.results_doc import new_block
    method_readme.write_text('evidence:\n' +
                             new_block('docs/main_job/tables.json', 'semeda') +
                             '\n')
    return work_dir, readme, method_readme


def test_publish_writes_docs_and_readme_and_keeps_run_times(
        tmp_path, monkeypatch):
    work_dir, readme, method_readme = _publish_tree(tmp_path, monkeypatch)
    args = job.parse_args(
        ['--work-dir', str(work_dir), '--readme',
         str(readme)])
    first = _results('python a', 120.0)
    job.store_tables(str(work_dir), first)
    job.publish(args, first)
    # the method README's block now shows its table from tables.json
    text = method_readme.read_text()
    assert '| FCN + SEMEDA - FCN (CE) | paired difference |' in text
    assert 'Command: `python a`' in text
    demo = job.history_entry(_results('python a', 120.0))
    later = _results('python b', 300.0, reused=True)
    job.publish(args, later)
    assert later['history'] == [demo, job.history_entry(later)]
    out = tmp_path / job.PUBLISH_DIR
    stored = json.loads((out / 'results.json').read_text())
    assert stored['history'][0]['command'] == 'python a'
    assert (out / 'semantic_boundaries.png').read_bytes() == b'png'
    text = readme.read_text()
    assert text.startswith('# x\n\n') and text.endswith('\nend\n')
    assert job.readme_block(stored) in text
    # two rows of 10 s training + 5 s testing each
    assert ('- `python a`: 2.0 min wall time; 2 row runs trained, 0 reused '
            'from earlier runs; training + testing of all its row runs as '
            'measured: 0.5 min; load average 1.0 / 2.0') in text
    assert ('- `python b`: 5.0 min wall time; 1 row runs trained, 1 reused '
            'from earlier runs; training + testing of all its row runs as '
            'measured: 0.5 min; load average 1.0 / 2.0') in text
    assert (out / 'results.md').read_text() == job.format_results(
        stored, '../../')


def _old_format(results, load_average):
    """``results`` as written before the load averages were kept as
    numbers: one display string."""
    old = {
        k: v
        for k, v in results.items() if not k.startswith('load_average_')
    }
    old['load_average'] = load_average
    return old


def test_publish_only_migrates_results_of_the_old_format(
        tmp_path, monkeypatch):
    work_dir, readme, method_readme = _publish_tree(tmp_path, monkeypatch)
    # published before: a run whose history entry holds the string
    demo = _old_format(_results('python a', 120.0), '0.7 / 1.3')
    demo['history'] = [_old_format(job.history_entry(demo), '0.7 / 1.3')]
    out = tmp_path / job.PUBLISH_DIR
    out.mkdir(parents=True)
    (out / 'results.json').write_text(json.dumps(demo))
    # the work dir's results, old format too
    later = _old_format(_results('python b', 300.0), '1.2 / 2.0')
    (work_dir / 'results.json').write_text(json.dumps(later))
    assert job.main([
        '--publish-only', '--work-dir',
        str(work_dir), '--readme',
        str(readme)
    ]) == 0
    stored = json.loads((out / 'results.json').read_text())
    assert 'load_average' not in stored
    assert job.load_averages(stored) == (1.2, 2.0)
    assert [(h['command'], job.load_averages(h), 'load_average' in h)
            for h in stored['history']] == [('python a', (0.7, 1.3), False),
                                            ('python b', (1.2, 2.0), False)]
    tables = json.loads((out / job.TABLES_JSON).read_text())
    assert tables['load_average'] == [1.2, 2.0]
    text = readme.read_text()
    assert 'load average 1.2 / 2.0 at the start and end' in text
    assert 'measured: 0.5 min; load average 0.7 / 1.3' in text
    assert '| FCN + SEMEDA - FCN (CE) |' in method_readme.read_text()
