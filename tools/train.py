# Copyright (c) mmboundary contributors. All rights reserved.
"""Train an mmseg- or mmdet-based mmboundary config.

Usage::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The config's ``default_scope`` (``mmseg`` or ``mmdet``, from its bases)
selects the host; mmboundary modules resolve from either.

Every run gets :class:`~mmboundary.engine.hooks.RandomStateHook`, so
checkpoints carry the random states and ``--resume`` continues exactly as
an uninterrupted run. ``--resume`` without a path picks the newest intact
checkpoint of the work dir: a truncated one (a run killed while writing it)
is named in a warning and skipped.

Before anything is built the data is checked (every data root, label
folder and annotation file exists; otherwise one line names it and the
command that makes it), label checks are added (see
:mod:`mmboundary.datasets.checks`; ``--cfg-options check_labels=False``
switches them off), ``--amp`` is refused on a machine without a GPU and
``persistent_workers`` is dropped where ``num_workers=0``. A run that fails
or is interrupted (Ctrl-C) keeps its log, with the traceback appended, and
its config dump. Input errors end in one line (``--debug`` or
``MMB_DEBUG=1``: the traceback).
"""
import logging
import os.path as osp

from mmengine.logging import print_log

from mmboundary.datasets.checks import add_label_checks, check_data_inputs
from mmboundary.engine.hooks.asyinst_check_hook import add_asyinst_check_hook
from mmboundary.engine.hooks.boundary_target_check_hook import \
    add_boundary_target_check_hook
from mmboundary.engine.hooks.frozen_net_pretrain_hook import \
    check_frozen_nets_provided
from mmboundary.utils import finalize_distributed, prepare_distributed
from mmboundary.utils.checkpoint import latest_intact_checkpoint
from mmboundary.utils.cli import UserError, run_cli, strict_parser
from mmboundary.utils.launch import (MissingInputError, add_common_arguments,
                                     add_random_state_hook, build_runner,
                                     check_amp_device, fix_dataloaders,
                                     keep_log_on_failure, load_config,
                                     parse_common_arguments, resolve_work_dir)
from mmboundary.utils.reproducibility import \
    fix_compute_threads_from_env  # issue 24


def parse_args(argv=None):
    parser = strict_parser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a value, from '
        'the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_common_arguments(parser)
    return parse_common_arguments(parser, argv)


def enable_amp(cfg):
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper == 'AmpOptimWrapper':
        print_log(
            'AMP training is already enabled in your config.',
            logger='current',
            level=logging.WARNING)
        return
    if optim_wrapper != 'OptimWrapper':
        raise UserError('`--amp` needs optim_wrapper.type == OptimWrapper, '
                        f'but the config has {optim_wrapper!r}.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def train_loaders(cfg):
    """The dataloaders and evaluators a training run reads."""
    loaders, evaluators = ['train_dataloader'], []
    if cfg.get('val_cfg', None) and cfg.get('val_dataloader', None):
        loaders.append('val_dataloader')
        evaluators.append('val_evaluator')
    return loaders, evaluators


def main(argv=None):
    # issue 24: MMBOUNDARY_COMPUTE_THREADS (set by the main job): fixed
    # compute threads and deterministic algorithms, before any torch work
    fix_compute_threads_from_env()
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    work_dir = resolve_work_dir(cfg, args.config, args.work_dir)
    check_amp_device(cfg, args.amp)  # before anything is built
    if args.amp:
        enable_amp(cfg)
    fix_dataloaders(cfg)  # num_workers=0 works
    loaders, evaluators = train_loaders(cfg)
    check_data_inputs(cfg, loaders, evaluators)
    add_label_checks(cfg, loaders)
    add_random_state_hook(cfg)
    add_asyinst_check_hook(cfg)  # BoxInst/AsyInst: depth, boxes, strides
    add_boundary_target_check_hook(cfg)  # BoundaryHead: its GT transform
    if args.resume == 'auto':
        # the newest intact checkpoint: a truncated one (killed while
        # writing) is named in a warning and the previous one is used
        cfg.resume = True
        cfg.load_from = latest_intact_checkpoint(work_dir)
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise MissingInputError(
                f'--resume {args.resume}: no such checkpoint; pass an '
                'existing .pth, or --resume without a path for the newest '
                'checkpoint of the work dir')
        cfg.resume = True
        cfg.load_from = args.resume
    prepare_distributed(cfg, args.launcher)

    with keep_log_on_failure(work_dir, cfg):
        runner = build_runner(cfg)
        if not cfg.get('load_from') and not (cfg.get('resume')
                                             and args.resume is None):
            # frozen nets come from a checkpoint key or a pretraining
            # hook (weights in load_from / resume are checked at the loss)
            check_frozen_nets_provided(runner.model, runner.hooks)
        runner.train()
    finalize_distributed()


if __name__ == '__main__':
    run_cli(main)
