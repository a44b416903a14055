# Copyright (c) mmboundary contributors. All rights reserved.
"""What only EdgeNetPretrainHook does: the net follows the SemedaLoss
settings, and its log line. Its report's F1 is recomputed in
test_edge_net_report.py; the shared mechanism (cache, ranks, resume,
verified load) is tested for both hooks in
test_frozen_net_pretrain_hook.py."""
import json

import torch

from mmboundary.engine.hooks import EdgeNetPretrainHook
from .frozen_net_cases import EdgeCase, Toy, runner_stub

CASE = EdgeCase()


def test_net_follows_the_loss_settings(tmp_path):
    loss = CASE.loss(kernel_size=5)
    runner = runner_stub(tmp_path, CASE.dataset(tmp_path), Toy(loss))
    hook = EdgeNetPretrainHook(
        settings=CASE.settings, accept_failed_check=True)
    hook.before_train(runner)
    with open(hook.checkpoint[:-4] + '.json') as f:
        settings = json.load(f)['settings']
    assert (settings['num_classes'], settings['ignore_index'],
            settings['kernel_size']) == (CASE.C, 255, 5)
    state = torch.load(hook.checkpoint, weights_only=True)['state_dict']
    assert tuple(state['convs.0.weight'].shape[-2:]) == (5, 5)
    assert CASE.net(loss).kernel_size == 5
    assert int(CASE.net(loss).pretrained) == 1


def test_report_summary():
    hook = EdgeNetPretrainHook()
    assert hook.report_summary(dict(val_clean=dict(f1=0.123456))) == \
        'val edge F1 on clean GT 0.1235'
    assert hook.report_summary({}) == ''  # no validation data
