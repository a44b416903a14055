# Copyright (c) mmboundary contributors. All rights reserved.
"""Fail before training when a mask-supervised model gets no masks."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmboundary.registry import HOOKS


def _datasets(dataset):
    """Leaf datasets of (nested) Concat/Repeat/ClassBalanced wrappers."""
    if hasattr(dataset, 'datasets'):
        for d in dataset.datasets:
            yield from _datasets(d)
    elif hasattr(dataset, 'dataset'):
        yield from _datasets(dataset.dataset)
    else:
        yield dataset


@HOOKS.register_module()
class InstanceMaskCheckHook(Hook):
    """Checks in ``before_train`` that the model can get instance masks.

    * every training dataset's pipeline loads masks (a transform with
      ``with_mask=True``, e.g. mmdet's ``LoadAnnotations``), otherwise
      ``ValueError`` naming the dataset and the fix;
    * if the model's mask head has a ``featmap_stride`` (DVIS), the data
      pre-processor's ``pad_size_divisor`` is a multiple of it, so the map
      stride divides every padded image.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        # explicit, so that an unknown config key fails naming itself
        super().__init__()

    def before_train(self, runner) -> None:
        for ds in _datasets(runner.train_dataloader.dataset):
            transforms = getattr(
                getattr(ds, 'pipeline', None), 'transforms', [])
            if not any(getattr(t, 'with_mask', False) for t in transforms):
                raise ValueError(
                    f'InstanceMaskCheckHook: the training dataset '
                    f'{type(ds).__name__} (ann_file='
                    f'{getattr(ds, "ann_file", "?")}) provides no instance '
                    'masks: its pipeline has no transform with '
                    "with_mask=True. Add dict(type='LoadAnnotations', "
                    'with_bbox=True, with_mask=True) and use a dataset with '
                    'instance masks.')
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        stride = getattr(
            getattr(model, 'mask_head', None), 'featmap_stride', None)
        pre = getattr(model, 'data_preprocessor', None)
        divisor = getattr(pre, 'pad_size_divisor', None)
        if stride and divisor is not None and divisor % stride:
            raise ValueError(
                f'InstanceMaskCheckHook: data_preprocessor.pad_size_divisor='
                f'{divisor} is not a multiple of the mask head stride '
                f'{stride}; set pad_size_divisor=32.')
