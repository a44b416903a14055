# Copyright (c) mmboundary contributors. All rights reserved.
"""Test (evaluate) a checkpoint of an mmseg- or mmdet-based config.

Usage::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--show] [--show-dir DIR] [--wait-time S] [--tta]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The test data is checked before anything is built (missing data or
annotation files: one line naming them and the command that makes them)
and label maps / COCO category ids are checked as they are read (see
:mod:`mmboundary.datasets.checks`; ``--cfg-options check_labels=False``
switches that off). A run that fails keeps its log with the traceback.
"""
import os.path as osp

from mmboundary.datasets.checks import add_label_checks, check_data_inputs
from mmboundary.utils import finalize_distributed, prepare_distributed
from mmboundary.utils.cli import UserError, run_cli, strict_parser
from mmboundary.utils.launch import (MissingInputError, add_common_arguments,
                                     build_runner, fix_dataloaders,
                                     keep_log_on_failure, load_config,
                                     parse_common_arguments, resolve_work_dir)


def parse_args(argv=None):
    parser = strict_parser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved; a relative '
        'path is taken from the current directory for mmseg configs (images '
        'in DIR/vis_data/vis_image) and placed under WORK_DIR/TIMESTAMP for '
        'mmdet configs')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    add_common_arguments(parser)
    return parse_common_arguments(parser, argv)


def trigger_visualization_hook(cfg, args):
    """Turn on the host's visualization hook (mmseg or mmdet flavour)."""
    hooks = cfg.get('default_hooks', {})
    if 'visualization' not in hooks:
        raise UserError(
            '--show/--show-dir need a `visualization` entry in '
            'default_hooks (SegVisualizationHook or DetVisualizationHook); '
            f'{args.config} has none.')
    hook = hooks['visualization']
    hook['draw'] = True
    hook['interval'] = 1
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if 'Det' in str(hook.get('type', '')):
            hook['test_out_dir'] = args.show_dir  # mmdet
        else:
            cfg.visualizer['save_dir'] = args.show_dir  # mmseg
    return cfg


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise MissingInputError(
            f'Checkpoint {args.checkpoint!r} does not exist; pass a .pth '
            'written by tools/train.py (work_dirs/<config>/iter_*.pth)')
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    work_dir = resolve_work_dir(cfg, args.config, args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise UserError(f'--tta needs `tta_model` and `tta_pipeline` in '
                            f'{args.config}.')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    fix_dataloaders(cfg)  # num_workers=0 works
    check_data_inputs(cfg, ['test_dataloader'], ['test_evaluator'])
    add_label_checks(cfg, ['test_dataloader'])
    prepare_distributed(cfg, args.launcher)

    with keep_log_on_failure(work_dir, cfg):
        runner = build_runner(cfg)
        if args.out is not None:
            from mmengine.evaluator import DumpResults
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))
        runner.test()
    finalize_distributed()


if __name__ == '__main__':
    run_cli(main)
