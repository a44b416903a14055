# Copyright (c) mmboundary contributors. All rights reserved.
"""One mechanism for every frozen auxiliary net pretrained on the dataset's
ground-truth labels (SEMEDA's edge net, InverseForm's InverseNet).

* :class:`FrozenNetPretrainHook`: in ``before_train``, rank 0 pretrains the
  net once (cached by a hash of settings and data), every rank waits at a
  barrier, checks the net's report (its self-check) and loads the verified
  file; a resumed run finds the cache;
* :func:`check_frozen_nets_provided`: a loss whose net has neither a
  checkpoint nor its hook fails before training.

The label maps are read by :mod:`mmboundary.engine.pretraining.data`; the
tools' command line (``tools/misc/train_edge_net.py``,
``tools/misc/train_inverse_net.py``) is
:func:`mmboundary.engine.pretraining.pretrain_tool_main`, which writes into
the hook's cache folder, so the hook then reuses the file.

A subclass says which losses own the net, how the full settings follow from
them, how to pretrain and how to load (see the methods marked "subclass").
"""
import glob
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmboundary.engine.pretraining.data import (data_fingerprints,
                                                infos_data_version,
                                                pick_evenly, seg_map_infos)
from mmboundary.models.pretraining.shared import gate_self_check, read_report
from mmboundary.utils.validation import check_bool, check_int, check_str

__all__ = [
    'FrozenNetPretrainHook', 'check_frozen_nets_provided', 'unwrap_model'
]


def unwrap_model(model):
    """The model inside a DDP / FSDP wrapper."""
    return model.module if is_model_wrapper(model) else model


class FrozenNetPretrainHook(Hook):
    """Pretrain a frozen auxiliary net once (rank 0, cached) and load it
    into every loss of the model that owns such a net without a checkpoint.

    In ``before_train`` (after weight init and resume, so nothing overwrites
    the loaded net):

    1. the cache key is the sha256 of the recipe version, the complete
       settings and the training / validation label files (paths, sizes,
       mtimes; and the data version of a generated dataset): a cache made
       from another data version is never reused, and the log names the
       versions when one is found beside the missing cache;
    2. if ``<cache_dir>/<name>_<key[:12]>-*.pth`` is missing, rank 0
       pretrains the net and writes it with its JSON report; the other
       ranks wait at a barrier;
    3. every rank reads the file's JSON report and refuses a net that fails
       its self-check (:meth:`self_check`; the error names the measured
       values) unless ``accept_failed_check``, then loads the file
       (verified) into the losses.

    Args:
        settings (dict, optional): Pretraining settings overriding the
            subclass's defaults (unknown keys raise KeyError here).
        cache_dir (str, optional): Defaults to ``<work_dir>/<subdir>``.
        name (str): File stem.
        max_val_images (int, optional): Validation maps used for the
            report. None: all.
        accept_failed_check (bool): Use a net whose report fails its
            self-check (:meth:`self_check`) with a warning; by default such
            a net is refused before training with the measured values.
    """

    priority = 'VERY_HIGH'
    #: Folder under the work dir when ``cache_dir`` is None (subclass).
    default_subdir = 'aux_net'
    #: What is pretrained, for logs and errors (subclass).
    net_description = 'frozen auxiliary net'
    #: Short name in the tool's messages, e.g. 'edge net' (subclass).
    net_noun = 'net'
    #: Loss class names, for the "nothing to pretrain" warning (subclass).
    loss_description = 'loss'
    #: The losses' argument naming a checkpoint file; None for an abstract
    #: hook (subclass, used by :func:`check_frozen_nets_provided`).
    checkpoint_key: Optional[str] = None

    def __init__(self,
                 settings: Optional[Dict] = None,
                 cache_dir: Optional[str] = None,
                 name: str = 'aux_net',
                 max_val_images: Optional[int] = 100,
                 accept_failed_check: bool = False) -> None:
        owner = type(self).__name__
        if settings is not None and not isinstance(settings, dict):
            raise TypeError(f'{owner}: `settings` must be a dict, got '
                            f'{settings!r}')
        settings = dict(settings or {})
        self.check_settings(settings)  # fail early on unknown keys
        self.settings = settings
        self.cache_dir = check_str(cache_dir, 'cache_dir', owner, True)
        self.name = check_str(name, 'name', owner)
        self.max_val_images = check_int(
            max_val_images, 'max_val_images', owner, low=1, optional=True)
        self.accept_failed_check = check_bool(accept_failed_check,
                                              'accept_failed_check', owner)
        self.pretrained_here = False  # for tests and logs
        self.checkpoint: Optional[str] = None

    # ---- subclass API ----------------------------------------------------
    def check_settings(self, settings: Dict) -> None:
        """Raise KeyError for unknown settings (subclass)."""
        raise NotImplementedError

    def target_losses(self, model) -> List:
        """Losses of ``model`` whose net this hook provides (subclass)."""
        raise NotImplementedError

    def full_settings(self, losses: Sequence) -> Dict:
        """The hook's settings completed from the losses (subclass)."""
        raise NotImplementedError

    def cache_key(self, settings: Dict, train_fp: str, val_fp: str) -> str:
        """sha256 hex of recipe, settings and data (subclass)."""
        raise NotImplementedError

    def pretrain(self,
                 train_dataset,
                 val_dataset,
                 settings: Dict,
                 out_dir: str,
                 name: str,
                 device: str,
                 log: Callable[[str], None],
                 quiet: bool = False) -> Tuple[str, str, Dict]:
        """Pretrain and write; return checkpoint, JSON and report
        (subclass)."""
        raise NotImplementedError

    @staticmethod
    def self_check(report: Dict) -> Optional[List[str]]:
        """The failures of a pretraining report's self-check, each with
        its measured values (empty: passed; None: not measured, no
        validation data) (subclass)."""
        raise NotImplementedError

    def load_into(self, losses: Sequence, path: str) -> None:
        """Load the verified file into every loss (subclass)."""
        raise NotImplementedError

    def report_summary(self, report: Dict) -> str:
        """One log line about the report (subclass may override)."""
        return ''

    def rank(self) -> int:
        """This process's rank."""
        return get_dist_info()[0]

    def wait_for_rank0(self) -> None:
        """Barrier between rank 0's pretraining and every rank's load."""
        barrier()

    # ---- shared mechanism ------------------------------------------------
    def cache_prefix(self, settings: Dict, train_dataset, val_dataset) -> str:
        """``<cache_dir>/<name>_<key[:12]>`` for these settings and data."""
        train_infos = seg_map_infos(train_dataset)
        val_infos = seg_map_infos(val_dataset) if val_dataset else []
        val_infos = pick_evenly(val_infos, self.max_val_images)
        train_fp, val_fp = data_fingerprints(train_infos, val_infos)
        key = self.cache_key(settings, train_fp, val_fp)
        return osp.join(self.cache_dir, f'{self.name}_{key[:12]}')

    def other_versions(self, train_dataset) -> str:
        """Why the cache is missing, when a cache of this hook's ``name``
        in ``cache_dir`` was pretrained on another synthetic data version
        (``''`` otherwise): ``'cached <file> was pretrained on synthetic
        data version 1, the data are version 2'``."""
        now = infos_data_version(seg_map_infos(train_dataset))
        if now is None:  # not generated data
            return ''
        for path in sorted(
                glob.glob(osp.join(self.cache_dir, f'{self.name}_*-*.json'))):
            try:
                with open(path) as f:
                    report = json.load(f)
            except (OSError, ValueError):
                continue
            if not isinstance(report, dict):
                continue
            if 'data_version' not in report:
                was = 'version 1 (unrecorded: made before data versions)'
            elif report['data_version'] is None:
                was = 'other data (no synthetic data version)'
            else:
                was = f'version {report["data_version"]}'
            if report.get('data_version') != now:
                return (f'cached {osp.basename(path)} was pretrained on '
                        f'synthetic data {was}, the data are version {now}')
        return ''

    def before_train(self, runner) -> None:
        """Pretrain (rank 0, once) and load the net on every rank."""
        name = type(self).__name__
        losses = self.target_losses(unwrap_model(runner.model))
        if not losses:
            runner.logger.warning(
                f'{name}: the model has no {self.loss_description} without '
                'a configured checkpoint; nothing to pretrain.')
            return
        if self.cache_dir is None:
            self.cache_dir = osp.join(runner.work_dir, self.default_subdir)
        settings = self.full_settings(losses)
        train_dataset = runner.train_dataloader.dataset
        val_dataset = None
        val_loop = getattr(runner, '_val_loop', None)
        if val_loop is not None and hasattr(val_loop, 'dataloader'):
            val_dataset = val_loop.dataloader.dataset
        prefix = self.cache_prefix(settings, train_dataset, val_dataset)
        found = sorted(glob.glob(prefix + '-*.pth'))
        if self.rank() == 0 and not found:
            model = unwrap_model(runner.model)
            device = str(next(model.parameters()).device)
            stale = self.other_versions(train_dataset)
            if stale:
                runner.logger.info(f'{name}: {stale}; pretraining again for '
                                   'this data version.')
            runner.logger.info(f'{name}: pretraining the '
                               f'{self.net_description} ({settings}) -> '
                               f'{prefix}-*.pth')
            _, _, report = self.pretrain(train_dataset, val_dataset, settings,
                                         osp.dirname(prefix),
                                         osp.basename(prefix), device,
                                         runner.logger.info)
            self.pretrained_here = True
            summary = self.report_summary(report)
            if summary:
                runner.logger.info(f'{name}: {summary}')
        self.wait_for_rank0()
        found = sorted(glob.glob(prefix + '-*.pth'))
        if not found:
            raise FileNotFoundError(
                f'{name}: no {self.net_description} at {prefix}-*.pth after '
                'pretraining on rank 0; is cache_dir on a filesystem shared '
                'by all ranks?')
        self.checkpoint = found[-1]
        self.gate(self.checkpoint, runner.logger)
        self.load_into(losses, self.checkpoint)
        runner.logger.info(
            f'{name}: loaded {self.checkpoint} into {len(losses)} '
            f'{self.loss_description} module(s).')

    def gate(self, checkpoint: str, logger) -> None:
        """Refuse ``checkpoint`` when its report fails :meth:`self_check`
        (or is missing), unless ``accept_failed_check``.

        Raises:
            FailedSelfCheck: naming the measured values and the option.
        """
        name = type(self).__name__
        try:
            failures = self.self_check(read_report(checkpoint))
        except FileNotFoundError as err:
            failures = [str(err)]
        if failures is None:
            logger.warning(f'{name}: {checkpoint} has no validation report '
                           '(no validation data), so its self-check was not '
                           'run.')
            return
        gate_self_check(failures, f'{self.net_description} {checkpoint}',
                        self.accept_failed_check,
                        f'accept_failed_check=True on {name}', logger.warning)


def check_frozen_nets_provided(model, hooks: Sequence) -> None:
    """Fail before training when a loss's frozen net has neither a
    checkpoint nor the hook that pretrains it.

    Without this the loss would raise at the first iteration, after the
    dataloaders and workers have started. Call it on a built runner's
    ``model`` and ``hooks`` (``tools/train.py`` does) unless weights come
    from ``load_from`` / resume.

    Args:
        model (nn.Module): The (possibly wrapped) model.
        hooks (Sequence[Hook]): The runner's registered hooks.

    Raises:
        ValueError: naming the loss, its checkpoint key and the hook to add.
    """
    for hook_cls in FrozenNetPretrainHook.__subclasses__():
        key = hook_cls.checkpoint_key
        if key is None or any(isinstance(h, hook_cls) for h in hooks):
            continue
        losses = hook_cls().target_losses(model)
        if losses:
            raise ValueError(
                f'{len(losses)} {hook_cls.loss_description} module(s) have '
                f'no `{key}` and no {hook_cls.__name__} is registered, so '
                f'the {hook_cls.net_description} would stay random. Give '
                f'{key}=PATH or add dict(type=\'{hook_cls.__name__}\') to '
                'custom_hooks.')
