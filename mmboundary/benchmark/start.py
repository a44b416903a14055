# Copyright (c) mmboundary contributors. All rights reserved.
"""The shared start: the semantic baseline config (a whole compact FCN
segmentor, plain cross-entropy) trained once and cached, keyed by the
sha256 of the resolved config, the training files, the synthetic data
version and :data:`START_RECIPE` (like SEMEDA's edge-net cache). A cache
whose inputs changed (stale) or whose checkpoint does not verify
(corrupted) is rebuilt, with a message saying why. Every row starts from
it."""
import hashlib
import json
import os
import os.path as osp
import shutil
from collections import OrderedDict
from typing import Dict, Optional, Tuple

from mmboundary.datasets.synthetic_cityscapes import data_version
from mmboundary.models.pretraining import files_fingerprint
from mmboundary.utils.reproducibility import compute_threads
from .common import log
from .data import train_files
from .process import train
from .protocol import config_sha, load_config, plain, resolve_config
from .rows import Row

#: Version of the shared start's recipe; bump it when the way the start is
#: trained changes, so every cached start becomes stale.
START_RECIPE = 1
START_NAME = 'segmentor'
#: Defaults of the start's training (``--start-iters``, ``--start-seed``).
START_ITERS = 300
START_SEED = 0


def file_sha256(path: str) -> str:
    """sha256 of a file's bytes."""
    with open(path, 'rb') as f:  # a compact checkpoint: a few MB
        return hashlib.sha256(f.read()).hexdigest()


def start_inputs(cfg, data_root: str) -> Dict[str, str]:
    """What the cached start depends on, each as a sha256 or a short text
    (``data_version``: the generator's data version of ``data_root``,
    ``'none'`` for data that were not generated)."""
    return OrderedDict(
        recipe=str(START_RECIPE),
        config=config_sha(cfg),
        data=files_fingerprint(train_files(data_root)),
        data_version=str(data_version(data_root) or 'none'),
        threads=str(compute_threads()))  # issue 24: the bits depend on it


def start_key(inputs: Dict[str, str]) -> str:
    """One sha256 of all of :func:`start_inputs`."""
    return hashlib.sha256(json.dumps(inputs,
                                     sort_keys=True).encode()).hexdigest()


def check_start_cache(start_dir: str,
                      inputs: Dict[str, str]) -> Tuple[Optional[Dict], str]:
    """Verify the cached start against ``inputs``.

    Returns:
        tuple[dict | None, str]: The manifest if the cache is usable (else
        None) and why not: ``'missing'``, ``'stale: ...'`` naming the inputs
        that changed, or ``'corrupted: ...'`` naming the file.
    """
    from mmboundary.utils import load_checkpoint_safely
    manifest_path = osp.join(start_dir, f'{START_NAME}.json')
    if not osp.isfile(manifest_path):
        return None, 'missing'
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        cached_inputs = manifest['inputs']
        ckpt = osp.join(start_dir, manifest['checkpoint'])
        sha = manifest['sha256']
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, f'corrupted: {manifest_path} is unreadable ({e})'
    changed = [
        k if k != 'data_version' else
        (f'data_version ({cached_inputs.get(k, "1, unrecorded")} -> '
         f'{inputs[k]})') for k in inputs if cached_inputs.get(k) != inputs[k]
    ]
    if changed:
        return None, (f'stale: {", ".join(changed)} changed since it was '
                      f'trained ({manifest_path})')
    if not osp.isfile(ckpt):
        return None, f'corrupted: {ckpt} is missing'
    if file_sha256(ckpt) != sha:
        return None, f'corrupted: {ckpt} does not match its sha256 {sha[:8]}'
    try:
        state = load_checkpoint_safely(ckpt, map_location='cpu')['state_dict']
    except Exception as e:  # noqa: B902 -- any load failure means corrupted
        return None, f'corrupted: {ckpt} does not load ({e})'
    if not any(k.startswith('backbone.') for k in state):
        return None, f'corrupted: {ckpt} holds no backbone.* weights'
    manifest['checkpoint_path'] = ckpt
    return manifest, 'ok'


def write_start(start_dir: str, trained_ckpt: str, inputs: Dict[str, str],
                info: Dict) -> Dict:
    """Keep the weights of ``trained_ckpt`` as the cached start (atomic
    writes; the manifest last, so a half-written cache reads as missing or
    corrupted, never as valid)."""
    import torch

    from mmboundary.utils import load_checkpoint_safely
    ckpt = load_checkpoint_safely(trained_ckpt, map_location='cpu')
    name = f'{START_NAME}.pth'
    path = osp.join(start_dir, name)
    tmp = f'{path}.tmp{os.getpid()}'
    torch.save(
        dict(state_dict=ckpt['state_dict'], meta=dict(start_key=info['key'])),
        tmp)
    os.replace(tmp, path)
    manifest = dict(
        info, inputs=dict(inputs), checkpoint=name, sha256=file_sha256(path))
    mpath = osp.join(start_dir, f'{START_NAME}.json')
    with open(mpath + f'.tmp{os.getpid()}', 'w') as f:
        json.dump(manifest, f, indent=2)
    os.replace(mpath + f'.tmp{os.getpid()}', mpath)
    manifest['checkpoint_path'] = path
    return manifest


def ensure_start(base_row: Row,
                 data_root: str,
                 start_dir: str,
                 iters: int = START_ITERS,
                 seed: int = START_SEED) -> Dict:
    """The shared start: the cached segmentor, or train it (and say why).

    Args:
        base_row (Row): The semantic table's baseline (its config is
            trained).
        data_root (str): The dataset.
        start_dir (str): The cache (``--start-dir``).
        iters (int): Training iterations of the start.
        seed (int): Its seed.

    Returns:
        dict: The cache's manifest with ``checkpoint_path``, ``backbone``
        (the start's backbone config) and ``status`` (in words).
    """
    cfg = resolve_config(
        load_config(base_row.config), 'semantic', iters, data_root, seed, None)
    inputs = start_inputs(cfg, data_root)
    manifest, why = check_start_cache(start_dir, inputs)
    if manifest is not None:
        log(f'shared start: reusing {manifest["checkpoint_path"]} '
            f'(key {manifest["key"][:12]})')
        return dict(
            manifest, backbone=plain(cfg.model.backbone), status='reused')
    if why != 'missing':
        log(f'shared start: cached start at {start_dir} is {why}; '
            'retraining it')
    if osp.isdir(start_dir):
        shutil.rmtree(start_dir)
    train_dir = osp.join(start_dir, 'train')
    os.makedirs(train_dir)
    log(f'shared start: training {base_row.config} for {iters} '
        f'iterations (seed {seed}) -> {start_dir}')
    _, train_s = train(cfg, base_row.config, train_dir)
    manifest = write_start(
        start_dir, osp.join(train_dir, f'iter_{iters}.pth'), inputs,
        dict(
            key=start_key(inputs),
            config=base_row.config,
            iters=iters,
            seed=seed,
            train_s=round(train_s, 1)))
    status = f'trained in {train_s:.0f} s' + ('' if why == 'missing' else
                                              f' ({why})')
    return dict(manifest, backbone=plain(cfg.model.backbone), status=status)
