# Copyright (c) mmboundary contributors. All rights reserved.
"""Helpers shared by ``tools/train.py`` and ``tools/test.py``."""
import contextlib
import logging
import os
import os.path as osp
import shutil
from typing import Iterator, List, Optional

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from .dist import LAUNCHERS


def add_common_arguments(parser) -> None:
    """Add ``--cfg-options``, ``--launcher`` and ``--local-rank``, the
    options ``tools/train.py`` and ``tools/test.py`` share with mmseg's and
    mmdet's tools."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'train_cfg.max_iters=100 "model.decode_head.num_classes=19"')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    # torch >= 2.0 passes --local-rank; older launchers --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_common_arguments(parser, argv=None):
    """Parse, and export ``LOCAL_RANK`` for launchers that only pass the
    ``--local-rank`` argument."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config file, failing early with a message that names it.

    Args:
        path (str): Config file path.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        Config: The merged config.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Config file {path!r} does not exist (looked in '
            f'{osp.abspath(path)}). Pass the path of a config under '
            'configs/ or projects/*/configs/.')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def resolve_work_dir(cfg: Config, config_path: str,
                     work_dir: Optional[str]) -> str:
    """Work dir priority: CLI > config > ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    return cfg.work_dir


def _close_log_files() -> None:
    for logger in MMLogger._instance_dict.values():
        for handler in list(logger.handlers):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                logger.removeHandler(handler)


def _has_checkpoint(entries: List[str], work_dir: str) -> bool:
    return any(
        e.endswith('.pth') or e == 'last_checkpoint' for e in entries
        if osp.isfile(osp.join(work_dir, e)))


@contextlib.contextmanager
def clean_work_dir_on_early_failure(work_dir: str) -> Iterator[None]:
    """Remove what a run wrote to ``work_dir`` if it fails before writing
    a checkpoint (a bad module type, a missing dataset file ...).

    A run that fails later keeps its logs and checkpoints for debugging.
    Entries that existed before the run are never touched.
    """
    work_dir = osp.abspath(work_dir)
    existed = osp.isdir(work_dir)
    before = set(os.listdir(work_dir)) if existed else set()
    try:
        yield
    except BaseException:
        if osp.isdir(work_dir):
            new = sorted(set(os.listdir(work_dir)) - before)
            if not _has_checkpoint(new, work_dir):
                _close_log_files()
                for entry in new:
                    path = osp.join(work_dir, entry)
                    if osp.isdir(path):
                        shutil.rmtree(path, ignore_errors=True)
                    elif osp.exists(path):
                        os.remove(path)
                if not existed and not os.listdir(work_dir):
                    os.rmdir(work_dir)
        raise


def config_type(part) -> str:
    """The ``type`` of a config dict without its registry scope (``''``
    for anything else): ``'mmboundary.BoundaryHead'`` -> ``'BoundaryHead'``.
    """
    value = part.get('type', '') if isinstance(part, dict) else ''
    return value.split('.')[-1] if isinstance(value, str) else ''


def ensure_custom_hook(cfg: Config, hook_type: str) -> bool:
    """Append ``dict(type=hook_type)`` to ``cfg.custom_hooks`` unless a hook
    of that type (any scope) is listed; return whether it was appended."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if any(config_type(h) == hook_type for h in hooks):
        return False
    cfg.custom_hooks = hooks + [dict(type=hook_type)]
    return True


def add_random_state_hook(cfg: Config) -> None:
    """Append :class:`~mmboundary.engine.hooks.RandomStateHook` to
    ``custom_hooks`` unless the config has it, so that every checkpoint
    carries the random states and ``--resume`` continues exactly."""
    ensure_custom_hook(cfg, 'RandomStateHook')


def build_runner(cfg: Config):
    """Build the runner the config asks for (``runner_type``) or mmengine's
    default :class:`~mmengine.runner.Runner`."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
