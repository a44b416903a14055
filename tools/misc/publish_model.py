# Copyright (c) mmboundary contributors. All rights reserved.
"""Turn a training checkpoint into a model-zoo checkpoint.

    python tools/misc/publish_model.py IN.pth OUT.pth

* keeps only ``meta`` and ``state_dict`` (optimizer, param schedulers and
  message-hub state are dropped);
* drops the weights of frozen auxiliary networks the model marks as
  training-only (see :class:`mmboundary.models.utils.FrozenAuxNet`);
* converts numpy scalars in ``meta`` to Python numbers, so the result loads
  with plain ``torch.load(weights_only=True)``;
* hashes the written file and names it ``<stem>-<sha256[:8]>.pth`` (stem from
  ``os.path.splitext(OUT)``), and prints that name.

A missing, unreadable or unsafe input checkpoint ends in one line naming it
(``--debug`` or ``MMB_DEBUG=1``: the traceback).
"""
import hashlib
import os
import os.path as osp
from collections import OrderedDict

import numpy as np
import torch

from mmboundary.models.utils import (TRAINING_ONLY_MARKER,
                                     training_only_prefixes)
from mmboundary.utils import UnsafeCheckpointError, load_checkpoint_safely
from mmboundary.utils.cli import UserError, run_cli, strict_parser


def parse_args(argv=None):
    parser = strict_parser(description='Prepare a checkpoint for publishing')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument('out_file', help='output checkpoint filename')
    parser.add_argument(
        '--keep-training-only',
        action='store_true',
        help='keep the weights of frozen auxiliary (training-only) networks')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an input error')
    return parser.parse_args(argv)


def _to_builtin(obj):
    """Recursively turn numpy scalars/arrays into Python objects."""
    if isinstance(obj, dict):
        return type(obj)((k, _to_builtin(v)) for k, v in obj.items()) \
            if isinstance(obj, OrderedDict) else \
            {k: _to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_builtin(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def strip_checkpoint(checkpoint: dict, keep_training_only=False) -> dict:
    """Return the publishable subset of a training checkpoint.

    Args:
        checkpoint (dict): As written by mmengine's ``Runner``.
        keep_training_only (bool): Keep frozen auxiliary-net weights.

    Returns:
        dict: ``{'meta': ..., 'state_dict': ...}``.
    """
    if 'state_dict' not in checkpoint:
        raise KeyError("The input checkpoint has no 'state_dict' entry; is "
                       'it an mmengine training checkpoint?')
    state_dict = checkpoint['state_dict']
    if not keep_training_only:
        prefixes = training_only_prefixes(state_dict)
        state_dict = OrderedDict(
            (k, v) for k, v in state_dict.items() if not any(
                k.startswith(p)
                for p in prefixes) and not k.endswith(TRAINING_ONLY_MARKER))
    meta = _to_builtin(checkpoint.get('meta', {}))
    return {'meta': meta, 'state_dict': state_dict}


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def publish(in_file: str, out_file: str, keep_training_only=False) -> str:
    """Write the published checkpoint; return its final path."""
    checkpoint = load_checkpoint_safely(in_file, map_location='cpu')
    published = strip_checkpoint(checkpoint, keep_training_only)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.splitext(out_file)[0]
    tmp = stem + '.tmp.pth'
    torch.save(published, tmp)
    # The published file must load with the stock weights-only unpickler.
    torch.load(tmp, map_location='cpu', weights_only=True)
    final = f'{stem}-{sha256_of(tmp)[:8]}.pth'
    os.replace(tmp, final)
    return final


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.in_file):
        raise UserError(
            f'input checkpoint {args.in_file} does not exist; pass a .pth '
            'written by tools/train.py (work_dirs/<config>/iter_*.pth)')
    try:
        final = publish(args.in_file, args.out_file, args.keep_training_only)
    except (UnsafeCheckpointError, KeyError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise UserError(f'{args.in_file}: {message}') from e
    print(final)
    return final


if __name__ == '__main__':
    run_cli(lambda: main() and None)
