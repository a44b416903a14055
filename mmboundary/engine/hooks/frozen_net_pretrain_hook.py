# Copyright (c) mmboundary contributors. All rights reserved.
"""One mechanism for every frozen auxiliary net pretrained on the dataset's
ground-truth labels (SEMEDA's edge net, InverseForm's InverseNet).

* :func:`seg_map_infos` / :func:`load_label`: the training and validation
  label maps of an mmseg dataset, loaded exactly as in training;
* :class:`FrozenNetPretrainHook`: in ``before_train``, rank 0 pretrains the
  net once (cached by a hash of settings and data), every rank waits at a
  barrier and loads the verified file; a resumed run finds the cache;
* :func:`pretrain_tool_main`: the command-line pattern of
  ``tools/misc/train_edge_net.py`` and ``tools/misc/train_inverse_net.py``
  (writes into the hook's cache folder, so the hook then reuses the file).

A subclass says which losses own the net, how the full settings follow from
them, how to pretrain and how to load (see the methods marked "subclass").
"""
import argparse
import glob
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

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
                    'frozen auxiliary nets (SEMEDA edge net, InverseNet) are '
                    'pretrained on semantic GT label maps.')
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


def pick_evenly(infos: Sequence[Dict], max_items: Optional[int]) -> List[Dict]:
    """At most ``max_items`` evenly spaced entries of ``infos`` (None: all)."""
    infos = list(infos)
    if max_items is not None and len(infos) > max_items:
        pick = np.linspace(0, len(infos) - 1, max_items).round()
        infos = [infos[int(i)] for i in pick]
    return infos


def dataset_labels(
    train_dataset, val_dataset, max_val_images: Optional[int]
) -> Tuple[List[Dict], List[Dict], Optional[List[np.ndarray]]]:
    """Training infos, the picked validation infos and their label maps
    (None without validation data)."""
    train_infos = seg_map_infos(train_dataset)
    val_infos = seg_map_infos(val_dataset) if val_dataset is not None else []
    val_infos = pick_evenly(val_infos, max_val_images)
    val_labels = [load_label(info) for info in val_infos] or None
    return train_infos, val_infos, val_labels


def data_fingerprints(train_infos: Sequence[Dict],
                      val_infos: Sequence[Dict]) -> Tuple[str, str]:
    """Fingerprints of the training and validation label files."""
    from mmboundary.models.utils.pretrained_aux_net import files_fingerprint
    return (files_fingerprint([i['seg_map_path'] for i in train_infos]),
            files_fingerprint([i['seg_map_path'] for i in val_infos]))


def pretrain_from_datasets(
        pretrain: Callable, cache_key: Callable[[Dict, str, str], str],
        save: Callable[[object, Dict, str, str],
                       Tuple[str, str]], train_dataset, val_dataset,
        settings: Dict, out_dir: str, name: str, max_val_images: Optional[int],
        device: str, log: Optional[Callable[[str],
                                            None]]) -> Tuple[str, str, Dict]:
    """Pretrain a frozen auxiliary net on a dataset's GT and write it.

    Loads the training label maps lazily and at most ``max_val_images``
    validation maps, calls ``pretrain(train_labels, num_train, settings,
    val_labels, device=, log=) -> (net, report)``, adds the cache key and the
    number of training maps to the report and writes it with
    ``save(net, report, out_dir, name) -> (path, json_path)``.

    Returns:
        tuple[str, str, dict]: Checkpoint path, JSON path, report.
    """
    train_infos, val_infos, val_labels = dataset_labels(
        train_dataset, val_dataset, max_val_images)
    net, report = pretrain(
        lambda i: load_label(train_infos[i]),
        len(train_infos),
        settings,
        val_labels,
        device=device,
        log=log)
    train_fp, val_fp = data_fingerprints(train_infos, val_infos)
    report['cache_key'] = cache_key(settings, train_fp, val_fp)
    report['train_seg_maps'] = len(train_infos)
    path, json_path = save(net, report, out_dir, name)
    return path, json_path, report


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
       mtimes);
    2. if ``<cache_dir>/<name>_<key[:12]>-*.pth`` is missing, rank 0
       pretrains the net and writes it with its JSON report; the other
       ranks wait at a barrier;
    3. every rank loads the cached file (verified) into the losses.

    Args:
        settings (dict, optional): Pretraining settings overriding the
            subclass's defaults (unknown keys raise KeyError here).
        cache_dir (str, optional): Defaults to ``<work_dir>/<subdir>``.
        name (str): File stem.
        max_val_images (int, optional): Validation maps used for the
            report. None: all.
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
                 max_val_images: Optional[int] = 100) -> None:
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

    def pretrain(self, train_dataset, val_dataset, settings: Dict,
                 out_dir: str, name: str, device: str,
                 log: Callable[[str], None]) -> Tuple[str, str, Dict]:
        """Pretrain and write; return checkpoint, JSON and report
        (subclass)."""
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
        self.load_into(losses, self.checkpoint)
        runner.logger.info(
            f'{name}: loaded {self.checkpoint} into {len(losses)} '
            f'{self.loss_description} module(s).')


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


def hook_entry(cfg, hook_type: str) -> dict:
    """The config's ``custom_hooks`` entry of ``hook_type``, or {}."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') in (hook_type, f'mmboundary.{hook_type}'):
            return dict(hook)
    return {}


def pretrain_tool_main(description: str,
                       hook_type: str,
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
    part and the ``option=PATH`` line.

    Args:
        description (str): argparse description.
        hook_type (str): Registered name of the pretraining hook.
        settings_from_config (callable): ``cfg -> settings`` for the hook.
        option (str): The loss option that takes the checkpoint path.
        argv (Sequence[str], optional): Arguments; None: ``sys.argv``.
        report_tables (callable, optional): ``(report, wall seconds of
            the tool) -> {name: table}`` for ``--results PATH`` (stored
            with :func:`~mmboundary.utils.results_doc.dump_results`, shown
            by README blocks); None: the tool has no ``--results``.

    Returns:
        str: Path of the checkpoint (new or found).
    """
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope
    parser = argparse.ArgumentParser(
        description=description, allow_abbrev=False)
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
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as for tools/train.py')
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
    from mmseg.registry import DATASETS

    import mmboundary  # noqa: F401  (registers the modules)
    from mmboundary.registry import HOOKS
    hook_cls = HOOKS.get(hook_type)
    settings = settings_from_config(cfg)
    hook = hook_entry(cfg, hook_type)
    max_val = hook.get('max_val_images', 100)
    if args.max_val_images is not None:
        max_val = args.max_val_images if args.max_val_images > 0 else None
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
        return found[-1]
    path, json_path, report = namer.pretrain(train_dataset, val_dataset,
                                             settings, osp.dirname(prefix),
                                             osp.basename(prefix), args.device,
                                             print)
    summary = {k: v for k, v in report.items() if k.startswith('val')}
    print(json.dumps(summary, indent=2, default=list))
    print(f'checkpoint: {path}\nreport: {json_path}')
    print(f'use it with {option}={osp.relpath(path)!r}')
    if results:
        from mmboundary.utils.results_doc import dump_results
        wall = time.perf_counter() - t0
        dump_results(
            results,
            report_tables(report, wall),
            device=args.device,
            load_start=load_start,
            report=report)
        print(f'tables stored in {results} ({wall:.1f} s wall)')
    return path
