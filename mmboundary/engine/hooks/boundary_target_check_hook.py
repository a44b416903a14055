# Copyright (c) mmboundary contributors. All rights reserved.
"""Check, before the first iteration, that a boundary head's target exists.

A :class:`~mmboundary.models.heads.BoundaryHead` reading ``gt_edge_map``
needs ``GenerateSobelBoundary`` in the training pipeline. Configs with an
``InverseFormLoss`` check this in their ``InverseNetPretrainHook``; a head
trained with the boundary BCE only (the paper's "without the InverseForm
term" rows) has no such hook and would fail inside the first iteration,
after the optimizer and the data workers were set up. ``tools/train.py``
gives every config with such a head this hook
(:func:`add_boundary_target_check_hook`).
"""
from mmengine.hooks import Hook

from mmboundary.engine.hooks.inverse_net_pretrain_hook import \
    check_boundary_pipeline
from mmboundary.registry import HOOKS
from mmboundary.utils.launch import config_type, ensure_custom_hook

__all__ = ['BoundaryTargetCheckHook', 'add_boundary_target_check_hook']


@HOOKS.register_module()
class BoundaryTargetCheckHook(Hook):
    """Refuse a ``BoundaryHead`` reading ``gt_edge_map`` whose training
    pipeline lacks ``GenerateSobelBoundary``, in ``before_train`` (a
    ``KeyError`` naming the transform to add; the model is unwrapped from
    its wrapper, the pipeline is the built training dataset's). The hook
    takes no arguments."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        super().__init__()

    def before_train(self, runner) -> None:
        """Check the boundary heads against the training pipeline."""
        check_boundary_pipeline(runner.model, runner.train_dataloader.dataset)


def _reads_gt_edge_map(node) -> bool:
    """Whether a model config holds a BoundaryHead reading gt_edge_map."""
    if isinstance(node, dict):
        if config_type(node) == 'BoundaryHead' and node.get(
                'boundary_source', 'gt_edge_map') == 'gt_edge_map':
            return True
        return any(_reads_gt_edge_map(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_reads_gt_edge_map(v) for v in node)
    return False


def add_boundary_target_check_hook(cfg) -> bool:
    """Append :class:`BoundaryTargetCheckHook` to ``cfg.custom_hooks`` when
    the model has a ``BoundaryHead`` reading ``gt_edge_map`` and the hook
    is not listed yet (``tools/train.py`` calls it on every config).

    Args:
        cfg (Config): The training config (changed in place).

    Returns:
        bool: Whether the hook was added.
    """
    if not _reads_gt_edge_map(cfg.get('model') or {}):
        return False
    return ensure_custom_hook(cfg, 'BoundaryTargetCheckHook')
