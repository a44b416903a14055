# Copyright (c) mmboundary contributors. All rights reserved.
"""Safe checkpoint loading for mmengine under torch >= 2.6.

mmengine 0.10.x calls ``torch.load`` without ``weights_only``. torch >= 2.6
then uses its restricted unpickler, which refuses the few non-tensor objects
mmengine itself writes (numpy scalars and arrays in the message hub,
:class:`mmengine.logging.HistoryBuffer`), so ``--resume`` fails. Turning
``weights_only`` off would let a checkpoint run arbitrary code.

Here mmengine's local-file loader is replaced (``CheckpointLoader`` scheme
``''``) by :func:`load_checkpoint_safely`, which

1. reads the pickle opcodes of the file (:func:`scan_checkpoint`) without
   unpickling anything and refuses, before ``torch.load`` is called, a file
   that references a global outside :func:`allowed_global_names` (torch's
   own weights-only defaults plus :data:`ALLOWED_GLOBALS`), that looks an
   attribute up with ``getattr`` other than a ``HistoryBuffer`` statistics
   method, or that is not a well-formed torch checkpoint (truncated,
   corrupt); the error names the file and the global;
2. loads with ``torch.load(weights_only=True)`` with exactly those globals
   allow-listed for the duration of the call (nothing is added globally),
   so torch's unpickler stays a second, independent guard.

Global names are normalised as the unpickler resolves them: protocol-2
pickles write Python 2 module names (``__builtin__.eval``,
``commands.getoutput``, ``copy_reg._reconstructor``), which
``_compat_pickle`` maps back to ``builtins``, ``subprocess``, ``copyreg``.
"""
import io
import logging
import os
import os.path as osp
import pickletools
import re
import zipfile
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from typing import Callable, Dict, FrozenSet, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(RuntimeError):
    """Raised when a checkpoint references a non allow-listed global."""


class CorruptCheckpointError(UnsafeCheckpointError):
    """Raised when a checkpoint is not a well-formed torch file (truncated
    while being written, corrupt, or not a checkpoint at all)."""


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


#: The attributes a checkpoint may look up with ``getattr``: a
#: :class:`HistoryBuffer` pickles its statistics methods as
#: ``getattr(HistoryBuffer, 'mean')`` (pickle protocol 2).
HISTORY_BUFFER_METHODS: FrozenSet[str] = frozenset(
    {'min', 'max', 'current', 'mean'})


def history_buffer_getattr(obj, name: str):
    """The only ``getattr`` a checkpoint may call.

    Stands in for ``builtins.getattr`` inside ``torch.load`` and allows
    exactly ``getattr(HistoryBuffer, m)`` for ``m`` in
    :data:`HISTORY_BUFFER_METHODS`.
    """
    if obj is HistoryBuffer and name in HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'Refusing getattr({obj!r}, {name!r}) in a checkpoint: only '
        f'HistoryBuffer methods {sorted(HISTORY_BUFFER_METHODS)} may be '
        'looked up.')


#: Exactly the non-tensor globals mmengine 0.10 writes into checkpoints, on
#: top of what torch's weights-only unpickler allows by default.
#: ``builtins.getattr`` is replaced by :func:`history_buffer_getattr`.
ALLOWED_GLOBALS: List[object] = [
    HistoryBuffer, *_numpy_globals().values(),
    (history_buffer_getattr, 'builtins.getattr')
]


def _torch_default_globals() -> FrozenSet[str]:
    """What torch's weights-only unpickler accepts by itself."""
    from torch._weights_only_unpickler import _get_allowed_globals
    return frozenset(_get_allowed_globals())


def allowed_global_names() -> FrozenSet[str]:
    """Every global name the pre-scan lets through.

    torch's weights-only defaults, :data:`ALLOWED_GLOBALS` (numpy's
    ``multiarray`` under its numpy 1 and numpy 2 module names) and the
    :data:`HISTORY_BUFFER_METHODS` as ``getattr`` on ``HistoryBuffer``
    resolves them (``...HistoryBuffer.mean``).
    """
    names = set()
    for obj in ALLOWED_GLOBALS:
        names.add(obj[1] if isinstance(obj, tuple) else _qualname(obj))
    # numpy 1.x pickles ``numpy.core.multiarray``; numpy 2 ``numpy._core``.
    names |= {n.replace('numpy.core.', 'numpy._core.') for n in names}
    names |= {n.replace('numpy._core.', 'numpy.core.') for n in names}
    names |= {
        f'{_qualname(HistoryBuffer)}.{m}'
        for m in HISTORY_BUFFER_METHODS
    }
    return frozenset(names) | _torch_default_globals()


def normalize_global(module: str, name: str) -> str:
    """``module.name`` as the unpickler resolves a pickled global.

    Protocol < 3 pickles carry Python 2 names; ``_compat_pickle`` maps them
    back (``__builtin__.eval`` -> ``builtins.eval``, ``commands.getoutput``
    -> ``subprocess.getoutput``, ``copy_reg._reconstructor`` ->
    ``copyreg._reconstructor``), as torch's and Python's unpicklers do.
    """
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    elif module in IMPORT_MAPPING:
        module = IMPORT_MAPPING[module]
    return f'{module}.{name}'


class _Global(str):
    """A global on the symbolic stack, by normalised name."""


class _Attr(_Global):
    """A global reached through ``getattr`` (``HistoryBuffer.mean``)."""


class _Unknown:
    """Any other object on the symbolic stack."""


_UNKNOWN = _Unknown()
_STRING_OPS = {
    'STRING', 'BINSTRING', 'SHORT_BINSTRING', 'UNICODE', 'BINUNICODE',
    'SHORT_BINUNICODE', 'BINUNICODE8'
}
_GET_OPS = {'GET', 'BINGET', 'LONG_BINGET'}
_PUT_OPS = {'PUT', 'BINPUT', 'LONG_BINPUT'}
_TUPLE_OPS = {'TUPLE', 'TUPLE1', 'TUPLE2', 'TUPLE3', 'EMPTY_TUPLE'}
#: copyreg's extension registry names globals by number: unreadable here.
_REFUSED_OPS = {'EXT1', 'EXT2', 'EXT4'}


def scan_pickle(data: bytes, where: str = 'pickle') -> List[str]:
    """Globals one pickle references, by replaying its opcodes symbolically.

    Nothing is imported or called. Globals named by ``GLOBAL``, ``INST``
    and ``STACK_GLOBAL`` are normalised (:func:`normalize_global`);
    ``getattr(G, 'attr')`` of a global ``G`` and a literal string counts as
    the global ``G.attr`` (what protocol 4 writes as one
    ``STACK_GLOBAL``).

    Args:
        data (bytes): One pickle (up to its ``STOP``).
        where (str): Name of the pickle in error messages.

    Returns:
        list[str]: Sorted, de-duplicated global names.

    Raises:
        CorruptCheckpointError: Truncated or malformed opcodes.
        UnsafeCheckpointError: ``getattr`` of something other than a
            global and a literal name, a call of a computed object, or an
            extension-registry reference (``EXT1/2/4``).
    """
    stack: list = []
    marks: List[int] = []
    memo: dict = {}
    names = set()

    def pop(n: int) -> list:
        if n > len(stack) - (marks[-1] if marks else 0):
            raise CorruptCheckpointError(
                f'{where}: stack underflow at opcode {op.name} (byte {pos})')
        items = stack[len(stack) - n:] if n else []
        del stack[len(stack) - n:]
        return items

    try:
        for op, arg, pos in pickletools.genops(data):
            name = op.name
            if name in _REFUSED_OPS:
                raise UnsafeCheckpointError(
                    f'{where}: opcode {name} (copyreg extension registry) at '
                    f'byte {pos} names a global by number; refused.')
            if name == 'MARK':
                marks.append(len(stack))
                continue
            if name in _PUT_OPS or name == 'MEMOIZE':
                if len(stack) <= (marks[-1] if marks else 0):
                    raise CorruptCheckpointError(
                        f'{where}: {name} at byte {pos} on an empty stack')
                memo[len(memo) if name == 'MEMOIZE' else arg] = stack[-1]
                continue
            before = op.stack_before
            if pickletools.markobject in before:
                if not marks:
                    raise CorruptCheckpointError(
                        f'{where}: {name} at byte {pos} without a MARK')
                start = marks.pop()
                items = stack[start:]
                del stack[start:]
                pop(before.index(pickletools.markobject))
            else:
                items = pop(len(before))
            # What the opcode leaves on the stack.
            if name in _STRING_OPS:
                out = [arg]
            elif name in ('GLOBAL', 'INST'):
                glob = _Global(normalize_global(*arg.split(' ', 1)))
                names.add(glob)
                out = [glob if name == 'GLOBAL' else _UNKNOWN]
            elif name == 'STACK_GLOBAL':
                if not all(
                        isinstance(s, str) and not isinstance(s, _Global)
                        for s in items):
                    raise UnsafeCheckpointError(
                        f'{where}: STACK_GLOBAL at byte {pos} with a '
                        'computed module or name; refused.')
                glob = _Global(normalize_global(*items))
                names.add(glob)
                out = [glob]
            elif name in _TUPLE_OPS:
                out = [tuple(items)]
            elif name in _GET_OPS:
                if arg not in memo:
                    raise CorruptCheckpointError(
                        f'{where}: {name} {arg} at byte {pos} reads an '
                        'empty memo slot')
                out = [memo[arg]]
            elif name == 'DUP':
                out = items * 2
            elif name in ('REDUCE', 'NEWOBJ', 'NEWOBJ_EX', 'OBJ'):
                if not items:
                    raise CorruptCheckpointError(
                        f'{where}: {name} at byte {pos} without a callable')
                func = items[0]
                if not isinstance(func, _Global) or isinstance(func, _Attr):
                    raise UnsafeCheckpointError(
                        f'{where}: {name} at byte {pos} calls {func!r}, '
                        'not a named global; refused.')
                out = [_UNKNOWN]
                if name == 'REDUCE' and func == 'builtins.getattr':
                    args = items[1]
                    if not (isinstance(args, tuple) and len(args) == 2
                            and isinstance(args[0], _Global)
                            and isinstance(args[1], str)
                            and not isinstance(args[1], _Global)):
                        raise UnsafeCheckpointError(
                            f'{where}: getattr at byte {pos} on something '
                            'other than a global and a literal name; '
                            'refused.')
                    glob = _Attr(f'{args[0]}.{args[1]}')
                    names.add(glob)
                    out = [glob]
            else:
                out = [_UNKNOWN] * len(op.stack_after)
            stack.extend(out)
    except UnsafeCheckpointError:
        raise
    except Exception as err:  # pickletools: truncated / unknown opcode
        raise CorruptCheckpointError(
            f'{where} is not a well-formed pickle ({err}); the file is '
            'truncated or corrupt.') from err
    return sorted(names)


#: A legacy (non-zip) torch file is 5 pickles back to back (magic number,
#: protocol, system info, the object, storage keys), then raw storages.
_LEGACY_PICKLES = 5


def _pickles_of(filename: str) -> Dict[str, bytes]:
    """The pickles ``torch.load`` would unpickle, by name."""
    with open(filename, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        try:
            with zipfile.ZipFile(filename) as zf:
                pkls = {
                    n: zf.read(n)
                    for n in zf.namelist() if n.endswith('.pkl')
                }
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise CorruptCheckpointError(
                f'{filename} is a damaged zip archive ({err}); it was '
                'probably truncated while being written.') from err
        if not any(n.endswith('data.pkl') for n in pkls):
            raise CorruptCheckpointError(
                f'{filename} is a zip archive without data.pkl, not a '
                'torch checkpoint.')
        return pkls
    with open(filename, 'rb') as f:
        data = f.read()
    stream = io.BytesIO(data)
    pkls = {}
    for i in range(_LEGACY_PICKLES):
        start = stream.tell()
        if start >= len(data):
            raise CorruptCheckpointError(
                f'{filename} ends after {i} of the {_LEGACY_PICKLES} '
                'pickles of a legacy torch file; it is truncated or not a '
                'torch checkpoint.')
        try:
            for op, _, _ in pickletools.genops(stream):
                pass
        except Exception as err:
            raise CorruptCheckpointError(
                f'{filename} is neither a torch zip archive nor a legacy '
                f'torch file (pickle {i} at byte {start}: {err}); it is '
                'truncated or corrupt.') from err
        pkls[f'pickle {i}'] = data[start:stream.tell()]
    return pkls


def scan_checkpoint(filename: str) -> List[str]:
    """Check the structure of a torch checkpoint and list its globals.

    Args:
        filename (str): A file written by ``torch.save`` (zip or legacy).

    Returns:
        list[str]: Sorted, de-duplicated, normalised global names
        (:func:`scan_pickle`).

    Raises:
        CorruptCheckpointError: Not a well-formed torch file.
        UnsafeCheckpointError: See :func:`scan_pickle`.
    """
    names = set()
    for part, data in _pickles_of(filename).items():
        names.update(scan_pickle(data, f'{filename} ({part})'))
    return sorted(names)


def pickled_globals(filename: str) -> List[str]:
    """Every ``module.name`` global referenced by a torch checkpoint.

    Reads the pickle opcodes without unpickling anything
    (:func:`scan_checkpoint`).

    Args:
        filename (str): A file written by ``torch.save`` (zip or legacy).

    Returns:
        list[str]: Sorted, de-duplicated global names.
    """
    return scan_checkpoint(filename)


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
        CorruptCheckpointError: If the file is truncated or corrupt
            (checked before ``torch.load``).
        UnsafeCheckpointError: If the checkpoint references any global other
            than :func:`allowed_global_names` (checked before
            ``torch.load``), or torch's unpickler refuses it.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint {filename} can not be found; '
                                'check `load_from` / `--resume`.')
    allowed = allowed_global_names()
    bad = [n for n in scan_checkpoint(filename) if n not in allowed]
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


_NUMBERED = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def latest_intact_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (without a path) should continue from.

    Candidates are the ``iter_N.pth`` / ``epoch_N.pth`` files of
    ``work_dir`` and the file named in its ``last_checkpoint``, newest
    (largest ``N``) first. Each is checked with :func:`scan_checkpoint`; a
    truncated or corrupt one (a run killed while writing it) is reported
    with a warning naming it and the previous one is tried.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str | None: The newest intact checkpoint; None if the work dir holds
        no checkpoint at all.

    Raises:
        CorruptCheckpointError: Checkpoints exist but none is intact.
        UnsafeCheckpointError: The newest intact-looking checkpoint
            references disallowed globals (never skipped silently).
    """
    found = {}
    if osp.isdir(work_dir):
        for name in os.listdir(work_dir):
            match = _NUMBERED.match(name)
            if match:
                found[osp.join(work_dir, name)] = int(match.group(2))
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            target = f.read().strip()
        if target:
            if not osp.isabs(target) and not osp.exists(target):
                target = osp.join(work_dir, osp.basename(target))
            match = _NUMBERED.match(osp.basename(target))
            found.setdefault(target, int(match.group(2)) if match else -1)
    if not found:
        return None
    bad = []
    for path in sorted(found, key=lambda p: (found[p], p), reverse=True):
        if not osp.isfile(path):
            bad.append(f'{path} (missing)')
            continue
        try:
            scan_checkpoint(path)
        except CorruptCheckpointError as err:
            print_log(
                f'Not resuming from {path}: {err} Trying the previous '
                'checkpoint.',
                logger='current',
                level=logging.WARNING)
            bad.append(path)
            continue
        if bad:
            print_log(
                f'Resuming from {path}, the newest intact checkpoint '
                f'(skipped: {", ".join(bad)}).',
                logger='current',
                level=logging.WARNING)
        return path
    raise CorruptCheckpointError(
        f'--resume: no intact checkpoint in {work_dir}; every candidate is '
        f'truncated, corrupt or missing: {", ".join(bad)}. Start a new run '
        'or pass --resume PATH.')


#: What mmengine's log line names the loader: ``Loads checkpoint by
#: weights-only local backend``.
SAFE_LOADER_LOG_NAME = 'weights-only local'


def _load_from_weights_only_local(filename: str, map_location=None):
    """mmengine's loader for local paths: :func:`load_checkpoint_safely`."""
    return load_checkpoint_safely(filename, map_location=map_location)


# mmengine logs ``f'Loads checkpoint by {loader.__name__[10:]} backend'``
# (made for its own ``load_from_local``, ``load_from_http``, ...), which
# would print "point_safely" for load_checkpoint_safely: name the loader so
# that the line reads as words.
_load_from_weights_only_local.__name__ = 'load_from_' + SAFE_LOADER_LOG_NAME


def register_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through
    :func:`load_checkpoint_safely` (``load_from``, ``--resume``,
    ``init_cfg=dict(type='Pretrained')``); its log line reads ``Loads
    checkpoint by weights-only local backend``."""
    CheckpointLoader.register_scheme(
        prefixes='', force=True)(
            _load_from_weights_only_local)
