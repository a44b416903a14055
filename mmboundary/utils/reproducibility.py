# Copyright (c) mmboundary contributors. All rights reserved.
"""One result per config and seed, and published numbers that say which
code made them.

**Compute threads.** On a CPU, torch splits a convolution's reductions
across its threads, so the same training gives other bits with 1 or 2
threads (and the differences grow over the iterations). A run that is to
be reproduced therefore trains with a fixed number of compute threads,
:data:`COMPUTE_THREADS` (1) unless ``MMBOUNDARY_COMPUTE_THREADS`` says
otherwise, whatever the core count, the load or how many runs share the
machine: the main job passes :func:`thread_env` to every process it starts
and records :func:`compute_environment` with its results;
``tools/train.py`` calls :func:`fix_compute_threads_from_env`, which also
turns on torch's deterministic algorithms.

**Source state.** :func:`source_state` records, with stored results, the
commit they were made at, whether the working tree had uncommitted
changes, and a sha256 of the Python files of each input path
(``mmboundary/``, ``configs/`` and the tool that made them).
:func:`check_source` compares that record with the current checkout, so
that a README block whose numbers come from other code says so
(:func:`stale_note`), and ``update_readme_tables.py --strict`` refuses it.
Only ``*.py`` files count: READMEs, metafiles and stored results live in
the same folders and are written from the results themselves.
"""
import hashlib
import os
import os.path as osp
import shlex
import subprocess
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = [
    'COMPUTE_THREADS', 'THREADS_ENV', 'THREAD_VARS', 'SOURCE_PATHS',
    'compute_threads', 'thread_env', 'fix_compute_threads',
    'fix_compute_threads_from_env', 'set_deterministic', 'compute_environment',
    'same_compute', 'git_root', 'generator_of', 'fingerprint', 'source_state',
    'check_source', 'stale_note'
]

#: Compute threads of every process of a reproducible run.
COMPUTE_THREADS = 1
#: Environment variable that overrides :data:`COMPUTE_THREADS` (recorded).
THREADS_ENV = 'MMBOUNDARY_COMPUTE_THREADS'
#: Thread-pool variables of OpenMP and the BLAS libraries torch may use.
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')
#: Paths whose Python files every stored result depends on (the tool that
#: made them is added from its command, see :func:`generator_of`).
SOURCE_PATHS = ('mmboundary', 'configs')
#: What decides whether two machines give the same bits
#: (see :func:`same_compute`).
_BIT_KEYS = ('torch', 'cpu_capability', 'threads', 'device')


def compute_threads(env: Optional[Dict[str, str]] = None) -> int:
    """:data:`COMPUTE_THREADS`, or ``MMBOUNDARY_COMPUTE_THREADS`` of ``env``
    (default ``os.environ``) when set.

    Raises:
        ValueError: The variable is not a positive integer.
    """
    env = os.environ if env is None else env
    value = env.get(THREADS_ENV)
    if value is None or value == '':
        return COMPUTE_THREADS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f'{THREADS_ENV}={value!r}: give a positive integer '
                         f'(default {COMPUTE_THREADS}) or unset it')
    return int(value)


def thread_env(threads: Optional[int] = None,
               env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A copy of ``env`` (default ``os.environ``) in which a child process
    computes with ``threads`` threads (default :func:`compute_threads`).

    Every variable of :data:`THREAD_VARS` and ``MMBOUNDARY_COMPUTE_THREADS``
    is *set*, overriding the user's: a run's numbers must not depend on
    the shell it was started from.
    """
    env = dict(os.environ if env is None else env)
    threads = compute_threads(env) if threads is None else int(threads)
    for var in THREAD_VARS + (THREADS_ENV, ):
        env[var] = str(threads)
    return env


def fix_compute_threads(threads: int) -> int:
    """Compute with ``threads`` threads in this process (torch's intra- and,
    if still possible, inter-op pools) and in the processes it starts
    (:data:`THREAD_VARS`). Returns ``threads``."""
    import torch
    for var in THREAD_VARS + (THREADS_ENV, ):
        os.environ[var] = str(threads)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only before the first inter-op work: keep it
        pass
    return threads


def set_deterministic() -> None:
    """Deterministic algorithms: torch's flag (an op without a
    deterministic implementation warns, naming itself), cuDNN's
    deterministic mode without autotuning, and cuBLAS's fixed workspace."""
    import torch
    os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def fix_compute_threads_from_env() -> Optional[int]:
    """For ``tools/train.py``: when ``MMBOUNDARY_COMPUTE_THREADS`` is set
    (the main job sets it in every run it starts), compute with that many
    threads and deterministic algorithms. Returns the threads, or None
    when the variable is unset (an ordinary training keeps torch's
    defaults)."""
    if not os.environ.get(THREADS_ENV):
        return None
    threads = fix_compute_threads(compute_threads())
    set_deterministic()
    return threads


def compute_environment(device: str = 'cpu') -> Dict[str, object]:
    """What the bits of a run depend on besides code, config and seed:
    the compute threads, torch and numpy versions, the vector instructions
    torch's CPU kernels use (``cpu_capability``: AVX512, AVX2, ...), the
    BLAS, the device, and whether deterministic algorithms are on."""
    import numpy as np
    import torch
    config = torch.__config__.show()
    blas = 'mkl' if 'BLAS_INFO=mkl' in config else (
        'openblas' if 'openblas' in config.lower() else 'other')
    return dict(
        threads=compute_threads(),
        torch=torch.__version__,
        numpy=np.__version__,
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        blas=blas,
        device=device.split(' ')[0],
        deterministic=True)


def same_compute(a: Optional[Dict], b: Optional[Dict]) -> List[str]:
    """Differences between two :func:`compute_environment` records that can
    change the bits of a run (``'torch: 2.13.0+cpu != 2.4.0'``); empty
    when the same results are expected."""
    if not a or not b:
        return ['no compute environment recorded']
    return [
        f'{k}: {a.get(k)} != {b.get(k)}' for k in _BIT_KEYS
        if a.get(k) != b.get(k)
    ]


# ------------------------------------------------------------ source state
def _git(root: str, *args: str) -> str:
    return subprocess.run(['git', '-C', root, *args],
                          check=True,
                          capture_output=True,
                          text=True).stdout


def git_root(path: str) -> Optional[str]:
    """The top folder of the git checkout holding ``path``, or None (no git
    or not a checkout)."""
    try:
        return _git(path, 'rev-parse', '--show-toplevel').strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def generator_of(command: str) -> Optional[str]:
    """The script of ``python SCRIPT ...`` (None for another command)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) >= 2 and osp.basename(words[0]).startswith('python') \
            and words[1].endswith('.py'):
        return words[1]
    return None


def _py_files(root: str, path: str) -> List[str]:
    out = _git(root, 'ls-files', '-z', '--cached', '--others',
               '--exclude-standard', '--', path)
    return sorted({
        p
        for p in out.split('\0')
        if p.endswith('.py') and osp.isfile(osp.join(root, p))
    })


def fingerprint(root: str, path: str) -> str:
    """sha256 of the names and contents of the Python files under ``path``
    (a folder or file relative to the checkout ``root``; tracked and
    untracked ones, not ignored ones)."""
    h = hashlib.sha256()
    for name in _py_files(root, path):
        with open(osp.join(root, name), 'rb') as f:
            data = f.read()
        h.update(name.encode() + b'\0' + hashlib.sha256(data).digest())
    return h.hexdigest()


def _input_paths(paths: Sequence[str]) -> List[str]:
    out = []
    for p in paths:
        p = p.strip('/')
        if p and p not in out:
            out.append(p)
    return out


def source_state(root: str,
                 command: Optional[str] = None,
                 paths: Sequence[str] = ()) -> Optional[Dict]:
    """The source record of results made now in the checkout ``root``.

    Args:
        root (str): The repository root.
        command (str, optional): The generating command; its script is an
            input (:func:`generator_of`).
        paths (Sequence[str]): More input paths (relative to ``root``).

    Returns:
        dict | None: ``{'commit': HEAD, 'dirty': [input files with
        uncommitted changes], 'inputs': {path: fingerprint}}``, or None
        when ``root`` is not a git checkout.
    """
    top = git_root(root)
    if top is None:
        return None
    generator = generator_of(command) if command else None
    inputs = _input_paths(
        list(SOURCE_PATHS) + ([generator] if generator else []) + list(paths))
    try:
        commit = _git(top, 'rev-parse', 'HEAD').strip()
    except subprocess.CalledProcessError:  # no commit yet
        commit = None
    status = _git(top, 'status', '--porcelain', '--untracked-files=all', '--',
                  *inputs)
    dirty = sorted(line[3:] for line in status.splitlines()
                   if line[3:].endswith('.py'))
    return dict(
        commit=commit,
        dirty=dirty,
        inputs={p: fingerprint(top, p)
                for p in inputs})


def check_source(source: Optional[Dict], root: str) -> Tuple[str, List[str]]:
    """Compare a recorded :func:`source_state` with the checkout ``root``.

    Returns:
        tuple[str, list[str]]: ``('fresh', [])``; ``('stale', paths)`` with
        the input paths whose Python files changed (``[]`` when nothing
        was recorded); or ``('unchecked', [])`` when ``root`` is not a git
        checkout.
    """
    top = git_root(root)
    if top is None:
        return 'unchecked', []
    if not source or not source.get('inputs'):
        return 'stale', []
    changed = [
        p for p, sha in source['inputs'].items() if fingerprint(top, p) != sha
    ]
    return ('stale', changed) if changed else ('fresh', [])


def stale_note(data: Dict, root: str) -> Optional[str]:
    """One visible Markdown line for results ``data`` (with ``command`` and
    maybe ``source``) that the checkout ``root`` may no longer reproduce,
    or None when they are fresh.

    The line depends only on the stored record and on the checked files,
    so every checkout of one commit renders the same line.
    """
    state, changed = check_source(data.get('source'), root)
    if state == 'fresh':
        return None
    rerun = f"rerun `{data['command']}`"
    source = data.get('source') or {}
    if state == 'unchecked':
        return ('> **Unchecked**: not a git checkout, so whether the code '
                'still gives these numbers cannot be checked.')
    if not source.get('inputs'):
        return ('> **Stale**: no source commit is recorded with these '
                'numbers, so nothing shows that the current code gives '
                f'them; {rerun}.')
    commit = (source.get('commit') or 'none')[:12]
    dirty = ' with uncommitted changes' if source.get('dirty') else ''
    where = ', '.join(f'`{p}`' for p in changed)
    return (f'> **Stale**: made at commit {commit}{dirty}; {where} changed '
            f'since, so the current code may give other numbers; {rerun}.')
