# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.runner: parallel row runs (training faked), their
progress lines, and the child processes' threads."""
import argparse
import os
import os.path as osp
import re
import threading
import time

import pytest

from mmboundary.benchmark import process, runner
from ._helpers import two_semantic_rows


def _args(seeds, jobs, quiet=False):
    return argparse.Namespace(
        seeds=list(seeds),
        jobs=jobs,
        quiet=quiet,
        iters=dict(semantic=100, instance=300),
        data_root='/d',
        work_dir='/w',
        no_reuse=False)


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
    assert runner.plan_jobs(jobs, device, cores, runs) == expected
    monkeypatch.setenv('MMBOUNDARY_COMPUTE_THREADS', '3')
    assert runner.plan_jobs(jobs, device, cores, runs) == (expected[0], 3)


def test_child_env_sets_the_threads_over_the_users(monkeypatch):
    """Issue 24: the children compute with the fixed thread count, over
    the shell's OMP_NUM_THREADS (a run's bits depend on it)."""
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.delenv('MKL_NUM_THREADS', raising=False)
    runner.set_child_threads(3)
    env = process.child_env()
    assert (env['OMP_NUM_THREADS'], env['MKL_NUM_THREADS']) == ('3', '3')
    assert env['PYTHONPATH'].split(os.pathsep)[0] == process.REPO_ROOT
    monkeypatch.setenv('OMP_NUM_THREADS', '5')
    env = process.child_env()
    assert (env['OMP_NUM_THREADS'], env['MKL_NUM_THREADS']) == ('3', '3')
    runner.set_child_threads(0)
    assert process.THREADS['n'] == 1
    runner.set_child_threads(1)


def test_run_rows_in_parallel_later_seeds_after_the_first(monkeypatch, capsys):
    """Two runs at a time; a row's later seed starts only after its first
    seed finished (its frozen net is pretrained once); records come back
    per row in seed order whatever the finishing order; one progress line
    with an ETA per finished run."""
    rows = two_semantic_rows()
    events, lock = [], threading.Lock()

    def fake_run(row, cfg, seed, args, sha):
        with lock:
            events.append(('start', row.name, seed))
        # the baseline's first seed is slow: SEMEDA seed 0 overtakes it
        time.sleep(0.3 if (row.name, seed) == ('FCN (CE)', 0) else 0.05)
        with lock:
            events.append(('end', row.name, seed))
        return dict(name=row.name, seed=seed, cfg=cfg)

    monkeypatch.setattr(runner, 'run_row_seed', fake_run)
    monkeypatch.setattr(
        runner, 'resolve_rows', lambda rows, args, start, seed:
        {r.name: f'{r.name}@{seed}'
         for r in rows})
    records = runner.run_rows(rows, _args([0, 1], 2), dict(sha256='x'), 'cpu')
    assert {
        n: [(r['seed'], r['cfg']) for r in runs]
        for n, runs in records.items()
    } == {
        'FCN (CE)': [(0, 'FCN (CE)@0'), (1, 'FCN (CE)@1')],
        'FCN + SEMEDA': [(0, 'FCN + SEMEDA@0'), (1, 'FCN + SEMEDA@1')]
    }
    assert process.THREADS['n'] == 1  # issue 24: not the cores // jobs
    order = [e[:2] + (e[2], ) for e in events]
    # both first seeds ran side by side
    assert order[:2] == [('start', 'FCN (CE)', 0),
                         ('start', 'FCN + SEMEDA', 0)]
    for name in ('FCN (CE)', 'FCN + SEMEDA'):
        assert order.index(('end', name, 0)) < order.index(('start', name, 1))
    # SEMEDA seed 1 did not wait for the slow baseline seed 0
    assert order.index(('start', 'FCN + SEMEDA', 1)) < order.index(
        ('end', 'FCN (CE)', 0))
    lines = [
        line for line in capsys.readouterr().out.splitlines()
        if line.startswith('[main job] row runs:')
    ]
    parsed = [
        re.fullmatch(
            r'\[main job\] row runs: (\d)/4 \((\d+)%\), \d:\d\d elapsed, '
            r'ETA (\d:\d\d)', line).groups() for line in lines
    ]
    assert [(done, share) for done, share, _ in parsed] == [('1', '25'),
                                                            ('2', '50'),
                                                            ('3', '75'),
                                                            ('4', '100')]
    assert parsed[-1][2] == '0:00'


def test_quiet_prints_no_progress_lines(monkeypatch, capsys):
    monkeypatch.setattr(runner, 'run_row_seed',
                        lambda row, cfg, seed, args, sha: dict(seed=seed))
    monkeypatch.setattr(
        runner, 'resolve_rows',
        lambda rows, args, start, seed: {r.name: None
                                         for r in rows})
    runner.run_rows(two_semantic_rows(), _args([0], 1, quiet=True),
                    dict(sha256='x'), 'cpu')
    assert 'row runs:' not in capsys.readouterr().out


def test_run_rows_stops_on_a_failure(monkeypatch):
    rows = two_semantic_rows()
    started = []

    def fake_run(row, cfg, seed, args, sha):
        started.append((row.name, seed))
        if row.name == 'FCN (CE)':
            raise RuntimeError('tools/train.py failed')
        return dict(seed=seed)

    monkeypatch.setattr(runner, 'run_row_seed', fake_run)
    monkeypatch.setattr(
        runner, 'resolve_rows',
        lambda rows, args, start, seed: {r.name: None
                                         for r in rows})
    with pytest.raises(RuntimeError, match='train.py failed'):
        runner.run_rows(rows, _args([0, 1, 2], 1), dict(sha256='x'), 'cpu')
    assert len(started) < 6  # the queued runs were cancelled


def _fake_children(calls):
    """Stand in for tools/train.py (writes iter_N.pth) and tools/test.py
    (writes its metrics JSON)."""
    import json

    from mmengine.config import Config

    def run(cmd, log_file, prefix=''):
        calls.append(osp.basename(cmd[1]))
        work_dir = cmd[cmd.index('--work-dir') + 1]
        if cmd[1].endswith('train.py'):
            iters = Config.fromfile(cmd[2]).train_cfg.max_iters
            with open(osp.join(work_dir, f'iter_{iters}.pth'), 'wb') as f:
                f.write(b'weights')
        else:
            os.makedirs(osp.join(work_dir, '20261207_000000'))
            with open(
                    osp.join(work_dir, '20261207_000000',
                             '20261207_000000.json'), 'w') as f:
                json.dump({'mIoU': 41.23456, 'mBIoU': 30.0}, f)

    return run


def test_a_row_run_keeps_its_resolved_config_beside_its_record(
        tmp_path, monkeypatch):
    """Issue 21: the config a row ran (the table's budget, its seed, the
    start) is written next to its results, and the record points to it;
    the same resolved config from the same start is reused."""
    from mmengine.config import Config

    from mmboundary.benchmark import protocol
    from mmboundary.benchmark.rows import task_rows
    calls = []
    monkeypatch.setattr(process, 'run', _fake_children(calls))
    row = task_rows('semantic')[0]
    cfg = protocol.resolve_config(
        protocol.load_config(row.config), 'semantic', 7, '/d', 3, None)
    args = _args([3], 1)
    args.work_dir = str(tmp_path)
    record = runner.run_row_seed(row, cfg, 3, args, 'startsha')
    run_dir = tmp_path / 'semantic' / 'fcn_ce' / 'seed3'
    resolved = run_dir / osp.basename(row.config)
    assert record['resolved_config'] == str(resolved)
    ran = Config.fromfile(str(resolved))
    assert (ran.train_cfg.max_iters, ran.randomness.seed) == (7, 3)
    assert record['metrics']['mIoU'] == 41.2346  # 4 decimals
    assert record['metrics']['mBIoU'] == 30.0
    assert record['metrics']['mBF'] is None
    assert (record['iters'], record['seed'], record['reused']) == (7, 3, False)
    assert calls == ['train.py', 'test.py']
    # again: reused, nothing runs
    assert runner.run_row_seed(row, cfg, 3, args, 'startsha')['reused']
    assert calls == ['train.py', 'test.py']
    # another start: retrained
    assert not runner.run_row_seed(row, cfg, 3, args, 'other')['reused']
    assert calls == ['train.py', 'test.py'] * 2


# ------------------------------------- issue 19: validation curves
def test_curve_iters_and_which_runs_get_one():
    assert runner.curve_iters(100, 8) == [12, 24, 36, 48, 60, 72, 84, 96, 100]
    assert runner.curve_iters(300, 6) == [50, 100, 150, 200, 250, 300]
    assert runner.curve_iters(5, 8) == [1, 2, 3, 4, 5]
    assert runner.curve_iters(300, 0) == []
    row = two_semantic_rows()[0]
    args = _args([4, 5, 6], 1)
    assert runner.wants_curve(row, 4, args) == 0  # curves off
    args.curves, args.curve_rows, args.curve_seeds = 8, [row.name], 2
    assert [runner.wants_curve(row, s, args) for s in (4, 5, 6)] == [8, 8, 0]
    assert runner.wants_curve(two_semantic_rows()[1], 4, args) == 0
    args.curve_seeds = None  # every seed
    assert runner.wants_curve(row, 6, args) == 8


def test_a_baseline_run_records_its_validation_curve(tmp_path, monkeypatch):
    """The curve's checkpoints are saved by the same training (only the
    checkpoint hook's interval changes) and each is tested; the final
    point is the run's own test."""
    import json

    from mmengine.config import Config

    from mmboundary.benchmark import protocol
    from mmboundary.benchmark.rows import task_rows
    calls = []

    def run(cmd, log_file, prefix=''):
        work_dir = cmd[cmd.index('--work-dir') + 1]
        if cmd[1].endswith('train.py'):
            calls.append('train')
            cfg = Config.fromfile(cmd[2])
            iters = cfg.train_cfg.max_iters
            step = cfg.default_hooks.checkpoint.interval
            for it in list(range(step, iters, step)) + [iters]:
                with open(osp.join(work_dir, f'iter_{it}.pth'), 'wb') as f:
                    f.write(b'weights')
            return
        it = int(osp.basename(cmd[3])[len('iter_'):-len('.pth')])
        calls.append(it)
        os.makedirs(osp.join(work_dir, 'ts'))
        with open(osp.join(work_dir, 'ts', 'ts.json'), 'w') as f:
            json.dump({'mIoU': 30.0 + it / 100, 'mBF': 20.0}, f)

    monkeypatch.setattr(process, 'run', run)
    row = task_rows('semantic')[0]
    cfg = protocol.resolve_config(
        protocol.load_config(row.config), 'semantic', 8, '/d', 0, None)
    args = _args([0], 1)
    args.work_dir = str(tmp_path)
    args.curves, args.curve_rows, args.curve_seeds = 4, [row.name], 1
    record = runner.run_row_seed(row, cfg, 0, args, 'startsha')
    assert calls == ['train', 8, 2, 4, 6]
    assert [(p['iter'], p['metrics']['mIoU'])
            for p in record['curve']] == [(2, 30.02), (4, 30.04), (6, 30.06),
                                          (8, 30.08)]
    assert record['metrics']['mIoU'] == 30.08
    # the resolved config differs only in the checkpoint hook
    ran = Config.fromfile(record['resolved_config'])
    assert protocol.config_differences(ran, cfg) == [
        'default_hooks.checkpoint.interval',
        'default_hooks.checkpoint.max_keep_ckpts'
    ]
    assert cfg.default_hooks.checkpoint.interval == 8  # not changed
    # without curves the same row is another run (not reused)
    args.curves = 0
    record = runner.run_row_seed(row, cfg, 0, args, 'startsha')
    assert not record['reused'] and 'curve' not in record
