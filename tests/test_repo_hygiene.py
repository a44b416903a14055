# Copyright (c) mmboundary contributors. All rights reserved.
"""The tree holds no run artefacts (issue 21, item 4): ``.gitignore`` covers
process ids, logs, work dirs and caches, and no tracked file matches them."""
import os.path as osp
import shutil
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: One path per kind of run artefact; each must be ignored.
ARTEFACTS = [
    'seed2.pid',
    'tools/train.pid',
    'train.log',
    'work_dirs/semeda/20261201_021800/20261201_021800.log',
    'work_dirs/semeda/edge_net/semantic_edge_net_0b9aad772ca6-e65d3632.pth',
    'configs/semeda/work_dir/latest.pth',
    'nohup.out',
    'vis_data/20261201.log.json',
    '.cache/mmboundary/x.npz',
    '.pytest_cache/v/cache/lastfailed',
    '.mypy_cache/3.11/x.json',
    'mmboundary/__pycache__/registry.cpython-311.pyc',
    'edge_net/semantic_edge_net-e65d3632.pth.tmp27178',
    'edge_net/semantic_edge_net-e65d3632.json.tmp27178',
]

#: Tracked paths that must stay trackable (not caught by a pattern).
SOURCES = [
    'mmboundary/utils/progress.py', 'configs/semeda/README.md',
    'configs/semeda/results/edge_net_pretrain.json', 'tools/train.py'
]


def _git(*args, repo=REPO):
    return subprocess.run(['git', '-C', repo, *args],
                          capture_output=True,
                          text=True)


def _need_git():
    if shutil.which('git') is None:
        pytest.skip('git is not installed')
    if _git('rev-parse', '--is-inside-work-tree').stdout.strip() != 'true':
        pytest.skip('not a git checkout (e.g. an sdist): nothing to check')


def ignored(paths):
    """The subset of ``paths`` that .gitignore ignores (tracked or not)."""
    out = _git('check-ignore', '--no-index', '--', *paths)
    return set(out.stdout.split())


def tracked_artefacts(repo=REPO):
    """Tracked files of ``repo`` that match an ignore pattern."""
    out = _git(
        'ls-files', '--cached', '--ignored', '--exclude-standard', repo=repo)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_gitignore_covers_run_artefacts():
    _need_git()
    assert sorted(set(ARTEFACTS) - ignored(ARTEFACTS)) == []
    assert sorted(ignored(SOURCES)) == []


def test_no_tracked_file_is_a_run_artefact():
    _need_git()
    found = tracked_artefacts()
    assert found == [], (
        f'tracked run artefacts {found}: `git rm --cached` them (they match '
        '.gitignore)')


def test_a_tracked_pid_file_is_caught(tmp_path):
    """The check itself: a committed pid file in a copy of .gitignore's
    repository is reported."""
    _need_git()
    repo = tmp_path / 'repo'
    repo.mkdir()
    shutil.copy(osp.join(REPO, '.gitignore'), repo / '.gitignore')
    (repo / 'seed2.pid').write_text('27178\n')
    (repo / 'main.py').write_text('print(1)\n')

    for args in (('init', '-q'), ('add', '.gitignore', 'main.py'),
                 ('add', '-f', 'seed2.pid')):  # forced, as by mistake
        assert _git(*args, repo=str(repo)).returncode == 0
    assert tracked_artefacts(str(repo)) == ['seed2.pid']
