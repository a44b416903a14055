# Copyright (c) mmboundary contributors. All rights reserved.
"""Checks of a BoxInst/AsyInst training setup before the first iteration.

Without them a config that asks for AsyInst's depth-gradient affinity but
loads no depth, or that loads no boxes, fails only inside the first
training iteration (the data preprocessor then finds no depth map or no
boxes), after the model, the optimizer and the data workers were set up.
"""
from typing import Iterator, List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmboundary.registry import HOOKS

__all__ = [
    'AsyInstCheckHook', 'iter_pipeline_transforms', 'add_asyinst_check_hook'
]


def iter_pipeline_transforms(dataset) -> Iterator:
    """Every transform of a dataset's pipeline, wrappers' inner transforms
    included (``AlignDepth``, ``RandomChoice``, ``RandomApply``...), through
    dataset wrappers (``dataset`` / ``datasets`` attributes)."""
    todo: List = [dataset]
    while todo:
        ds = todo.pop()
        if hasattr(ds, 'pipeline'):
            stack = [ds.pipeline]
            while stack:
                node = stack.pop()
                inner = getattr(node, 'transforms', None)
                if node is not ds.pipeline:
                    yield node
                if inner is not None:
                    stack.extend(reversed(list(inner)))
        inner_sets = getattr(ds, 'datasets', None)
        if inner_sets is not None:
            todo.extend(inner_sets)
        elif getattr(ds, 'dataset', None) is not None:
            todo.append(ds.dataset)


@HOOKS.register_module()
class AsyInstCheckHook(Hook):
    """Refuse an inconsistent BoxInst/AsyInst setup in ``before_train``.

    Checks (the model unwrapped from its wrapper, the pipeline of the
    built training dataset):

    * the mask head has a depth term (``loss_depth``) only if the data
      preprocessor computes depth edges (``depth_thresh`` set);
    * with depth edges, the train pipeline has ``LoadCityscapesDepth``, an
      ``AlignDepth`` (or ``ResizeFlipDepth``) moving the preprocessor's
      ``depth_key`` and a
      ``PackDetInputs`` listing it in ``meta_keys``;
    * the train pipeline loads boxes (``LoadAnnotations(with_bbox=True)``);
    * the preprocessor's ``mask_stride`` equals the head's
      ``mask_out_stride``.

    Each failure is a ``ValueError`` naming the missing transform or key
    and the fix. The hook takes no arguments.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        super().__init__()

    def before_train(self, runner) -> None:
        """Check the model and the train pipeline (see the class doc)."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        pre = model.data_preprocessor
        head = getattr(model, 'mask_head', None)
        depth_thresh = getattr(pre, 'depth_thresh', None)
        if getattr(head, 'loss_depth', None) is not None and \
                depth_thresh is None:
            raise ValueError(
                'AsyInstCheckHook: mask_head.loss_depth is set but the data '
                f'preprocessor ({type(pre).__name__}) computes no depth '
                "edges; use data_preprocessor=dict(type='AsyInstData"
                "Preprocessor', depth_thresh=0.01, ...) or set "
                'mask_head.loss_depth=None')
        stride = getattr(pre, 'mask_stride', None)
        out_stride = getattr(head, 'mask_out_stride', None)
        if None not in (stride, out_stride) and stride != out_stride:
            raise ValueError(
                f'AsyInstCheckHook: data_preprocessor.mask_stride={stride} '
                f'differs from mask_head.mask_out_stride={out_stride}; the '
                'pairwise masks must lie on the mask grid: set both to the '
                'same value')
        transforms = list(
            iter_pipeline_transforms(runner.train_dataloader.dataset))
        names = [type(t).__name__ for t in transforms]
        if not any(
                getattr(t, 'with_bbox', False)
                for t in transforms if type(t).__name__ == 'LoadAnnotations'):
            raise ValueError(
                'AsyInstCheckHook: the train pipeline loads no boxes (box '
                "supervision); add dict(type='LoadAnnotations', "
                'with_bbox=True) after LoadImageFromFile '
                f'(pipeline: {names})')
        if depth_thresh is None:
            return
        key = pre.depth_key
        fix = (f'the depth affinity (data_preprocessor.depth_thresh='
               f'{depth_thresh}) needs depth in the train pipeline: add '
               "dict(type='LoadCityscapesDepth') after LoadAnnotations, wrap "
               'the geometric transforms (Resize, RandomCrop, RandomFlip) in '
               "dict(type='AlignDepth', transforms=[...]) and list "
               f"'{key}' in PackDetInputs(meta_keys=...); or set "
               'depth_thresh=None and mask_head.loss_depth=None')
        if 'LoadCityscapesDepth' not in names:
            raise ValueError('AsyInstCheckHook: no LoadCityscapesDepth in '
                             f'the train pipeline {names}; {fix}')
        if not any(
                key in getattr(t, 'keys', ()) for t in transforms
                if type(t).__name__ in ('AlignDepth', 'ResizeFlipDepth')):
            raise ValueError(
                f'AsyInstCheckHook: no AlignDepth (or ResizeFlipDepth after '
                f'Resize/RandomFlip) moving {key!r} in the '
                f'train pipeline {names}, so the depth map would not follow '
                f'the image; {fix}')
        if not any(
                key in (getattr(t, 'meta_keys', None) or ())
                for t in transforms if type(t).__name__ == 'PackDetInputs'):
            raise ValueError(
                f'AsyInstCheckHook: PackDetInputs does not list {key!r} in '
                f'meta_keys, so the depth never reaches the data '
                f'preprocessor; {fix}')


def add_asyinst_check_hook(cfg) -> bool:
    """Give every BoxInst/AsyInst config the checks of
    :class:`AsyInstCheckHook`, listed in ``custom_hooks`` or not.

    ``tools/train.py`` calls it on every config before building the Runner:
    a model with ``AsyInstDataPreprocessor`` or ``AsyInstMaskHead`` whose
    ``custom_hooks`` lack ``AsyInstCheckHook`` gets it appended, so depth,
    boxes and strides are checked before the first iteration.

    Args:
        cfg (Config): The training config (changed in place).

    Returns:
        bool: Whether the hook was added.
    """
    from mmboundary.utils.launch import config_type, ensure_custom_hook
    model = cfg.get('model') or {}
    if config_type(model.get('data_preprocessor')) != \
            'AsyInstDataPreprocessor' and \
            config_type(model.get('mask_head')) != 'AsyInstMaskHead':
        return False
    return ensure_custom_hook(cfg, 'AsyInstCheckHook')
