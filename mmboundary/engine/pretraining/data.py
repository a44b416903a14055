# Copyright (c) mmboundary contributors. All rights reserved.
"""The label maps a frozen auxiliary net is pretrained on, read from mmseg
datasets exactly as in training, and the pretraining run over them.

* :func:`seg_map_infos` / :func:`load_label`: the training and validation
  label maps of an mmseg dataset (``reduce_zero_label`` and ``label_map``
  applied as in training);
* :func:`dataset_labels` / :func:`data_fingerprints`: what the hooks and
  the tools read and hash (the cache key's data part: the label files and
  the data version of a generated dataset);
* :func:`pretrain_from_datasets`: one pretraining run of a recipe of
  :mod:`mmboundary.models.pretraining` on them, written with its report.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations

from mmboundary.datasets.synthetic_cityscapes import data_version
from mmboundary.models.pretraining.shared import files_fingerprint

__all__ = [
    'unwrap_dataset', 'seg_map_infos', 'load_label', 'pick_evenly',
    'dataset_labels', 'data_fingerprints', 'infos_data_version',
    'pretrain_from_datasets'
]


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
    """Fingerprints of the training and validation label files, each
    including the data version of the synthetic root that holds them
    (:func:`~mmboundary.models.pretraining.shared.files_fingerprint`)."""
    return (files_fingerprint([i['seg_map_path'] for i in train_infos]),
            files_fingerprint([i['seg_map_path'] for i in val_infos]))


def infos_data_version(infos: Sequence[Dict]) -> Optional[int]:
    """The synthetic data version of the first label map of ``infos``
    (:func:`~mmboundary.datasets.synthetic_cityscapes.data_version`; None:
    none, or not generated data)."""
    return data_version(infos[0]['seg_map_path']) if infos else None


def pretrain_from_datasets(pretrain: Callable,
                           cache_key: Callable[[Dict, str, str], str],
                           save: Callable[[object, Dict, str, str],
                                          Tuple[str, str]],
                           train_dataset,
                           val_dataset,
                           settings: Dict,
                           out_dir: str,
                           name: str,
                           max_val_images: Optional[int],
                           device: str,
                           log: Optional[Callable[[str], None]],
                           quiet: bool = False) -> Tuple[str, str, Dict]:
    """Pretrain a frozen auxiliary net on a dataset's GT and write it.

    Loads the training label maps lazily and at most ``max_val_images``
    validation maps, calls ``pretrain(train_labels, num_train, settings,
    val_labels, device=, log=, quiet=) -> (net, report)``, adds the cache
    key and the number of training maps to the report and writes it with
    ``save(net, report, out_dir, name) -> (path, json_path)``. The report
    records ``data_version`` (the synthetic data version, None for other
    data), which the hooks name when a cache of another version is found.

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
        log=log,
        quiet=quiet)
    train_fp, val_fp = data_fingerprints(train_infos, val_infos)
    report['cache_key'] = cache_key(settings, train_fp, val_fp)
    report['train_seg_maps'] = len(train_infos)
    report['data_version'] = infos_data_version(train_infos)
    path, json_path = save(net, report, out_dir, name)
    return path, json_path, report
