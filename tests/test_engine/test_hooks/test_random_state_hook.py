# Copyright (c) mmboundary contributors. All rights reserved.
"""RandomStateHook: states saved with a checkpoint come back on resume,
also after the resumed loop skipped batches that drew random numbers."""
import random
from types import SimpleNamespace
from unittest.mock import Mock

import numpy as np
import torch
from mmengine.logging import MessageHub

from mmboundary.engine.hooks import LossWeightWarmupHook, RandomStateHook
from mmboundary.engine.hooks.random_state_hook import RANDOM_STATE_KEY


def _draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_resume_restores_states_and_undoes_the_skip():
    hook = RandomStateHook()
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    _draws()
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    expected = [_draws() for _ in range(3)]

    # a resumed run: other seeds, then the checkpoint is loaded
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    runner = SimpleNamespace(_resume=True, logger=Mock())
    hook.after_load_checkpoint(runner, checkpoint)
    assert _draws() == expected[0]

    # the loop skips 2 batches whose loading draws numbers
    def batches():
        while True:
            yield _draws()

    loop = SimpleNamespace(_iter=2, dataloader_iterator=batches())
    runner.train_loop = loop
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train(runner)
    next(loop.dataloader_iterator)
    next(loop.dataloader_iterator)
    # back at the saved states, the wrapper is gone
    assert not hasattr(loop.dataloader_iterator, 'state')
    assert [_draws() for _ in range(3)] == expected


def test_load_from_does_not_touch_the_states():
    hook = RandomStateHook()
    checkpoint = {}
    torch.manual_seed(3)
    hook.before_save_checkpoint(None, checkpoint)
    saved = float(torch.rand(1))
    torch.manual_seed(4)
    hook.after_load_checkpoint(
        SimpleNamespace(_resume=False, logger=Mock()), checkpoint)
    assert float(torch.rand(1)) != saved
    assert set(checkpoint[RANDOM_STATE_KEY]) >= {'python', 'numpy', 'torch'}


def test_checkpoint_without_states_warns():
    runner = SimpleNamespace(_resume=True, logger=Mock())
    RandomStateHook().after_load_checkpoint(runner, {})
    assert 'no random states' in runner.logger.warning.call_args[0][0]


def test_warmup_factor_is_logged_each_iteration():
    from torch import nn

    class Loss(nn.Module):

        def __init__(self):
            super().__init__()
            self.loss_weight = 2.0

    model = nn.Module()
    model.loss = Loss()
    hub = MessageHub.get_instance('test_warmup_factor_log')
    runner = SimpleNamespace(model=model, iter=0, message_hub=hub)
    hook = LossWeightWarmupHook(['loss'], warmup_iters=4, start_factor=0.2)
    hook.before_train(runner)
    for it in range(6):
        runner.iter = it
        hook.before_train_iter(runner, it)
    logged = hub.get_scalar('train/warmup_factor').data[0].tolist()
    # 0.2 + 0.8 * min(t / 4, 1)
    np.testing.assert_allclose(logged, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    assert model.loss.loss_weight == 2.0
