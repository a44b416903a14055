# Copyright (c) mmboundary contributors. All rights reserved.
"""The command line of ``tools/misc/train_edge_net.py`` and
``tools/misc/train_inverse_net.py``: :func:`pretrain_tool_main`."""
import glob
import json
import os
import os.path as osp
import time
from typing import Callable, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmboundary.datasets.checks import check_data_inputs
from mmboundary.engine.pretraining.config import hook_entry
from mmboundary.models.pretraining.shared import gate_self_check, read_report
from mmboundary.utils.cli import add_quiet, strict_parser
from mmboundary.utils.results_doc import dump_results

__all__ = ['pretrain_tool_main', 'check_pretrained']


def check_pretrained(hook_cls, path: str, accept: bool,
                     accept_option: str) -> None:
    """Run ``hook_cls``'s self-check on the report next to ``path``.

    Raises:
        FailedSelfCheck: the net fails and ``accept`` is False (the
            message gives the measured values and ``accept_option``).
    """
    failures = hook_cls.self_check(read_report(path))
    if failures is None:
        print(f'{path}: no validation report, so the '
              f'{hook_cls.net_noun} was not self-checked (the config has no '
              'val_dataloader).')
        return
    gate_self_check(failures, f'{hook_cls.net_description} {path}', accept,
                    accept_option, print)


def pretrain_tool_main(description: str,
                       hook_cls,
                       settings_from_config: Callable,
                       option: str,
                       argv: Optional[Sequence[str]] = None,
                       report_tables: Optional[Callable] = None) -> str:
    """The ``tools/misc/train_*_net.py CONFIG`` pattern.

    Reads a segmentation config; builds its training / validation datasets;
    takes the settings from ``settings_from_config(cfg)`` (the losses plus
    the hook entry); names the output exactly as the hook would, so a
    training run of the same config reuses it; pretrains unless the file
    exists (``--force`` pretrains again); prints the report's validation
    part and the ``option=PATH`` line. A net that fails its self-check
    (``hook_cls.self_check``) is refused (the file stays, the hook refuses
    it too) unless ``--accept-failed-check`` is given.

    Args:
        description (str): argparse description.
        hook_cls (type): The pretraining hook (a
            :class:`~mmboundary.engine.hooks.FrozenNetPretrainHook`
            subclass); its entry in ``custom_hooks`` is read.
        settings_from_config (callable): ``cfg -> settings`` for the hook.
        option (str): The loss option that takes the checkpoint path.
        argv (Sequence[str], optional): Arguments; None: ``sys.argv``.
        report_tables (callable, optional): ``(report, wall seconds of
            the tool) -> {name: table}`` for ``--results PATH`` (stored
            with :func:`~mmboundary.utils.results_doc.dump_results`, shown
            by README blocks); None: the tool has no ``--results``.

    Returns:
        str: Path of the checkpoint (new or found).

    Raises:
        FailedSelfCheck: the net fails its self-check and
            ``--accept-failed-check`` was not given.
    """
    hook_type = hook_cls.__name__
    parser = strict_parser(description)
    parser.add_argument('config', help='segmentation config file')
    parser.add_argument(
        '--out-dir',
        help='output folder (default: the hook\'s cache_dir, else '
        'work_dirs/<net>)')
    parser.add_argument('--name', help='file stem (default: the hook\'s)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='pretrain even if the output folder already holds the net')
    parser.add_argument(
        '--device', default='cpu', help='torch device (default: cpu)')
    parser.add_argument(
        '--max-val-images',
        type=int,
        help='validation maps used for the report (<= 0: all; default: the '
        'hook\'s, 100)')
    parser.add_argument(
        '--accept-failed-check',
        action='store_true',
        help='use a net that fails its self-check anyway (a warning instead '
        'of an error; set accept_failed_check=True on the hook too)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as for tools/train.py')
    add_quiet(parser)
    if report_tables is not None:
        parser.add_argument(
            '--results',
            help='also store the report\'s tables (and this command) in '
            'this JSON for README blocks; implies --force')
    args = parser.parse_args(argv)
    results = getattr(args, 'results', None)
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loaders = ['train_dataloader'
               ] + (['val_dataloader'] if cfg.get('val_dataloader') else [])
    check_data_inputs(cfg, loaders)
    settings = settings_from_config(cfg)
    hook = hook_entry(cfg, hook_type)
    max_val = hook.get('max_val_images', 100)
    if args.max_val_images is not None:
        max_val = args.max_val_images if args.max_val_images > 0 else None
    accept = args.accept_failed_check or bool(
        hook.get('accept_failed_check', False))
    accept_option = ('--accept-failed-check (and accept_failed_check=True '
                     f'on {hook_type} for training)')
    train_dataset = DATASETS.build(cfg.train_dataloader.dataset)
    val_dataset = None
    if cfg.get('val_dataloader'):
        val_dataset = DATASETS.build(cfg.val_dataloader.dataset)
    # The hook's cache naming, so that the hook finds what this writes.
    kwargs = dict(max_val_images=max_val)
    if args.name or hook.get('name'):
        kwargs['name'] = args.name or hook.get('name')
    namer = hook_cls(**kwargs)
    namer.cache_dir = args.out_dir or hook.get('cache_dir') or osp.join(
        'work_dirs', hook_cls.default_subdir)
    prefix = namer.cache_prefix(settings, train_dataset, val_dataset)
    found = sorted(glob.glob(prefix + '-*.pth'))
    if found and not args.force and not results:
        print(f'{found[-1]} already holds this {namer.net_noun} (same '
              'settings and data); use --force to pretrain again.')
        check_pretrained(hook_cls, found[-1], accept, accept_option)
        return found[-1]
    path, json_path, report = namer.pretrain(
        train_dataset,
        val_dataset,
        settings,
        osp.dirname(prefix),
        osp.basename(prefix),
        args.device, (lambda line: None) if args.quiet else print,
        quiet=args.quiet)
    summary = {k: v for k, v in report.items() if k.startswith('val')}
    print(json.dumps(summary, indent=2, default=list))
    print(f'checkpoint: {path}\nreport: {json_path}')
    check_pretrained(hook_cls, path, accept, accept_option)
    print(f'use it with {option}={osp.relpath(path)!r}')
    if results:
        wall = time.perf_counter() - t0
        dump_results(
            results,
            report_tables(report, wall),
            device=args.device,
            load_start=load_start,
            report=report)
        print(f'tables stored in {results} ({wall:.1f} s wall)')
    return path
