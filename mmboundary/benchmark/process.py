# Copyright (c) mmboundary contributors. All rights reserved.
"""The child processes of the benchmark: ``tools/train.py`` and
``tools/test.py`` runs, their environment (compute threads) and the
metrics they dump."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Sequence, Tuple

from mmboundary.utils.reproducibility import compute_threads, thread_env
from .common import REPO_ROOT
from .rows import metric_value

#: Compute threads of each training/testing process: fixed (issue 24:
#: :func:`mmboundary.utils.reproducibility.compute_threads`, 1 unless
#: ``MMBOUNDARY_COMPUTE_THREADS`` says otherwise), whatever ``--jobs`` or
#: the cores, so that a row's numbers do not depend on them.
THREADS = {'n': compute_threads()}

#: Whether the children's output is echoed to the console (``--quiet``
#: turns it off; the log files always get it).
ECHO = {'on': True}


def child_env() -> Dict[str, str]:
    """The environment of every training/testing child process.

    The one place that sets the children's threads and environment: the
    repository on ``PYTHONPATH``, unbuffered output, and the compute threads
    of :data:`THREADS`, set over the user's ``OMP_NUM_THREADS`` (the bits
    of a run depend on its thread count; recorded in the results).
    """
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('PYTHONUNBUFFERED', '1')
    return thread_env(THREADS['n'], env)


def run(cmd: Sequence[str], log_file: str, prefix: str = '') -> None:
    """Run ``cmd`` from the repo root, streaming its output (each line after
    ``prefix``) to the console (unless :data:`ECHO` is off) and to
    ``log_file``; raise with the tail of the output on failure."""
    tail = []
    os.makedirs(osp.dirname(osp.abspath(log_file)), exist_ok=True)
    with open(log_file, 'a') as f, subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True) as proc:
        f.write('$ ' + ' '.join(cmd) + '\n')
        for line in proc.stdout:
            f.write(line)
            if ECHO['on']:
                sys.stdout.write('    ' + prefix + line)
                sys.stdout.flush()
            tail = (tail + [line])[-40:]
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}); '
                           f'see {log_file}:\n' + ''.join(tail))


def train(cfg,
          config: str,
          work_dir: str,
          prefix: str = '') -> Tuple[str, float]:
    """Dump ``cfg`` into ``work_dir`` and train it with ``tools/train.py``
    (log: ``work_dir/main_job.log``); return the config path and seconds."""
    cfg_path = osp.join(work_dir, osp.basename(config))
    cfg.dump(cfg_path)
    t0 = time.perf_counter()
    run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path, '--work-dir',
        work_dir
    ], osp.join(work_dir, 'main_job.log'), prefix)
    return cfg_path, time.perf_counter() - t0


def read_metrics(test_dir: str, key: str) -> Dict:
    """The metrics ``tools/test.py`` dumped (``<timestamp>/<ts>.json``)."""
    found: List[str] = sorted(
        glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(found):
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError:
                continue
        if metric_value(data, key) is not None:
            return data
    raise FileNotFoundError(f'no metrics JSON with {key} under {test_dir}')
