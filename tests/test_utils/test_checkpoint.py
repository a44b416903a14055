# Copyright (c) mmboundary contributors. All rights reserved.
"""Safe checkpoint loading (weights_only with mmengine's types only)."""
import os
import os.path as osp

import pytest
import torch
from mmengine.runner import CheckpointLoader

from mmboundary.utils import UnsafeCheckpointError
from mmboundary.utils import checkpoint as ckpt_module
from mmboundary.utils import load_checkpoint_safely, pickled_globals


class _Evil:
    """Pickles to a call of ``os.system`` (a classic checkpoint exploit)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': _Evil(marker)}, path)
    return str(path), marker


def test_pickled_globals_of_evil_checkpoint(evil_checkpoint):
    path, _ = evil_checkpoint
    names = pickled_globals(path)
    assert 'posix.system' in names or 'os.system' in names


def test_evil_checkpoint_is_refused_and_names_the_type(evil_checkpoint):
    path, marker = evil_checkpoint
    with pytest.raises(UnsafeCheckpointError, match=r'(posix|os)\.system'):
        load_checkpoint_safely(path)
    assert not marker.exists()


def test_mmengine_loader_uses_the_safe_loader(evil_checkpoint):
    path, marker = evil_checkpoint
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_torch_weights_only_guard_stays_as_second_line(evil_checkpoint,
                                                       monkeypatch):
    # Even if the opcode scan missed the global, torch's weights-only
    # unpickler still refuses it: nothing is executed.
    path, marker = evil_checkpoint
    monkeypatch.setattr(ckpt_module, 'scan_checkpoint', lambda f: [])
    with pytest.raises(UnsafeCheckpointError, match='system'):
        load_checkpoint_safely(path)
    assert not marker.exists()


def test_plain_state_dict_loads(tmp_path):
    path = str(tmp_path / 'sd.pth')
    torch.save({'state_dict': {'w': torch.arange(3.)}}, path)
    ckpt = load_checkpoint_safely(path)
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        load_checkpoint_safely(str(tmp_path / 'nothing.pth'))


def test_mmengine_checkpoint_needs_exactly_the_allow_list(tiny_seg_run):
    """A real mmengine checkpoint references numpy and HistoryBuffer types,
    which stock weights_only refuses, and the safe loader accepts."""
    path = osp.join(tiny_seg_run, 'iter_2.pth')
    names = pickled_globals(path)
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in names
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)
    ckpt = load_checkpoint_safely(path)
    assert ckpt['meta']['iter'] == 2
