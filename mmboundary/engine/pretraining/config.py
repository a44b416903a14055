# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretraining settings of a frozen auxiliary net read from a segmentation
config, as its hook completes them: the recipe from the hook's
``custom_hooks`` entry (overridden by a top-level ``edge_net_pretrain`` /
``inverse_net_pretrain`` dict) plus the net settings of the loss that owns
the net."""
from typing import Dict, Optional, Tuple

from mmboundary.models.losses import InverseFormLoss

__all__ = [
    'hook_entry', 'semeda_loss_cfg', 'edge_net_settings_from_config',
    'inverse_form_loss_cfg', 'inverse_net_settings_from_config'
]


def hook_entry(cfg, hook_type: str) -> dict:
    """The config's ``custom_hooks`` entry of ``hook_type``, or {}."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') in (hook_type, f'mmboundary.{hook_type}'):
            return dict(hook)
    return {}


def _recipe(cfg, hook_type: str, top_key: str) -> Dict:
    settings = dict(cfg.get(top_key, {}) or {})
    return dict(
        hook_entry(cfg, hook_type).get('settings', {}) or {}, **settings)


def semeda_loss_cfg(cfg) -> Tuple[Optional[dict], dict]:
    """The first ``SemedaLoss`` of the (last) decode head's ``loss_decode``
    (None without one) and that head."""
    decode_head = cfg.model.get('decode_head', {})
    if isinstance(decode_head, (list, tuple)):
        decode_head = decode_head[-1]
    losses = decode_head.get('loss_decode', [])
    if isinstance(losses, dict):
        losses = [losses]
    for loss in losses:
        if loss.get('type') in ('SemedaLoss', 'mmboundary.SemedaLoss'):
            return loss, decode_head
    return None, decode_head


def edge_net_settings_from_config(cfg) -> Dict:
    """Edge-net settings of a config (the ``EdgeNetPretrainHook`` entry or
    ``edge_net_pretrain``) with ``num_classes`` / ``ignore_index`` /
    ``kernel_size`` from its ``SemedaLoss`` (else the head's class count)."""
    settings = _recipe(cfg, 'EdgeNetPretrainHook', 'edge_net_pretrain')
    loss, head = semeda_loss_cfg(cfg)
    if loss is not None:
        settings['num_classes'] = loss['num_classes']
        settings['ignore_index'] = loss.get('ignore_index', 255)
        settings['kernel_size'] = loss.get('kernel_size', 3)
    elif 'num_classes' not in settings:
        settings['num_classes'] = head['num_classes']
    return settings


def inverse_form_loss_cfg(cfg) -> Dict:
    """The first ``InverseFormLoss`` entry of any decode / auxiliary head's
    ``loss_decode`` of a segmentation config.

    Raises:
        KeyError: the config has none.
    """
    model = cfg.model
    for key in ('decode_head', 'auxiliary_head'):
        heads = model.get(key) or []
        for head in heads if isinstance(heads, (list, tuple)) else [heads]:
            losses = head.get('loss_decode', [])
            losses = [losses] if isinstance(losses, dict) else losses
            for loss in losses:
                if loss.get('type') in ('InverseFormLoss',
                                        'mmboundary.InverseFormLoss'):
                    return dict(loss)
    raise KeyError('No InverseFormLoss in any loss_decode of the config; add '
                   "dict(type='InverseFormLoss', ...) to a BoundaryHead.")


def inverse_net_settings_from_config(cfg) -> Dict:
    """Pretraining settings of a config, as ``InverseNetPretrainHook``
    completes them: the recipe (the hook entry's ``settings``, overridden
    by a top-level ``inverse_net_pretrain=dict(...)``) plus the net and
    distance settings of its ``InverseFormLoss``."""
    settings = _recipe(cfg, 'InverseNetPretrainHook', 'inverse_net_pretrain')
    loss_cfg = inverse_form_loss_cfg(cfg)
    loss_cfg.pop('type')
    loss_cfg['inverse_net_checkpoint'] = None
    settings.update(InverseFormLoss(**loss_cfg).net_settings())
    return settings
