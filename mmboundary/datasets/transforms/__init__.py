# Copyright (c) mmboundary contributors. All rights reserved.
from .boundary import (GenerateSemanticEdge, GenerateSobelBoundary,
                       semantic_edge_map, sobel_boundary_map)
from .check_labels import CheckSegLabels
from .depth import (AlignDepth, LoadCityscapesDepth, ResizeFlipDepth,
                    disparity_to_depth)

__all__ = [
    'GenerateSemanticEdge', 'GenerateSobelBoundary', 'semantic_edge_map',
    'sobel_boundary_map', 'LoadCityscapesDepth', 'AlignDepth',
    'disparity_to_depth', 'ResizeFlipDepth', 'CheckSegLabels'
]
