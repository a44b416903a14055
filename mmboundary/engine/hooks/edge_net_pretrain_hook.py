# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretrain SEMEDA's edge net before segmentor training (Algorithm 1, first
loop), cached in the work dir.

:func:`pretrain_edge_net_from_datasets` is the one core both this hook and
``tools/misc/train_edge_net.py`` call.
"""
import glob
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmboundary.registry import HOOKS
from mmboundary.utils.validation import check_int, check_str


def unwrap_dataset(dataset):
    """Strip mmengine wrappers that repeat one dataset (RepeatDataset,
    ClassBalancedDataset) so every label map is read once."""
    while hasattr(dataset, 'dataset') and not hasattr(dataset, 'datasets'):
        dataset = dataset.dataset
    return dataset


def seg_map_infos(dataset) -> List[Dict]:
    """One data info per distinct ``seg_map_path`` of an mmseg dataset
    (ConcatDataset supported), in dataset order.

    Raises:
        KeyError: A data info has no ``seg_map_path`` (not a semantic
            segmentation dataset).
    """
    dataset = unwrap_dataset(dataset)
    parts = getattr(dataset, 'datasets', None) or [dataset]
    infos, seen = [], set()
    for part in parts:
        part = unwrap_dataset(part)
        for i in range(len(part)):
            info = part.get_data_info(i)
            if 'seg_map_path' not in info:
                raise KeyError(
                    f'{type(part).__name__} data info has no seg_map_path; '
                    'the SEMEDA edge net is pretrained on semantic GT '
                    'label maps.')
            if info['seg_map_path'] not in seen:
                seen.add(info['seg_map_path'])
                infos.append(info)
    return infos


def load_label(info: Dict) -> np.ndarray:
    """(H, W) label map of one data info, through mmseg's
    ``LoadAnnotations`` (``reduce_zero_label`` and ``label_map`` applied
    exactly as in training)."""
    from mmseg.datasets.transforms import LoadAnnotations
    results = dict(info)
    results.setdefault('seg_fields', [])
    results = LoadAnnotations(reduce_zero_label=None).transform(results)
    return results['gt_seg_map']


def pretrain_edge_net_from_datasets(
        train_dataset,
        val_dataset,
        settings: Dict,
        out_dir: str,
        name: str = 'semantic_edge_net',
        max_val_images: Optional[int] = 100,
        device: str = 'cpu',
        log: Optional[Callable[[str], None]] = None) -> Tuple[str, str, Dict]:
    """Pretrain a SEMEDA edge net on a dataset's GT and write it.

    Args:
        train_dataset: mmseg dataset whose GT label maps train the net.
        val_dataset: mmseg dataset for the edge precision / recall / F1
            report, or None.
        settings (dict): Pretraining settings (see
            :data:`~mmboundary.models.utils.semantic_edge_net.
            DEFAULT_PRETRAIN_SETTINGS`).
        out_dir (str): Output folder.
        name (str): File stem; the checkpoint is
            ``<name>-<sha256[:8]>.pth`` with a ``.json`` report next to it.
        max_val_images (int, optional): Evaluate on at most this many
            validation maps (evenly spaced). None: all.
        device (str): Torch device.
        log (callable, optional): Receives progress lines.

    Returns:
        tuple[str, str, dict]: Checkpoint path, JSON path, report.
    """
    from mmboundary.models.utils.semantic_edge_net import (
        files_fingerprint, pretrain_cache_key, pretrain_semantic_edge_net,
        save_edge_net)
    train_infos = seg_map_infos(train_dataset)
    val_infos = seg_map_infos(val_dataset) if val_dataset is not None else []
    if max_val_images is not None and len(val_infos) > max_val_images:
        pick = np.linspace(0, len(val_infos) - 1, max_val_images).round()
        val_infos = [val_infos[int(i)] for i in pick]
    val_labels = [load_label(info) for info in val_infos] or None
    net, report = pretrain_semantic_edge_net(
        lambda i: load_label(train_infos[i]),
        len(train_infos),
        settings,
        val_labels,
        device=device,
        log=log)
    train_fp = files_fingerprint([i['seg_map_path'] for i in train_infos])
    val_fp = files_fingerprint([i['seg_map_path'] for i in val_infos])
    report['cache_key'] = pretrain_cache_key(settings, train_fp, val_fp)
    report['train_seg_maps'] = len(train_infos)
    path, json_path = save_edge_net(net, report, out_dir, name)
    return path, json_path, report


#: Pretraining settings that count something (>= 1); the others are >= 0.
_COUNT_SETTINGS = ('max_epochs', 'crops_per_image', 'batch_size')


@HOOKS.register_module()
class EdgeNetPretrainHook(Hook):
    """Pretrain SEMEDA's edge net before training when no checkpoint is
    configured, and load it into every :class:`SemedaLoss` of the model.

    In ``before_train`` (after weight init and resume, so nothing overwrites
    the loaded net), for the ``SemedaLoss`` modules that have no
    ``edge_net_checkpoint``:

    1. the cache key is the sha256 of the settings, the recipe version and
       the training / validation label files (paths, sizes, mtimes);
    2. if ``<cache_dir>/<name>_<key[:12]>-*.pth`` is missing, rank 0
       pretrains the net on the training GT (:func:`pretrain_edge_net_from
       _datasets`) and writes it; other ranks wait at a barrier;
    3. every rank loads the cached file (verified) into the losses.

    A resumed run finds the cache and does not pretrain again.

    Args:
        settings (dict, optional): Pretraining settings overriding the
            defaults; ``num_classes``, ``ignore_index`` and ``kernel_size``
            are taken from the losses.
        cache_dir (str, optional): Defaults to ``<work_dir>/edge_net``.
        name (str): File stem. Defaults to 'semantic_edge_net'.
        max_val_images (int, optional): Validation maps used for the F1
            report. Defaults to 100.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 settings: Optional[Dict] = None,
                 cache_dir: Optional[str] = None,
                 name: str = 'semantic_edge_net',
                 max_val_images: Optional[int] = 100) -> None:
        from mmboundary.models.utils.semantic_edge_net import (
            DEFAULT_PRETRAIN_SETTINGS, settings_with_defaults)
        owner = 'EdgeNetPretrainHook'
        if settings is not None and not isinstance(settings, dict):
            raise TypeError(f'{owner}: `settings` must be a dict, got '
                            f'{settings!r}')
        settings = dict(settings or {})
        settings_with_defaults(settings)  # fail early on unknown keys
        for key, value in settings.items():
            default = DEFAULT_PRETRAIN_SETTINGS[key]
            if isinstance(default, tuple):
                ok = isinstance(value,
                                (tuple, list)) or (key == 'crop_size'
                                                   and isinstance(value, int))
            elif isinstance(default, float):
                ok = isinstance(value, (int, float))
            else:
                ok = isinstance(value, int)
            if isinstance(value, bool) or not ok:
                raise TypeError(
                    f"{owner}: `settings['{key}']` must be like the default "
                    f'{default!r}, got {value!r}')
            low = 1 if key in _COUNT_SETTINGS else 0
            if isinstance(value, (int, float)) and value < low:
                raise ValueError(f"{owner}: `settings['{key}']` must be >= "
                                 f'{low}, got {value!r}')
        self.settings = settings
        self.cache_dir = check_str(cache_dir, 'cache_dir', owner, True)
        self.name = check_str(name, 'name', owner)
        self.max_val_images = check_int(
            max_val_images, 'max_val_images', owner, low=1, optional=True)
        self.pretrained_here = False  # for tests and logs
        self.checkpoint: Optional[str] = None

    @staticmethod
    def semeda_losses(model) -> List:
        """Every :class:`SemedaLoss` in ``model`` without a configured
        checkpoint."""
        from mmboundary.models.losses.semeda_loss import SemedaLoss
        if is_model_wrapper(model):
            model = model.module
        return [
            m for m in model.modules()
            if isinstance(m, SemedaLoss) and m.edge_net_checkpoint is None
        ]

    def _full_settings(self, losses: Sequence) -> Dict:
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

    def cache_prefix(self, settings: Dict, train_dataset, val_dataset) -> str:
        """``<cache_dir>/<name>_<key[:12]>`` for these settings and data."""
        from mmboundary.models.utils.semantic_edge_net import (
            files_fingerprint, pretrain_cache_key)
        train_fp = files_fingerprint(
            [i['seg_map_path'] for i in seg_map_infos(train_dataset)])
        val_infos = seg_map_infos(val_dataset) if val_dataset else []
        if (self.max_val_images is not None
                and len(val_infos) > self.max_val_images):
            pick = np.linspace(0,
                               len(val_infos) - 1,
                               self.max_val_images).round()
            val_infos = [val_infos[int(i)] for i in pick]
        val_fp = files_fingerprint([i['seg_map_path'] for i in val_infos])
        key = pretrain_cache_key(settings, train_fp, val_fp)
        return osp.join(self.cache_dir, f'{self.name}_{key[:12]}')

    def before_train(self, runner) -> None:
        """Pretrain (rank 0, once) and load the edge net on every rank."""
        losses = self.semeda_losses(runner.model)
        if not losses:
            runner.logger.warning(
                'EdgeNetPretrainHook: the model has no SemedaLoss without '
                'edge_net_checkpoint; nothing to pretrain.')
            return
        if self.cache_dir is None:
            self.cache_dir = osp.join(runner.work_dir, 'edge_net')
        settings = self._full_settings(losses)
        train_dataset = runner.train_dataloader.dataset
        val_dataset = None
        val_loop = getattr(runner, '_val_loop', None)
        if val_loop is not None and hasattr(val_loop, 'dataloader'):
            val_dataset = val_loop.dataloader.dataset
        prefix = self.cache_prefix(settings, train_dataset, val_dataset)
        rank, _ = get_dist_info()
        found = sorted(glob.glob(prefix + '-*.pth'))
        if rank == 0 and not found:
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            device = str(next(model.parameters()).device)
            runner.logger.info(
                'EdgeNetPretrainHook: pretraining the SEMEDA edge net '
                f'({settings}) -> {prefix}-*.pth')
            path, _, report = pretrain_edge_net_from_datasets(
                train_dataset,
                val_dataset,
                settings,
                osp.dirname(prefix),
                osp.basename(prefix),
                self.max_val_images,
                device=device,
                log=runner.logger.info)
            self.pretrained_here = True
            if 'val_clean' in report:
                runner.logger.info(
                    'EdgeNetPretrainHook: val edge F1 on clean GT '
                    f'{report["val_clean"]["f1"]:.4f}')
        barrier()
        found = sorted(glob.glob(prefix + '-*.pth'))
        if not found:
            raise FileNotFoundError(
                f'EdgeNetPretrainHook: no edge net at {prefix}-*.pth after '
                'pretraining on rank 0; is cache_dir on a filesystem shared '
                'by all ranks?')
        self.checkpoint = found[-1]
        for loss in losses:
            loss.load_edge_net(self.checkpoint)
        runner.logger.info(
            f'EdgeNetPretrainHook: loaded {self.checkpoint} into '
            f'{len(losses)} SemedaLoss module(s).')
