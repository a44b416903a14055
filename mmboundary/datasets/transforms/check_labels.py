# Copyright (c) mmboundary contributors. All rights reserved.
"""Check each label map once, when it is loaded."""
from typing import Optional

from mmcv.transforms import BaseTransform

from mmboundary.registry import TRANSFORMS
from mmboundary.utils.validation import check_int, check_str
from ..checks import check_label_ids

__all__ = ['CheckSegLabels']


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Refuse a label map with an id outside ``[0, num_classes)`` that is
    not ``ignore_index``, naming its file (see
    :func:`mmboundary.datasets.checks.check_label_ids`).

    ``tools/train.py`` and ``tools/test.py`` insert it after every
    ``LoadAnnotations`` of an mmseg dataset's pipelines (training and
    evaluation), with the dataset's number of classes and ignore index,
    unless the config sets ``check_labels = False``. Place it right after
    ``LoadAnnotations`` (before any transform that pads with
    ``ignore_index``). A valid map costs one ``min`` and one ``max``.

    Required Keys:

    - gt_seg_map (or ``seg_key``): (H, W) integer class ids
    - seg_map_path (optional): named in the error

    Args:
        num_classes (int): number of classes of the dataset.
        ignore_index (int | None): the ignored id. Defaults to 255.
        seg_key (str): key of the label map. Defaults to ``'gt_seg_map'``.
    """

    def __init__(self,
                 num_classes: int,
                 ignore_index: Optional[int] = 255,
                 seg_key: str = 'gt_seg_map'):
        owner = type(self).__name__
        self.num_classes = check_int(num_classes, 'num_classes', owner, 1)
        self.ignore_index = check_int(
            ignore_index, 'ignore_index', owner, optional=True)
        self.seg_key = check_str(seg_key, 'seg_key', owner)

    def transform(self, results: dict) -> dict:
        """Check ``results[seg_key]``; the results are returned unchanged.

        Raises:
            KeyError: no label map under ``seg_key``.
            LabelError: an id out of range, naming ``seg_map_path``.
        """
        if results.get(self.seg_key, None) is None:
            raise KeyError(f"CheckSegLabels: '{self.seg_key}' is missing "
                           'from the results; place it after '
                           'LoadAnnotations')
        check_label_ids(results[self.seg_key], self.num_classes,
                        self.ignore_index, results.get('seg_map_path', None))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'seg_key={self.seg_key!r})')
