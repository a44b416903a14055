# Copyright (c) mmboundary contributors. All rights reserved.
"""Safe checkpoint loading for mmengine under torch >= 2.6.

mmengine 0.10.x calls ``torch.load`` without ``weights_only``. torch >= 2.6
then uses its restricted unpickler, which refuses the few non-tensor objects
mmengine itself writes (numpy scalars and arrays in the message hub,
:class:`mmengine.logging.HistoryBuffer`), so ``--resume`` fails. Turning
``weights_only`` off would let a checkpoint run arbitrary code.

Here mmengine's local-file loader is replaced (``CheckpointLoader`` scheme
``''``) by :func:`load_checkpoint_safely`, which

1. lists every global the pickle references and refuses, before anything is
   unpickled, a checkpoint referencing a global outside
   :data:`ALLOWED_GLOBALS` (the error names the type);
2. loads with ``torch.load(weights_only=True)`` with exactly those globals
   allow-listed for the duration of the call (nothing is added globally).
"""
import os.path as osp
import pickletools
import zipfile
from typing import Callable, Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(RuntimeError):
    """Raised when a checkpoint references a non allow-listed global."""


def _numpy_globals() -> Dict[str, object]:
    """numpy objects that mmengine's message hub and meta pickle."""
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    objs = {
        'multiarray._reconstruct': multiarray._reconstruct,
        'multiarray.scalar': multiarray.scalar,
        'ndarray': np.ndarray,
        'dtype': np.dtype,
    }
    # numpy >= 1.25 pickles dtypes by their class (numpy.dtypes.Float64DType)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in dir(dtypes):
            if name.endswith('DType'):
                objs['dtypes.' + name] = getattr(dtypes, name)
    return objs


def _qualname(obj) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'


def history_buffer_getattr(obj, name: str):
    """The only ``getattr`` a checkpoint may call.

    A :class:`HistoryBuffer` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` (pickle protocol 2). This stands in
    for ``builtins.getattr`` while loading and allows exactly that.
    """
    methods = {'min', 'max', 'current', 'mean'}
    methods.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in methods:
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'Refusing getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics methods may be looked up.')


#: Exactly the non-tensor globals mmengine 0.10 writes into checkpoints, on
#: top of what torch's weights-only unpickler allows by default.
#: ``builtins.getattr`` is replaced by :func:`history_buffer_getattr`.
ALLOWED_GLOBALS: List[object] = [
    HistoryBuffer, *_numpy_globals().values(),
    (history_buffer_getattr, 'builtins.getattr')
]

#: Builtins torch's weights-only unpickler accepts by itself.
_SAFE_BUILTINS = {
    'builtins.set', 'builtins.frozenset', 'builtins.bytearray',
    'builtins.slice', 'builtins.complex', 'builtins.getattr',
    '__builtin__.set', '__builtin__.frozenset', '__builtin__.bytearray',
    '__builtin__.slice', '__builtin__.complex', '__builtin__.getattr',
    'collections.OrderedDict', 'collections.Counter', '_codecs.encode'
}


def _allowed_names() -> set:
    names = {
        _qualname(obj)
        for obj in ALLOWED_GLOBALS if not isinstance(obj, tuple)
    }
    # numpy 1.x pickles ``numpy.core.multiarray``; numpy 2 ``numpy._core``.
    names |= {n.replace('numpy.core.', 'numpy._core.') for n in names}
    names |= {n.replace('numpy._core.', 'numpy.core.') for n in names}
    return names


def pickled_globals(filename: str) -> List[str]:
    """Every ``module.name`` global referenced by a torch checkpoint.

    Reads the pickle opcodes without unpickling anything.

    Args:
        filename (str): A file written by ``torch.save`` (zip or legacy).

    Returns:
        list[str]: Sorted, de-duplicated global names.
    """
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as zf:
            pkls = [n for n in zf.namelist() if n.endswith('data.pkl')]
            data = zf.read(pkls[0]) if pkls else b''
    else:
        with open(filename, 'rb') as f:
            data = f.read()
    names = set()
    strings: List[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ('GLOBAL', 'INST'):
                names.add(arg.replace(' ', '.'))
            elif op.name == 'STACK_GLOBAL' and len(strings) >= 2:
                names.add(f'{strings[-2]}.{strings[-1]}')
            if isinstance(arg, str):
                strings.append(arg)
    except Exception:
        # Legacy (non-zip) files hold several pickles back to back; torch's
        # own weights-only unpickler still guards those below.
        pass
    return sorted(names)


def _torch_default_safe(name: str) -> bool:
    # torch objects are vetted again, one by one, by torch's own unpickler.
    return name.startswith('torch.') or name in _SAFE_BUILTINS


def load_checkpoint_safely(filename: str,
                           map_location: Optional[Union[str, Callable,
                                                        torch.device]] = None):
    """Load a checkpoint with ``weights_only=True`` and mmengine's types.

    Args:
        filename (str): Path of the checkpoint.
        map_location: As for :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        UnsafeCheckpointError: If the checkpoint references any global other
            than tensors, containers and :data:`ALLOWED_GLOBALS`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint {filename} can not be found; '
                                'check `load_from` / `--resume`.')
    allowed = _allowed_names()
    bad = [
        n for n in pickled_globals(filename)
        if n not in allowed and not _torch_default_safe(n)
    ]
    if bad:
        raise UnsafeCheckpointError(
            f'Refusing to load {filename}: it contains pickled objects of '
            f'type(s) {", ".join(bad)}, which mmboundary does not allow '
            '(only tensors, containers, numpy scalars/arrays and mmengine '
            'HistoryBuffer are). Re-save the checkpoint with only a '
            "'state_dict' if you trust its origin.")
    try:
        with torch.serialization.safe_globals(ALLOWED_GLOBALS):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except Exception as err:  # torch's unpickler: name the offending type
        raise UnsafeCheckpointError(
            f'Refusing to load {filename} with the weights-only '
            f'unpickler: {err}') from err


def register_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through
    :func:`load_checkpoint_safely` (``load_from``, ``--resume``,
    ``init_cfg=dict(type='Pretrained')``)."""
    CheckpointLoader.register_scheme(
        prefixes='', force=True)(
            load_checkpoint_safely)
