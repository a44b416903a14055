# Copyright (c) mmboundary contributors. All rights reserved.
"""Hooks that tools/train.py adds to every config: added once, any scope."""
from mmengine.config import Config

from mmboundary.utils.launch import (add_random_state_hook, config_type,
                                     ensure_custom_hook)


def test_config_type():
    assert config_type(dict(type='mmboundary.BoundaryHead')) == 'BoundaryHead'
    assert config_type(dict(type='FCNHead')) == 'FCNHead'
    assert config_type(dict(in_channels=3)) == ''
    assert config_type(dict(type=dict)) == ''  # a class, not a name
    assert config_type(None) == '' and config_type('FCNHead') == ''


def test_ensure_custom_hook_appends_once():
    cfg = Config(dict(custom_hooks=[dict(type='X', priority='LOW')]))
    assert ensure_custom_hook(cfg, 'Y')
    assert cfg.custom_hooks == [dict(type='X', priority='LOW'), dict(type='Y')]
    assert not ensure_custom_hook(cfg, 'Y')
    assert not ensure_custom_hook(cfg, 'X')
    assert len(cfg.custom_hooks) == 2
    # a scoped entry counts as listed
    cfg = Config(dict(custom_hooks=[dict(type='mmboundary.Y')]))
    assert not ensure_custom_hook(cfg, 'Y')
    # no custom_hooks at all
    cfg = Config(dict())
    assert ensure_custom_hook(cfg,
                              'Y') and cfg.custom_hooks == [dict(type='Y')]


def test_random_state_hook_is_added_once():
    cfg = Config(dict(custom_hooks=None))
    add_random_state_hook(cfg)
    add_random_state_hook(cfg)
    assert cfg.custom_hooks == [dict(type='RandomStateHook')]
