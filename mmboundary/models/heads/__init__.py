# Copyright (c) mmboundary contributors. All rights reserved.
from .asyinst_mask_head import AsyInstMaskHead
from .boundary_head import BoundaryHead
from .dvis_head import DVISHead
from .dvis_verify_head import DVISVerifyHead
from .edge_agreement_mask_head import EdgeAgreementMaskHead
from .ubernet_edge_head import UbernetEdgeHead

__all__ = [
    'EdgeAgreementMaskHead', 'UbernetEdgeHead', 'DVISHead', 'DVISVerifyHead',
    'AsyInstMaskHead', 'BoundaryHead'
]
