# Copyright (c) mmboundary contributors. All rights reserved.
"""Boundary targets computed from a ground-truth label map.

:class:`GenerateSemanticEdge` and :class:`GenerateSobelBoundary` are the
pipeline transforms; the label -> boundary operations they apply
(:func:`semantic_edge_map`, :func:`sobel_boundary_map`) live, with their
torch twins, in :mod:`mmboundary.utils.label_boundary` and are re-exported
here.
"""
from typing import Optional

from mmcv.transforms import BaseTransform

from mmboundary.registry import TRANSFORMS
from mmboundary.utils.label_boundary import (check_label_map,
                                             neighbourhood_kernel,
                                             semantic_edge_map,
                                             sobel_boundary_map)
from mmboundary.utils.validation import check_int, check_number, check_str

__all__ = [
    'semantic_edge_map', 'sobel_boundary_map', 'GenerateSemanticEdge',
    'GenerateSobelBoundary'
]


def _get_label(results, key):
    if key not in results or results[key] is None:
        raise KeyError(f"'{key}' is missing from the results; load the label "
                       'map first (LoadAnnotations with the segmentation '
                       'map) or set seg_key')
    label = results[key]
    try:
        check_label_map(label, key=f"results['{key}']")
    except (TypeError, ValueError) as e:
        where = results.get('seg_map_path', None)
        raise type(e)(f'{e} (from {where})' if where else str(e)) from None
    return label


@TRANSFORMS.register_module()
class GenerateSemanticEdge(BaseTransform):
    """Two-sided semantic edge target (SEMEDA) from the label map.

    See :func:`semantic_edge_map` for the definition. Place it after the
    geometric transforms. With the default ``out_key`` mmseg's
    ``PackSegInputs`` packs the (binary) map as ``data_sample.gt_edge_map``;
    a per-class (C, H, W) map is not packable by ``PackSegInputs`` (it
    expects (H, W)), so write it under another key and pack it yourself.

    Required Keys:

    - gt_seg_map (or ``seg_key``): (H, W) integer class ids

    Added Keys:

    - gt_edge_map (or ``out_key``): (H, W) or (C, H, W) uint8

    Args:
        ignore_index (int | None): ignored label. Defaults to 255.
        connectivity (int): 8 or 4. Defaults to 8.
        width (int): neighbourhood radius in pixels. Defaults to 1.
        num_classes (int | None): per-class output if given. Defaults to
            None (binary).
        seg_key (str): input key. Defaults to 'gt_seg_map'.
        out_key (str): output key. Defaults to 'gt_edge_map'.
    """

    def __init__(self,
                 ignore_index: Optional[int] = 255,
                 connectivity: int = 8,
                 width: int = 1,
                 num_classes: Optional[int] = None,
                 seg_key: str = 'gt_seg_map',
                 out_key: str = 'gt_edge_map') -> None:
        owner = 'GenerateSemanticEdge'
        self.ignore_index = check_int(
            ignore_index, 'ignore_index', owner, optional=True)
        self.connectivity = check_int(connectivity, 'connectivity', owner)
        self.width = check_int(width, 'width', owner, low=1)
        neighbourhood_kernel(connectivity, width)  # validate early
        self.num_classes = check_int(
            num_classes, 'num_classes', owner, low=1, optional=True)
        self.seg_key = check_str(seg_key, 'seg_key', owner)
        self.out_key = check_str(out_key, 'out_key', owner)

    def transform(self, results: dict) -> dict:
        label = _get_label(results, self.seg_key)
        results[self.out_key] = semantic_edge_map(label, self.ignore_index,
                                                  self.connectivity,
                                                  self.width, self.num_classes)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'ignore_index={self.ignore_index}, '
                f'connectivity={self.connectivity}, width={self.width}, '
                f'num_classes={self.num_classes}, '
                f"seg_key='{self.seg_key}', out_key='{self.out_key}')")


@TRANSFORMS.register_module()
class GenerateSobelBoundary(BaseTransform):
    """Binary Sobel boundary of the label map (InverseForm's target).

    See :func:`sobel_boundary_map`. Place it after the geometric transforms.

    Required Keys:

    - gt_seg_map (or ``seg_key``): (H, W) integer class ids

    Added Keys:

    - gt_edge_map (or ``out_key``): (H, W) uint8 (0, 1, ``ignore_index``)

    Args:
        threshold (float): magnitude threshold. Defaults to 0.
        ignore_index (int | None): ignored label. Defaults to 255.
        seg_key (str): input key. Defaults to 'gt_seg_map'.
        out_key (str): output key. Defaults to 'gt_edge_map' (packed by
            mmseg's ``PackSegInputs``).
    """

    def __init__(self,
                 threshold: float = 0.0,
                 ignore_index: Optional[int] = 255,
                 seg_key: str = 'gt_seg_map',
                 out_key: str = 'gt_edge_map') -> None:
        owner = 'GenerateSobelBoundary'
        self.threshold = check_number(threshold, 'threshold', owner, low=0)
        self.ignore_index = check_int(
            ignore_index, 'ignore_index', owner, optional=True)
        self.seg_key = check_str(seg_key, 'seg_key', owner)
        self.out_key = check_str(out_key, 'out_key', owner)

    def transform(self, results: dict) -> dict:
        label = _get_label(results, self.seg_key)
        results[self.out_key] = sobel_boundary_map(label, self.ignore_index,
                                                   self.threshold)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(threshold={self.threshold}, '
                f'ignore_index={self.ignore_index}, '
                f"seg_key='{self.seg_key}', out_key='{self.out_key}')")
