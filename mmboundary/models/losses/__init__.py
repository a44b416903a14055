# Copyright (c) mmboundary contributors. All rights reserved.
from .asymmetric_affinity_loss import (AsymmetricAffinityLoss,
                                       asymmetric_affinity_loss,
                                       asymmetric_pair_loss,
                                       pairwise_log_same_prob)
from .boundary_bce_loss import BoundaryBCELoss, balanced_bce_with_logits
from .dvis_losses import (DVISBinaryLoss, MumfordShahLoss,
                          PermutationInvariantLoss, QuantizationLoss,
                          dvis_huber, permutation_invariant_loss,
                          stratified_offsets)
from .edge_agreement_loss import (EDGE_FILTERS, EdgeAgreementLoss,
                                  edge_agreement_loss, edge_kernels,
                                  semantic_edge_agreement_loss)
from .inverseform_loss import (InverseFormLoss, extract_tiles, grid_tiles,
                               tile_boxes)
from .semeda_loss import SemedaLoss, semeda_embedding_loss

__all__ = [
    'EdgeAgreementLoss', 'edge_agreement_loss', 'edge_kernels', 'EDGE_FILTERS',
    'semantic_edge_agreement_loss', 'SemedaLoss', 'semeda_embedding_loss',
    'DVISBinaryLoss', 'PermutationInvariantLoss', 'MumfordShahLoss',
    'QuantizationLoss', 'dvis_huber', 'permutation_invariant_loss',
    'stratified_offsets', 'AsymmetricAffinityLoss', 'asymmetric_affinity_loss',
    'asymmetric_pair_loss', 'pairwise_log_same_prob', 'BoundaryBCELoss',
    'balanced_bce_with_logits', 'InverseFormLoss', 'extract_tiles',
    'grid_tiles', 'tile_boxes'
]
