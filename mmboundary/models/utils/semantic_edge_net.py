# Copyright (c) mmboundary contributors. All rights reserved.
"""SEMEDA's semantic edge network g_phi and its pretraining core.

Chen, Dapogny and Cord, "SEMEDA: Enhancing segmentation precision with
semantic edge aware loss", Pattern Recognition 2020 (Sec. 3.2, Algorithm 1).

* :class:`SemanticEdgeNet` maps a C-channel mask to a 2-class edge map with
  L = 3 convolutions C -> 16 -> 32 -> 2 (ReLU, ReLU, softmax) and exposes the
  embeddings psi^1..psi^3 before and after their activation (eq. 6 matches
  them).
* :func:`edge_target` is the in-loss (torch) version of the 8-neighbour edge
  target E* (Sec. 3.3: "pixels that do not have 8 identical labeled neighbour
  pixels").
* :func:`pretrain_semantic_edge_net` is the first loop of Algorithm 1 (eq. 4).
  ``tools/misc/train_edge_net.py`` and
  :class:`mmboundary.engine.hooks.EdgeNetPretrainHook` both call it.
"""
import hashlib
import io
import json
import math
import os
import os.path as osp
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Version of the pretraining recipe; part of the cache key.
PRETRAIN_RECIPE_VERSION = 1


class EdgeNetOutput(NamedTuple):
    """What :meth:`SemanticEdgeNet.forward` returns.

    Attributes:
        pre_act (tuple[Tensor]): psi^1, psi^2, psi^3 before their activation,
            shapes (N, 16, H, W), (N, 32, H, W), (N, 2, H, W); psi^3 is the
            edge logits.
        post_act (tuple[Tensor]): the same after the activation: ReLU(psi^1),
            ReLU(psi^2) and softmax(psi^3) (the last layer has no ReLU; its
            activation is the softmax, Sec. 3.2).
        probs (Tensor | None): (N, 2, H, W) edge probabilities
            E-hat = softmax(psi^3), channel 1 is "edge"; None when the
            forward stopped before the last layer.
    """
    pre_act: Tuple[torch.Tensor, ...]
    post_act: Tuple[torch.Tensor, ...]
    probs: Optional[torch.Tensor]


class SemanticEdgeNet(nn.Module):
    """The semantic edge network g_phi of SEMEDA (Sec. 3.2, eq. 2).

    (N, C, H, W) class probabilities -> (N, 2, H, W) edge probabilities, with
    three ``kernel_size`` convolutions C -> 16 -> 32 -> 2, ReLU after the
    first two and a softmax at the end. Spatial size is kept: each conv pads
    ``kernel_size // 2`` pixels with ``padding_mode`` ('replicate' by default,
    so the image border looks like a continuation of the mask and is not an
    edge, as for the 8-neighbour target where outside pixels do not count).

    Args:
        num_classes (int): C, the number of semantic classes of the masks.
        channels (Sequence[int]): Widths of the two hidden layers.
            Defaults to (16, 32) as in the paper.
        kernel_size (int): Odd kernel size of every conv. Defaults to 3.
        padding_mode (str): Padding of every conv. Defaults to 'replicate'.

    Example:
        >>> net = SemanticEdgeNet(num_classes=19)
        >>> out = net(torch.rand(2, 19, 32, 48).softmax(dim=1))
        >>> [tuple(t.shape) for t in out.pre_act]
        [(2, 16, 32, 48), (2, 32, 32, 48), (2, 2, 32, 48)]
    """

    def __init__(self,
                 num_classes: int,
                 channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3,
                 padding_mode: str = 'replicate') -> None:
        super().__init__()
        if int(num_classes) < 2:
            raise ValueError('SemanticEdgeNet: num_classes must be >= 2, got '
                             f'{num_classes}.')
        if kernel_size % 2 != 1 or kernel_size < 1:
            raise ValueError('SemanticEdgeNet: kernel_size must be a positive '
                             f'odd number, got {kernel_size}.')
        if len(channels) != 2:
            raise ValueError('SemanticEdgeNet: channels must give the two '
                             f'hidden widths (L = 3 layers), got {channels}.')
        self.num_classes = int(num_classes)
        self.channels = tuple(int(c) for c in channels)
        self.kernel_size = int(kernel_size)
        self.padding_mode = padding_mode
        widths = (self.num_classes, *self.channels, 2)
        self.convs = nn.ModuleList(
            nn.Conv2d(
                widths[i],
                widths[i + 1],
                self.kernel_size,
                padding=self.kernel_size // 2,
                padding_mode=padding_mode) for i in range(3))
        # 1 once real weights were loaded or pretrained; lives inside the
        # training-only sub-tree, so it is dropped with the weights.
        self.register_buffer('pretrained', torch.zeros((), dtype=torch.uint8))

    @property
    def receptive_radius(self) -> int:
        """Pixels an output depends on, on each side: L * (k // 2)."""
        return len(self.convs) * (self.kernel_size // 2)

    def forward(self,
                masks: torch.Tensor,
                num_layers: Optional[int] = None) -> EdgeNetOutput:
        """Run g_phi and keep every embedding.

        Args:
            masks (Tensor): (N, C, H, W) class probabilities (softmax of a
                segmentor's logits, or a one-hot GT mask).
            num_layers (int, optional): Stop after this many layers (1..3);
                the loss uses it to skip layers whose weight is 0. None runs
                all three.

        Returns:
            EdgeNetOutput: psi^1..psi^k before and after their activation
            (k = ``num_layers``) and the (N, 2, H, W) edge probabilities
            (None unless all three layers ran).
        """
        if masks.dim() != 4 or masks.shape[1] != self.num_classes:
            raise ValueError(
                'SemanticEdgeNet expects (N, C, H, W) masks with C = '
                f'num_classes = {self.num_classes}, got shape '
                f'{tuple(masks.shape)}.')
        depth = len(self.convs) if num_layers is None else int(num_layers)
        if not 1 <= depth <= len(self.convs):
            raise ValueError(f'num_layers must be in [1, {len(self.convs)}],'
                             f' got {num_layers}.')
        pre, post = [], []
        # NHWC runs these narrow convs 1.5-2x faster on CPU (oneDNN); the
        # gradient reaching the caller stays NCHW (softmax's backward).
        x = masks.contiguous(memory_format=torch.channels_last)
        for i, conv in enumerate(self.convs[:depth]):
            x = conv(x)
            pre.append(x)
            if i < len(self.convs) - 1:
                x = F.relu(x)
                post.append(x)
        probs = None
        if depth == len(self.convs):
            probs = pre[-1].softmax(dim=1)
            post.append(probs)
        return EdgeNetOutput(tuple(pre), tuple(post), probs)


def edge_target(label: torch.Tensor,
                ignore_index: int = 255,
                ignore_radius: int = 1) -> torch.Tensor:
    """8-neighbour semantic edge target E* (SEMEDA Sec. 3.3), in torch.

    A pixel is an edge (1) if one of its 8 neighbours inside the image has
    another label, else 0. Pixels closer than ``ignore_radius`` (Chebyshev
    distance) to an ignore pixel, and ignore pixels, get ``ignore_index``:
    the ignore label neither creates nor hides an edge. Away from ignore
    regions this equals :func:`mmboundary.datasets.transforms.
    semantic_edge_map` (``connectivity=8, width=1``); the test checks it.

    Args:
        label (Tensor): (N, H, W) integer labels.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        ignore_radius (int): Pixels within this distance of an ignore pixel
            are ignored in the target; >= 1 (the 3x3 window). Pretraining
            uses the edge net's receptive radius. Defaults to 1.

    Returns:
        Tensor: (N, H, W) long, values in {0, 1, ignore_index}.
    """
    if label.dim() != 3:
        raise ValueError('edge_target expects (N, H, W) labels, got shape '
                         f'{tuple(label.shape)}.')
    lab = label.long()
    ignore = lab == ignore_index
    x = lab.float().unsqueeze(1)
    # Neighbours outside the image do not count: replicate the border.
    xp = F.pad(x, (1, 1, 1, 1), mode='replicate')
    # Labels are small integers, so max != min over the 3x3 window <=> some
    # neighbour differs (ignore pixels are handled below).
    wmax = F.max_pool2d(xp, 3, stride=1)
    wmin = -F.max_pool2d(-xp, 3, stride=1)
    edge = (wmax != wmin).squeeze(1).long()
    radius = max(int(ignore_radius), 1)
    near_ignore = F.max_pool2d(
        ignore.float().unsqueeze(1), 2 * radius + 1, stride=1,
        padding=radius).squeeze(1) > 0
    return edge.masked_fill(near_ignore, ignore_index)


def one_hot_masks(label: torch.Tensor,
                  num_classes: int,
                  ignore_index: int = 255,
                  ignore_fill: Optional[float] = None) -> torch.Tensor:
    """One-hot encode labels; ignore pixels get ``ignore_fill`` everywhere.

    Args:
        label (Tensor): (N, H, W) integer labels.
        num_classes (int): C.
        ignore_index (int): Ignored label. Defaults to 255.
        ignore_fill (float, optional): Value of every channel at ignore
            pixels; None means 1 / C (the uniform distribution).

    Returns:
        Tensor: (N, C, H, W) float masks.
    """
    lab = label.long()
    ignore = lab == ignore_index
    bad = (~ignore) & ((lab < 0) | (lab >= num_classes))
    if bool(bad.any()):
        raise ValueError(
            f'Labels must lie in [0, {num_classes}) or equal ignore_index='
            f'{ignore_index}; found {int(lab[bad][0])}. Check num_classes.')
    onehot = F.one_hot(lab.masked_fill(ignore, 0), num_classes)
    onehot = onehot.permute(0, 3, 1, 2).float()
    fill = 1.0 / num_classes if ignore_fill is None else float(ignore_fill)
    return onehot.masked_fill(ignore.unsqueeze(1), fill)


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


# --------------------------------------------------------------------------
# Pretraining (Algorithm 1, first loop)
# --------------------------------------------------------------------------

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
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(DEFAULT_PRETRAIN_SETTINGS))
    if unknown:
        raise KeyError(f'Unknown edge-net pretraining setting(s) {unknown}; '
                       f'known: {sorted(DEFAULT_PRETRAIN_SETTINGS)}.')
    out = dict(DEFAULT_PRETRAIN_SETTINGS)
    out.update(settings)
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
    blob = json.dumps(
        dict(
            recipe=PRETRAIN_RECIPE_VERSION,
            settings=settings_with_defaults(settings),
            train=train_fingerprint,
            val=val_fingerprint),
        sort_keys=True,
        default=list)
    return hashlib.sha256(blob.encode()).hexdigest()


def files_fingerprint(paths: Sequence[str]) -> str:
    """sha256 over the sorted paths with their sizes and mtimes (cheap:
    nothing is read)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        st = os.stat(path)
        h.update(f'{path}\t{st.st_size}\t{int(st.st_mtime)}\n'.encode())
    return h.hexdigest()


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
    from mmboundary.datasets.transforms.boundary import semantic_edge_map
    edges = np.stack([
        np.asarray(
            semantic_edge_map(
                lab, ignore_index=ignore_index, connectivity=8, width=1))
        for lab in labels
    ]).astype(np.int64)
    # ignore pixels (ignore_index in ``edges``) are inside ``near`` below
    target = torch.from_numpy(edges).clamp_(0, 1)
    ignore = torch.from_numpy(labels == ignore_index).float().unsqueeze(1)
    near = F.max_pool2d(
        ignore, 2 * radius + 1, stride=1, padding=radius).squeeze(1) > 0
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
    log: Optional[Callable[[str],
                           None]] = None) -> Tuple[SemanticEdgeNet, Dict]:
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
        log (callable, optional): Receives progress lines.

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
    dev = torch.device(device)
    # Seeded, without touching the caller's global RNG streams (the hook
    # runs this inside segmentor training).
    with torch.random.fork_rng(
            devices=[dev.index or 0] if dev.type == 'cuda' else []):
        return _pretrain(cfg, train_labels, num_train, val_labels, device, log)


def _pretrain(cfg: Dict, train_labels: Callable[[int],
                                                np.ndarray], num_train: int,
              val_labels: Optional[Sequence[np.ndarray]], device: str,
              log: Callable[[str], None]) -> Tuple[SemanticEdgeNet, Dict]:
    torch.manual_seed(cfg['seed'])
    rng = np.random.default_rng(cfg['seed'])
    gen = torch.Generator(device=device).manual_seed(cfg['seed'])
    net = SemanticEdgeNet(
        cfg['num_classes'], kernel_size=cfg['kernel_size']).to(device)
    net.train()
    radius = net.receptive_radius
    optim = torch.optim.Adam(
        net.parameters(), lr=cfg['lr'], weight_decay=cfg['weight_decay'])
    order = np.repeat(np.arange(num_train), cfg['crops_per_image'])
    steps_per_epoch = math.ceil(len(order) / cfg['batch_size'])
    total = steps_per_epoch * cfg['max_epochs']
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, total)
    ignore_index = cfg['ignore_index']
    step, t0, last = 0, time.time(), float('nan')
    for epoch in range(cfg['max_epochs']):
        rng.shuffle(order)
        running, count = 0.0, 0
        for b in range(steps_per_epoch):
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
                loss = F.cross_entropy(
                    logits, target, ignore_index=ignore_index)
            else:  # all ignored: keep the graph, contribute nothing
                loss = logits.sum() * 0
            optim.zero_grad()
            loss.backward()
            optim.step()
            sched.step()
            step += 1
            running += float(loss.detach())
            count += 1
        last = running / max(count, 1)
        log(f'edge-net epoch {epoch + 1}/{cfg["max_epochs"]}: '
            f'loss {last:.4f} ({step}/{total} steps, '
            f'{time.time() - t0:.0f}s)')
    net.eval()
    net.pretrained.fill_(1)
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

    The file is written atomically (temp file + rename), so a concurrent
    reader never sees a partial checkpoint.

    Returns:
        tuple[str, str]: Paths of the checkpoint and of the JSON.
    """
    os.makedirs(out_dir, exist_ok=True)
    buf = io.BytesIO()
    torch.save(edge_net_state(net, report), buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    path = osp.join(out_dir, f'{name}-{digest[:8]}.pth')
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
    json_path = path[:-len('.pth')] + '.json'
    report = dict(report, checkpoint=osp.basename(path), sha256=digest)
    with open(json_path + f'.tmp{os.getpid()}', 'w') as f:
        json.dump(report, f, indent=2, default=list)
    os.replace(json_path + f'.tmp{os.getpid()}', json_path)
    return path, json_path


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
    from mmboundary.utils import load_checkpoint_safely
    if not path or not osp.isfile(osp.expanduser(path)):
        raise FileNotFoundError(
            f'edge_net_checkpoint={path!r} does not exist. Pretrain one with '
            '`python tools/misc/train_edge_net.py CONFIG` or set '
            'edge_net_checkpoint=None and add EdgeNetPretrainHook to '
            'custom_hooks.')
    ckpt = load_checkpoint_safely(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'edge_net_checkpoint={path!r} holds no state dict.')
    state = {
        k[len('net.'):] if k.startswith('net.') else k: v
        for k, v in state.items() if k != 'training_only'
    }
    w0 = state.get('convs.0.weight')
    if w0 is not None and w0.dim() == 4 and w0.shape[1] != num_classes:
        raise ValueError(
            f'edge_net_checkpoint={path!r} was trained for {w0.shape[1]} '
            f'classes but num_classes={num_classes}; pretrain an edge net '
            'for this dataset.')
    if w0 is not None and w0.dim() == 4 and w0.shape[-1] != kernel_size:
        raise ValueError(
            f'edge_net_checkpoint={path!r} has kernel size {w0.shape[-1]} '
            f'but kernel_size={kernel_size}.')
    ref = SemanticEdgeNet(num_classes, kernel_size=kernel_size).state_dict()
    missing = sorted(set(ref) - set(state))
    unexpected = sorted(set(state) - set(ref))
    if missing or unexpected:
        raise ValueError(
            f'edge_net_checkpoint={path!r} does not match SemanticEdgeNet('
            f'num_classes={num_classes}, kernel_size={kernel_size}): '
            f'missing keys {missing}, unexpected keys {unexpected}.')
    for key, val in ref.items():
        if tuple(state[key].shape) != tuple(val.shape):
            raise ValueError(
                f'edge_net_checkpoint={path!r}: {key} has shape '
                f'{tuple(state[key].shape)}, expected {tuple(val.shape)}.')
    out = {k: state[k].clone() for k in ref}
    out['pretrained'] = torch.ones((), dtype=torch.uint8)
    return out


__all__: List[str] = [
    'SemanticEdgeNet', 'EdgeNetOutput', 'edge_target', 'one_hot_masks',
    'noisy_soft_masks', 'pretrain_semantic_edge_net', 'evaluate_edge_net',
    'save_edge_net', 'load_edge_net_state', 'edge_net_state',
    'pretrain_cache_key', 'files_fingerprint', 'settings_with_defaults',
    'DEFAULT_PRETRAIN_SETTINGS'
]
