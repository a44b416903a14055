# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretrain InverseForm's InverseNet on the training set's boundaries before
segmentor training (InverseForm Sec. 3.4), cached in the work dir.

:func:`pretrain_inverse_net_from_datasets` is the one core both this hook and
``tools/misc/train_inverse_net.py`` call; caching, rank-0 pretraining, the
barrier and the verified load are
:class:`~mmboundary.engine.hooks.FrozenNetPretrainHook`'s.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmboundary.datasets.transforms import GenerateSobelBoundary
from mmboundary.engine.hooks.frozen_net_pretrain_hook import (
    FrozenNetPretrainHook, unwrap_model)
from mmboundary.engine.pretraining.data import (pretrain_from_datasets,
                                                unwrap_dataset)
from mmboundary.models.heads import BoundaryHead
from mmboundary.models.losses.inverseform_loss import InverseFormLoss
from mmboundary.models.pretraining.inverse_net import (
    DEFAULT_INVERSE_NET_SETTINGS, inverse_net_cache_key,
    inverse_net_self_check, inverse_net_settings_with_defaults,
    pretrain_inverse_net, save_inverse_net)
from mmboundary.models.pretraining.shared import check_setting_types
from mmboundary.registry import HOOKS

__all__ = [
    'InverseNetPretrainHook', 'pretrain_inverse_net_from_datasets',
    'check_boundary_pipeline'
]


def pretrain_inverse_net_from_datasets(
        train_dataset,
        val_dataset,
        settings: Dict,
        out_dir: str,
        name: str = 'inverse_net',
        max_val_images: Optional[int] = 100,
        device: str = 'cpu',
        log: Optional[Callable[[str], None]] = None,
        quiet: bool = False) -> Tuple[str, str, Dict]:
    """Pretrain an InverseNet on a dataset's GT boundaries and write it.

    Args:
        train_dataset: mmseg dataset whose GT label maps train the net.
        val_dataset: mmseg dataset for the separation report, or None.
        settings (dict): See :data:`~mmboundary.models.pretraining.
            inverse_net.DEFAULT_INVERSE_NET_SETTINGS`.
        out_dir (str): Output folder.
        name (str): File stem of ``<name>-<sha256[:8]>.pth`` (+ ``.json``).
        max_val_images (int, optional): Validation maps used (evenly
            spaced). None: all.
        device (str): Torch device.
        log (callable, optional): Receives the windowed loss lines.
        quiet (bool): No progress bar / progress lines.

    Returns:
        tuple[str, str, dict]: Checkpoint path, JSON path, report.
    """
    return pretrain_from_datasets(pretrain_inverse_net, inverse_net_cache_key,
                                  save_inverse_net, train_dataset, val_dataset,
                                  settings, out_dir, name, max_val_images,
                                  device, log, quiet)


def check_boundary_pipeline(model, dataset) -> None:
    """KeyError before training when a :class:`BoundaryHead` reads
    ``gt_edge_map`` but the training pipeline lacks
    ``GenerateSobelBoundary`` (datasets without a visible pipeline are not
    checked)."""
    heads = [
        m for m in unwrap_model(model).modules()
        if isinstance(m, BoundaryHead) and m.boundary_source == 'gt_edge_map'
    ]
    dataset = unwrap_dataset(dataset)
    parts = getattr(dataset, 'datasets', None) or [dataset]
    for part in parts:
        transforms = getattr(
            getattr(unwrap_dataset(part), 'pipeline', None), 'transforms',
            None)
        if heads and transforms is not None and not any(
                isinstance(t, GenerateSobelBoundary) for t in transforms):
            raise KeyError(
                'BoundaryHead reads gt_edge_map but the training pipeline of '
                f'{type(part).__name__} has no GenerateSobelBoundary; add '
                "dict(type='GenerateSobelBoundary') after the geometric "
                "transforms, before PackSegInputs (or set the head's "
                "boundary_source='sobel').")


@HOOKS.register_module()
class InverseNetPretrainHook(FrozenNetPretrainHook):
    """Pretrain the InverseNet once (rank 0, cached by a hash of data and
    settings), load it into every :class:`InverseFormLoss` without
    ``inverse_net_checkpoint`` on every rank; a resumed run reuses the
    cache. The JSON report next to the checkpoint holds the separation
    statistics (:func:`~mmboundary.models.pretraining.inverse_net.
    evaluate_inverse_net`).

    Args:
        settings (dict, optional): Recipe settings overriding the defaults;
            the net and distance settings (``distance``, ``tile_size``,
            ``hidden``, ``in_pool``, ``ignore_index``, ``geodesic_lambda``)
            are taken from the losses, which must agree.
        cache_dir (str, optional): Defaults to ``<work_dir>/inverse_net``.
        name (str): File stem. Defaults to 'inverse_net'.
        max_val_images (int, optional): Validation maps of the report.
            Defaults to 100.
        accept_failed_check (bool): Use an InverseNet whose separation
            report fails :func:`~mmboundary.models.pretraining.inverse_net.
            inverse_net_self_check` (with a warning); by default it is
            refused before training.
    """

    default_subdir = 'inverse_net'
    net_description = 'InverseNet'
    net_noun = 'InverseNet'
    loss_description = 'InverseFormLoss'
    checkpoint_key = 'inverse_net_checkpoint'

    def __init__(self,
                 settings: Optional[Dict] = None,
                 cache_dir: Optional[str] = None,
                 name: str = 'inverse_net',
                 max_val_images: Optional[int] = 100,
                 accept_failed_check: bool = False) -> None:
        super().__init__(settings, cache_dir, name, max_val_images,
                         accept_failed_check)

    def before_train(self, runner) -> None:
        """Check the boundary target is in the pipeline, then pretrain (rank
        0, once) and load the InverseNet on every rank."""
        check_boundary_pipeline(runner.model, runner.train_dataloader.dataset)
        super().before_train(runner)

    def check_settings(self, settings: Dict) -> None:
        """Unknown keys raise KeyError; values of the wrong kind TypeError;
        counts below 1 and other numbers below 0 ValueError; an unknown
        distance ValueError."""
        check_setting_types(
            DEFAULT_INVERSE_NET_SETTINGS,
            settings,
            'InverseNetPretrainHook',
            count_keys=('tile_size', 'in_pool', 'tiles_per_image',
                        'max_pool_tiles', 'steps', 'batch_size'))
        inverse_net_settings_with_defaults(settings)

    def target_losses(self, model) -> List:
        """Every :class:`InverseFormLoss` without a checkpoint."""
        return [
            m for m in unwrap_model(model).modules() if
            isinstance(m, InverseFormLoss) and m.inverse_net_checkpoint is None
        ]

    def full_settings(self, losses: Sequence) -> Dict:
        """The hook's settings plus the losses' (agreeing) net settings."""
        keys = {tuple(sorted(m.net_settings().items())) for m in losses}
        if len(keys) != 1:
            raise ValueError(
                'InverseNetPretrainHook: the InverseFormLoss modules disagree'
                f' on their net settings: {sorted(keys)}; give them the same '
                'distance / inverse_net / ignore_index or a checkpoint each.')
        return dict(self.settings, **dict(keys.pop()))

    def cache_key(self, settings: Dict, train_fp: str, val_fp: str) -> str:
        """:func:`~mmboundary.models.pretraining.inverse_net.
        inverse_net_cache_key`."""
        return inverse_net_cache_key(settings, train_fp, val_fp)

    def pretrain(self,
                 train_dataset,
                 val_dataset,
                 settings: Dict,
                 out_dir: str,
                 name: str,
                 device: str,
                 log: Callable[[str], None],
                 quiet: bool = False) -> Tuple[str, str, Dict]:
        """:func:`pretrain_inverse_net_from_datasets`."""
        return pretrain_inverse_net_from_datasets(
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
        """:func:`~mmboundary.models.pretraining.inverse_net.
        inverse_net_self_check`."""
        return inverse_net_self_check(report)

    def load_into(self, losses: Sequence, path: str) -> None:
        """``InverseFormLoss.load_inverse_net`` on every loss."""
        for loss in losses:
            loss.load_inverse_net(path)

    def report_summary(self, report: Dict) -> str:
        """The separation fractions of the validation report."""
        val = report.get('val')
        if not val:
            return ''
        return ('val separation: identity < 4 px shift on '
                f'{val["frac_identity_below_shift4"]:.1%} of tiles, < 10 deg '
                f'rotation {val["frac_identity_below_rot10"]:.1%}, < 1.2x '
                f'zoom {val["frac_identity_below_zoom1.2"]:.1%}; medians '
                f'increasing over 0/2/4/8 px: '
                f'{val["median_increasing_0_2_4_8"]}')
