# Copyright (c) mmboundary contributors. All rights reserved.
"""Boundary metrics for semantic segmentation (mmseg ``val_evaluator``)."""
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmboundary.registry import METRICS
from mmboundary.utils.validation import check_choice, check_int, check_str
from ..functional import f_score_from_counts, semantic_boundary_stats
from ..functional.boundary_fscore import tolerance_pixels
from ..functional.boundary_iou import check_ratio, check_width
from ..functional.semantic_boundary_stats import check_widths

#: Metric names :class:`BoundaryMetric` understands, with the part of
#: :func:`semantic_boundary_stats` each one needs.
BOUNDARY_METRICS = OrderedDict(
    mBIoU='biou', mBF='bf', mTrimapIoU='trimap', mBA='mba', mBAPooled='mba')

#: What :class:`BoundaryMetric` reports unless told otherwise.
DEFAULT_BOUNDARY_METRICS = ('mBIoU', 'mBF', 'mTrimapIoU', 'mBA')


def _nanmean(values: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        return float(np.nanmean(values))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.asarray(num, np.float64) / np.asarray(den, np.float64)


@METRICS.register_module()
class BoundaryMetric(BaseMetric):
    """Boundary quality of semantic segmentation, accumulated like mIoU.

    Reads ``pred_sem_seg.data`` and ``gt_sem_seg.data`` of each data sample
    (as mmseg's ``IoUMetric`` does) and keeps per-class *counts* per image;
    the dataset scores are ratios of counts summed over all images and
    ranks (not averages of per-image scores). A class whose denominator is
    0 over the dataset is NaN and skipped by the mean, like in
    ``IoUMetric``. Ground-truth pixels equal to ``ignore_index`` never
    count, and the prediction inside them is ignored too (see
    :func:`~mmboundary.evaluation.semantic_boundary_stats`).

    Reported keys (percent, 2 decimals):

    - ``mBIoU``: mean Boundary IoU, ``|B(G)∩B(P)| / |B(G)∪B(P)|`` per class
      with ``B`` the inner band of width ``d = dilation_ratio * diagonal``
      (`Boundary IoU <https://arxiv.org/abs/2103.16562>`_, Cheng et al.,
      CVPR 2021, Sec. 4).
    - ``mBF``: mean boundary F-score; a boundary pixel is matched when one
      of the other map's boundary pixels of the same class lies within
      ``bf_tolerance`` pixels (chessboard distance).
    - ``mTrimapIoU@w`` and ``mNonBoundaryIoU@w`` for each trimap width
      ``w``: mIoU on the pixels within ``w`` pixels of a GT label change,
      and on all other pixels (DeepLab; SEMEDA, Sec. 4.4).
    - ``mBA``: CascadePSP's mean boundary accuracy (`CascadePSP
      <https://arxiv.org/abs/2005.02551>`_, CVPR 2020, Sec. 5), as its
      published numbers are computed: per image, the mean over 5 disk
      radii from 1 to ``(H + W) / 300`` of the pixel accuracy in the GT
      gradient band of that radius; then the mean over images. Radii whose
      band is empty (after removing ignored pixels) are skipped; an image
      without any band pixel is skipped.
    - ``mBAPooled`` (only when asked for): the same bands, but correct and
      band pixels summed over the dataset per radius before the ratio
      (large images weigh more), then averaged over radii.

    A per-class table (``BIoU``, ``BF``, ``TrimapIoU@w``,
    ``NonBoundaryIoU@w``) is printed like ``IoUMetric``'s.

    Args:
        ignore_index (int): GT label to ignore. Defaults to 255.
        metrics (Sequence[str]): Any of ``'mBIoU'``, ``'mBF'``,
            ``'mTrimapIoU'``, ``'mBA'``, ``'mBAPooled'``. Defaults to
            :data:`DEFAULT_BOUNDARY_METRICS` (all but ``'mBAPooled'``).
        dilation_ratio (float): Boundary IoU band width as a fraction of the
            image diagonal, in (0, 1]. Defaults to 0.02 (the paper's).
        boundary_width (int, optional): Absolute Boundary IoU band width in
            pixels; overrides ``dilation_ratio``. Defaults to None.
        bf_tolerance (int, optional): Boundary F-score tolerance in pixels.
        bf_tolerance_ratio (float, optional): The tolerance as a fraction of
            the image diagonal. Give at most one; defaults to 3 pixels.
        trimap_widths (Sequence[int]): Trimap band widths in pixels.
            Defaults to (3, ).
        mba_steps (int): Number of mBA radii. Defaults to 5.
        nan_to_num (int, optional): Replace NaN per-class values by this
            number before averaging, as ``IoUMetric`` does. Defaults to
            None.
        collect_device (str): ``'cpu'`` or ``'gpu'``, used to gather results
            across ranks. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None.

    Example:
        >>> val_evaluator = [
        ...     dict(type='IoUMetric', iou_metrics=['mIoU']),
        ...     dict(type='BoundaryMetric', trimap_widths=[3, 5])]
    """

    def __init__(self,
                 ignore_index: int = 255,
                 metrics: Sequence[str] = DEFAULT_BOUNDARY_METRICS,
                 dilation_ratio: float = 0.02,
                 boundary_width: Optional[int] = None,
                 bf_tolerance: Optional[int] = None,
                 bf_tolerance_ratio: Optional[float] = None,
                 trimap_widths: Sequence[int] = (3, ),
                 mba_steps: int = 5,
                 nan_to_num: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        owner = 'BoundaryMetric'
        check_choice(collect_device, ('cpu', 'gpu'), 'collect_device', owner)
        check_str(prefix, 'prefix', owner, optional=True)
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metrics, str):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f'{owner}: `metrics` must be a metric name or a '
                            f'list of names, got {metrics!r}')
        metrics = list(metrics)
        unknown = [m for m in metrics if m not in BOUNDARY_METRICS]
        if unknown or not metrics:
            raise ValueError(
                f'BoundaryMetric: unknown metrics {unknown} in '
                f'metrics={metrics}; choose from {list(BOUNDARY_METRICS)}')
        self.metrics = metrics
        self.ignore_index = check_int(ignore_index, 'ignore_index', owner)
        self.dilation_ratio = check_ratio(dilation_ratio, 'dilation_ratio')
        self.boundary_width = None if boundary_width is None else \
            check_width(boundary_width, 'boundary_width')
        # validate the tolerance arguments now (shape is irrelevant here)
        try:
            tolerance_pixels((1, 1), bf_tolerance, bf_tolerance_ratio)
        except ValueError as err:
            raise ValueError(
                f'{owner}: bad bf_tolerance={bf_tolerance!r} / '
                f'bf_tolerance_ratio={bf_tolerance_ratio!r}: {err}') from err
        self.bf_tolerance = bf_tolerance
        self.bf_tolerance_ratio = bf_tolerance_ratio
        self.trimap_widths = check_widths(trimap_widths, 'trimap_widths')
        self.mba_steps = check_width(mba_steps, 'mba_steps')
        self.nan_to_num = check_int(
            nan_to_num, 'nan_to_num', owner, optional=True)
        self._parts = tuple(BOUNDARY_METRICS[m] for m in metrics)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Count boundary statistics of a batch into ``self.results``.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each with
                ``pred_sem_seg.data`` and ``gt_sem_seg.data`` of shape
                (1, H, W).
        """
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise ValueError('BoundaryMetric needs dataset_meta["classes"]; '
                             'the Evaluator sets it from the dataset.')
        num_classes = len(self.dataset_meta['classes'])
        for data_sample in data_samples:
            pred = data_sample['pred_sem_seg']['data']
            gt = data_sample['gt_sem_seg']['data']
            try:
                stats = semantic_boundary_stats(
                    gt,
                    pred,
                    num_classes,
                    self.ignore_index,
                    parts=self._parts,
                    dilation_ratio=self.dilation_ratio,
                    boundary_width_px=self.boundary_width,
                    tolerance=self.bf_tolerance,
                    tolerance_ratio=self.bf_tolerance_ratio,
                    trimap_widths=self.trimap_widths,
                    mba_steps=self.mba_steps)
            except ValueError as e:
                where = data_sample.get('img_path', '<unknown image>')
                raise ValueError(f'BoundaryMetric on {where}: {e}') from e
            self.results.append(stats)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Turn summed counts into dataset scores and print the table.

        Args:
            results (list[dict]): Per-image counts from all ranks.

        Returns:
            dict[str, float]: Scores in percent, rounded to 2 decimals.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        total = {k: sum(r[k] for r in results) for k in results[0]}
        per_class = OrderedDict()
        scalars = OrderedDict()
        if 'mBIoU' in self.metrics:
            inter = total['biou_inter']
            per_class['BIoU'] = _ratio(
                inter, total['biou_gt'] + total['biou_pred'] - inter)
        if 'mBF' in self.metrics:
            per_class['BF'] = f_score_from_counts(total['bf_prec_hit'],
                                                  total['bf_prec_total'],
                                                  total['bf_rec_hit'],
                                                  total['bf_rec_total'])[0]
        if 'mTrimapIoU' in self.metrics:
            inter, g, p = (total['trimap_inter'], total['trimap_gt'],
                           total['trimap_pred'])
            rest = total['area_inter'] - inter
            band_iou = _ratio(inter, g + p - inter)
            rest_iou = _ratio(
                rest, total['area_gt'] - g + total['area_pred'] - p - rest)
            for i, w in enumerate(self.trimap_widths):
                per_class[f'TrimapIoU@{w}'] = band_iou[i]
                per_class[f'NonBoundaryIoU@{w}'] = rest_iou[i]
        if 'mBA' in self.metrics:
            # CascadePSP: each image's own mBA, averaged over images
            acc = _ratio(
                np.stack([r['mba_correct'] for r in results]),
                np.stack([r['mba_total'] for r in results]))
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', RuntimeWarning)
                per_image = np.nanmean(acc, axis=1)
            scalars['mBA'] = np.round(_nanmean(per_image) * 100, 2)
        if 'mBAPooled' in self.metrics:
            acc = _ratio(total['mba_correct'], total['mba_total'])
            scalars['mBAPooled'] = np.round(_nanmean(acc) * 100, 2)

        if self.nan_to_num is not None:
            per_class = OrderedDict((k, np.nan_to_num(v, nan=self.nan_to_num))
                                    for k, v in per_class.items())
        #: per-class values (fractions, NaN = absent) of the last call
        self.per_class_results = per_class
        metrics = OrderedDict()
        for key, value in per_class.items():
            metrics['m' + key] = np.round(_nanmean(value) * 100, 2)
        metrics.update(scalars)

        if per_class:
            from prettytable import PrettyTable
            table = PrettyTable()
            table.add_column('Class', list(self.dataset_meta['classes']))
            for key, value in per_class.items():
                table.add_column(key, np.round(value * 100, 2).tolist())
            print_log('per class boundary results:', logger)
            print_log('\n' + table.get_string(), logger=logger)
        return {k: float(v) for k, v in metrics.items()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(metrics={self.metrics}, '
                f'ignore_index={self.ignore_index}, '
                f'dilation_ratio={self.dilation_ratio}, '
                f'boundary_width={self.boundary_width}, '
                f'bf_tolerance={self.bf_tolerance}, '
                f'bf_tolerance_ratio={self.bf_tolerance_ratio}, '
                f'trimap_widths={self.trimap_widths}, '
                f'mba_steps={self.mba_steps})')
