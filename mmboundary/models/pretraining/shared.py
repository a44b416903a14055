# Copyright (c) mmboundary contributors. All rights reserved.
"""What every frozen auxiliary net pretrained on a dataset's labels shares.

SEMEDA's semantic edge net and InverseForm's InverseNet are both trained on
the training set's ground-truth label maps before segmentor training, then
frozen (:class:`~mmboundary.models.utils.FrozenAuxNet`). This module holds
the net-agnostic half of that mechanism, used by both recipes
(:mod:`.edge_net`, :mod:`.inverse_net`):

* :func:`files_fingerprint` and :func:`settings_cache_key`: the cache key
  (sha256 of recipe version, settings, the label files' paths, sizes and
  modification times, and the data version of a generated dataset);
* :func:`save_aux_net`: atomic ``<name>-<sha256[:8]>.pth`` + JSON report;
* :func:`load_aux_net_state`: weights-only, verified load (exact keys and
  shapes, ``module.`` / ``net.`` prefixes stripped, a caller check of the
  meta data), returning a state dict with ``pretrained = 1``;
* :func:`isolated_rng`: seeded pretraining that leaves the caller's global
  RNG streams untouched;
* :func:`train_aux_net`: the optimisation loop (Adam, cosine-decayed
  learning rate, windowed loss lines, a progress bar with an ETA); each net
  supplies only its batch loss;
* :func:`gate_self_check`: a net whose report fails its recipe's self-check
  is refused unless the user accepts it.

The dataset and config readers, the hooks (rank 0 / barrier / cache lookup)
and the tools' command line live in :mod:`mmboundary.engine.pretraining` and
:mod:`mmboundary.engine.hooks`, which import this module (never the other
way round).
"""
import contextlib
import hashlib
import io
import json
import os
import os.path as osp
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from mmboundary.datasets.synthetic_cityscapes import data_versions
from mmboundary.utils.checkpoint import load_checkpoint_safely
from mmboundary.utils.cli import UserError
from mmboundary.utils.progress import Progress

__all__ = [
    'complete_settings', 'check_setting_types', 'files_fingerprint',
    'settings_cache_key', 'save_aux_net', 'load_aux_net_state', 'isolated_rng',
    'train_aux_net', 'FailedSelfCheck', 'gate_self_check', 'read_report'
]


def complete_settings(defaults: Dict, settings: Optional[Dict],
                      what: str) -> Dict:
    """``defaults`` updated with ``settings``; unknown keys raise KeyError
    naming them and the known ones (a typo would otherwise be ignored)."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(defaults))
    if unknown:
        raise KeyError(f'Unknown {what} setting(s) {unknown}; known: '
                       f'{sorted(defaults)}.')
    return dict(defaults, **settings)


def check_setting_types(
    defaults: Dict,
    settings: Dict,
    owner: str,
    count_keys: Sequence[str] = (),
    scalar_ok: Sequence[str] = ()
) -> None:
    """Check each given setting against the kind of its default.

    A tuple default takes a list or tuple (or, for keys in ``scalar_ok``, an
    int); a float default any number; an int default an int; a str default
    a str. Numbers must be >= 1 for keys in ``count_keys`` and >= 0
    otherwise. Keys not in ``defaults`` are left to :func:`complete_settings`.

    Raises:
        TypeError: a value of the wrong kind (bools are never numbers).
        ValueError: a number below its bound.
    """
    for key, value in settings.items():
        if key not in defaults:
            continue
        default = defaults[key]
        if isinstance(default, tuple):
            ok = isinstance(value,
                            (tuple, list)) or (key in scalar_ok
                                               and isinstance(value, int))
        elif isinstance(default, str):
            ok = isinstance(value, str)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float))
        else:
            ok = isinstance(value, int)
        if isinstance(value, bool) or not ok:
            raise TypeError(f"{owner}: `settings['{key}']` must be like the "
                            f'default {default!r}, got {value!r}')
        low = 1 if key in count_keys else 0
        if isinstance(value, (int, float)) and value < low:
            raise ValueError(f"{owner}: `settings['{key}']` must be >= "
                             f'{low}, got {value!r}')


def files_fingerprint(paths: Sequence[str]) -> str:
    """sha256 over the sorted paths with their sizes and modification times
    in nanoseconds (cheap: nothing is read), and over the data version of
    every synthetic root that holds them
    (:func:`~mmboundary.datasets.synthetic_cityscapes.data_versions`). A
    label file rewritten in place changes its size or its mtime, a dataset
    of another generator version its version, hence the fingerprint."""
    h = hashlib.sha256()
    for path in sorted(paths):
        st = os.stat(path)
        h.update(f'{path}\t{st.st_size}\t{st.st_mtime_ns}\n'.encode())
    versions = data_versions(paths)
    if versions:  # real data: the fingerprint of the files alone
        h.update(f'data version\t{versions}\n'.encode())
    return h.hexdigest()


def settings_cache_key(recipe: int,
                       settings: Dict,
                       train_fingerprint: str,
                       val_fingerprint: str = '') -> str:
    """sha256 of ``recipe`` (version), the complete ``settings`` and the
    dataset fingerprints, as hex. Tuples and lists hash alike."""
    blob = json.dumps(
        dict(
            recipe=recipe,
            settings=settings,
            train=train_fingerprint,
            val=val_fingerprint),
        sort_keys=True,
        default=list)
    return hashlib.sha256(blob.encode()).hexdigest()


def save_aux_net(content: Dict, report: Dict, out_dir: str,
                 name: str) -> Tuple[str, str]:
    """Write ``<out_dir>/<name>-<sha256[:8]>.pth`` and its JSON report.

    Both files are written atomically (temp file + rename), so a concurrent
    reader (another rank) never sees a partial file. The JSON holds
    ``report`` plus ``checkpoint`` (file name) and ``sha256``.

    Args:
        content (dict): What to save: plain tensors and JSON-able values
            (``state_dict`` + ``meta``), loadable with ``weights_only``.
        report (dict): JSON-able report.
        out_dir (str): Output folder (created).
        name (str): File stem.

    Returns:
        tuple[str, str]: Paths of the checkpoint and of the JSON.
    """
    os.makedirs(out_dir, exist_ok=True)
    buf = io.BytesIO()
    torch.save(content, buf)
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


def load_aux_net_state(
    path: str,
    reference: Dict[str, torch.Tensor],
    option: str,
    described_as: str,
    how_to_get: str,
    check: Optional[Callable[[Dict[str, torch.Tensor], Dict], None]] = None,
    prefixes: Sequence[str] = ('module.', 'net.')
) -> Tuple[Dict[str, torch.Tensor], Dict]:
    """Load and verify a frozen auxiliary net's checkpoint.

    1. weights-only load (:func:`mmboundary.utils.load_checkpoint_safely`);
    2. the state dict is ``ckpt['state_dict']`` or the file itself; the
       ``prefixes`` and :class:`FrozenAuxNet`'s marker are stripped;
    3. ``check(state, meta)`` raises for a net of another kind (class count,
       tile size, transformation family ...);
    4. keys and shapes must equal ``reference``'s exactly.

    Args:
        path (str): Checkpoint path.
        reference (dict): State dict of a freshly built net of the expected
            configuration.
        option (str): Config option that named the file (for messages).
        described_as (str): The expected net, e.g. ``'InverseNet(...)'``.
        how_to_get (str): Sentence telling how to make a checkpoint.
        check (callable, optional): Extra verification.
        prefixes (Sequence[str]): Key prefixes to strip.

    Returns:
        tuple[dict, dict]: The verified state dict (``pretrained`` set to 1
        when the net has that buffer) and the checkpoint's ``meta`` ({} for a
        bare state dict).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: keys, shapes or ``check`` disagree; the message names
            both values.
    """
    if not path or not osp.isfile(osp.expanduser(path)):
        raise FileNotFoundError(f'{option}={path!r} does not exist. '
                                f'{how_to_get}')
    ckpt = load_checkpoint_safely(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{option}={path!r} holds no state dict.')
    meta = ckpt.get('meta', {}) if 'state_dict' in ckpt else {}
    meta = meta if isinstance(meta, dict) else {}
    stripped = {}
    for key, val in state.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        if key != 'training_only':
            stripped[key] = val
    if check is not None:
        check(stripped, meta)
    missing = sorted(set(reference) - set(stripped))
    unexpected = sorted(set(stripped) - set(reference))
    if missing or unexpected:
        raise ValueError(
            f'{option}={path!r} does not match {described_as}: missing keys '
            f'{missing}, unexpected keys {unexpected}.')
    for key, val in reference.items():
        if tuple(stripped[key].shape) != tuple(val.shape):
            raise ValueError(
                f'{option}={path!r}: {key} has shape '
                f'{tuple(stripped[key].shape)}, expected {tuple(val.shape)}.')
    out = {k: stripped[k].clone() for k in reference}
    if 'pretrained' in out:
        out['pretrained'] = torch.ones((), dtype=torch.uint8)
    return out, meta


@contextlib.contextmanager
def isolated_rng(device: str = 'cpu', seed: int = 0) -> Iterator[None]:
    """Seed torch's global RNG inside, restore the caller's streams after
    (pretraining runs inside segmentor training)."""
    dev = torch.device(device)
    with torch.random.fork_rng(
            devices=[dev.index or 0] if dev.type == 'cuda' else []):
        torch.manual_seed(seed)
        yield


def train_aux_net(net: torch.nn.Module,
                  batch_loss: Callable[[int], torch.Tensor],
                  steps: int,
                  lr: float,
                  weight_decay: float,
                  log_every: int,
                  on_window: Optional[Callable[[int, float], None]] = None,
                  desc: str = 'pretraining',
                  quiet: bool = False) -> List[float]:
    """Pretrain a frozen auxiliary net: the loop both nets share.

    ``steps`` Adam steps (``lr``, ``weight_decay``) under a cosine-decayed
    learning rate (``CosineAnnealingLR`` over ``steps``), each on the loss
    ``batch_loss(step)`` returns; then the net is put in eval mode and its
    ``pretrained`` flag (if it has one) is set. Progress with an ETA goes
    through :class:`mmboundary.utils.progress.Progress` (a bar in a
    terminal, sparse lines in a log, nothing with ``quiet``).

    Args:
        net (nn.Module): The net, on its device.
        batch_loss (callable): ``step -> scalar loss`` of one batch (draws
            its own batch, so its random streams stay the caller's).
        steps (int): Number of optimiser steps.
        lr (float): Adam learning rate.
        weight_decay (float): Adam weight decay.
        log_every (int): Window length, >= 1: after every ``log_every``
            steps, ``on_window(steps_done, mean loss of the window)``.
        on_window (callable, optional): Loss callback.
        desc (str): Name of the progress bar.
        quiet (bool): No progress output (``on_window`` is still called).

    Returns:
        list[float]: The loss of every step.
    """
    net.train()
    optim = torch.optim.Adam(
        net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, max(steps, 1))
    losses: List[float] = []
    progress = Progress(steps, desc=desc, quiet=quiet)
    try:
        for step in range(steps):
            loss = batch_loss(step)
            optim.zero_grad()
            loss.backward()
            optim.step()
            sched.step()
            losses.append(float(loss.detach()))
            progress.update()
            if (step + 1) % log_every == 0 and on_window is not None:
                window = 0.0
                for value in losses[-log_every:]:  # plain running sum
                    window += value
                on_window(step + 1, window / log_every)
    finally:
        progress.close()
    net.eval()
    if hasattr(net, 'pretrained'):
        net.pretrained.fill_(1)
    return losses


class FailedSelfCheck(UserError):
    """A pretrained auxiliary net failed its recipe's self-check and was not
    accepted (the message gives the measured values and the option that
    accepts the net anyway)."""


def read_report(checkpoint: str) -> Dict:
    """The JSON report written next to ``checkpoint`` by
    :func:`save_aux_net` (``<stem>.json`` for ``<stem>.pth``).

    Raises:
        FileNotFoundError: naming the missing report and what to do.
    """
    json_path = osp.splitext(checkpoint)[0] + '.json'
    if not osp.isfile(json_path):
        raise FileNotFoundError(
            f'{json_path} (the report of {checkpoint}) does not exist, so '
            "the net's self-check cannot be read")
    with open(json_path) as f:
        return json.load(f)


def gate_self_check(failures: Sequence[str],
                    what: str,
                    accept: bool,
                    accept_option: str,
                    warn: Optional[Callable[[str], None]] = None) -> None:
    """Refuse a net whose self-check failed, unless it is accepted.

    Args:
        failures (Sequence[str]): What the recipe's check found wrong, each
            with its measured value and its bound; empty: the net passed.
        what (str): The net, e.g. ``'SEMEDA edge net work_dirs/x.pth'``.
        accept (bool): Use the net anyway (``warn`` is called instead).
        accept_option (str): The option that sets ``accept``, for the
            message, e.g. ``'accept_failed_check=True on the hook'``.
        warn (callable, optional): Receives the warning of an accepted net.

    Raises:
        FailedSelfCheck: the net failed and ``accept`` is False.
    """
    if not failures:
        return
    msg = f'{what} fails its self-check: {"; ".join(failures)}.'
    if accept:
        if warn is not None:
            warn(f'{msg} Used anyway ({accept_option}).')
        return
    raise FailedSelfCheck(
        f'{msg} Pretrain it longer or on more data (see its settings), or '
        f'use it anyway with {accept_option}.')
