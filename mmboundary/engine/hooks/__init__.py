# Copyright (c) mmboundary contributors. All rights reserved.
from .asyinst_check_hook import AsyInstCheckHook, iter_pipeline_transforms
from .edge_net_pretrain_hook import (EdgeNetPretrainHook,
                                     pretrain_edge_net_from_datasets)
from .instance_mask_check_hook import InstanceMaskCheckHook
from .loss_weight_warmup_hook import LossWeightWarmupHook
from .random_state_hook import RandomStateHook

__all__ = [
    'LossWeightWarmupHook', 'EdgeNetPretrainHook',
    'pretrain_edge_net_from_datasets', 'InstanceMaskCheckHook',
    'RandomStateHook', 'AsyInstCheckHook', 'iter_pipeline_transforms'
]
