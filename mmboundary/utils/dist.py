# Copyright (c) mmboundary contributors. All rights reserved.
"""Distributed launch on CPU-only machines through mmengine's own engine.

mmengine 0.10.7's ``pytorch``/``slurm``/``mpi`` launchers call
``torch.cuda.set_device`` and wrap the model with
``MMDistributedDataParallel(device_ids=[local_rank])``; both fail without a
GPU. :func:`prepare_distributed` makes the same launchers work on CPU nodes:
it initialises the process group itself with the ``gloo`` backend (mmengine's
``Runner.setup_env`` then sees an initialised group and skips ``init_dist``)
and asks for a DDP wrapper with ``device_ids=None``. On GPU nodes it does
nothing, so training runs exactly as upstream (``nccl``).
"""
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def _slurm_env(port: str = None) -> None:
    """Fill torch.distributed's env variables from SLURM's (as mmengine's
    slurm launcher does, minus the CUDA calls)."""
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ['MASTER_PORT'] = str(
        port or os.environ.get('MASTER_PORT', '29500'))
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']
    os.environ['RANK'] = os.environ['SLURM_PROCID']


def _mpi_env() -> None:
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('The environment variable MASTER_ADDR is not set '
                       '(needed by --launcher mpi).')
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']


def prepare_distributed(cfg: Config, launcher: str) -> bool:
    """Make ``launcher`` work on a CPU-only machine; no-op elsewhere.

    Args:
        cfg (Config): The runner config; ``model_wrapper_cfg`` and
            ``env_cfg.dist_cfg.backend`` are set for CPU runs.
        launcher (str): One of :data:`LAUNCHERS`.

    Returns:
        bool: True if a CPU (gloo) process group was initialised here.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'Unknown launcher {launcher!r}; choose one of '
                         f'{", ".join(LAUNCHERS)}.')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher == 'slurm':
        _slurm_env(cfg.get('env_cfg', {}).get('dist_cfg', {}).get('port'))
    elif launcher == 'mpi':
        _mpi_env()
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        cfg.model_wrapper_cfg.setdefault('device_ids', None)
    return True


def finalize_distributed() -> None:
    """Tear the process group down in step on every rank.

    Without it, a gloo rank that exits while its peers still hold the group
    can abort in gloo's C++ threads ("terminate called without an active
    exception"), which fails the whole launch.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
