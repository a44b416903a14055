# Copyright (c) mmboundary contributors. All rights reserved.
"""The built package carries ``.mim`` (configs, tools, model-index.yml) like
mmdet, mmseg and mmyolo, and ``mim train mmboundary CONFIG`` / ``mim test``
find a config by name in it and run its tools (issue 21, item 2).

The wheel is built from a copy of this checkout (the checkout's own
``mmboundary/.mim`` is left as it is) and unpacked on ``PYTHONPATH``, ahead
of any editable install of the environment, so the runs below use the
wheel's package and nothing else.
"""
import glob
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from mmboundary.testing._utils import REPO_ROOT
from ..conftest import data_root_options

#: A compact config whose name is unique among the configs (mim looks a
#: name up in the package and refuses an ambiguous one).
CONFIG = 'fcn-bce_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
needs_mim = pytest.mark.skipif(
    importlib.util.find_spec('mim') is None,
    reason='openmim is not installed (a test requirement: '
    'pip install -r requirements/tests.txt)')


def _copy_checkout(dst):
    """The files a wheel is built from (no .mim, caches or work dirs)."""
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim',
                                    '*.egg-info')
    for name in ('mmboundary', 'configs', 'tools', 'requirements'):
        shutil.copytree(
            osp.join(REPO_ROOT, name), osp.join(dst, name), ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO_ROOT, name), osp.join(dst, name))


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """``(wheel path, folder it is unpacked in)``."""
    src = str(tmp_path_factory.mktemp('src'))
    out = str(tmp_path_factory.mktemp('dist'))
    _copy_checkout(src)
    proc = subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '--disable-pip-version-check',
        '-w', out, src
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path, ) = glob.glob(osp.join(out, 'mmboundary-*.whl'))
    site = str(tmp_path_factory.mktemp('site'))
    with zipfile.ZipFile(path) as zf:
        zf.extractall(site)
    return path, site


def test_wheel_carries_configs_tools_and_model_index(wheel):
    path, site = wheel
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    mim = 'mmboundary/.mim/'
    for rel in ('model-index.yml', 'tools/train.py', 'tools/test.py',
                'tools/misc/train_edge_net.py',
                f'configs/inverseform/{CONFIG}',
                'configs/_base_/datasets/cityscapes_semantic_256x512.py',
                'configs/semeda/metafile.yml'):
        assert mim + rel in names, rel
        # copies of the checkout's files, not links
        with open(osp.join(site, mim + rel), 'rb') as f, \
                open(osp.join(REPO_ROOT, rel), 'rb') as g:
            assert f.read() == g.read(), rel
    configs = {
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(
            osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    }
    assert {
        n[len(mim):]
        for n in names if n.startswith(mim + 'configs/') and n.endswith('.py')
    } == configs
    # the package only: no tests, tools or configs as top-level packages
    assert not [
        n for n in names
        if n.split('/')[0] in ('tests', 'tools', 'configs', 'projects')
    ]


def test_wheel_asks_for_ranges(wheel):
    path, _ = wheel
    with zipfile.ZipFile(path) as zf:
        (meta, ) = [n for n in zf.namelist() if n.endswith('/METADATA')]
        lines = zf.read(meta).decode().splitlines()
    requires = [
        line.split(':', 1)[1].strip() for line in lines
        if line.startswith('Requires-Dist:') and 'extra ==' not in line
    ]
    assert [r for r in requires if '==' in r] == []
    assert any(
        r.startswith('cityscapesscripts') and '>=2.2.0' in r and '<3.0.0' in r
        for r in requires), requires


def _run_mim(args, site, cwd, timeout=900):
    env = dict(os.environ)
    # the wheel's package, ahead of the environment's (editable) install;
    # not this checkout
    env['PYTHONPATH'] = site
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run([sys.executable, '-m', 'mim', *args],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (f'mim {args[:3]} failed:\n'
                                  f'{proc.stdout[-4000:]}\n'
                                  f'{proc.stderr[-4000:]}')
    return proc.stdout + proc.stderr


@needs_mim
def test_mim_train_and_test_find_the_config_in_the_package(
        wheel, synthetic_cityscapes, tmp_path):
    _, site = wheel
    pkg = osp.realpath(osp.join(site, 'mmboundary'))
    root = synthetic_cityscapes.rstrip('/') + '/'
    work = str(tmp_path / 'work')
    # from a folder without configs/: the name is looked up in .mim
    log = _run_mim([
        'train', 'mmboundary', CONFIG, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', *data_root_options(root)
    ], site, str(tmp_path))
    found = osp.join(pkg, '.mim', 'configs', 'inverseform', CONFIG)
    assert f'will use {found} instead' in log, log[-3000:]
    script = osp.join(pkg, '.mim', 'tools', 'train.py')
    assert f'Training command is {sys.executable} {script} {found}' in log
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    (train_log, ) = glob.glob(osp.join(work, '*', '*.log'))
    with open(train_log) as f:
        assert 'Iter(train) [2/2]' in f.read()

    log = _run_mim([
        'test', 'mmboundary', CONFIG, '--checkpoint',
        osp.join(work, 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'eval'), '--cfg-options',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', *data_root_options(root)
    ], site, str(tmp_path))
    assert f'will use {found} instead' in log
    assert 'mIoU' in log and 'mBIoU' in log, log[-3000:]


@needs_mim
def test_editable_checkout_on_the_path_is_what_mim_uses(tmp_path):
    """An editable install (``pip install -e .``) links ``.mim`` to the
    checkout. openmim 0.3.9 looks for the package next to its metadata;
    that of a PEP 660 editable install lies in site-packages, without the
    package, so the README runs mim with the checkout on ``PYTHONPATH``,
    where ``pip install -e .`` left ``mmboundary.egg-info``: mim then uses
    the checkout's package, and its ``.mim`` the checkout's files."""
    src = str(tmp_path / 'checkout')
    os.makedirs(src)
    _copy_checkout(src)
    subprocess.run([sys.executable, 'setup.py', '-q', 'egg_info'],
                   cwd=src,
                   check=True,
                   capture_output=True)
    from mmboundary.testing import import_tool
    import_tool('setup.py').add_mim_extension('symlink', src)
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([
        sys.executable, '-c', 'from mim.utils import get_installed_path; '
        "print(get_installed_path('mmboundary'))"
    ],
                         cwd=str(tmp_path),
                         env=env,
                         capture_output=True,
                         text=True,
                         check=True).stdout.split()[-1]
    assert out == osp.join(src, 'mmboundary')
    for rel in ('tools/train.py', f'configs/inverseform/{CONFIG}'):
        assert osp.realpath(osp.join(out, '.mim',
                                     rel)) == osp.realpath(osp.join(src, rel))


@needs_mim
def test_mim_run_finds_a_tool_in_the_package(wheel, tmp_path):
    """``mim run mmboundary TOOL ARGS`` runs ``.mim/tools/**/TOOL.py`` (mim
    shows ``--help`` of a tool only for OpenMMLab's own packages, so a real
    run: publish a tiny checkpoint)."""
    import torch
    _, site = wheel
    src = str(tmp_path / 'train.pth')
    torch.save(dict(meta={}, state_dict=dict(w=torch.ones(2))), src)
    log = _run_mim(
        ['run', 'mmboundary', 'publish_model', src,
         str(tmp_path / 'pub.pth')], site, str(tmp_path))
    script = osp.join(
        osp.realpath(site), 'mmboundary', '.mim', 'tools', 'misc',
        'publish_model.py')
    assert script in log, log[-2000:]
    (published, ) = glob.glob(str(tmp_path / 'pub-*.pth'))
    assert torch.equal(
        torch.load(published, weights_only=True)['state_dict']['w'],
        torch.ones(2))
