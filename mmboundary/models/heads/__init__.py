# Copyright (c) mmboundary contributors. All rights reserved.
from .asyinst_mask_head import AsyInstMaskHead
from .edge_agreement_mask_head import EdgeAgreementMaskHead
from .ubernet_edge_head import UbernetEdgeHead

__all__ = ['EdgeAgreementMaskHead', 'UbernetEdgeHead', 'AsyInstMaskHead']
