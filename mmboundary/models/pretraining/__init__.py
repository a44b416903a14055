# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretraining of the frozen auxiliary nets (SEMEDA's edge net,
InverseForm's InverseNet): the recipes (:mod:`.edge_net`,
:mod:`.inverse_net`), their reports and self-checks, and what both share
(:mod:`.shared`: loop, cache key, checkpoint, verified load, self-check
gate).

Layering: the nets live in :mod:`mmboundary.models.utils`; this package sits
above them and below :mod:`mmboundary.models.losses` (which load verified
nets through it). Reading datasets and configs, the hooks and the tools'
command line are in :mod:`mmboundary.engine.pretraining` and
:mod:`mmboundary.engine.hooks`.
"""
from .edge_net import (DEFAULT_PRETRAIN_SETTINGS, EDGE_NET_MIN_F1,
                       edge_net_self_check, edge_net_state, evaluate_edge_net,
                       load_edge_net_state, pretrain_cache_key,
                       pretrain_semantic_edge_net, save_edge_net,
                       settings_with_defaults)
from .inverse_net import (DEFAULT_INVERSE_NET_SETTINGS,
                          INVERSE_NET_MIN_FRAC_SHIFT4, build_inverse_net,
                          evaluate_inverse_net, inverse_net_cache_key,
                          inverse_net_self_check,
                          inverse_net_settings_with_defaults,
                          inverse_net_state, load_inverse_net_state,
                          pretrain_inverse_net, save_inverse_net)
from .shared import (FailedSelfCheck, files_fingerprint, gate_self_check,
                     load_aux_net_state, read_report, save_aux_net,
                     train_aux_net)

__all__ = [
    'DEFAULT_PRETRAIN_SETTINGS', 'EDGE_NET_MIN_F1', 'edge_net_self_check',
    'edge_net_state', 'evaluate_edge_net', 'load_edge_net_state',
    'pretrain_cache_key', 'pretrain_semantic_edge_net', 'save_edge_net',
    'settings_with_defaults', 'DEFAULT_INVERSE_NET_SETTINGS',
    'INVERSE_NET_MIN_FRAC_SHIFT4', 'build_inverse_net', 'evaluate_inverse_net',
    'inverse_net_cache_key', 'inverse_net_self_check',
    'inverse_net_settings_with_defaults', 'inverse_net_state',
    'load_inverse_net_state', 'pretrain_inverse_net', 'save_inverse_net',
    'FailedSelfCheck', 'files_fingerprint', 'gate_self_check',
    'load_aux_net_state', 'read_report', 'save_aux_net', 'train_aux_net'
]
