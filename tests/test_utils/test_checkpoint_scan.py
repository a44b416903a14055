# Copyright (c) mmboundary contributors. All rights reserved.
"""The checkpoint pre-scan: exact allow-list, refusal before ``torch.load``,
protocol-2 module names, malformed files (issue 14, item 1)."""
import builtins
import copyreg
import io
import os
import pickle
import pickletools
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from mmboundary.utils import checkpoint as ckpt_module
from mmboundary.utils.checkpoint import (CorruptCheckpointError,
                                         UnsafeCheckpointError,
                                         load_checkpoint_safely,
                                         scan_checkpoint, scan_pickle)

ALLOWED_GLOBALS = ckpt_module.ALLOWED_GLOBALS
HISTORY_BUFFER_METHODS = ckpt_module.HISTORY_BUFFER_METHODS
allowed_global_names = ckpt_module.allowed_global_names
history_buffer_getattr = ckpt_module.history_buffer_getattr
normalize_global = ckpt_module.normalize_global
HB = 'mmengine.logging.history_buffer.HistoryBuffer'


class _Call:
    """Pickles to ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.fixture
def load_spy(monkeypatch):
    """Record every ``torch.load`` the safe loader makes (and still load)."""
    calls = []
    real = torch.load

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ckpt_module.torch, 'load', spy)
    return calls


def _save(obj, path, protocol=2, zip_format=True):
    torch.save({
        'state_dict': {
            'w': torch.ones(2)
        },
        'x': obj
    },
               str(path),
               pickle_protocol=protocol,
               _use_new_zipfile_serialization=zip_format)
    return str(path)


def _replace_data_pkl(src, dst, data):
    """Copy the torch zip ``src`` to ``dst`` with ``data.pkl`` := ``data``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            body = data if info.filename.endswith('data.pkl') else \
                zin.read(info.filename)
            zout.writestr(info, body)
    return str(dst)


# --------------------------------------------------------------- allow-list
def test_allow_list_is_exactly_mmengines_types():
    names = {
        obj[1]
        if isinstance(obj, tuple) else f'{obj.__module__}.{obj.__qualname__}'
        for obj in ALLOWED_GLOBALS
    }
    dtypes = {n for n in names if n.startswith('numpy.dtypes.')}
    assert names - dtypes == {
        HB, 'numpy.core.multiarray._reconstruct',
        'numpy.core.multiarray.scalar', 'numpy.ndarray', 'numpy.dtype',
        'builtins.getattr'
    }
    # the dtype classes numpy >= 1.25 pickles, and nothing else
    # (aliases such as IntDType pickle as the class they name)
    assert dtypes == {
        f'numpy.dtypes.{getattr(np.dtypes, n).__qualname__}'
        for n in dir(np.dtypes) if n.endswith('DType')
    }
    assert all(
        isinstance(getattr(np.dtypes,
                           n.rsplit('.', 1)[1]), type)
        and issubclass(getattr(np.dtypes,
                               n.rsplit('.', 1)[1]), np.dtype) for n in dtypes)
    # getattr is never the real one
    getattrs = [o for o in ALLOWED_GLOBALS if isinstance(o, tuple)]
    assert getattrs == [(history_buffer_getattr, 'builtins.getattr')]


def test_scan_allows_exactly_torch_defaults_plus_the_allow_list():
    from torch._weights_only_unpickler import _get_allowed_globals
    torch_defaults = set(_get_allowed_globals())
    extra = set(allowed_global_names()) - torch_defaults
    dtypes = {n for n in extra if n.startswith('numpy.dtypes.')}
    assert extra - dtypes == {
        HB, 'numpy.core.multiarray._reconstruct',
        'numpy.core.multiarray.scalar', 'numpy._core.multiarray._reconstruct',
        'numpy._core.multiarray.scalar', 'numpy.ndarray', 'numpy.dtype',
        'builtins.getattr', f'{HB}.min', f'{HB}.max', f'{HB}.current',
        f'{HB}.mean'
    }
    assert torch_defaults <= set(allowed_global_names())
    for name in ('shutil.rmtree', 'posix.system', 'os.system', 'builtins.eval',
                 'builtins.exec', f'{HB}.__init__', 'torch.load',
                 'torch.hub.download_url_to_file'):
        assert name not in allowed_global_names(), name


def test_history_buffer_methods_are_mmengines_statistics():
    assert HISTORY_BUFFER_METHODS == {'min', 'max', 'current', 'mean'}
    assert set(HistoryBuffer._statistics_methods) == HISTORY_BUFFER_METHODS


@pytest.mark.parametrize('name', sorted(HISTORY_BUFFER_METHODS))
def test_getattr_replacement_returns_the_statistics_methods(name):
    assert history_buffer_getattr(HistoryBuffer,
                                  name) is getattr(HistoryBuffer, name)


@pytest.mark.parametrize('obj,name', [(HistoryBuffer, '__init__'),
                                      (HistoryBuffer, '__class__'),
                                      (HistoryBuffer, 'register_statistics'),
                                      (HistoryBuffer, '_statistics_methods'),
                                      (os, 'system'), (builtins, 'eval'),
                                      (HistoryBuffer(), 'mean')])
def test_getattr_replacement_refuses_everything_else(obj, name):
    with pytest.raises(UnsafeCheckpointError, match=repr(name)):
        history_buffer_getattr(obj, name)


# ------------------------------------------------ refused before torch.load
def _payloads(tmp_path):
    victim = tmp_path / 'victim'
    victim.mkdir()
    marker = tmp_path / 'pwned'
    return victim, marker, {
        'os.system': (_Call(os.system,
                            f'touch {marker}'), r'(posix|os)\.system'),
        'shutil.rmtree': (_Call(shutil.rmtree,
                                str(victim)), r'shutil\.rmtree'),
        'builtins.eval':
        (_Call(builtins.eval,
               f'open({str(marker)!r}, "w")'), r'builtins\.eval'),
        'getattr(HistoryBuffer, __init__)':
        (_Call(getattr, HistoryBuffer, '__init__'), rf'{HB}\.__init__'),
    }


@pytest.mark.parametrize('protocol,zip_format', [(2, True), (4, True),
                                                 (2, False)])
@pytest.mark.parametrize('case', [
    'os.system', 'shutil.rmtree', 'builtins.eval',
    'getattr(HistoryBuffer, __init__)'
])
def test_refused_before_torch_load(tmp_path, load_spy, case, protocol,
                                   zip_format):
    victim, marker, payloads = _payloads(tmp_path)
    obj, pattern = payloads[case]
    path = _save(obj, tmp_path / 'evil.pth', protocol, zip_format)
    with pytest.raises(UnsafeCheckpointError, match=pattern) as info:
        load_checkpoint_safely(path)
    assert 'evil.pth' in str(info.value)
    assert load_spy == []  # torch.load was never called
    assert not marker.exists() and victim.is_dir()
    # and through mmengine's loader (load_from / --resume)
    with pytest.raises(UnsafeCheckpointError, match=pattern):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert load_spy == []


def test_allowed_checkpoint_reaches_torch_load_once(tmp_path, load_spy):
    buf = HistoryBuffer()
    buf.update(2.0)
    path = _save(
        {
            'buf': buf,
            'scalar': np.float64(1.5),
            'array': np.arange(3),
            'mean': HistoryBuffer.mean
        }, tmp_path / 'ok.pth')
    assert f'{HB}.mean' in scan_checkpoint(path)
    ckpt = load_checkpoint_safely(path)
    assert len(load_spy) == 1
    assert ckpt['x']['buf'].mean() == 2.0
    assert ckpt['x']['mean'] is HistoryBuffer.mean
    assert ckpt['x']['scalar'] == 1.5


def test_torch_guard_is_still_there_when_the_scan_is_bypassed(
        tmp_path, load_spy, monkeypatch):
    victim, marker, payloads = _payloads(tmp_path)
    path = _save(payloads['getattr(HistoryBuffer, __init__)'][0],
                 tmp_path / 'evil.pth')
    monkeypatch.setattr(ckpt_module, 'scan_checkpoint', lambda f: [])
    with pytest.raises(UnsafeCheckpointError, match='__init__'):
        load_checkpoint_safely(path)
    assert len(load_spy) == 1  # here torch's unpickler refused it


# ---------------------------------------------------- protocol-2 renaming
@pytest.mark.parametrize('py2,py3', [
    (('__builtin__', 'eval'), 'builtins.eval'),
    (('__builtin__', 'getattr'), 'builtins.getattr'),
    (('commands', 'getoutput'), 'subprocess.getoutput'),
    (('copy_reg', '_reconstructor'), 'copyreg._reconstructor'),
    (('posix', 'system'), 'posix.system'),
    (('shutil', 'rmtree'), 'shutil.rmtree'),
])
def test_normalize_global(py2, py3):
    assert normalize_global(*py2) == py3


@pytest.mark.parametrize('obj,py2,py3', [
    (_Call(builtins.eval, '1'), b'__builtin__\neval', 'builtins.eval'),
    (_Call(subprocess.getoutput,
           'true'), b'commands\ngetoutput', 'subprocess.getoutput'),
    (_Call(copyreg._reconstructor, _Call, object,
           None), b'copy_reg\n_reconstructor', 'copyreg._reconstructor'),
])
def test_protocol2_module_names_are_normalised(tmp_path, load_spy, obj, py2,
                                               py3):
    path = _save(obj, tmp_path / 'p2.pth', protocol=2)
    with zipfile.ZipFile(path) as zf:
        raw = zf.read([n for n in zf.namelist() if n.endswith('data.pkl')][0])
    assert py2 in raw  # the file really carries the Python 2 name
    names = scan_checkpoint(path)
    assert py3 in names
    assert not any(
        n.startswith(py2.split(b'\n')[0].decode() + '.') for n in names)
    with pytest.raises(UnsafeCheckpointError, match=py3.replace('.', r'\.')):
        load_checkpoint_safely(path)
    assert load_spy == []


def test_protocol2_getattr_is_checked_not_waved_through():
    # GLOBAL '__builtin__ getattr' applied to HistoryBuffer and a name
    data = pickle.dumps(_Call(getattr, HistoryBuffer, '__dict__'), protocol=2)
    assert b'__builtin__\ngetattr' in data
    assert scan_pickle(data) == ['builtins.getattr', HB, f'{HB}.__dict__']


# ------------------------------------------------------ hand-made pickles
def _pickle(*ops):
    return b'\x80\x02' + b''.join(ops) + b'.'


GETATTR = b'c__builtin__\ngetattr\n'
HBG = b'cmmengine.logging.history_buffer\nHistoryBuffer\n'


def test_memoised_getattr_and_stack_global():
    # getattr put in memo 0, fetched again for a second lookup
    data = _pickle(GETATTR, b'q\x00', HBG, b'X\x04\x00\x00\x00mean', b'\x86R',
                   b'0h\x00', HBG, b'X\x08\x00\x00\x00__init__', b'\x86R')
    assert f'{HB}.__init__' in scan_pickle(data)
    # protocol 4 STACK_GLOBAL of literal strings
    p4 = pickle.dumps(_Call(os.system, 'true'), protocol=4)
    assert 'posix.system' in scan_pickle(p4) or 'os.system' in scan_pickle(p4)


@pytest.mark.parametrize('data,error,pattern', [
    (_pickle(GETATTR, HBG, b'K\x01',
             b'\x86R'), UnsafeCheckpointError, 'literal name'),
    (_pickle(GETATTR, HBG, b'X\x04\x00\x00\x00mean', b'\x86R',
             b')R'), UnsafeCheckpointError, 'not a named global'),
    (_pickle(b')', b')R'), UnsafeCheckpointError, 'not a named global'),
    (_pickle(b'X\x01\x00\x00\x00o', b'K\x01',
             b'\x93'), UnsafeCheckpointError, 'computed module'),
    (_pickle(b'\x82\x01'), UnsafeCheckpointError, 'EXT1'),
    (_pickle(b'h\x05'), CorruptCheckpointError, 'empty memo'),
    (_pickle(b'R'), CorruptCheckpointError, 'underflow'),
    (_pickle(b't'), CorruptCheckpointError, 'without a MARK'),
    (b'\x80\x02X\x05\x00\x00\x00ab', CorruptCheckpointError, 'not a well'),
    (b'\x80\x02\xff.', CorruptCheckpointError, 'not a well'),
])
def test_bad_pickles(data, error, pattern):
    with pytest.raises(error, match=pattern):
        scan_pickle(data)


@pytest.mark.parametrize(
    'data',
    [
        # None, None, MARK, TUPLE2: the tuple's items lie below the MARK
        _pickle(b'NN(', b'\x86'),
        # REDUCE whose callable and arguments lie below a MARK
        _pickle(GETATTR, HBG, b'X\x04\x00\x00\x00mean', b'\x86', b'(', b'R'),
        # a SETITEM inside a MARK frame reaching the dict below it
        _pickle(b'}(', b'NN', b's'),
        # a BINPUT right after a MARK memoises the item below it
        _pickle(b'N(', b'q\x00', b't'),
    ])
def test_stack_pops_never_cross_a_mark(data):
    # Python's own unpickler fences the stack at the last MARK ...
    with pytest.raises(pickle.UnpicklingError, match='MARK|underflow'):
        pickle.loads(data)
    # ... and so does the symbolic replay.
    with pytest.raises(CorruptCheckpointError, match='underflow|empty stack'):
        scan_pickle(data)


@pytest.mark.parametrize(
    'data',
    [
        # SETITEMS with an empty MARK frame keeps one dict (not two),
        # POP drops it
        _pickle(GETATTR, HBG, b'}(u0', b'X\x08\x00\x00\x00__init__', b'\x86R'),
        # DUP of getattr, POP of the copy
        _pickle(GETATTR, b'20', HBG, b'X\x08\x00\x00\x00__init__', b'\x86R'),
    ])
def test_symbolic_stack_follows_the_unpickler(tmp_path, load_spy, data):
    # the real unpickler computes getattr(HistoryBuffer, '__init__') ...
    assert pickle.loads(data) is HistoryBuffer.__init__
    # ... and the replay sees exactly that lookup, which is refused
    assert f'{HB}.__init__' in scan_pickle(data)
    good = _save(1, tmp_path / 'good.pth')
    path = _replace_data_pkl(good, tmp_path / 'bad.pth', data)
    with pytest.raises(UnsafeCheckpointError, match=rf'{HB}\.__init__'):
        load_checkpoint_safely(path)
    assert load_spy == []


@pytest.mark.parametrize(
    'data,pattern',
    [
        # getattr(HistoryBuffer, <a global>): the name is not a literal
        (_pickle(GETATTR, HBG, HBG, b'\x86R'), 'literal name'),
        # getattr((), 'mean'): the object is not a global
        (_pickle(GETATTR, b')', b'X\x04\x00\x00\x00mean',
                 b'\x86R'), 'literal name'),
        # INST builds an instance, not a global: calling it is refused
        (_pickle(b'(icollections\nOrderedDict\n', b')R'), 'not a named global'
         ),
    ])
def test_computed_getattr_and_instance_calls_are_refused(data, pattern):
    with pytest.raises(UnsafeCheckpointError, match=pattern):
        scan_pickle(data)


STR_MEAN = b'X\x04\x00\x00\x00mean'


@pytest.mark.parametrize(
    'data',
    [
        # STACK_GLOBAL(HistoryBuffer, 'mean'): the module is a global
        _pickle(HBG, STR_MEAN, b'\x93'),
        # STACK_GLOBAL('builtins', HistoryBuffer): the name is a global
        _pickle(b'X\x08\x00\x00\x00builtins', HBG, b'\x93'),
    ])
def test_stack_global_of_a_pickled_global_is_refused_before_torch_load(
        tmp_path, load_spy, data):
    with pytest.raises(UnsafeCheckpointError, match='computed module'):
        scan_pickle(data)
    good = _save(1, tmp_path / 'good.pth')
    path = _replace_data_pkl(good, tmp_path / 'bad.pth', data)
    with pytest.raises(UnsafeCheckpointError, match='computed module'):
        load_checkpoint_safely(path)
    assert load_spy == []  # refused by the scan, not by torch


@pytest.mark.parametrize('data,error', [
    (_pickle(GETATTR, HBG, b'X\x08\x00\x00\x00__init__',
             b'\x86R'), UnsafeCheckpointError),
    (_pickle(b'h\x05'), CorruptCheckpointError),
    (b'\x80\x02}q\x00(X\x01\x00\x00\x00a', CorruptCheckpointError),
])
def test_bad_data_pkl_in_a_real_archive_never_reaches_torch(
        tmp_path, load_spy, data, error):
    good = _save(1, tmp_path / 'good.pth')
    path = _replace_data_pkl(good, tmp_path / 'bad.pth', data)
    with pytest.raises(error, match='bad.pth'):
        load_checkpoint_safely(path)
    assert load_spy == []


# ------------------------------------------------------- malformed files
@pytest.mark.parametrize('zip_format', [True, False])
@pytest.mark.parametrize('keep', [0.5, 0.9, 0.999])
def test_truncated_file_is_refused_with_its_name(tmp_path, load_spy,
                                                 zip_format, keep):
    buf = HistoryBuffer()
    buf.update(1.0)
    good = _save({'h': buf}, tmp_path / 'good.pth', zip_format=zip_format)
    data = open(good, 'rb').read()
    end = len(data)
    if not zip_format:
        # a legacy file is 5 pickles, then raw storage bytes (whose length
        # torch itself checks): cut inside the pickles
        stream = io.BytesIO(data)
        for _ in range(5):
            for _ in pickletools.genops(stream):
                pass
        end = stream.tell()
    path = tmp_path / 'iter_8.pth'
    path.write_bytes(data[:int(end * keep)])
    with pytest.raises(CorruptCheckpointError, match='iter_8.pth') as info:
        load_checkpoint_safely(str(path))
    assert 'truncated' in str(info.value)
    assert load_spy == []
    # the intact file loads (and both formats are understood)
    assert torch.equal(
        load_checkpoint_safely(good)['state_dict']['w'], torch.ones(2))


@pytest.mark.parametrize('content', [
    b'', b'not a checkpoint\n', b'PK\x03\x04garbage',
    pickle.dumps({'a': 1}, protocol=2)
])
def test_non_checkpoints_are_refused(tmp_path, load_spy, content):
    path = tmp_path / 'junk.pth'
    path.write_bytes(content)
    with pytest.raises(CorruptCheckpointError, match='junk.pth'):
        load_checkpoint_safely(str(path))
    assert load_spy == []


def test_zip_without_data_pkl_is_refused(tmp_path, load_spy):
    path = str(tmp_path / 'nodata.pth')
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr('archive/version', '3\n')
    with pytest.raises(CorruptCheckpointError, match='without data.pkl'):
        load_checkpoint_safely(path)
    assert load_spy == []


def test_every_pkl_of_the_archive_is_scanned(tmp_path, load_spy):
    good = _save(1, tmp_path / 'good.pth')
    path = str(tmp_path / 'two.pth')
    evil = pickle.dumps(_Call(os.system, 'true'), protocol=2)
    shutil.copy(good, path)
    with zipfile.ZipFile(path, 'a') as zf:
        zf.writestr('other/data.pkl', evil)
    with pytest.raises(UnsafeCheckpointError, match='system'):
        load_checkpoint_safely(path)
    assert load_spy == []


def test_scan_reads_file_like_legacy_pickles(tmp_path):
    path = _save(np.float32(2), tmp_path / 'legacy.pth', zip_format=False)
    names = scan_checkpoint(path)
    assert 'numpy.core.multiarray.scalar' in names
    assert load_checkpoint_safely(path)['x'] == np.float32(2)
