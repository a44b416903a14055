# Copyright (c) mmboundary contributors. All rights reserved.
"""Shared fixtures: a tiny generated dataset and one short training run."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmboundary.testing import make_tiny_seg_dataset
from mmboundary.testing._utils import REPO_ROOT

TINY_SEG_CFG = osp.join(REPO_ROOT, 'tests', 'data', 'configs', 'tiny_seg.py')
PROBE_CFG = osp.join(REPO_ROOT, 'tests', 'data', 'configs',
                     'tiny_seg_probe.py')


def run_tool(args, cwd=REPO_ROOT, env=None, check=True, timeout=600):
    """Run ``python <args>`` from the repo root; return CompletedProcess."""
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = REPO_ROOT + os.pathsep + full_env.get(
        'PYTHONPATH', '')
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable] + list(args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


@pytest.fixture(scope='session')
def tiny_seg_root(tmp_path_factory):
    return make_tiny_seg_dataset(str(tmp_path_factory.mktemp('tiny_seg')))


@pytest.fixture(scope='session')
def tiny_seg_run(tmp_path_factory, tiny_seg_root):
    """Train the tiny config for 4 iterations (checkpoints at 2 and 4)."""
    work_dir = str(tmp_path_factory.mktemp('tiny_run'))
    run_tool([
        'tools/train.py', TINY_SEG_CFG, '--work-dir', work_dir,
        '--cfg-options', f'data_root={tiny_seg_root}',
        f'train_dataloader.dataset.data_root={tiny_seg_root}',
        f'val_dataloader.dataset.data_root={tiny_seg_root}',
        f'test_dataloader.dataset.data_root={tiny_seg_root}'
    ])
    return work_dir


def free_port():
    """A TCP port free on the loopback interface right now."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_launcher(args, timeout=600):
    """Run ``bash <args>`` (a tools/dist_*.sh launcher) on a free port."""
    env = dict(os.environ)
    env.update(
        PYTHON=sys.executable,
        PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run(
        ['bash'] + list(args),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return proc


def data_root_options(root):
    """``--cfg-options`` entries pointing every dataloader at ``root``."""
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ]


@pytest.fixture(scope='session')
def synthetic_cityscapes(tmp_path_factory):
    """A small synthetic Cityscapes root, converted for mmseg and mmdet."""
    root = str(tmp_path_factory.mktemp('synthetic') / 'cityscapes')
    run_tool([
        'tools/dataset_converters/generate_synthetic_cityscapes.py', '--out',
        root, '--num-train', '4', '--num-val', '2', '--quiet'
    ])
    run_tool(['tools/dataset_converters/cityscapes.py', root, '--nproc', '1'])
    return root
