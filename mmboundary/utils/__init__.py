# Copyright (c) mmboundary contributors. All rights reserved.
from .checkpoint import (ALLOWED_GLOBALS, UnsafeCheckpointError,
                         load_checkpoint_safely, pickled_globals,
                         register_safe_checkpoint_loader)
from .dist import LAUNCHERS, finalize_distributed, prepare_distributed
from .label_boundary import (edge_target, semantic_edge_map,
                             sobel_boundary_map, sobel_boundary_target)
from .version_check import StackVersionError, check_versions

register_safe_checkpoint_loader()

__all__ = [
    'ALLOWED_GLOBALS', 'UnsafeCheckpointError', 'load_checkpoint_safely',
    'pickled_globals', 'register_safe_checkpoint_loader', 'check_versions',
    'StackVersionError', 'LAUNCHERS', 'prepare_distributed',
    'finalize_distributed', 'semantic_edge_map', 'sobel_boundary_map',
    'edge_target', 'sobel_boundary_target'
]
