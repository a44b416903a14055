# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretraining of SEMEDA's semantic edge net (Algorithm 1, first loop).

:func:`pretrain_semantic_edge_net` trains a
:class:`~mmboundary.models.utils.SemanticEdgeNet` on GT label maps;
``tools/misc/train_edge_net.py`` and
:class:`mmboundary.engine.hooks.EdgeNetPretrainHook` both call it (through
:func:`mmboundary.engine.hooks.pretrain_edge_net_from_datasets`).
:func:`edge_net_self_check` says whether the report shows a usable net.
Caching, saving and verified loading use the shared mechanism of
:mod:`mmboundary.models.pretraining.shared`.
"""
import json
import math
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

# yapf: disable
from mmboundary.models.pretraining.shared import (complete_settings,
                                                  isolated_rng,
                                                  load_aux_net_state,
                                                  save_aux_net,
                                                  settings_cache_key,
                                                  train_aux_net)
from mmboundary.models.utils.semantic_edge_net import (SemanticEdgeNet,
                                                       one_hot_masks)
from mmboundary.utils.label_boundary import near_mask_torch, semantic_edge_map

# yapf: enable

#: Version of the pretraining recipe; part of the cache key.
PRETRAIN_RECIPE_VERSION = 1


def noisy_soft_masks(
        label: torch.Tensor,
        num_classes: int,
        noise_std: float,
        logit_scale: Tuple[float, float],
        ignore_index: int = 255,
        generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """softmax(s * one-hot + N(0, noise_std^2)): the pretraining input.

    SEMEDA Sec. 3.3: "we add Gaussian noise to S* and then apply a softmax
    function" to mimic a segmentor's softmax output. ``s`` is drawn per image
    uniformly from ``logit_scale`` so that the net sees both soft and nearly
    one-hot masks (the loss feeds it exact one-hot GT too); the paper's
    recipe is ``logit_scale=(1, 1)``.

    Args:
        label (Tensor): (N, H, W) labels.
        num_classes (int): C.
        noise_std (float): Standard deviation of the Gaussian noise.
        logit_scale (tuple[float, float]): Range of s.
        ignore_index (int): Ignored label; those pixels get the uniform
            distribution (no gradient ever depends on them, see
            :func:`pretrain_semantic_edge_net`).
        generator (torch.Generator, optional): For reproducibility.

    Returns:
        Tensor: (N, C, H, W) probabilities.
    """
    onehot = one_hot_masks(label, num_classes, ignore_index, ignore_fill=0.)
    n = label.shape[0]
    lo, hi = float(logit_scale[0]), float(logit_scale[1])
    scale = lo + (hi - lo) * torch.rand(
        n, 1, 1, 1, generator=generator, device=label.device)
    noise = torch.randn(
        onehot.shape, generator=generator, device=label.device) * noise_std
    probs = (onehot * scale + noise).softmax(dim=1)
    ignore = (label == ignore_index).unsqueeze(1)
    return probs.masked_fill(ignore, 1.0 / num_classes)


#: Default pretraining settings; every key is part of the cache hash.
DEFAULT_PRETRAIN_SETTINGS = dict(
    num_classes=19,
    ignore_index=255,
    kernel_size=3,
    noise_std=1.0,
    logit_scale=(3.0, 10.0),
    max_epochs=20,
    crops_per_image=4,
    crop_size=(128, 128),
    batch_size=8,
    lr=1e-2,
    weight_decay=0.0,
    seed=0,
)


def settings_with_defaults(settings: Optional[Dict] = None) -> Dict:
    """Fill ``settings`` with :data:`DEFAULT_PRETRAIN_SETTINGS`; reject
    unknown keys (a typo would otherwise be silently ignored)."""
    out = complete_settings(DEFAULT_PRETRAIN_SETTINGS, settings,
                            'edge-net pretraining')
    out['logit_scale'] = tuple(float(v) for v in out['logit_scale'])
    crop = out['crop_size']
    out['crop_size'] = (crop, crop) if isinstance(crop, int) else tuple(
        int(v) for v in crop)
    return out


def pretrain_cache_key(settings: Dict,
                       train_fingerprint: str,
                       val_fingerprint: str = '') -> str:
    """sha256 of the recipe version, the settings and the dataset
    fingerprints; the hook's cache file is named with its first 8 chars."""
    return settings_cache_key(PRETRAIN_RECIPE_VERSION,
                              settings_with_defaults(settings),
                              train_fingerprint, val_fingerprint)


def _random_crop(label: np.ndarray, crop: Tuple[int, int],
                 rng: np.random.Generator, ignore_index: int) -> np.ndarray:
    h, w = label.shape
    ch, cw = crop
    if h < ch or w < cw:  # pad with ignore
        padded = np.full((max(h, ch), max(w, cw)),
                         ignore_index,
                         dtype=label.dtype)
        padded[:h, :w] = label
        label, h, w = padded, padded.shape[0], padded.shape[1]
    y = int(rng.integers(0, h - ch + 1))
    x = int(rng.integers(0, w - cw + 1))
    return label[y:y + ch, x:x + cw]


def _target_from_numpy(labels: np.ndarray, ignore_index: int,
                       radius: int) -> torch.Tensor:
    """Pretraining target: the data pipeline's 8-neighbour edge map, with
    every pixel within ``radius`` of an ignore pixel set to ignore (so no
    ignore pixel influences the loss through the receptive field)."""
    edges = np.stack([
        np.asarray(
            semantic_edge_map(
                lab, ignore_index=ignore_index, connectivity=8, width=1))
        for lab in labels
    ]).astype(np.int64)
    # ignore pixels (ignore_index in ``edges``) are inside ``near`` below
    target = torch.from_numpy(edges).clamp_(0, 1)
    near = near_mask_torch(torch.from_numpy(labels == ignore_index), radius)
    return target.masked_fill(near, ignore_index)


@torch.no_grad()
def evaluate_edge_net(net: SemanticEdgeNet,
                      labels: Sequence[np.ndarray],
                      ignore_index: int = 255,
                      noise_std: float = 0.0,
                      logit_scale: Tuple[float, float] = (1.0, 1.0),
                      seed: int = 0,
                      device: str = 'cpu') -> Dict[str, float]:
    """Edge precision / recall / F1 of ``net`` on whole label maps.

    With ``noise_std=0`` the input is the clean one-hot GT mask. Pixels in
    the ignore band of the target (see :func:`_target_from_numpy`) are not
    counted. An edge is predicted where P(edge) > 0.5.

    Returns:
        dict: ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``.
    """
    net.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    radius = net.receptive_radius
    tp = fp = fn = 0
    for lab in labels:
        lab_np = np.asarray(lab)[None].astype(np.int64)
        lab_t = torch.from_numpy(lab_np).to(device)
        target = _target_from_numpy(lab_np, ignore_index, radius).to(device)
        if noise_std > 0:
            masks = noisy_soft_masks(lab_t, net.num_classes, noise_std,
                                     logit_scale, ignore_index, gen)
        else:
            masks = one_hot_masks(lab_t, net.num_classes, ignore_index)
        pred = net(masks).probs[:, 1] > 0.5
        valid = target != ignore_index
        gt = (target == 1) & valid
        pred = pred & valid
        tp += int((pred & gt).sum())
        fp += int((pred & ~gt).sum())
        fn += int((~pred & gt).sum())
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return dict(precision=precision, recall=recall, f1=f1, tp=tp, fp=fp, fn=fn)


def pretrain_semantic_edge_net(
        train_labels: Callable[[int], np.ndarray],
        num_train: int,
        settings: Optional[Dict] = None,
        val_labels: Optional[Sequence[np.ndarray]] = None,
        device: str = 'cpu',
        log: Optional[Callable[[str], None]] = None,
        quiet: bool = False) -> Tuple[SemanticEdgeNet, Dict]:
    """Pretrain g_phi (SEMEDA Algorithm 1, first loop; eq. 4).

    Each step takes ``batch_size`` random ``crop_size`` crops of training GT
    label maps, feeds softmax(s * one-hot + noise) to the net and minimises
    the pixel-wise cross-entropy against the 8-neighbour edge target. Pixels
    within the net's receptive radius of an ignore pixel are excluded from
    the target, so ignore pixels influence neither the target nor, through
    the input, the loss. One epoch visits every training image
    ``crops_per_image`` times. Adam, cosine-decayed learning rate.

    Args:
        train_labels (callable): ``i -> (H, W) int array`` of the i-th
            training label map (values in [0, C) or ``ignore_index``).
        num_train (int): Number of training label maps.
        settings (dict, optional): Overrides of
            :data:`DEFAULT_PRETRAIN_SETTINGS`.
        val_labels (sequence of arrays, optional): Validation label maps for
            the clean and noisy edge precision / recall / F1.
        device (str): Torch device. Defaults to 'cpu'.
        log (callable, optional): Receives the per-epoch loss lines.
        quiet (bool): No progress bar / progress lines.

    Returns:
        tuple[SemanticEdgeNet, dict]: The trained net (in eval mode, its
        ``pretrained`` flag set) and a report with the settings, the final
        training loss and the validation metrics.
    """
    cfg = settings_with_defaults(settings)
    if num_train < 1:
        raise ValueError('pretrain_semantic_edge_net: no training label maps '
                         '(num_train=0); check the dataset paths.')
    log = log or (lambda msg: None)
    # Seeded, without touching the caller's global RNG streams (the hook
    # runs this inside segmentor training).
    with isolated_rng(device, cfg['seed']):
        return _pretrain(cfg, train_labels, num_train, val_labels, device, log,
                         quiet)


def _pretrain(cfg: Dict, train_labels: Callable[[int], np.ndarray],
              num_train: int, val_labels: Optional[Sequence[np.ndarray]],
              device: str, log: Callable[[str], None],
              quiet: bool) -> Tuple[SemanticEdgeNet, Dict]:
    rng = np.random.default_rng(cfg['seed'])
    gen = torch.Generator(device=device).manual_seed(cfg['seed'])
    net = SemanticEdgeNet(
        cfg['num_classes'], kernel_size=cfg['kernel_size']).to(device)
    radius = net.receptive_radius
    order = np.repeat(np.arange(num_train), cfg['crops_per_image'])
    steps_per_epoch = math.ceil(len(order) / cfg['batch_size'])
    total = steps_per_epoch * cfg['max_epochs']
    ignore_index = cfg['ignore_index']
    t0 = time.time()

    def batch_loss(step: int) -> torch.Tensor:
        b = step % steps_per_epoch
        if b == 0:  # a new epoch: a new visiting order
            rng.shuffle(order)
        idx = order[b * cfg['batch_size']:(b + 1) * cfg['batch_size']]
        crops = np.stack([
            _random_crop(
                np.asarray(train_labels(int(i))), cfg['crop_size'], rng,
                ignore_index) for i in idx
        ]).astype(np.int64)
        target = _target_from_numpy(crops, ignore_index, radius).to(device)
        lab = torch.from_numpy(crops).to(device)
        masks = noisy_soft_masks(lab, cfg['num_classes'], cfg['noise_std'],
                                 cfg['logit_scale'], ignore_index, gen)
        logits = net(masks).pre_act[-1]
        if bool((target != ignore_index).any()):
            return F.cross_entropy(logits, target, ignore_index=ignore_index)
        return logits.sum() * 0  # all ignored: keep the graph, add nothing

    epochs = []

    def on_epoch(done: int, mean: float) -> None:
        epochs.append(mean)
        log(f'edge-net epoch {len(epochs)}/{cfg["max_epochs"]}: '
            f'loss {mean:.4f} ({done}/{total} steps, '
            f'{time.time() - t0:.0f}s)')

    losses = train_aux_net(
        net,
        batch_loss,
        total,
        cfg['lr'],
        cfg['weight_decay'],
        steps_per_epoch,
        on_epoch,
        desc='edge-net pretraining',
        quiet=quiet)
    step = len(losses)
    last = epochs[-1] if epochs else float('nan')
    report = dict(
        settings=cfg,
        recipe=PRETRAIN_RECIPE_VERSION,
        num_train=int(num_train),
        steps=step,
        final_train_loss=last,
        seconds=round(time.time() - t0, 1))
    if val_labels is not None:
        report['val_clean'] = evaluate_edge_net(
            net, val_labels, ignore_index, device=device)
        report['val_noisy'] = evaluate_edge_net(
            net,
            val_labels,
            ignore_index,
            noise_std=cfg['noise_std'],
            logit_scale=cfg['logit_scale'],
            seed=cfg['seed'],
            device=device)
        report['num_val'] = len(val_labels)
        log('edge-net val (clean GT): ' +
            ', '.join(f'{k} {report["val_clean"][k]:.4f}'
                      for k in ('precision', 'recall', 'f1')))
    return net, report


#: Least clean-GT validation edge F1 of a usable edge net (the stored tiny
#: config reaches 0.99; a net that predicts no edge has 0).
EDGE_NET_MIN_F1 = 0.5


def edge_net_self_check(report: Dict) -> Optional[List[str]]:
    """What makes the pretrained edge net of ``report`` unusable.

    The check: edge F1 on clean one-hot validation GT (``val_clean``) of at
    least :data:`EDGE_NET_MIN_F1`.

    Args:
        report (dict): The pretraining report (see
            :func:`pretrain_semantic_edge_net`).

    Returns:
        list[str] | None: Each failure with its measured values and bound
        (empty: passed); None when the report has no validation part (no
        validation data: nothing was measured).
    """
    val = report.get('val_clean')
    if val is None:
        return None
    if val['f1'] >= EDGE_NET_MIN_F1:
        return []
    return [
        f'validation edge F1 on clean GT {val["f1"]:.4f} < '
        f'{EDGE_NET_MIN_F1} (precision {val["precision"]:.4f}, recall '
        f'{val["recall"]:.4f}, TP {val["tp"]}, FP {val["fp"]}, FN '
        f'{val["fn"]})'
    ]


def edge_net_state(net: SemanticEdgeNet, report: Dict) -> Dict:
    """Checkpoint content written for a pretrained edge net: a plain
    tensor ``state_dict`` and JSON-able ``meta`` (loadable with
    ``weights_only=True``)."""
    return dict(
        state_dict={
            k: v.detach().cpu()
            for k, v in net.state_dict().items()
        },
        meta=dict(
            num_classes=net.num_classes,
            kernel_size=net.kernel_size,
            channels=list(net.channels),
            report_json=json.dumps(report, default=list)))


def save_edge_net(net: SemanticEdgeNet, report: Dict, out_dir: str,
                  name: str) -> Tuple[str, str]:
    """Write ``<name>-<sha256[:8]>.pth`` and the JSON report next to it.

    Written atomically by
    :func:`~mmboundary.models.pretraining.shared.save_aux_net`.

    Returns:
        tuple[str, str]: Paths of the checkpoint and of the JSON.
    """
    return save_aux_net(edge_net_state(net, report), report, out_dir, name)


def load_edge_net_state(path: str,
                        num_classes: int,
                        kernel_size: int = 3) -> Dict[str, torch.Tensor]:
    """Load and verify an edge-net checkpoint; return its state dict.

    Accepts the files written by :func:`save_edge_net` (``state_dict`` +
    ``meta``) or a bare state dict. Loading is weights-only
    (:func:`mmboundary.utils.load_checkpoint_safely`); keys and shapes must
    match a ``SemanticEdgeNet(num_classes, kernel_size=kernel_size)``
    exactly.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: class count, kernel size, keys or shapes differ; the
            message names both values.
    """

    def check(state: Dict[str, torch.Tensor], meta: Dict) -> None:
        w0 = state.get('convs.0.weight')
        if w0 is not None and w0.dim() == 4 and w0.shape[1] != num_classes:
            raise ValueError(
                f'edge_net_checkpoint={path!r} was trained for {w0.shape[1]} '
                f'classes but num_classes={num_classes}; pretrain an edge '
                'net for this dataset.')
        if w0 is not None and w0.dim() == 4 and w0.shape[-1] != kernel_size:
            raise ValueError(f'edge_net_checkpoint={path!r} has kernel size '
                             f'{w0.shape[-1]} but kernel_size={kernel_size}.')

    ref = SemanticEdgeNet(num_classes, kernel_size=kernel_size).state_dict()
    state, _ = load_aux_net_state(
        path,
        ref,
        option='edge_net_checkpoint',
        described_as=f'SemanticEdgeNet(num_classes={num_classes}, '
        f'kernel_size={kernel_size})',
        how_to_get='Pretrain one with `python tools/misc/train_edge_net.py '
        'CONFIG` or set edge_net_checkpoint=None and add EdgeNetPretrainHook '
        'to custom_hooks.',
        check=check)
    return state


__all__: List[str] = [
    'noisy_soft_masks', 'pretrain_semantic_edge_net', 'evaluate_edge_net',
    'save_edge_net', 'load_edge_net_state', 'edge_net_state',
    'pretrain_cache_key', 'settings_with_defaults',
    'DEFAULT_PRETRAIN_SETTINGS', 'PRETRAIN_RECIPE_VERSION', 'EDGE_NET_MIN_F1',
    'edge_net_self_check'
]
