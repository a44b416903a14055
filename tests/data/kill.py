# Copyright (c) mmboundary contributors. All rights reserved.
"""A test-only hook that SIGKILLs its own process right after a checkpoint,
and records what every iteration saw."""
import json
import os
import os.path as osp
import signal

from mmengine.hooks import Hook

from mmboundary.registry import HOOKS


@HOOKS.register_module()
class TestKillAfterCheckpointHook(Hook):
    """SIGKILL the training process once iteration ``kill_after`` (1-based,
    as in ``iter_{kill_after}.pth``) is checkpointed; None: never.

    Runs after ``CheckpointHook`` (lowest priority), so the checkpoint is
    complete on disk; nothing else of the run (logger flush, ``after_train``
    hooks, process group teardown) gets to run, as with a real kill.
    """

    priority = 'LOWEST'

    def __init__(self, kill_after=None):
        self.kill_after = kill_after

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        with open(osp.join(runner.work_dir, 'iters.jsonl'), 'a') as f:
            f.write(
                json.dumps(dict(iter=runner.iter + 1, pid=os.getpid())) + '\n')
        if self.kill_after is not None and runner.iter + 1 == int(
                self.kill_after):
            assert osp.isfile(
                osp.join(runner.work_dir, f'iter_{self.kill_after}.pth'))
            os.kill(os.getpid(), signal.SIGKILL)
