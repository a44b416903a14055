# Copyright (c) mmboundary contributors. All rights reserved.
"""A test-only hook that records what a (distributed) run did."""
import json
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmboundary.registry import HOOKS


@HOOKS.register_module()
class TestProbeHook(Hook):
    """Writes ``probe_rank{r}.json`` to the work dir after training.

    Records the iteration training starts at, the first optimizer state
    tensor, and for each iteration the local loss, the local gradient of
    ``param_name`` (computed on this rank's batch, outside DDP) and the
    parameter before and after the step.
    """

    def __init__(self, param_name='decode_head.conv_seg.bias'):
        self.param_name = param_name
        self.records = []
        self.start_iter = None
        self.optim_state = None

    def _module(self, runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _param(self, runner):
        return dict(self._module(runner).named_parameters())[self.param_name]

    def before_train(self, runner):
        self.start_iter = runner.iter
        state = runner.optim_wrapper.optimizer.state_dict()['state']
        if state:
            first = state[min(state)]
            self.optim_state = first['momentum_buffer'].flatten().tolist()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        module = self._module(runner)
        param = self._param(runner)
        data = module.data_preprocessor(data_batch, True)
        loss, _ = module.parse_losses(module(**data, mode='loss'))
        grad, = torch.autograd.grad(loss, [param])
        self.records.append(
            dict(
                iter=runner.iter,
                loss=float(loss),
                grad=grad.flatten().tolist(),
                before=param.detach().flatten().tolist()))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.records[-1]['after'] = self._param(
            runner).detach().flatten().tolist()

    def after_train(self, runner):
        rank = dist.get_rank() if dist.is_initialized() else 0
        world = dist.get_world_size() if dist.is_initialized() else 1
        lr = runner.optim_wrapper.optimizer.param_groups[0]['lr']
        with open(osp.join(runner.work_dir, f'probe_rank{rank}.json'),
                  'w') as f:
            json.dump(
                dict(
                    rank=rank,
                    world_size=world,
                    lr=lr,
                    start_iter=self.start_iter,
                    optim_state=self.optim_state,
                    records=self.records), f)
