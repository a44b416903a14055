# Copyright (c) mmboundary contributors. All rights reserved.
"""Packaging (issue 21, items 2 and 5): ``install_requires`` asks for the
ranges the README promises (no exact pins an existing OpenMMLab environment
would have to match), the tested pins lie inside them, and ``setup.py``
makes ``mmboundary/.mim`` as the OpenMMLab packages do (symlinks for an
editable install, copies for a wheel; the wheel itself:
tests/test_tools/test_mim.py)."""
import os
import os.path as osp
import re

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from mmboundary.testing import import_tool
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.version_check import REQUIREMENTS

setup_py = import_tool('setup.py')


def _requirements(name):
    return {
        Requirement(line).name: Requirement(line)
        for line in setup_py.read_requirements(name)
    }


def _readme_range(package):
    """The 'supported' cell of ``package``'s row in the README table, as a
    specifier ('>= 2.2.0, < 3' -> '>=2.2.0,<3')."""
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        rows = [line for line in f if line.startswith(f'| {package} |')]
    assert len(rows) == 1, f'README: one supported-versions row for {package}'
    return rows[0].split('|')[2].replace(' ', '')


def test_install_requires_has_no_exact_pin():
    runtime = _requirements('runtime.txt')
    pinned = [
        str(req) for req in runtime.values() if any(
            spec.operator in ('==', '===') for spec in req.specifier)
    ]
    assert pinned == []


@pytest.mark.parametrize('package', ['cityscapesscripts', 'faster-coco-eval'])
def test_install_requires_ranges_are_the_readme_ranges(package):
    runtime = _requirements('runtime.txt')[package].specifier
    readme = _readme_range(package)
    # same bounds, written either way round ('>=1.8.0,<1.9' == '<1.9.0,>=1.8')
    assert {(s.operator, Version(s.version))
            for s in runtime} == {(s.operator, Version(s.version))
                                  for s in Requirement('x' + readme).specifier}


def test_cityscapesscripts_range_is_the_import_check_range():
    checked = {r.dist: r.spec for r in REQUIREMENTS}['cityscapesscripts']
    runtime = _requirements('runtime.txt')['cityscapesscripts'].specifier
    assert {str(s) for s in runtime} == set(checked.split(','))


@pytest.mark.parametrize('package', ['cityscapesscripts', 'faster-coco-eval'])
def test_tested_pin_lies_in_the_range(package):
    pin = _requirements('tests.txt')[package].specifier
    (exact, ) = list(pin)
    assert exact.operator == '=='
    assert _requirements('runtime.txt')[package].specifier.contains(
        exact.version)


def test_openmim_is_a_test_requirement():
    assert 'openmim' in _requirements('tests.txt')


@pytest.mark.parametrize(
    'argv,mode',
    [
        (['setup.py', 'editable_wheel', '--dist-dir', 'x'], 'symlink'),
        (['setup.py', 'develop'], 'symlink'),
        (['setup.py', 'bdist_wheel', '--dist-dir', 'x'], 'copy'),
        (['setup.py', 'sdist'], 'copy'),
        # metadata preparation and anything else leave .mim alone
        (['setup.py', 'dist_info', '--output-dir', 'x'], None),
        (['setup.py', 'egg_info'], None),
        (['setup.py', '--version'], None),
    ])
def test_mim_mode(argv, mode, monkeypatch):
    monkeypatch.setattr(setup_py.platform, 'system', lambda: 'Linux')
    assert setup_py.mim_mode(argv) == mode


def test_mim_mode_copies_on_windows(monkeypatch):
    monkeypatch.setattr(setup_py.platform, 'system', lambda: 'Windows')
    assert setup_py.mim_mode(['setup.py', 'editable_wheel']) == 'copy'


def _fake_repo(root):
    os.makedirs(osp.join(root, 'mmboundary'))
    os.makedirs(osp.join(root, 'configs', 'semeda'))
    os.makedirs(osp.join(root, 'tools', 'misc'))
    files = {
        'configs/semeda/a.py': 'x = 1\n',
        'tools/train.py': 'print(1)\n',
        'tools/misc/b.py': 'print(2)\n',
        'model-index.yml': 'Import: []\n',
    }
    for rel, text in files.items():
        with open(osp.join(root, rel), 'w') as f:
            f.write(text)
    return files


def _mim_tree(root):
    mim = osp.join(root, 'mmboundary', '.mim')
    out = {}
    for dirpath, _, names in os.walk(mim, followlinks=True):
        for name in names:
            path = osp.join(dirpath, name)
            with open(path) as f:
                out[osp.relpath(path, mim)] = f.read()
    return out


def test_editable_install_links_mim_to_the_repository(tmp_path):
    root = str(tmp_path)
    files = _fake_repo(root)
    setup_py.add_mim_extension('symlink', root)
    mim = osp.join(root, 'mmboundary', '.mim')
    for name in ('configs', 'tools', 'model-index.yml'):
        link = osp.join(mim, name)
        assert osp.islink(link)
        # relative links: the checkout can move
        assert not osp.isabs(os.readlink(link))
        assert osp.realpath(link) == osp.realpath(osp.join(root, name))
    assert _mim_tree(root) == files
    # live: a config edited in the checkout is what mim sees
    with open(osp.join(root, 'configs', 'semeda', 'a.py'), 'w') as f:
        f.write('x = 2\n')
    assert _mim_tree(root)['configs/semeda/a.py'] == 'x = 2\n'


def test_wheel_build_copies_and_replaces_links(tmp_path):
    root = str(tmp_path)
    files = _fake_repo(root)
    setup_py.add_mim_extension('symlink', root)
    setup_py.add_mim_extension('copy', root)  # e.g. later `pip wheel .`
    mim = osp.join(root, 'mmboundary', '.mim')
    for name in ('configs', 'tools', 'model-index.yml'):
        assert not osp.islink(osp.join(mim, name))
    assert _mim_tree(root) == files
    # a copy is a snapshot; a second build refreshes it
    with open(osp.join(root, 'tools', 'train.py'), 'w') as f:
        f.write('print(3)\n')
    assert _mim_tree(root)['tools/train.py'] == 'print(1)\n'
    setup_py.add_mim_extension('copy', root)
    assert _mim_tree(root)['tools/train.py'] == 'print(3)\n'


def test_no_mode_touches_nothing(tmp_path):
    root = str(tmp_path)
    _fake_repo(root)
    setup_py.add_mim_extension(None, root)
    assert not osp.exists(osp.join(root, 'mmboundary', '.mim'))


def test_mim_folder_is_ignored_by_git():
    with open(osp.join(REPO_ROOT, '.gitignore')) as f:
        lines = [line.strip() for line in f]
    assert '/mmboundary/.mim/' in lines


def test_manifest_ships_the_mim_folder():
    with open(osp.join(REPO_ROOT, 'MANIFEST.in')) as f:
        text = f.read()
    assert 'include mmboundary/.mim/model-index.yml' in text
    assert re.search(r'recursive-include mmboundary/\.mim/configs .*\*\.py',
                     text)
    assert re.search(r'recursive-include mmboundary/\.mim/tools .*\*\.py',
                     text)
