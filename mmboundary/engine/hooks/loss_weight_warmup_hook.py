# Copyright (c) mmboundary contributors. All rights reserved.
"""Linear warm-up of loss weights (e.g. AsyInst's affinity losses)."""
from typing import Dict, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmboundary.registry import HOOKS
from mmboundary.utils.validation import check_int, check_number


@HOOKS.register_module()
class LossWeightWarmupHook(Hook):
    """Ramp the ``loss_weight`` of chosen loss modules linearly.

    At iteration ``t`` (0-based, as ``runner.iter``) the weight of each
    target is ``w * (s + (1 - s) * min(t / warmup_iters, 1))`` with ``w`` the
    configured weight and ``s = start_factor``. The factor depends only on
    ``runner.iter``, so a resumed run continues the ramp where it stopped.
    It is logged as ``warmup_factor`` every iteration.

    Args:
        loss_paths (Sequence[str]): Dotted paths from the (unwrapped) model to
            modules with a ``loss_weight`` attribute, e.g.
            ``'decode_head.loss_decode.1'`` or
            ``'roi_head.mask_head.loss_edge'``.
        warmup_iters (int): Iterations until the full weight is reached.
        start_factor (float): Factor at iteration 0. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self,
                 loss_paths: Sequence[str],
                 warmup_iters: int,
                 start_factor: float = 0.0) -> None:
        if isinstance(loss_paths, str) or not isinstance(
                loss_paths, (list, tuple)) or not loss_paths or not all(
                    isinstance(p, str) and p for p in loss_paths):
            raise ValueError('LossWeightWarmupHook: `loss_paths` must be a '
                             f'non-empty list of module paths, got '
                             f'{loss_paths!r}.')
        owner = 'LossWeightWarmupHook'
        self.loss_paths = list(loss_paths)
        self.warmup_iters = check_int(
            warmup_iters, 'warmup_iters', owner, low=1)
        self.start_factor = check_number(
            start_factor, 'start_factor', owner, low=0, high=1)
        self._targets: Dict[str, object] = {}
        self._base: Dict[str, float] = {}

    def factor(self, cur_iter: int) -> float:
        """The weight factor at iteration ``cur_iter``."""
        progress = min(cur_iter / self.warmup_iters, 1.0)
        return self.start_factor + (1.0 - self.start_factor) * progress

    def before_train(self, runner) -> None:
        """Resolve the loss modules and remember their configured weights."""
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        for path in self.loss_paths:
            try:
                module = model.get_submodule(path)
            except AttributeError as err:
                raise AttributeError(
                    f'LossWeightWarmupHook: the model has no module at '
                    f'loss_paths entry {path!r} ({err}). Use a dotted path '
                    'such as "decode_head.loss_decode.1".') from err
            if not hasattr(module, 'loss_weight'):
                raise AttributeError(
                    f'LossWeightWarmupHook: {path!r} is a '
                    f'{type(module).__name__} without a `loss_weight` '
                    'attribute.')
            self._targets[path] = module
            self._base[path] = float(module.loss_weight)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Set every target's weight for the coming iteration and log the
        factor as ``warmup_factor`` (``train/warmup_factor`` in the message
        hub, so it appears in the host's log next to the losses)."""
        factor = self.factor(runner.iter)
        for path, module in self._targets.items():
            module.loss_weight = self._base[path] * factor
        runner.message_hub.update_scalar('train/warmup_factor', factor)

    def after_train(self, runner) -> None:
        """Restore the configured weights."""
        for path, module in self._targets.items():
            module.loss_weight = self._base[path]
