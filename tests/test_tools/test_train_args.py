# Copyright (c) mmboundary contributors. All rights reserved.
"""Argument handling of tools/train.py (no training)."""

import pytest
from mmengine.config import Config

from mmboundary.testing import import_tool
from mmboundary.utils.cli import UserError


def test_amp_switches_optim_wrapper():
    train = import_tool('tools/train.py')
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    train.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    cfg = Config(dict(optim_wrapper=dict(type='Custom')))
    with pytest.raises(UserError, match="'Custom'"):
        train.enable_amp(cfg)


def test_resume_forms():
    train = import_tool('tools/train.py')
    assert train.parse_args(['c.py']).resume is None
    assert train.parse_args(['c.py', '--resume']).resume == 'auto'
    assert train.parse_args(['c.py', '--resume', 'x.pth']).resume == 'x.pth'
    args = train.parse_args(
        ['c.py', '--launcher', 'slurm', '--local-rank', '3'])
    assert args.launcher == 'slurm' and args.local_rank == 3


def test_show_dir_targets_each_host():
    test = import_tool('tools/test.py')
    args = test.parse_args(['c.py', 'k.pth', '--show-dir', 'out'])
    seg = Config(
        dict(
            default_hooks=dict(
                visualization=dict(type='SegVisualizationHook')),
            visualizer=dict(type='SegLocalVisualizer')))
    test.trigger_visualization_hook(seg, args)
    assert seg.visualizer.save_dir == 'out'
    assert seg.default_hooks.visualization.draw is True
    det = Config(
        dict(
            default_hooks=dict(
                visualization=dict(type='DetVisualizationHook')),
            visualizer=dict(type='DetLocalVisualizer')))
    test.trigger_visualization_hook(det, args)
    assert det.default_hooks.visualization.test_out_dir == 'out'
