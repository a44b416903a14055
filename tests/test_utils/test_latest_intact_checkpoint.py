# Copyright (c) mmboundary contributors. All rights reserved.
"""``--resume`` without a path: the newest intact checkpoint; truncated ones
are named and skipped (issue 14, item 2)."""
import os

import pytest
import torch

from mmboundary.utils import checkpoint as ckpt_module
from mmboundary.utils.checkpoint import (CorruptCheckpointError,
                                         UnsafeCheckpointError,
                                         latest_intact_checkpoint,
                                         load_checkpoint_safely)


def _save(path, value=1.0):
    torch.save({'state_dict': {'w': torch.tensor([value])}}, str(path))
    return str(path)


def _truncate(path, keep=0.6):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_newest_by_iteration_number(tmp_path):
    for i in (2, 10, 4):
        _save(tmp_path / f'iter_{i}.pth')
    _save(tmp_path / 'best_mIoU_iter_12.pth')  # not a resume candidate
    assert latest_intact_checkpoint(str(tmp_path)) == str(tmp_path /
                                                          'iter_10.pth')


@pytest.fixture
def warnings_logged(monkeypatch):
    lines = []
    monkeypatch.setattr(ckpt_module, 'print_log',
                        lambda msg, **kwargs: lines.append(msg))
    return lines


def test_truncated_newest_is_named_and_skipped(tmp_path, warnings_logged):
    _save(tmp_path / 'iter_2.pth')
    _save(tmp_path / 'iter_4.pth')
    _truncate(str(tmp_path / 'iter_4.pth'))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    assert latest_intact_checkpoint(str(tmp_path)) == str(tmp_path /
                                                          'iter_2.pth')
    log = '\n'.join(warnings_logged)
    assert f'Not resuming from {tmp_path / "iter_4.pth"}' in log
    assert f'Resuming from {tmp_path / "iter_2.pth"}' in log


def test_last_checkpoint_with_a_relative_or_moved_path(tmp_path):
    _save(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text('elsewhere/epoch_3.pth\n')
    assert latest_intact_checkpoint(str(tmp_path)) == str(tmp_path /
                                                          'epoch_3.pth')


def test_no_checkpoint_at_all(tmp_path):
    assert latest_intact_checkpoint(str(tmp_path)) is None
    assert latest_intact_checkpoint(str(tmp_path / 'missing')) is None


def test_every_checkpoint_broken_is_an_error_naming_them(tmp_path):
    _save(tmp_path / 'iter_2.pth')
    _truncate(str(tmp_path / 'iter_2.pth'))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_6.pth'))
    with pytest.raises(CorruptCheckpointError) as info:
        latest_intact_checkpoint(str(tmp_path))
    assert 'iter_2.pth' in str(info.value)
    assert 'iter_6.pth (missing)' in str(info.value)


class _Evil:

    def __reduce__(self):
        return (os.system, ('true', ))


def test_unsafe_newest_checkpoint_is_chosen_then_refused(tmp_path):
    """Structure is what decides the fallback; a well-formed checkpoint with
    a forbidden global is never skipped in favour of an older one, it is
    refused when loaded."""
    _save(tmp_path / 'iter_2.pth')
    torch.save({'x': _Evil()}, str(tmp_path / 'iter_4.pth'))
    path = latest_intact_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'iter_4.pth')
    with pytest.raises(UnsafeCheckpointError, match='system'):
        load_checkpoint_safely(path)
