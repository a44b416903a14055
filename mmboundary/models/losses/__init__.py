# Copyright (c) mmboundary contributors. All rights reserved.
from .asymmetric_affinity_loss import (AsymmetricAffinityLoss,
                                       asymmetric_affinity_loss,
                                       asymmetric_pair_loss,
                                       pairwise_log_same_prob)
from .edge_agreement_loss import (EDGE_FILTERS, EdgeAgreementLoss,
                                  edge_agreement_loss, edge_kernels)
from .semeda_loss import SemedaLoss, semeda_embedding_loss

__all__ = [
    'EdgeAgreementLoss', 'edge_agreement_loss', 'edge_kernels', 'EDGE_FILTERS',
    'SemedaLoss', 'semeda_embedding_loss', 'AsymmetricAffinityLoss',
    'asymmetric_affinity_loss', 'asymmetric_pair_loss',
    'pairwise_log_same_prob'
]
