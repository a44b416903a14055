# Copyright (c) mmboundary contributors. All rights reserved.
"""Fixed compute threads, deterministic algorithms, and the source record
that tells whether stored numbers come from the checkout's code."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils import reproducibility as rp

needs_git = pytest.mark.skipif(
    shutil.which('git') is None, reason='git is not installed')


def test_thread_env_overrides_the_users_threads():
    user = dict(OMP_NUM_THREADS='4', MKL_NUM_THREADS='3', HOME='/h')
    env = rp.thread_env(env=user)
    assert env == dict(
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        OPENBLAS_NUM_THREADS='1',
        MMBOUNDARY_COMPUTE_THREADS='1',
        HOME='/h')
    assert user['OMP_NUM_THREADS'] == '4'  # a copy
    # the override variable is the one way to another count, and it stays
    env = rp.thread_env(env=dict(MMBOUNDARY_COMPUTE_THREADS='3'))
    assert {env[v] for v in rp.THREAD_VARS} == {'3'}
    assert rp.thread_env(
        2, dict(MMBOUNDARY_COMPUTE_THREADS='3'))['OMP_NUM_THREADS'] == '2'


@pytest.mark.parametrize('value', ['0', 'two', '-1'])
def test_bad_thread_count_names_the_variable(value):
    with pytest.raises(
            ValueError,
            match=f"MMBOUNDARY_COMPUTE_THREADS="
            f"'{value}': give a positive integer"):
        rp.compute_threads(dict(MMBOUNDARY_COMPUTE_THREADS=value))
    assert rp.compute_threads({}) == 1
    assert rp.compute_threads(dict(MMBOUNDARY_COMPUTE_THREADS='')) == 1


_PROBE = ('import json, os, torch\n'
          'from mmboundary.utils.reproducibility import '
          'fix_compute_threads_from_env\n'
          'got = fix_compute_threads_from_env()\n'
          'print(json.dumps([got, torch.get_num_threads(), '
          'torch.get_num_interop_threads(), '
          'torch.are_deterministic_algorithms_enabled(), '
          'torch.backends.cudnn.benchmark, os.environ.get("OMP_NUM_THREADS"), '
          'os.environ.get("MKL_NUM_THREADS")]))\n')


def _probe(**env):
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in rp.THREAD_VARS + (rp.THREADS_ENV, )
    }
    full['PYTHONPATH'] = REPO_ROOT
    full.update(env)
    out = subprocess.run([sys.executable, '-c', _PROBE],
                         env=full,
                         capture_output=True,
                         text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_train_processes_fix_their_threads_from_the_environment():
    # what the main job sets: threads (intra and inter op), determinism,
    # and the variables its own children inherit
    assert _probe(
        MMBOUNDARY_COMPUTE_THREADS='1',
        OMP_NUM_THREADS='2') == [1, 1, 1, True, False, '1', '1']
    assert _probe(MMBOUNDARY_COMPUTE_THREADS='2') == [
        2, 2, 2, True, False, '2', '2'
    ]
    # an ordinary training keeps torch's defaults
    got = _probe(OMP_NUM_THREADS='1')
    assert got[0] is None and got[3] is False and got[5] == '1'


def test_compute_environment_and_same_compute():
    import torch
    env = rp.compute_environment('cpu')
    assert env['threads'] == rp.compute_threads()
    assert env['torch'] == torch.__version__
    assert env['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert env['device'] == 'cpu' and env['deterministic'] is True
    assert rp.compute_environment('cuda (H100)')['device'] == 'cuda'
    assert rp.same_compute(env, dict(env, numpy='0', machine='x')) == []
    assert rp.same_compute(env, dict(env, cpu_capability='AVX2')) == [
        f"cpu_capability: {env['cpu_capability']} != AVX2"
    ]
    assert rp.same_compute(env, dict(env, threads=2, torch='1.0')) == [
        f"torch: {env['torch']} != 1.0", f"threads: {env['threads']} != 2"
    ]
    assert rp.same_compute(None, env) == ['no compute environment recorded']


@pytest.mark.parametrize('command, script', [
    ('python tools/x.py --a 1', 'tools/x.py'),
    ("/usr/bin/python3 tools/y.py --rows 'A B'", 'tools/y.py'),
    ('python -m pytest tests', None),
    ('make demo', None),
    ("python 'unclosed", None),
])
def test_generator_of(command, script):
    assert rp.generator_of(command) == script


# ------------------------------------------------------------ source state
def _git(root, *args):
    return subprocess.run(['git', '-C', str(root), *args],
                          check=True,
                          capture_output=True,
                          text=True).stdout.strip()


def _write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repo(tmp_path):
    if shutil.which('git') is None:
        pytest.skip('git is not installed')
    root = tmp_path / 'repo'
    root.mkdir()
    _git(root, 'init', '-q')
    _git(root, 'config', 'user.email', 't@t')
    _git(root, 'config', 'user.name', 't')
    _write(root, 'mmboundary/a.py', 'A = 1\n')
    _write(root, 'mmboundary/sub/b.py', 'B = 2\n')
    _write(root, 'configs/m/c.py', 'c = 3\n')
    _write(root, 'configs/m/README.md', 'numbers\n')
    _write(root, 'tools/gen.py', 'print(1)\n')
    _write(root, 'tools/other.py', 'print(2)\n')
    _write(root, '.gitignore', '__pycache__/\nscratch.py\n')
    _git(root, 'add', '-A')
    _git(root, 'commit', '-q', '-m', 'one')
    return root


def _by_hand(root, files):
    """The fingerprint re-derived: sha256 over name NUL sha256(content)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b'\0' +
                 hashlib.sha256((root / name).read_bytes()).digest())
    return h.hexdigest()


def test_source_state_records_commit_and_inputs(repo):
    state = rp.source_state(str(repo), 'python tools/gen.py --n 2')
    assert state['commit'] == _git(repo, 'rev-parse', 'HEAD')
    assert state['dirty'] == []
    assert list(state['inputs']) == ['mmboundary', 'configs', 'tools/gen.py']
    assert state['inputs']['mmboundary'] == _by_hand(
        repo, ['mmboundary/a.py', 'mmboundary/sub/b.py'])
    assert state['inputs']['configs'] == _by_hand(repo, ['configs/m/c.py'])
    assert state['inputs']['tools/gen.py'] == _by_hand(repo, ['tools/gen.py'])
    # extra inputs, each once; a subfolder of the checkout finds its top
    state = rp.source_state(
        str(repo / 'configs'),
        'python tools/gen.py',
        paths=['tools/other.py', 'configs/', 'tools/gen.py'])
    assert list(state['inputs']) == [
        'mmboundary', 'configs', 'tools/gen.py', 'tools/other.py'
    ]
    assert rp.check_source(state, str(repo)) == ('fresh', [])


def test_check_source_follows_the_python_files(repo):
    state = rp.source_state(str(repo), 'python tools/gen.py')
    # docs, READMEs and results beside the code do not count
    _write(repo, 'configs/m/README.md', 'other numbers\n')
    _write(repo, 'mmboundary/data.json', '{}')
    assert rp.check_source(state, str(repo)) == ('fresh', [])
    # a config, the package, the generator: stale, naming the paths
    _write(repo, 'configs/m/c.py', 'c = 4\n')
    assert rp.check_source(state, str(repo)) == ('stale', ['configs'])
    _write(repo, 'tools/gen.py', 'print(3)\n')
    assert rp.check_source(state,
                           str(repo)) == ('stale', ['configs', 'tools/gen.py'])
    _write(repo, 'configs/m/c.py', 'c = 3\n')
    _write(repo, 'tools/gen.py', 'print(1)\n')
    assert rp.check_source(state, str(repo)) == ('fresh', [])
    # a tool that is no input does not count
    _write(repo, 'tools/other.py', 'print(5)\n')
    assert rp.check_source(state, str(repo)) == ('fresh', [])
    # a new (untracked) module counts; an ignored file does not
    _write(repo, 'mmboundary/sub/new.py', 'N = 0\n')
    assert rp.check_source(state, str(repo)) == ('stale', ['mmboundary'])
    (repo / 'mmboundary/sub/new.py').unlink()
    _write(repo, 'mmboundary/scratch.py', 'S = 0\n')
    _write(repo, 'mmboundary/__pycache__/a.py', 'compiled')
    assert rp.check_source(state, str(repo)) == ('fresh', [])
    # a renamed module changes the fingerprint
    (repo / 'mmboundary/a.py').rename(repo / 'mmboundary/a2.py')
    assert rp.check_source(state, str(repo)) == ('stale', ['mmboundary'])


def test_results_of_uncommitted_code_are_fresh_once_it_is_committed(repo):
    _write(repo, 'mmboundary/a.py', 'A = 2\n')
    state = rp.source_state(str(repo), 'python tools/gen.py')
    parent = _git(repo, 'rev-parse', 'HEAD')
    assert state['commit'] == parent
    assert state['dirty'] == ['mmboundary/a.py']
    _git(repo, 'commit', '-q', '-am', 'two')
    # the numbers were made from exactly the committed code
    assert rp.check_source(state, str(repo)) == ('fresh', [])
    note = rp.stale_note(
        dict(command='python tools/gen.py', source=state), str(repo))
    assert note is None
    _write(repo, 'mmboundary/a.py', 'A = 3\n')
    note = rp.stale_note(
        dict(command='python tools/gen.py', source=state), str(repo))
    assert note == (f'> **Stale**: made at commit {parent[:12]} with '
                    'uncommitted changes; `mmboundary` changed since, so the '
                    'current code may give other numbers; rerun '
                    '`python tools/gen.py`.')


def test_stale_note_without_a_record_and_outside_git(repo, tmp_path):
    data = dict(command='python tools/gen.py --x')
    assert rp.stale_note(data, str(repo)) == (
        '> **Stale**: no source commit is recorded with these numbers, so '
        'nothing shows that the current code gives them; rerun '
        '`python tools/gen.py --x`.')
    assert rp.check_source(None, str(repo)) == ('stale', [])
    outside = tmp_path / 'plain'
    outside.mkdir()
    assert rp.git_root(str(outside)) is None
    assert rp.source_state(str(outside), 'python tools/gen.py') is None
    assert rp.check_source({'inputs': {}}, str(outside)) == ('unchecked', [])
    assert rp.stale_note(data, str(outside)).startswith('> **Unchecked**')


@needs_git
def test_this_checkout_records_its_head():
    if rp.git_root(REPO_ROOT) is None:
        pytest.skip('not a git checkout (e.g. an sdist): nothing to record')
    state = rp.source_state(REPO_ROOT, 'python tools/misc/run_main_job.py')
    assert state['commit'] == _git(REPO_ROOT, 'rev-parse', 'HEAD')
    assert 'tools/misc/run_main_job.py' in state['inputs']
    assert rp.check_source(state, REPO_ROOT) == ('fresh', [])
