# Copyright (c) mmboundary contributors. All rights reserved.
from .boundary_accuracy import mba_radii, mean_boundary_accuracy
from .boundary_fscore import (boundary_f_score, f_score_from_counts,
                              match_boundary_pixels, tolerance_pixels)
from .boundary_iou import boundary_iou, boundary_width, mask_to_boundary
from .semantic_boundary_stats import (STAT_PARTS, semantic_boundary_stats,
                                      trimap_iou)

__all__ = [
    'mask_to_boundary', 'boundary_width', 'boundary_iou', 'boundary_f_score',
    'f_score_from_counts', 'match_boundary_pixels', 'tolerance_pixels',
    'trimap_iou', 'mean_boundary_accuracy', 'mba_radii',
    'semantic_boundary_stats', 'STAT_PARTS'
]
