# Copyright (c) mmboundary contributors. All rights reserved.
"""A test-only hook that ends a training run at a given iteration: with
SIGINT (as Ctrl-C) or with an exception."""
import os
import signal

from mmengine.hooks import Hook

from mmboundary.registry import HOOKS


@HOOKS.register_module()
class TestFailAtIterHook(Hook):
    """After iteration ``at_iter`` (1-based) send SIGINT to the own process
    (``mode='sigint'``) or raise ``RuntimeError`` (``mode='raise'``)."""

    priority = 'LOWEST'

    def __init__(self, at_iter=1, mode='raise'):
        assert mode in ('raise', 'sigint')
        self.at_iter = at_iter
        self.mode = mode

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 != self.at_iter:
            return
        if self.mode == 'sigint':
            os.kill(os.getpid(), signal.SIGINT)
        raise RuntimeError(f'test failure after iteration {self.at_iter}')
