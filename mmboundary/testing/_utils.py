# Copyright (c) mmboundary contributors. All rights reserved.
"""Helpers for tests and examples: tiny generated data, config lookup."""
import importlib.util
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def import_tool(rel_path: str):
    """Import a script under ``tools/`` (given relative to the repository
    root) as a module, to test its functions."""
    path = osp.join(REPO_ROOT, rel_path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'No tool at {path}.')
    name = '_tool_' + osp.splitext(rel_path)[0].replace('/', '_').replace(
        '-', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get_config_path(rel_path: str) -> str:
    """Absolute path of a config given relative to the repository root."""
    path = osp.join(REPO_ROOT, rel_path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'No config at {path}.')
    return path


def train_only_config(cfg, data_root: str, path: str) -> str:
    """Point a config's training set at ``data_root``, drop validation and
    testing, and dump it to ``path`` (for a ``tools/train.py`` run that
    must stop before its first iteration).

    Args:
        cfg (Config): The config (changed in place).
        data_root (str): The training data root.
        path (str): Where to write the config.

    Returns:
        str: ``path``.
    """
    cfg.train_dataloader.dataset.data_root = data_root
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = None
        cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    cfg.dump(path)
    return path


def make_tiny_seg_dataset(root: str,
                          num_train: int = 4,
                          num_val: int = 2,
                          size: Tuple[int, int] = (32, 64),
                          seed: int = 0) -> str:
    """Write a tiny 3-class segmentation dataset (mmseg folder layout).

    Each image shows a square (class 1) and a disk (class 2) on background
    (class 0) with class-dependent colour plus noise; labels are uint8 PNGs.
    Layout: ``{img_dir,ann_dir}/{train,val}/<name>.png``.

    Args:
        root (str): Output folder (created).
        num_train (int): Training images. Defaults to 4.
        num_val (int): Validation images. Defaults to 2.
        size (tuple[int, int]): ``(H, W)``. Defaults to (32, 64).
        seed (int): Random seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    colours = np.array([[40, 40, 40], [200, 60, 60], [60, 200, 60]])
    for split, num in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, 'img_dir', split), exist_ok=True)
        os.makedirs(osp.join(root, 'ann_dir', split), exist_ok=True)
        for i in range(num):
            label = np.zeros((h, w), np.uint8)
            s = int(rng.integers(h // 4, h // 2))
            y, x = rng.integers(0, h - s), rng.integers(0, w // 2 - s)
            label[y:y + s, x:x + s] = 1
            cy, cx = rng.integers(h // 4,
                                  3 * h // 4), rng.integers(w // 2 + 4, w - 4)
            cv2.circle(label, (int(cx), int(cy)), int(rng.integers(3, h // 4)),
                       2, -1)
            img = colours[label] + rng.normal(0, 20, (h, w, 3))
            img = np.clip(img, 0, 255).astype(np.uint8)
            name = f'{split}_{i:03d}.png'
            cv2.imwrite(osp.join(root, 'img_dir', split, name), img)
            cv2.imwrite(osp.join(root, 'ann_dir', split, name), label)
    return root
