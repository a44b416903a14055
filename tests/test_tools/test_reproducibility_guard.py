# Copyright (c) mmboundary contributors. All rights reserved.
"""Issue 24: one result per config and seed, and the guard that keeps the
published numbers reproducible.

* A tiny main-job row trained twice, from scratch, with different
  ``--jobs`` and thread environments gives the same metrics and the same
  weights, bit for bit (each run computes with a fixed thread count).
* The guard row (``tools/misc/reproducibility_guard.py``) rerun from
  scratch equals its stored values exactly, so a change that moves the
  numbers cannot land without storing them again and republishing.
"""
import json
import os
import os.path as osp
import sys

import pytest
import torch

from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils import reproducibility_guard as rg
from mmboundary.utils.reproducibility import (THREAD_VARS, THREADS_ENV,
                                              same_compute)
from mmboundary.utils.results_doc import load_results

pytest.importorskip('cityscapesscripts')


def _env(threads: str):
    """This environment, as a user's shell with ``threads`` everywhere."""
    env = {k: v for k, v in os.environ.items() if k != THREADS_ENV}
    env.update({v: threads for v in THREAD_VARS})
    return env


def test_weights_digest_covers_every_tensor_bit(tmp_path):
    state = {
        'b.w': torch.tensor([1.0, -2.5]),
        'a.n': torch.tensor(3),
        'a.h': torch.zeros(2, dtype=torch.bfloat16)
    }
    path = str(tmp_path / 'c.pth')
    torch.save(dict(state_dict=state, meta=dict(time='now')), path)
    digest = rg.weights_digest(path)
    import hashlib
    h = hashlib.sha256()  # re-derived by hand, names in order
    for name, raw in (('a.h', b'\0' * 4), ('a.n', (3).to_bytes(8, 'little')),
                      ('b.w', torch.tensor([1.0, -2.5]).numpy().tobytes())):
        h.update(f'{name}|{state[name].dtype}|{tuple(state[name].shape)}|'.
                 encode() + raw)
    assert digest == h.hexdigest()
    # other meta, same weights: same digest; one bit of one weight: another
    torch.save(dict(state_dict=state, meta=dict(time='later')), path)
    assert rg.weights_digest(path) == digest
    state['b.w'] = torch.tensor([1.0, -2.5000002])
    torch.save(dict(state_dict=state), path)
    assert rg.weights_digest(path) != digest


def test_compare_names_each_moved_value():
    stored = dict(
        metrics=dict(mIoU=41.45, mBA=49.6),
        weights='a' * 64,
        start_weights='s' * 64,
        compute=dict(
            threads=1,
            torch='2.13.0+cpu',
            cpu_capability='AVX512',
            device='cpu'))
    assert rg.compare(stored, dict(stored)) == []
    got = dict(stored, metrics=dict(mIoU=40.74, mBA=49.6), weights='b' * 64)
    assert rg.compare(stored, got) == [
        'mIoU: stored 41.45, now 40.74',
        'row weights: sha256 stored aaaaaaaaaaaa, now bbbbbbbbbbbb'
    ]
    got = dict(
        stored,
        compute=dict(stored['compute'], cpu_capability='AVX2'),
        start_weights='t' * 64)
    assert rg.guard_check(stored, got) == [
        'cpu_capability: AVX512 != AVX2',
        'shared start weights: sha256 stored ssssssssssss, now tttttttttttt'
    ]


def test_a_row_run_needs_an_empty_folder(tmp_path):
    (tmp_path / 'x').write_text('a user file')
    with pytest.raises(FileExistsError, match='not empty'):
        rg.run_row(str(tmp_path))
    assert (tmp_path / 'x').read_text() == 'a user file'


@pytest.fixture(scope='module')
def guard_run(tmp_path_factory):
    """The guard row from scratch (data, start, row, test), started with
    ``--jobs 1`` from a shell with 2 threads; ``(result, folder)``."""
    work = str(tmp_path_factory.mktemp('guard'))
    return rg.run_row(osp.join(work, 'b'), rg.GUARD, env=_env('2')), work


def test_one_result_whatever_jobs_and_threads(guard_run):
    """Must-show 1: the guard row once more, from scratch on the same data,
    started with ``--jobs 2`` from a shell with 1 thread (before the fix
    the two runs computed with 2 and 1 threads and gave other weights):
    the same start, weights and metrics, bit for bit."""
    b, work = guard_run
    a = rg.run_row(
        osp.join(work, 'a'),
        rg.GUARD,
        env=_env('1'),
        jobs=2,
        data_root=osp.join(work, 'b', 'data'))
    assert a['compute']['threads'] == b['compute']['threads'] == 1
    assert a['start_weights'] == b['start_weights']
    assert a['weights'] == b['weights']
    assert a['metrics'] == b['metrics']
    assert set(a['metrics']) == set(rg.METRICS)


def test_the_guard_row_reproduces_its_stored_values(guard_run):
    """Must-show 3: data, start, row and test from scratch (about two
    minutes on 2 cores), equal to the stored values exactly. If it fails
    after a change that moves the numbers on purpose: python
    tools/misc/reproducibility_guard.py --write, then republish (README,
    Reproducibility)."""
    stored = load_results(osp.join(REPO_ROOT, rg.GUARD_JSON))
    assert stored['settings'] == json.loads(json.dumps(
        rg.GUARD)), (f'{rg.GUARD_JSON} holds other settings; rerun python '
                     'tools/misc/reproducibility_guard.py --write')
    got, _ = guard_run
    differ = same_compute(stored['guard']['compute'], got['compute'])
    if differ:
        pytest.skip(f'{rg.GUARD_JSON} was stored in another compute '
                    f'environment ({"; ".join(differ)}): bits compare only '
                    'within one; store it on this kind of machine with '
                    'tools/misc/reproducibility_guard.py --write')
    assert rg.compare(stored['guard'], got) == [], (
        'the guard row moved: if on purpose, rerun python '
        'tools/misc/reproducibility_guard.py --write and republish the '
        'tables')


def test_main_job_processes_get_the_fixed_threads(tmp_path, monkeypatch):
    """The main job starts every process with the fixed thread count, over
    the shell's OMP_NUM_THREADS / MKL_NUM_THREADS."""
    from mmboundary.benchmark import process, runner
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    monkeypatch.setenv('MKL_NUM_THREADS', '2')
    monkeypatch.delenv(THREADS_ENV, raising=False)
    log = str(tmp_path / 'log.txt')
    probe = ('import os; print(*[os.environ.get(v) for v in '
             f'{THREAD_VARS + (THREADS_ENV, )!r}])')
    runner.set_child_threads(runner.compute_threads())
    process.run([sys.executable, '-c', probe], log)
    with open(log) as f:
        assert f.read().splitlines()[-1] == '1 1 1 1'
    assert runner.plan_jobs(None, 'cpu', 2, 4) == (2, 1)


def test_guard_tool_writes_then_checks(tmp_path, monkeypatch, capsys):
    """The command line over a faked row run: --write stores what the run
    gave; the check passes on equal values and fails (exit 1), naming the
    moved metric, on others."""
    from mmboundary.testing import import_tool
    from mmboundary.utils.cli import UserError
    tool = import_tool('tools/misc/reproducibility_guard.py')
    monkeypatch.setattr(tool, 'REPO_ROOT', str(tmp_path))
    got = dict(
        metrics=dict(mIoU=9.44, mBIoU=5.8, mBF=12.85, mBA=27.54),
        weights='w' * 64,
        start_weights='s' * 64,
        compute=dict(
            threads=1, torch='t', cpu_capability='AVX512', device='cpu'),
        source=None,
        seconds=1.0)
    runs = []

    def fake_run(work, settings, jobs=1):
        assert os.listdir(work) == [] and settings is rg.GUARD
        runs.append(jobs)
        return got

    monkeypatch.setattr(tool.rg, 'run_row', fake_run)
    assert tool.main(['--write']) == 0
    stored = load_results(str(tmp_path / rg.GUARD_JSON))
    assert stored['guard']['metrics'] == got['metrics']
    assert stored['command'] == ('python tools/misc/reproducibility_guard.py '
                                 '--write')
    assert stored['tables']['guard']['rows'][0][:4] == ['FCN (CE)', 8, 8, 9.44]
    assert tool.main(['--jobs', '2']) == 0 and runs == [1, 2]
    assert 'reproduces its stored values exactly' in capsys.readouterr().out
    got['metrics'] = dict(got['metrics'], mIoU=9.45)
    assert tool.main([]) == 1
    assert 'mIoU: stored 9.44, now 9.45' in capsys.readouterr().out
    with pytest.raises(UserError, match='--full goes with --variants'):
        tool.main(['--full'])
