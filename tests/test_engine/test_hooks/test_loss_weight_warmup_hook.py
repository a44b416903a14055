# Copyright (c) mmboundary contributors. All rights reserved.
from unittest.mock import Mock

import pytest
from torch import nn

from mmboundary.engine.hooks import LossWeightWarmupHook


class _Loss(nn.Module):

    def __init__(self, w):
        super().__init__()
        self.loss_weight = w


def _runner():
    model = nn.Module()
    model.head = nn.Module()
    model.head.losses = nn.ModuleList([_Loss(1.0), _Loss(4.0)])
    runner = Mock()
    runner.model = model
    runner.iter = 0
    return runner, model


def test_linear_ramp_and_restore():
    runner, model = _runner()
    hook = LossWeightWarmupHook(['head.losses.1'],
                                warmup_iters=4,
                                start_factor=0.5)
    hook.before_train(runner)
    weights = []
    for it in (0, 1, 2, 4, 10):
        runner.iter = it
        hook.before_train_iter(runner, 0)
        weights.append(model.head.losses[1].loss_weight)
    # 4 * (0.5 + 0.5 * min(t / 4, 1))
    assert weights == [2.0, 2.5, 3.0, 4.0, 4.0]
    assert model.head.losses[0].loss_weight == 1.0
    hook.after_train(runner)
    assert model.head.losses[1].loss_weight == 4.0


def test_bad_paths_are_named():
    runner, _ = _runner()
    hook = LossWeightWarmupHook(['head.nothing'], warmup_iters=2)
    with pytest.raises(AttributeError, match="'head.nothing'"):
        hook.before_train(runner)
    hook = LossWeightWarmupHook(['head'], warmup_iters=2)
    with pytest.raises(AttributeError, match='without a `loss_weight`'):
        hook.before_train(runner)
