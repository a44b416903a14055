# Copyright (c) mmboundary contributors. All rights reserved.
"""A guard CI can afford: rerun the main job's cheapest row from scratch
and compare it with stored values, bit for bit.

The guard row is the semantic baseline ``FCN (CE)`` of the main job
(``tools/misc/run_main_job.py``) under a reduced budget (:data:`GUARD`):
the synthetic data is generated, the shared start trained and the row
fine-tuned and tested, all from scratch in a fresh folder, through the
main job's own command line. Its metrics and the sha256 of its trained
weights (and of the start's) are stored in :data:`GUARD_JSON` by
``python tools/misc/reproducibility_guard.py --write``; the test
``tests/test_tools/test_reproducibility_guard.py`` reruns it and requires
equal values, so a change that moves the numbers cannot land without
rerunning that command (and republishing the tables).

:func:`measure_variants` reruns the row under other thread counts and CPU
kernels (``--variants``), to show what is and is not bit-exact across
machines; it stores :data:`VARIANTS_JSON` (a README block).
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from .reproducibility import THREADS_ENV, same_compute

__all__ = [
    'SOURCE_INPUTS', 'GUARD', 'FULL', 'GUARD_JSON', 'VARIANTS_JSON',
    'VARIANTS', 'weights_digest', 'run_row', 'compare', 'guard_check',
    'guard_table', 'measure_variants', 'TemporaryFolder'
]

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAIN_JOB = 'tools/misc/run_main_job.py'
#: Inputs of the stored values besides ``mmboundary/`` and ``configs/``.
SOURCE_INPUTS = (MAIN_JOB, 'tools/train.py', 'tools/test.py',
                 'tools/dataset_converters',
                 'tools/misc/reproducibility_guard.py')
GUARD_JSON = 'docs/reproducibility/guard.json'
VARIANTS_JSON = 'docs/reproducibility/variants.json'
#: The guard's row, seed and budget (the shared start's and the row's
#: iterations; 8 is the least the baseline's LR warm-up, scaled to the
#: budget, allows) on a reduced synthetic dataset (``data``: generator
#: arguments; None: the main job's own data).
GUARD = OrderedDict(
    row='FCN (CE)',
    seed=0,
    start_iters=8,
    iters=8,
    data=OrderedDict(seed=0, num_train=8, num_val=4, height=128, width=256))
#: The main job's own budget and data for that row (``make demo``).
FULL = OrderedDict(
    row='FCN (CE)', seed=0, start_iters=300, iters=100, data=None)
GENERATOR = 'tools/dataset_converters/generate_synthetic_cityscapes.py'
#: The semantic metrics of the main job, in its table's order.
METRICS = ('mIoU', 'mBIoU', 'mBF', 'mTrimapIoU@1', 'mBA')
#: Environments of :func:`measure_variants`: name -> (what it stands for,
#: environment variables). The CPU-kernel variants make torch, oneDNN and
#: MKL use the code paths of a CPU without AVX-512 (AVX2), or without AVX
#: at all, on this machine.
VARIANTS = OrderedDict([
    ('reference', ('1 compute thread (the default)', {})),
    ('rerun, other --jobs and OMP_NUM_THREADS',
     ('the same, started with --jobs 2 and OMP_NUM_THREADS=2 in the '
      'shell', dict(OMP_NUM_THREADS='2', MKL_NUM_THREADS='2', _jobs='2'))),
    ('2 compute threads', ('MMBOUNDARY_COMPUTE_THREADS=2', {
        THREADS_ENV: '2'
    })),
    ('AVX2 kernels', ('a CPU without AVX-512: ATEN_CPU_CAPABILITY=avx2, '
                      'ONEDNN_MAX_CPU_ISA=AVX2, MKL_ENABLE_INSTRUCTIONS=AVX2',
                      dict(
                          ATEN_CPU_CAPABILITY='avx2',
                          ONEDNN_MAX_CPU_ISA='AVX2',
                          MKL_ENABLE_INSTRUCTIONS='AVX2'))),
    ('no-AVX kernels', ('a CPU without AVX: ATEN_CPU_CAPABILITY=default, '
                        'ONEDNN_MAX_CPU_ISA=SSE41, '
                        'MKL_ENABLE_INSTRUCTIONS=SSE4_2',
                        dict(
                            ATEN_CPU_CAPABILITY='default',
                            ONEDNN_MAX_CPU_ISA='SSE41',
                            MKL_ENABLE_INSTRUCTIONS='SSE4_2'))),
])


def weights_digest(checkpoint: str) -> str:
    """sha256 of a checkpoint's ``state_dict``: every tensor's name, dtype,
    shape and bytes, in name order (not the file, which also holds dates
    and optimizer states)."""
    import torch

    from .checkpoint import load_checkpoint_safely
    state = load_checkpoint_safely(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous().reshape(-1)
        h.update(f'{name}|{t.dtype}|{tuple(state[name].shape)}|'.encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def run_row(work_dir: str,
            settings: Dict = GUARD,
            env: Optional[Dict[str, str]] = None,
            jobs: int = 1,
            data_root: Optional[str] = None,
            log_file: Optional[str] = None,
            timeout: Optional[float] = None) -> Dict:
    """Run the main job on one row from scratch in ``work_dir``.

    Args:
        work_dir (str): Empty or missing folder for the start, the row and
            (unless ``data_root``) the data.
        settings (dict): ``row``, ``seed``, ``start_iters``, ``iters`` and
            ``data`` (see :data:`GUARD`).
        env (dict, optional): The main job's environment (default
            ``os.environ``).
        jobs (int): ``--jobs``.
        data_root (str, optional): Where the data is or is generated
            (default ``work_dir/data``); with ``settings['data']`` it is
            generated there first unless it exists.
        log_file (str, optional): Where the main job's output goes
            (default ``work_dir/main_job.out``).
        timeout (float, optional): Seconds before the run is stopped.

    Returns:
        dict: ``metrics`` (the row's, as the main job stores them),
        ``weights`` and ``start_weights`` (:func:`weights_digest`),
        ``compute`` (the run's recorded compute environment), ``source``
        and ``seconds``.

    Raises:
        RuntimeError: The main job failed (its output's tail is in the
            message).
    """
    if osp.isdir(work_dir) and os.listdir(work_dir):
        raise FileExistsError(f'{work_dir} is not empty; the guard row runs '
                              'from scratch in an empty folder')
    os.makedirs(work_dir, exist_ok=True)
    job_dir = osp.join(work_dir, 'job')
    start_dir = osp.join(work_dir, 'start')
    cmd = [
        sys.executable,
        osp.join(REPO_ROOT, MAIN_JOB), '--rows', settings['row'], '--seeds',
        str(settings['seed']), '--data-root', data_root
        or osp.join(work_dir, 'data'), '--work-dir', job_dir, '--start-dir',
        start_dir, '--start-iters',
        str(settings['start_iters']), '--iters',
        f"semantic={settings['iters']}", '--jobs',
        str(jobs), '--num-vis', '1', '--no-reuse'
    ]
    env = dict(os.environ if env is None else env)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    log_file = log_file or osp.join(work_dir, 'main_job.out')
    data = settings.get('data')
    data_root = cmd[cmd.index('--data-root') + 1]
    t0 = time.perf_counter()
    with open(log_file, 'w') as f:
        if data and not osp.isdir(data_root):  # the main job converts it
            gen = [
                sys.executable,
                osp.join(REPO_ROOT, GENERATOR), '--out', data_root, '--quiet'
            ] + [f"--{k.replace('_', '-')}={v}" for k, v in data.items()]
            _run(gen, env, f, log_file, timeout)
        _run(cmd, env, f, log_file, timeout)
    seconds = time.perf_counter() - t0
    with open(osp.join(job_dir, 'results.json')) as f:
        results = json.load(f)
    entry = next(e for data in results['tasks'].values() for e in data['rows']
                 if e['name'] == settings['row'])
    run = entry['runs'][0]
    return dict(
        metrics=run['metrics'],
        weights=weights_digest(osp.join(REPO_ROOT, run['checkpoint'])),
        start_weights=weights_digest(osp.join(start_dir, 'segmentor.pth')),
        compute=results.get('compute'),
        source=results.get('source'),
        seconds=round(seconds, 1))


def _run(cmd, env, f, log_file, timeout):
    f.write('$ ' + ' '.join(cmd) + '\n')
    f.flush()
    proc = subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        env=env,
        stdout=f,
        stderr=subprocess.STDOUT,
        timeout=timeout)
    if proc.returncode != 0:
        f.flush()
        with open(log_file) as log:
            tail = log.read()[-3000:]
        raise RuntimeError(f'{osp.basename(cmd[1])} failed '
                           f'({proc.returncode}); see {log_file}:\n{tail}')


def compare(stored: Dict, got: Dict) -> List[str]:
    """What differs between two :func:`run_row` results (metrics exactly,
    then the weights): ``'mIoU: stored 41.45, now 40.74'``; empty when
    equal."""
    out = [
        f'{k}: stored {stored["metrics"].get(k)}, now {got["metrics"].get(k)}'
        for k in sorted(set(stored['metrics']) | set(got['metrics']))
        if stored['metrics'].get(k) != got['metrics'].get(k)
    ]
    for key, what in (('start_weights', 'shared start weights'),
                      ('weights', 'row weights')):
        if stored.get(key) != got.get(key):
            out.append(f'{what}: sha256 stored {str(stored.get(key))[:12]}, '
                       f'now {str(got.get(key))[:12]}')
    return out


def _data_words(data: Optional[Dict]) -> str:
    if not data:
        return "the main job's synthetic Cityscapes data"
    return (f"synthetic Cityscapes, {data['num_train']} train / "
            f"{data['num_val']} val images of {data['height']}x"
            f"{data['width']} (generator seed {data['seed']})")


def guard_table(settings: Dict, got: Dict) -> Dict:
    """The stored guard as a results table (one row, exact values)."""
    c = got['compute'] or {}
    return dict(
        columns=['row', 'start iters', 'iters'] + list(METRICS) +
        ['weights sha256'],
        rows=[[settings['row'], settings['start_iters'], settings['iters']] +
              [got['metrics'].get(k)
               for k in METRICS] + [got['weights'][:12]]],
        digits=4,
        notes=[
            f"Data: {_data_words(settings.get('data'))}; seed "
            f"{settings['seed']}; the main job's protocol (shared start, "
            'then the row fine-tuned from it, tested on val).',
            f"Compute: {c.get('threads')} thread(s), torch {c.get('torch')}, "
            f"{c.get('cpu_capability')} CPU kernels, {c.get('blas')} BLAS, "
            f"deterministic algorithms; {got['seconds']:.0f} s from scratch "
            '(data, start, row, test).'
        ])


def _variant_env(base: Dict[str, str], extra: Dict[str, str]):
    env = dict(base)
    jobs = int(extra.get('_jobs', 1))
    env.update({k: v for k, v in extra.items() if not k.startswith('_')})
    return env, jobs


def measure_variants(work_dir: str,
                     settings: Dict = FULL,
                     names: Sequence[str] = tuple(VARIANTS),
                     log=print) -> Dict:
    """Run the row from scratch once per environment of :data:`VARIANTS`
    (the data generated once and shared) and tabulate how far each moved
    from the reference.

    Returns:
        dict: ``{'table': results table, 'runs': {name: run_row result}}``.
    """
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA',
                     'MKL_ENABLE_INSTRUCTIONS', THREADS_ENV)
    }
    data_root = osp.join(work_dir, 'data')
    runs = OrderedDict()
    for name in names:
        what, extra = VARIANTS[name]
        env, jobs = _variant_env(base, extra)
        log(f'variant {name!r} ({what})')
        runs[name] = run_row(
            osp.join(work_dir,
                     name.split(',')[0].replace(' ', '_')),
            settings,
            env=env,
            jobs=jobs,
            data_root=data_root)
    ref = runs[names[0]]
    rows = []
    for name, got in runs.items():
        c = got['compute'] or {}
        deltas = [
            abs(got['metrics'][k] - ref['metrics'][k]) for k in METRICS
            if got['metrics'].get(k) is not None
            and ref['metrics'].get(k) is not None
        ]
        rows.append([name, c.get('threads'),
                     c.get('cpu_capability')] +
                    [got['metrics'].get(k) for k in METRICS] + [
                        max(deltas) if deltas else None,
                        'yes' if got['weights'] == ref['weights'] else 'no'
                    ])
    table = dict(
        columns=['variant', 'threads', 'CPU kernels'] + list(METRICS) +
        ['max abs diff to reference (points)', 'weights bit-equal'],
        rows=rows,
        digits=2,
        notes=[
            f"Row {settings['row']!r}, seed {settings['seed']}, "
            f"{_data_words(settings.get('data'))}, from "
            f"scratch: shared start {settings['start_iters']} iterations, "
            f"row {settings['iters']} iterations, each variant on this "
            'machine, one after the other.'
        ] + [f'{n}: {VARIANTS[n][0]}.' for n in names])
    return dict(table=table, runs=runs)


def guard_check(stored: Dict, got: Dict) -> List[str]:
    """:func:`compare`, after the differences of the compute environments
    (:func:`~mmboundary.utils.reproducibility.same_compute`) that explain
    other bits without any code change."""
    return same_compute(stored.get('compute'), got.get('compute')) + compare(
        stored, got)


class TemporaryFolder:
    """A fresh folder removed on exit unless ``keep`` (then its path is
    printed): the guard's runs never touch a user's work dirs."""

    def __init__(self, keep: Optional[str] = None) -> None:
        self.keep = keep

    def __enter__(self) -> str:
        if self.keep:
            os.makedirs(self.keep, exist_ok=True)
            self.path = self.keep
        else:
            self.path = tempfile.mkdtemp(prefix='mmb_guard_')
        return self.path

    def __exit__(self, *exc) -> None:
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
