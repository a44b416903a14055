# Copyright (c) mmboundary contributors. All rights reserved.
from .asyinst_check_hook import AsyInstCheckHook, iter_pipeline_transforms
from .boundary_target_check_hook import (BoundaryTargetCheckHook,
                                         add_boundary_target_check_hook)
from .edge_net_pretrain_hook import (EdgeNetPretrainHook,
                                     pretrain_edge_net_from_datasets)
from .frozen_net_pretrain_hook import (FrozenNetPretrainHook,
                                       check_frozen_nets_provided)
from .instance_mask_check_hook import InstanceMaskCheckHook
from .inverse_net_pretrain_hook import (InverseNetPretrainHook,
                                        pretrain_inverse_net_from_datasets)
from .loss_weight_warmup_hook import LossWeightWarmupHook
from .random_state_hook import RandomStateHook

__all__ = [
    'LossWeightWarmupHook', 'EdgeNetPretrainHook',
    'pretrain_edge_net_from_datasets', 'InstanceMaskCheckHook',
    'RandomStateHook', 'AsyInstCheckHook', 'iter_pipeline_transforms',
    'FrozenNetPretrainHook', 'check_frozen_nets_provided',
    'InverseNetPretrainHook', 'pretrain_inverse_net_from_datasets',
    'BoundaryTargetCheckHook', 'add_boundary_target_check_hook'
]
