# Copyright (c) mmboundary contributors. All rights reserved.
from .affinity import (color_affinity, depth_grad_affinity, dilated_neighbours,
                       downsample_depth, rgb_to_lab, srgb_bytes_to_lab)
from .frozen import TRAINING_ONLY_MARKER, FrozenAuxNet, training_only_prefixes
from .inverse_net import (InverseNet, euclidean_distance, geodesic_distance,
                          warp_boundary)
from .mean_shift import (MeanShiftDiscretizer, blurring_mean_shift,
                         extend_boxes, mean_shift_kernel)
from .semantic_edge_net import SemanticEdgeNet, edge_target, one_hot_masks

__all__ = [
    'FrozenAuxNet', 'TRAINING_ONLY_MARKER', 'training_only_prefixes',
    'SemanticEdgeNet', 'edge_target', 'one_hot_masks', 'MeanShiftDiscretizer',
    'blurring_mean_shift', 'extend_boxes', 'mean_shift_kernel', 'rgb_to_lab',
    'color_affinity', 'depth_grad_affinity', 'dilated_neighbours',
    'downsample_depth', 'srgb_bytes_to_lab', 'InverseNet',
    'euclidean_distance', 'geodesic_distance', 'warp_boundary'
]
