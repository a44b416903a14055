# Copyright (c) mmboundary contributors. All rights reserved.
"""Checks of a run's data: inputs that exist, label ids in range, COCO
category ids the file declares.

``tools/train.py`` and ``tools/test.py`` call :func:`check_data_inputs`
(every data root, image/label folder and annotation file the dataloaders
and evaluators read exists, else one line naming it and the command that
makes it) and :func:`add_label_checks` before the runner is built:

* every mmseg dataset's pipelines get a :class:`CheckSegLabels` transform
  right after ``LoadAnnotations``: each label map is checked once, when it
  is loaded (training and evaluation), by :func:`check_label_ids`;
* every mmdet COCO-style annotation file is read once by
  :func:`check_coco_annotations`: an annotation whose ``category_id`` the
  file does not declare, or a dataset class the file lacks, is an error
  (mmdet's ``CocoDataset`` would drop or mislabel them silently).

Switch both label checks off (for speed, e.g. on a dataset already checked)
with the top-level config key ``check_labels = False`` (on the command line
``--cfg-options check_labels=False``).
"""
import json
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from mmboundary.utils.cli import UserError
from mmboundary.utils.launch import MissingInputError

__all__ = [
    'LABEL_CHECK_KEY', 'LabelError', 'check_label_ids',
    'check_coco_annotations', 'add_label_checks', 'check_data_inputs',
    'dataset_cfgs'
]

LABEL_CHECK_KEY = 'check_labels'
SWITCH_OFF = (f'to skip this check set `{LABEL_CHECK_KEY} = False` in the '
              f'config (--cfg-options {LABEL_CHECK_KEY}=False)')
GENERATOR = 'tools/dataset_converters/generate_synthetic_cityscapes.py'
CITYSCAPES_CONVERTER = 'tools/dataset_converters/cityscapes.py'
NYUV2_CONVERTER = 'tools/dataset_converters/nyuv2.py'


class LabelError(UserError, ValueError):
    """A label map or an annotation file holds an id the dataset does not
    know; the message names the file, the id and the valid ids."""


def _ids(values: Sequence[int], limit: int = 8) -> str:
    shown = ', '.join(str(int(v)) for v in values[:limit])
    return shown + (f' ... ({len(values)} ids)' if len(values) > limit else '')


def check_label_ids(label: np.ndarray,
                    num_classes: int,
                    ignore_index: Optional[int] = 255,
                    source: Optional[str] = None) -> None:
    """Refuse a label map holding an id outside ``[0, num_classes)`` that is
    not ``ignore_index``.

    Cheap on a valid map (one ``min`` and one ``max``); the offending ids
    are only collected for the message.

    Args:
        label (np.ndarray): (H, W) integer class ids.
        num_classes (int): the dataset's number of classes.
        ignore_index (int, optional): the id that marks ignored pixels.
        source (str, optional): the map's file, named in the message.

    Raises:
        LabelError: naming ``source``, the bad ids and the valid range.
    """
    label = np.asarray(label)
    if label.size == 0:
        return
    low, high = label.min(), label.max()
    if low >= 0 and high < num_classes:
        return
    bad = (label < 0) | (label >= num_classes)
    if ignore_index is not None:
        bad &= label != ignore_index
    if not bad.any():
        return
    values = np.unique(label[bad])
    ignore = ('' if ignore_index is None else
              f' and is not the ignore index {ignore_index}')
    plural = 's' if len(values) > 1 else ''
    raise LabelError(
        f'{source or "a label map"}: label id{plural} {_ids(values)} '
        f'outside the valid range [0, {num_classes}) of the dataset\'s '
        f'{num_classes} classes{ignore}; fix the map (or the dataset\'s '
        f'classes / ignore_index); {SWITCH_OFF}')


_COCO_CACHE: Dict[Tuple[str, float, tuple], None] = {}


def check_coco_annotations(ann_file: str,
                           classes: Optional[Sequence[str]] = None) -> None:
    """Refuse a COCO-style annotation file with annotations of undeclared
    categories, or without a category for each of the dataset's classes.

    mmdet's ``CocoDataset`` drops an annotation whose ``category_id`` is not
    a dataset class without a word, and maps class names it does not find
    to shifted labels. Each file is read once per (path, mtime, classes).

    Args:
        ann_file (str): the JSON file.
        classes (Sequence[str], optional): the dataset's class names.

    Raises:
        MissingInputError: the file does not exist.
        LabelError: naming the file, the annotation and the category ids.
    """
    if not osp.isfile(ann_file):
        raise MissingInputError(f'annotation file {ann_file} does not exist')
    key = (osp.abspath(ann_file), osp.getmtime(ann_file), tuple(classes or ()))
    if key in _COCO_CACHE:
        return
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except (OSError, ValueError) as e:
        raise LabelError(f'{ann_file}: cannot be read as JSON ({e})') from None
    if not isinstance(coco, dict) or not isinstance(
            coco.get('categories'), list):
        raise LabelError(f'{ann_file}: not a COCO-style annotation file (no '
                         '`categories` list)')
    names = {}
    for cat in coco['categories']:
        names[cat.get('id')] = cat.get('name')
    for ann in coco.get('annotations', []):
        if ann.get('category_id') not in names:
            raise LabelError(
                f'{ann_file}: annotation {ann.get("id")} (image '
                f'{ann.get("image_id")}) has category_id '
                f'{ann.get("category_id")!r}, which the file\'s '
                f'`categories` do not declare (ids {_ids(sorted(names))}); '
                'its instances would be dropped silently; fix the file or '
                f'add the category; {SWITCH_OFF}')
    if classes:
        missing = [c for c in classes if c not in set(names.values())]
        if missing:
            known = sorted(map(str, names.values()))
            raise LabelError(
                f'{ann_file}: the dataset\'s classes {missing} are not '
                f'among the file\'s categories {known}; labels would be '
                'shifted or dropped silently; fix metainfo.classes or the '
                f'file; {SWITCH_OFF}')
    _COCO_CACHE[key] = None


# ------------------------------------------------------------ config walk


def dataset_cfgs(dataset: Optional[dict]) -> Iterator[dict]:
    """The leaf dataset configs of a (wrapped) dataset config: through
    ``dataset`` (RepeatDataset, ClassBalancedDataset ...) and ``datasets``
    (ConcatDataset)."""
    if not isinstance(dataset, dict):
        return
    if isinstance(dataset.get('dataset'), dict):
        yield from dataset_cfgs(dataset['dataset'])
    elif isinstance(dataset.get('datasets'), (list, tuple)):
        for sub in dataset['datasets']:
            yield from dataset_cfgs(sub)
    else:
        yield dataset


def _loaders(cfg, keys: Sequence[str]) -> Iterator[Tuple[str, dict]]:
    for key in keys:
        loader = cfg.get(key, None)
        if isinstance(loader, dict):
            for ds in dataset_cfgs(loader.get('dataset')):
                yield key, ds


def _dataset_class(cfg, ds: dict):
    """The registered class of a dataset config (None if unknown)."""
    from mmengine.registry import DefaultScope
    scope = cfg.get('default_scope', None) or 'mmseg'
    type_ = ds.get('type')
    if not isinstance(type_, str):
        return type_ if isinstance(type_, type) else None
    if scope == 'mmdet' or type_.startswith('mmdet.'):
        import mmdet.datasets  # noqa: F401  (registers)
        from mmdet.registry import DATASETS
    else:
        import mmseg.datasets  # noqa: F401  (registers)
        from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.get(type_)


def _classes(ds: dict, cls) -> Optional[Sequence[str]]:
    meta = ds.get('metainfo', None) or {}
    classes = meta.get('classes', None) if isinstance(meta, dict) else None
    if classes is None:
        classes = getattr(cls, 'METAINFO', {}).get('classes', None)
    return classes


def _is_subclass(cls, module: str, name: str) -> bool:
    import importlib
    try:
        base = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False
    return isinstance(cls, type) and issubclass(cls, base)


def _has_type(step, name: str) -> bool:
    return isinstance(step, dict) and str(step.get('type',
                                                   '')).split('.')[-1] == name


def _insert_check(pipeline: list, check: dict) -> bool:
    """Insert ``check`` after each ``LoadAnnotations`` of ``pipeline`` (and
    of a ``TestTimeAug``'s branches); True if anything was inserted."""
    inserted = False
    i = 0
    while i < len(pipeline):
        step = pipeline[i]
        if _has_type(step, 'LoadAnnotations'):
            nxt = pipeline[i + 1] if i + 1 < len(pipeline) else None
            if not _has_type(nxt, 'CheckSegLabels'):
                pipeline.insert(i + 1, dict(check))
                inserted = True
            i += 1
        elif _has_type(step, 'TestTimeAug'):
            branches = step.get('transforms', [])
            for j, options in enumerate(list(branches)):
                if (isinstance(options, list) and any(
                        _has_type(o, 'LoadAnnotations') for o in options)):
                    nxt = branches[j + 1] if j + 1 < len(branches) else None
                    if not (isinstance(nxt, list) and nxt
                            and _has_type(nxt[0], 'CheckSegLabels')):
                        branches.insert(j + 1, [dict(check)])
                        inserted = True
                    break
        i += 1
    return inserted


def add_label_checks(cfg, loaders: Sequence[str]) -> List[str]:
    """Check labels where ``loaders`` read them, unless the config sets
    ``check_labels = False``.

    mmseg datasets: a :class:`CheckSegLabels` (``num_classes`` from the
    dataset's classes, its ``ignore_index``) is inserted after every
    ``LoadAnnotations`` of their pipelines, so each label map is checked
    once when loaded. mmdet COCO-style datasets: their annotation file is
    checked now by :func:`check_coco_annotations`.

    Args:
        cfg (Config): the run's config (changed in place).
        loaders (Sequence[str]): e.g. ``('train_dataloader',
            'val_dataloader')``.

    Returns:
        list[str]: what is checked, e.g. ``'train_dataloader: label maps
        (19 classes)'``.
    """
    if cfg.get(LABEL_CHECK_KEY, True) is False:
        return []
    done = []
    for key, ds in _loaders(cfg, loaders):
        cls = _dataset_class(cfg, ds)
        if cls is None:
            continue
        classes = _classes(ds, cls)
        if _is_subclass(cls, 'mmseg.datasets', 'BaseSegDataset'):
            if not classes or not isinstance(ds.get('pipeline'), list):
                continue
            check = dict(
                type='CheckSegLabels',
                num_classes=len(classes),
                ignore_index=ds.get('ignore_index', 255))
            if _insert_check(ds['pipeline'], check) or any(
                    _has_type(s, 'CheckSegLabels') for s in ds['pipeline']):
                done.append(f'{key}: label maps ({len(classes)} classes)')
        elif _is_subclass(cls, 'mmdet.datasets', 'CocoDataset'):
            ann = _join(ds.get('data_root'), ds.get('ann_file'))
            if ann:
                check_coco_annotations(ann, classes)
                done.append(f'{key}: {ann}')
    return done


# ------------------------------------------------------------- preflight


def _join(root: Optional[str], path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    if not root or osp.isabs(path):
        return path
    return osp.join(root, path)


def _make_hint(key: str, ds: dict, root: str) -> str:
    """The command that makes a missing data root."""
    type_ = str(ds.get('type', ''))
    stripped = root.rstrip('/\\') or root
    option = (f'{key}.dataset.data_root'
              if key.endswith('_dataloader') else f'{key}.ann_file')
    where = ('or point the config at your data with --cfg-options '
             f'{option}=PATH')
    if 'synthetic' in osp.basename(stripped):
        return (f'make it with `python {GENERATOR} --out {stripped} && '
                f'python {CITYSCAPES_CONVERTER} {stripped}`, {where}')
    if 'NYU' in type_.upper():
        return (f'make it with `python {NYUV2_CONVERTER} '
                'nyu_depth_v2_labeled.mat --splits splits.mat --mapping '
                f'classMapping40.mat -o {stripped}`, {where}')
    if 'cityscapes' in type_.lower() or 'cityscapes' in stripped.lower():
        return ('download Cityscapes (leftImg8bit and gtFine) into it and '
                f'run `python {CITYSCAPES_CONVERTER} {stripped}`, or make a '
                f'synthetic one with `python {GENERATOR} --out {stripped} '
                f'&& python {CITYSCAPES_CONVERTER} {stripped}`, {where}')
    return where


def _convert_hint(root: str, ds: dict, key: str = '') -> str:
    stripped = (root or '.').rstrip('/\\') or root
    if root and not osp.isdir(root):
        return f'its data root {root!r} does not exist either; ' + \
            _make_hint(key, ds, root)
    if 'NYU' in str(ds.get('type', '')).upper():
        return (f'make it with `python {NYUV2_CONVERTER} '
                'nyu_depth_v2_labeled.mat --splits splits.mat --mapping '
                f'classMapping40.mat -o {stripped}`')
    if osp.isdir(osp.join(stripped, 'gtFine')):
        return (f'the data is not converted: run `python '
                f'{CITYSCAPES_CONVERTER} {stripped}`')
    return 'check the path in the config'


def _first_file(folder: str, suffix: str) -> Optional[str]:
    for dirpath, _, files in os.walk(folder, followlinks=True):
        for name in files:
            if name.endswith(suffix):
                return osp.join(dirpath, name)
    return None


def _evaluator_ann_files(cfg, key: str) -> Iterator[str]:
    evaluator = cfg.get(key, None)
    items = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for item in items:
        if isinstance(item, dict) and item.get('ann_file'):
            yield item['ann_file']


def check_data_inputs(cfg, loaders: Sequence[str], evaluators=()) -> None:
    """Refuse to start a run whose data is missing or not converted.

    For each dataset of ``loaders``: its ``data_root``, its ``data_prefix``
    folders and its ``ann_file`` must exist, and an mmseg dataset's label
    folder must hold at least one ``*{seg_map_suffix}`` file. Annotation
    files of ``evaluators`` (``ann_file``) must exist.

    Args:
        cfg (Config): the run's config.
        loaders (Sequence[str]): the dataloaders the run reads.
        evaluators (Sequence[str]): the evaluators it uses.

    Raises:
        MissingInputError: one line naming what is missing and the command
            that makes it.
    """
    for key, ds in _loaders(cfg, loaders):
        root = ds.get('data_root', None) or ''
        if root and not osp.isdir(root):
            raise MissingInputError(
                f'{key}: data_root {root!r} does not exist (looked in '
                f'{osp.abspath(root)}); {_make_hint(key, ds, root)}')
        prefix = ds.get('data_prefix', None) or {}
        for name, rel in sorted(prefix.items()):
            path = _join(root, rel)
            if path and not osp.isdir(path):
                raise MissingInputError(
                    f'{key}: {path} (data_prefix.{name}) does not exist; '
                    f'{_convert_hint(root, ds)}')
        ann = _join(root, ds.get('ann_file', None))
        if ann and not osp.isfile(ann):
            raise MissingInputError(
                f'{key}: annotation file {ann} does not exist; '
                f'{_convert_hint(root, ds)}')
        cls = _dataset_class(cfg, ds)
        seg_dir = _join(root, prefix.get('seg_map_path', None))
        if seg_dir and _is_subclass(cls, 'mmseg.datasets', 'BaseSegDataset'):
            suffix = ds.get('seg_map_suffix', None)
            if suffix is None:
                import inspect
                param = inspect.signature(
                    cls.__init__).parameters.get('seg_map_suffix')
                suffix = '.png' if param is None else param.default
            if isinstance(suffix, str) and _first_file(seg_dir,
                                                       suffix) is None:
                raise MissingInputError(
                    f'{key}: no *{suffix} label maps under {seg_dir}; '
                    f'{_convert_hint(root, ds)}')
    for key in evaluators:
        for ann in _evaluator_ann_files(cfg, key):
            if not osp.isfile(ann):
                root = ann.split('annotations')[0] if 'annotations' in ann \
                    else osp.dirname(ann)
                raise MissingInputError(
                    f'{key}: ann_file {ann} does not exist; '
                    f'{_convert_hint(root, {}, key)}')
