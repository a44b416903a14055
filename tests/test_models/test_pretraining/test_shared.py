# Copyright (c) mmboundary contributors. All rights reserved.
"""train_aux_net: the one pretraining loop of the frozen auxiliary nets."""
import math

import pytest
import torch
from torch import nn

from mmboundary.models.utils import inverse_net_pretrain as inverse_pretrain
from mmboundary.models.utils import semantic_edge_net_pretrain as edge_pretrain
from mmboundary.models.utils.pretrained_aux_net import train_aux_net


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
