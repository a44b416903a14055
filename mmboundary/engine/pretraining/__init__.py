# Copyright (c) mmboundary contributors. All rights reserved.
"""The engine side of frozen auxiliary-net pretraining: reading the label
maps of mmseg datasets (:mod:`.data`), reading settings from configs
(:mod:`.config`) and the tools' command line (:mod:`.tool`). The recipes
are in :mod:`mmboundary.models.pretraining`; the hooks, which import this
package, in :mod:`mmboundary.engine.hooks`."""
from .config import (edge_net_settings_from_config, hook_entry,
                     inverse_form_loss_cfg, inverse_net_settings_from_config,
                     semeda_loss_cfg)
from .data import (data_fingerprints, dataset_labels, infos_data_version,
                   load_label, pick_evenly, pretrain_from_datasets,
                   seg_map_infos, unwrap_dataset)
from .tool import check_pretrained, pretrain_tool_main

__all__ = [
    'edge_net_settings_from_config', 'hook_entry', 'inverse_form_loss_cfg',
    'inverse_net_settings_from_config', 'semeda_loss_cfg', 'data_fingerprints',
    'dataset_labels', 'infos_data_version', 'load_label', 'pick_evenly',
    'pretrain_from_datasets', 'seg_map_infos', 'unwrap_dataset',
    'check_pretrained', 'pretrain_tool_main'
]
