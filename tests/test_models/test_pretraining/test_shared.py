# Copyright (c) mmboundary contributors. All rights reserved.
"""What both frozen auxiliary nets' pretraining shares: the loop
(train_aux_net), the cache fingerprint of the label files, the verified
load and the self-check gate."""
import math
import os
import re

import pytest
import torch
from torch import nn

from mmboundary.models.pretraining import edge_net as edge_pretrain
from mmboundary.models.pretraining import inverse_net as inverse_pretrain
# yapf: disable
from mmboundary.models.pretraining.shared import (FailedSelfCheck,
                                                  files_fingerprint,
                                                  gate_self_check,
                                                  load_aux_net_state,
                                                  read_report, save_aux_net,
                                                  train_aux_net)
# yapf: enable
from mmboundary.utils.cli import UserError


class Scalar(nn.Module):
    """One weight and the ``pretrained`` flag the frozen nets carry."""

    def __init__(self, w: float) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.register_buffer('pretrained', torch.zeros((), dtype=torch.uint8))


def test_both_pretraining_loops_are_this_one():
    assert edge_pretrain.train_aux_net is train_aux_net
    assert inverse_pretrain.train_aux_net is train_aux_net


def test_cosine_decayed_adam_steps_by_hand():
    # loss = w has the constant gradient 1, so every Adam step moves w by
    # lr_t / (1 + eps) with lr_t = lr (1 + cos(pi t / N)) / 2 (cosine over
    # N steps): 0.1 + 0.0853553 + 0.05 + 0.0146447 = 0.25 for lr 0.1, N 4.
    net = Scalar(2.0)
    losses = train_aux_net(net, lambda step: net.w * 1.0, 4, 0.1, 0.0, 10)
    assert net.w.item() == pytest.approx(2.0 - 0.25, abs=1e-6)
    expected = [2.0, 1.9, 1.9 - 0.1 * (1 + math.cos(math.pi / 4)) / 2]
    assert losses[:3] == pytest.approx(expected, abs=1e-6)
    assert len(losses) == 4
    # eval mode, flagged as pretrained
    assert not net.training and int(net.pretrained) == 1


def test_weight_decay_reaches_adam():
    # a zero loss: only the L2 term moves w, by about lr_t per step
    net = Scalar(1.0)
    train_aux_net(net, lambda step: net.w * 0.0, 4, 0.1, 0.0, 10)
    assert net.w.item() == 1.0
    train_aux_net(net, lambda step: net.w * 0.0, 4, 0.1, 0.01, 10)
    assert 0.7 < net.w.item() < 0.8


def test_progress_windows():
    # losses 0, 1, 2, ... (constant in w): windows of 2 steps average to
    # 0.5, 2.5, 4.5; the incomplete last window (step 7) is not reported.
    net = Scalar(0.0)
    seen = []
    losses = train_aux_net(
        net,
        lambda step: net.w * 0.0 + step,
        7,
        0.1,
        0.0,
        2,
        on_window=lambda done, mean: seen.append((done, mean)))
    assert losses == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert seen == [(2, 0.5), (4, 2.5), (6, 4.5)]
    # batch_loss receives the step index
    steps = []
    train_aux_net(net, lambda step: steps.append(step) or net.w * 0, 3, 0.1,
                  0.0, 1)
    assert steps == [0, 1, 2]


def test_progress_bar_counts_every_step_and_quiet_is_silent(capsys):
    net = Scalar(0.0)
    train_aux_net(
        net, lambda step: net.w * 0.0, 3, 0.1, 0.0, 10, desc='toy net')
    out = capsys.readouterr().out
    # not a terminal: plain lines, the last one says all steps are done
    assert out.splitlines()[-1].startswith('toy net: 3/3 (100%), ')
    train_aux_net(net, lambda step: net.w * 0.0, 3, 0.1, 0.0, 10, quiet=True)
    assert capsys.readouterr().out == ''


# ---- cache fingerprint of the label files -------------------------------
def _set_mtime_ns(path, ns):
    os.utime(path, ns=(ns, ns))


def test_fingerprint_sees_a_label_rewritten_in_place(tmp_path):
    """A label map rewritten in place (same path) changes the fingerprint
    whether its size or only its mtime changed; a stale cached net is then
    not reused."""
    a, b = tmp_path / 'a.png', tmp_path / 'b.png'
    a.write_bytes(b'12345')
    b.write_bytes(b'xyz')
    t0 = 1_700_000_000 * 10**9
    _set_mtime_ns(a, t0)
    _set_mtime_ns(b, t0)
    paths = [str(a), str(b)]
    before = files_fingerprint(paths)
    assert files_fingerprint(paths[::-1]) == before  # order-free
    # same size, rewritten 1 s later
    a.write_bytes(b'54321')
    _set_mtime_ns(a, t0 + 10**9)
    after_mtime = files_fingerprint(paths)
    assert after_mtime != before
    # same size, rewritten within the same second (2 ms later)
    _set_mtime_ns(a, t0 + 2 * 10**6)
    assert files_fingerprint(paths) not in (before, after_mtime)
    # other size, mtime put back: the size alone changes it
    a.write_bytes(b'123456')
    _set_mtime_ns(a, t0)
    assert files_fingerprint(paths) != before
    # the very same stats give the very same fingerprint
    a.write_bytes(b'12345')
    _set_mtime_ns(a, t0)
    assert files_fingerprint(paths) == before
    # another file list: another fingerprint
    assert files_fingerprint(paths[:1]) != before


# ---- verified load ------------------------------------------------------
def _reference():
    return dict(w=torch.zeros(2, 3), b=torch.zeros(2))


def _load(path, check=None):
    return load_aux_net_state(
        path,
        _reference(),
        option='net_checkpoint',
        described_as='Toy(2, 3)',
        how_to_get='Pretrain one.',
        check=check)


def test_verified_load_exact_keys(tmp_path):
    path = str(tmp_path / 'net.pth')
    good = dict(w=torch.ones(2, 3), b=torch.full((2, ), 2.0))
    torch.save(dict(state_dict=good, meta=dict(k=1)), path)
    state, meta = _load(path)
    assert sorted(state) == ['b', 'w'] and meta == dict(k=1)
    assert torch.equal(state['w'], good['w'])
    # a superset (one extra key) is refused, naming the extra key
    torch.save(dict(state_dict=dict(good, extra=torch.zeros(1))), path)
    with pytest.raises(ValueError) as info:
        _load(path)
    assert "unexpected keys ['extra']" in str(info.value)
    assert 'missing keys []' in str(info.value)
    # a subset is refused, naming the missing key
    torch.save(dict(state_dict=dict(w=good['w'])), path)
    with pytest.raises(ValueError, match=r"missing keys \['b'\]"):
        _load(path)
    # prefixes and the training-only marker are stripped, not extra
    torch.save(
        {
            'module.net.w': good['w'],
            'net.b': good['b'],
            'training_only': torch.zeros(0)
        }, path)
    state, meta = _load(path)
    assert sorted(state) == ['b', 'w'] and meta == {}
    # a shape mismatch names the key and both shapes
    torch.save(dict(w=torch.ones(3, 2), b=good['b']), path)
    with pytest.raises(
            ValueError, match=r'w has shape \(3, 2\), expected '
            r'\(2, 3\)'):
        _load(path)


# ---- self-check gate ----------------------------------------------------
def test_gate_refuses_a_failed_net_with_its_values_and_the_option():
    warned = []
    gate_self_check([], 'net x.pth', False, 'accept_failed_check=True',
                    warned.append)
    assert warned == []
    failures = ['F1 0.0000 < 0.5', 'another 1 < 2']
    with pytest.raises(FailedSelfCheck) as info:
        gate_self_check(failures, 'net x.pth', False,
                        'accept_failed_check=True', warned.append)
    msg = str(info.value)
    assert msg.startswith('net x.pth fails its self-check: F1 0.0000 < 0.5; '
                          'another 1 < 2.')
    assert msg.endswith('use it anyway with accept_failed_check=True.')
    assert isinstance(info.value, UserError)  # one line in the tools
    assert warned == []
    # accepted: a warning with the same values instead
    gate_self_check(failures, 'net x.pth', True, 'accept_failed_check=True',
                    warned.append)
    assert warned == [
        'net x.pth fails its self-check: F1 0.0000 < 0.5; another 1 < 2. '
        'Used anyway (accept_failed_check=True).'
    ]


def test_read_report_is_the_json_next_to_the_checkpoint(tmp_path):
    path, json_path = save_aux_net(
        dict(state_dict=dict(w=torch.zeros(1))), dict(f1=0.25), str(tmp_path),
        'net')
    assert json_path == path[:-len('.pth')] + '.json'
    report = read_report(path)
    assert report['f1'] == 0.25
    assert report['checkpoint'] == os.path.basename(path)
    os.remove(json_path)
    with pytest.raises(FileNotFoundError, match=re.escape(json_path)):
        read_report(path)
