# Copyright (c) mmboundary contributors. All rights reserved.
"""Helpers shared by ``tools/train.py`` and ``tools/test.py``."""
import contextlib
import logging
import os
import os.path as osp
import traceback
from typing import Iterator, List, Optional

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from .cli import UserError, debug_requested
from .dist import LAUNCHERS


class MissingInputError(UserError, FileNotFoundError):
    """A file or folder a command needs does not exist; the message names
    it and the command that makes it."""


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
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the full traceback of an input error instead of its '
        'one-line message (or set MMB_DEBUG=1)')


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
        raise MissingInputError(
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


def _run_log_handlers(work_dir: str) -> List[logging.FileHandler]:
    """The file handlers of mmengine loggers that write under
    ``work_dir`` (the run's ``<timestamp>/<timestamp>.log``)."""
    handlers = []
    for logger in list(MMLogger._instance_dict.values()):
        for handler in list(logger.handlers):
            if isinstance(handler, logging.FileHandler) and osp.abspath(
                    handler.baseFilename).startswith(work_dir + os.sep):
                handlers.append(handler)
    return handlers


def log_failure(work_dir: str, error: BaseException) -> List[str]:
    """Append ``error`` with its traceback to the run's log files.

    Args:
        work_dir (str): The run's work dir (absolute).
        error (BaseException): What ended the run (``KeyboardInterrupt``
            for Ctrl-C / SIGINT).

    Returns:
        list[str]: The log files written to.
    """
    if isinstance(error, KeyboardInterrupt):
        head = 'Run interrupted (KeyboardInterrupt: Ctrl-C or SIGINT)'
    else:
        head = f'Run failed with {type(error).__name__}'
    text = ''.join(
        traceback.format_exception(type(error), error, error.__traceback__))
    written = []
    for handler in _run_log_handlers(work_dir):
        record = logging.LogRecord('mmboundary', logging.ERROR, __file__, 0,
                                   f'{head}; traceback:\n{text}', None, None)
        try:
            handler.emit(record)
            handler.flush()
            written.append(handler.baseFilename)
        except Exception:  # the log itself is broken: nothing to add
            pass
    return written


def _remove_empty_dirs(work_dir: str, new: List[str]) -> None:
    for entry in new:
        top = osp.join(work_dir, entry)
        if not osp.isdir(top) or osp.islink(top):
            continue
        for dirpath, _, _ in sorted(os.walk(top), reverse=True):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # fails unless empty


def _as_user_error(error: BaseException, logs: List[str]):
    """``error`` as a one-line :class:`UserError` pointing at the log with
    its traceback, or None for an error that is not about the input."""
    if not isinstance(error, (UserError, FileNotFoundError)):
        return None
    message = unwrap_worker_error(error)
    if logs:
        message += f' (traceback in {logs[0]})'
    if isinstance(error, UserError):
        try:
            return type(error)(message)
        except TypeError:
            return UserError(message)
    return MissingInputError(message)


@contextlib.contextmanager
def keep_log_on_failure(work_dir: str,
                        cfg: Optional[Config] = None) -> Iterator[None]:
    """Keep every file a run wrote when it fails or is interrupted.

    Nothing a run wrote is ever deleted: a run that dies before its first
    checkpoint (a bad module type, a missing dataset file, Ctrl-C ...)
    keeps its log, with the traceback appended to it, and its config dump
    (written here when the failure came before the runner wrote it). Only
    directories the run created and left empty are removed (the work dir
    itself too, when the run created it and nothing is in it).

    An input error (a :class:`UserError`, e.g. a bad label map, also when
    raised in a dataloader worker, or a ``FileNotFoundError``) is re-raised
    as a :class:`UserError` whose one-line message names the log holding
    the traceback (``--debug`` / ``MMB_DEBUG=1``: the original exception).

    Args:
        work_dir (str): The run's work dir.
        cfg (Config, optional): The run's config, dumped to
            ``work_dir/<config name>`` next to a kept log when the runner
            had not dumped it yet.
    """
    work_dir = osp.abspath(work_dir)
    existed = osp.isdir(work_dir)
    before = set(os.listdir(work_dir)) if existed else set()
    try:
        yield
    except BaseException as error:
        logs = []
        if osp.isdir(work_dir):
            new = sorted(set(os.listdir(work_dir)) - before)
            logs = log_failure(work_dir, error)
            if logs and cfg is not None:
                name = osp.basename(cfg.filename or 'config.py')
                dump = osp.join(work_dir, name)
                if not osp.exists(dump):
                    with contextlib.suppress(Exception):
                        cfg.dump(dump)
            _remove_empty_dirs(work_dir, new)
            if not existed:
                with contextlib.suppress(OSError):
                    os.rmdir(work_dir)  # only if empty
        user_error = _as_user_error(error, logs)
        if user_error is None or debug_requested():
            raise
        raise user_error from error


DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def fix_dataloaders(cfg: Config) -> List[str]:
    """Let ``num_workers=0`` work: ``persistent_workers`` needs worker
    processes, so it is switched off where a dataloader has none.

    Returns:
        list[str]: the dataloaders changed.
    """
    changed = []
    for key in DATALOADERS:
        loader = cfg.get(key, None)
        if not isinstance(loader, dict):
            continue
        if loader.get('num_workers', 0) == 0 and loader.get(
                'persistent_workers', False):
            loader['persistent_workers'] = False
            changed.append(key)
    return changed


def amp_device_available() -> bool:
    """Whether mmengine's ``AmpOptimWrapper`` has a device to run on
    (CUDA, NPU, MLU or MUSA)."""
    from mmengine import device
    checks = ('is_cuda_available', 'is_npu_available', 'is_mlu_available',
              'is_musa_available')
    return any(
        getattr(device, name)() for name in checks if hasattr(device, name))


def check_amp_device(cfg: Config, flag: bool = False) -> None:
    """Refuse mixed precision on a machine without an accelerator, before
    the model is built.

    Args:
        cfg (Config): The config (its ``optim_wrapper.type``).
        flag (bool): ``--amp`` was given.

    Raises:
        UserError: naming ``--amp`` (or the config's ``AmpOptimWrapper``).
    """
    wrapper = cfg.get('optim_wrapper', None) or {}
    in_config = isinstance(wrapper,
                           dict) and config_type(wrapper) == 'AmpOptimWrapper'
    if not (flag or in_config) or amp_device_available():
        return
    what = ('--amp' if flag else
            f"optim_wrapper.type='AmpOptimWrapper' in {cfg.filename}")
    raise UserError(
        f'{what} needs a GPU (CUDA, or an NPU/MLU/MUSA device) and this '
        'machine has none: drop --amp' +
        ('' if flag else " (or set --cfg-options "
         "optim_wrapper.type=OptimWrapper)") + ' to train in float32 on '
        'the CPU.')


def unwrap_worker_error(error: BaseException) -> str:
    """The message of an error, without the traceback torch adds when it
    re-raises an exception from a dataloader worker process.

    Args:
        error (BaseException): The exception.

    Returns:
        str: ``str(error)``, or for a worker's exception its last line
        without the ``module.Class:`` prefix.
    """
    text = str(error)
    if 'Original Traceback' not in text:
        return text
    last = [line for line in text.splitlines() if line.strip()][-1]
    name = type(error).__name__
    marker = f'{name}: '
    if marker in last:
        last = last.split(marker, 1)[1]
    return last.strip()


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
