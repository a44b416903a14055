# Copyright (c) mmboundary contributors. All rights reserved.
from ._utils import (get_config_path, import_tool, make_tiny_seg_dataset,
                     train_only_config)

__all__ = [
    'make_tiny_seg_dataset', 'get_config_path', 'import_tool',
    'train_only_config'
]
