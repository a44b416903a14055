# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretrain SEMEDA's edge net before segmentor training (Algorithm 1, first
loop), cached in the work dir.

:func:`pretrain_edge_net_from_datasets` is the one core both this hook and
``tools/misc/train_edge_net.py`` call; caching, rank-0 pretraining, the
barrier and the verified load are the shared mechanism of
:class:`~mmboundary.engine.hooks.FrozenNetPretrainHook`.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# yapf: disable
from mmboundary.engine.hooks.frozen_net_pretrain_hook import (
    FrozenNetPretrainHook, unwrap_model)
from mmboundary.engine.pretraining.data import pretrain_from_datasets
from mmboundary.models.losses.semeda_loss import SemedaLoss
from mmboundary.models.pretraining.edge_net import (DEFAULT_PRETRAIN_SETTINGS,
                                                    edge_net_self_check,
                                                    pretrain_cache_key,
                                                    pretrain_semantic_edge_net,
                                                    save_edge_net,
                                                    settings_with_defaults)
from mmboundary.models.pretraining.shared import check_setting_types
from mmboundary.registry import HOOKS

# yapf: enable

__all__ = ['EdgeNetPretrainHook', 'pretrain_edge_net_from_datasets']


def pretrain_edge_net_from_datasets(
        train_dataset,
        val_dataset,
        settings: Dict,
        out_dir: str,
        name: str = 'semantic_edge_net',
        max_val_images: Optional[int] = 100,
        device: str = 'cpu',
        log: Optional[Callable[[str], None]] = None,
        quiet: bool = False) -> Tuple[str, str, Dict]:
    """Pretrain a SEMEDA edge net on a dataset's GT and write it.

    Args:
        train_dataset: mmseg dataset whose GT label maps train the net.
        val_dataset: mmseg dataset for the edge precision / recall / F1
            report, or None.
        settings (dict): Pretraining settings (see
            :data:`~mmboundary.models.pretraining.edge_net.
            DEFAULT_PRETRAIN_SETTINGS`).
        out_dir (str): Output folder.
        name (str): File stem; the checkpoint is
            ``<name>-<sha256[:8]>.pth`` with a ``.json`` report next to it.
        max_val_images (int, optional): Evaluate on at most this many
            validation maps (evenly spaced). None: all.
        device (str): Torch device.
        log (callable, optional): Receives the per-epoch loss lines.
        quiet (bool): No progress bar / progress lines.

    Returns:
        tuple[str, str, dict]: Checkpoint path, JSON path, report.
    """
    return pretrain_from_datasets(pretrain_semantic_edge_net,
                                  pretrain_cache_key, save_edge_net,
                                  train_dataset, val_dataset, settings,
                                  out_dir, name, max_val_images, device, log,
                                  quiet)


@HOOKS.register_module()
class EdgeNetPretrainHook(FrozenNetPretrainHook):
    """Pretrain SEMEDA's edge net before training when no checkpoint is
    configured, and load it into every :class:`SemedaLoss` of the model.

    The mechanism (cache key of settings and label files, rank-0
    pretraining into ``<cache_dir>/<name>_<key[:12]>-<sha[:8]>.pth``,
    barrier, verified load on every rank, no pretraining on resume) is
    :class:`~mmboundary.engine.hooks.FrozenNetPretrainHook`'s; the net is
    pretrained by :func:`pretrain_edge_net_from_datasets`.

    Args:
        settings (dict, optional): Pretraining settings overriding the
            defaults; ``num_classes``, ``ignore_index`` and ``kernel_size``
            are taken from the losses.
        cache_dir (str, optional): Defaults to ``<work_dir>/edge_net``.
        name (str): File stem. Defaults to 'semantic_edge_net'.
        max_val_images (int, optional): Validation maps used for the F1
            report. Defaults to 100.
        accept_failed_check (bool): Use an edge net whose clean-GT
            validation F1 is below
            :data:`~mmboundary.models.pretraining.edge_net.EDGE_NET_MIN_F1`
            (with a warning); by default it is refused before training.
    """

    default_subdir = 'edge_net'
    net_description = 'SEMEDA edge net'
    net_noun = 'edge net'
    loss_description = 'SemedaLoss'
    checkpoint_key = 'edge_net_checkpoint'

    def __init__(self,
                 settings: Optional[Dict] = None,
                 cache_dir: Optional[str] = None,
                 name: str = 'semantic_edge_net',
                 max_val_images: Optional[int] = 100,
                 accept_failed_check: bool = False) -> None:
        super().__init__(settings, cache_dir, name, max_val_images,
                         accept_failed_check)

    def check_settings(self, settings: Dict) -> None:
        """Unknown keys raise KeyError; values of the wrong kind TypeError;
        counts below 1 and other numbers below 0 ValueError."""
        settings_with_defaults(settings)
        check_setting_types(
            DEFAULT_PRETRAIN_SETTINGS,
            settings,
            'EdgeNetPretrainHook',
            count_keys=('max_epochs', 'crops_per_image', 'batch_size'),
            scalar_ok=('crop_size', ))

    @staticmethod
    def semeda_losses(model) -> List:
        """Every :class:`SemedaLoss` in ``model`` without a configured
        checkpoint."""
        return [
            m for m in unwrap_model(model).modules()
            if isinstance(m, SemedaLoss) and m.edge_net_checkpoint is None
        ]

    def target_losses(self, model) -> List:
        """See :meth:`semeda_losses`."""
        return self.semeda_losses(model)

    def full_settings(self, losses: Sequence) -> Dict:
        """Settings plus the losses' class count, ignore index and kernel
        size (which must agree)."""
        keys = {(m.num_classes, m.ignore_index, m.edge_net.net.kernel_size)
                for m in losses}
        if len(keys) != 1:
            raise ValueError(
                'EdgeNetPretrainHook: the SemedaLoss modules disagree on '
                f'(num_classes, ignore_index, kernel_size): {sorted(keys)}.')
        num_classes, ignore_index, kernel_size = keys.pop()
        return dict(
            self.settings,
            num_classes=num_classes,
            ignore_index=ignore_index,
            kernel_size=kernel_size)

    def cache_key(self, settings: Dict, train_fp: str, val_fp: str) -> str:
        """:func:`~mmboundary.models.pretraining.edge_net.
        pretrain_cache_key`."""
        return pretrain_cache_key(settings, train_fp, val_fp)

    def pretrain(self,
                 train_dataset,
                 val_dataset,
                 settings: Dict,
                 out_dir: str,
                 name: str,
                 device: str,
                 log: Callable[[str], None],
                 quiet: bool = False) -> Tuple[str, str, Dict]:
        """:func:`pretrain_edge_net_from_datasets`."""
        return pretrain_edge_net_from_datasets(
            train_dataset,
            val_dataset,
            settings,
            out_dir,
            name,
            self.max_val_images,
            device=device,
            log=log,
            quiet=quiet)

    @staticmethod
    def self_check(report: Dict) -> Optional[List[str]]:
        """:func:`~mmboundary.models.pretraining.edge_net.
        edge_net_self_check`."""
        return edge_net_self_check(report)

    def load_into(self, losses: Sequence, path: str) -> None:
        """``SemedaLoss.load_edge_net`` on every loss."""
        for loss in losses:
            loss.load_edge_net(path)

    def report_summary(self, report: Dict) -> str:
        """The clean-GT validation F1."""
        if 'val_clean' not in report:
            return ''
        return f'val edge F1 on clean GT {report["val_clean"]["f1"]:.4f}'
