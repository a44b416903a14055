# Copyright (c) mmboundary contributors. All rights reserved.
"""Boundary AP for instance segmentation (mmdet ``val_evaluator``).

A thin adapter between mmdet's ``CocoMetric`` and `faster-coco-eval
<https://github.com/MiXaiLL76/faster_coco_eval>`_, whose ``COCOeval`` with
``iouType='boundary'`` implements Boundary AP of `Boundary IoU: Improving
Object-Centric Image Segmentation Evaluation
<https://arxiv.org/abs/2103.16562>`_ (Cheng et al., CVPR 2021, Sec. 5):
COCO AP where the matching IoU of a (GT, detection) pair is
``min(mask IoU, Boundary IoU)`` for non-crowd GT (crowd GT keep mask IoU).
"""
import copy
import os.path as osp
import tempfile
import warnings
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation.metrics import CocoMetric
from mmengine.fileio import load
from mmengine.logging import MMLogger

from mmboundary.registry import METRICS
from mmboundary.utils.label_boundary import mask_inner_boundary
from mmboundary.utils.validation import check_bool, check_int, check_str
from ..functional.boundary_iou import boundary_width, check_ratio

#: Index of each summary item in ``COCOeval.stats`` (as in mmdet).
COCO_STAT_INDEX = OrderedDict((name, i) for i, name in enumerate([
    'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@100', 'AR@300',
    'AR@1000', 'AR_s@1000', 'AR_m@1000', 'AR_l@1000'
]))
AP_ITEMS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
HOST_METRICS = ('bbox', 'segm', 'proposal', 'proposal_fast')


def boundary_rle(rle: dict, dilation_ratio: float = 0.02) -> dict:
    """Boundary band of an RLE mask, as a compressed RLE.

    Same result as faster-coco-eval's own boundary (``mask_to_boundary`` of
    the Boundary IoU paper: pad by 1, erode ``d`` times with 3x3, subtract),
    computed on the columns and rows the object spans only: outside its
    bounding box the mask is 0, exactly as the padding, so cropping changes
    nothing but the cost.

    Args:
        rle (dict): Compressed RLE with ``size`` ``[H, W]`` and ``counts``.
        dilation_ratio (float): ``d`` as a fraction of the image diagonal.

    Returns:
        dict: Compressed RLE of the band, same ``size``.
    """
    from faster_coco_eval import mask_api_new_cpp as mask_api
    h, w = (int(v) for v in rle['size'])
    d = boundary_width((h, w), dilation_ratio)
    counts = np.asarray(
        mask_api.toUncompressedRLE([rle])[0]['counts'], dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    # runs alternate 0, 1, 0, ... in column-major order
    fg = np.flatnonzero(counts[1::2] > 0) * 2 + 1
    if fg.size == 0:
        return mask_api.frUncompressedRLE([dict(size=[h, w],
                                                counts=[h * w])])[0]
    x0, x1 = starts[fg[0]] // h, (ends[fg[-1]] - 1) // h + 1
    r0, r1 = x0 * h, x1 * h
    values = (np.arange(counts.size) % 2).astype(np.uint8)
    lengths = np.clip(ends, r0, r1) - np.clip(starts, r0, r1)
    cols = np.repeat(values, lengths).reshape(x1 - x0, h)  # (cols, rows)
    rows = np.flatnonzero(cols.any(0))
    y0, y1 = rows[0], rows[-1] + 1
    crop = np.ascontiguousarray(cols[:, y0:y1].T)
    cols = np.zeros((x1 - x0, h), dtype=np.uint8)
    cols[:, y0:y1] = mask_inner_boundary(crop, d).T
    flat = cols.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    if flat[0] == 1:
        runs.insert(0, 0)
    runs[0] += int(r0)
    if len(runs) % 2:  # ends with a run of zeros
        runs[-1] += int(h * w - r1)
    else:
        runs.append(int(h * w - r1))
    return mask_api.frUncompressedRLE([dict(size=[h, w], counts=runs)])[0]


def build_boundary_cocoeval(coco_gt,
                            coco_dt,
                            dilation_ratio: float,
                            fast_boundary: bool = True,
                            iouType: str = 'boundary',
                            **kwargs):
    """faster-coco-eval's ``COCOeval_faster(iouType=iouType)``.

    With ``fast_boundary`` and ``iouType='boundary'`` the boundary of every
    annotation is computed by :func:`boundary_rle` instead of the library's
    RLE erosion (same bands, several times faster on large images); the
    matching, accumulation and summary stay the library's. Any other
    ``iouType`` (``'segm'``, ``'bbox'``) is evaluated exactly as the library
    does: no boundary is computed and the matching IoU is the mask (box)
    IoU.

    Args:
        coco_gt (faster_coco_eval.COCO): Ground truth.
        coco_dt (faster_coco_eval.COCO): Detections.
        dilation_ratio (float): Boundary width as a fraction of the diagonal.
        fast_boundary (bool): Use :func:`boundary_rle`. Defaults to True.
        iouType (str): ``'boundary'``, ``'segm'`` or ``'bbox'``. Defaults
            to ``'boundary'``.
        **kwargs: Other ``COCOeval_faster`` arguments.

    Returns:
        faster_coco_eval.COCOeval_faster: Ready for ``evaluate()``.
    """
    from faster_coco_eval import COCOeval_faster

    if iouType not in ('boundary', 'segm', 'bbox'):
        raise ValueError(f'build_boundary_cocoeval: iouType must be '
                         f"'boundary', 'segm' or 'bbox', got {iouType!r}")

    class _FastBoundaryCOCOeval(COCOeval_faster):

        def _prepare(self):
            p = self.params
            if p.iouType != 'boundary':  # nothing of ours to add
                return super()._prepare()
            p.compute_boundary = False  # masks only; boundaries below
            try:
                super()._prepare()
            finally:
                p.compute_boundary = True
            cat_ids = p.catIds if p.catIds else []
            for coco in (self.cocoGt, self.cocoDt):
                ann_ids = coco.getAnnIds(imgIds=p.imgIds, catIds=cat_ids)
                for ann in coco.loadAnns(ann_ids):
                    if 'rle' in ann:
                        ann['boundary'] = boundary_rle(
                            ann['rle'], self.boundary_dilation_ratio)

    cls = _FastBoundaryCOCOeval if fast_boundary else COCOeval_faster
    return cls(
        coco_gt,
        coco_dt,
        iouType=iouType,
        boundary_dilation_ratio=dilation_ratio,
        **kwargs)


@METRICS.register_module()
class BoundaryAPMetric(CocoMetric):
    """COCO mask AP and Boundary AP side by side.

    Everything but ``'boundary'`` is evaluated by mmdet's ``CocoMetric``
    (pycocotools); ``'boundary'`` evaluates the same mask predictions
    with faster-coco-eval's ``COCOeval_faster(iouType='boundary')``,
    reporting ``coco/boundary_mAP``, ``_mAP_50``, ``_mAP_75``,
    ``_mAP_s``, ``_mAP_m``, ``_mAP_l`` next to ``coco/segm_mAP`` and
    friends. Works with any COCO-format ``ann_file`` (polygon or RLE
    masks), e.g. the one of ``tools/dataset_converters/cityscapes.py``,
    or with GT converted from the dataset when ``ann_file`` is None.

    Args:
        ann_file (str, optional): COCO-format annotation file.
            Defaults to None (convert the dataset's annotations).
        metric (str | Sequence[str]): Any of ``'bbox'``, ``'segm'``,
            ``'proposal'``, ``'proposal_fast'``, ``'boundary'``.
            Defaults to ``('segm', 'boundary')``.
        boundary_dilation_ratio (float): Boundary band width as a
            fraction of the image diagonal, in (0, 1]. Defaults to 0.02
            (the paper's value).
        boundary_cpu_count (int): Processes faster-coco-eval may use to
            compute boundaries when ``fast_boundary=False``. Defaults to 1.
        fast_boundary (bool): Compute each annotation's boundary with
            :func:`boundary_rle` (cropped OpenCV erosion; the same bands as
            faster-coco-eval's, several times faster). Defaults to True.
        **kwargs: Other ``CocoMetric`` arguments (``classwise``,
            ``iou_thrs``, ``metric_items``, ``outfile_prefix``,
            ``collect_device``, ``prefix``, ...).

    Example:
        >>> val_evaluator = dict(
        ...     type='BoundaryAPMetric',
        ...     ann_file='data/cityscapes/annotations/'
        ...     'instancesonly_filtered_gtFine_val.json',
        ...     metric=['bbox', 'segm', 'boundary'])
    """

    def __init__(self,
                 ann_file: Optional[str] = None,
                 metric: Union[str, Sequence[str]] = ('segm', 'boundary'),
                 boundary_dilation_ratio: float = 0.02,
                 boundary_cpu_count: int = 1,
                 fast_boundary: bool = True,
                 **kwargs) -> None:
        if not isinstance(metric, (str, list, tuple)):
            raise TypeError('BoundaryAPMetric: `metric` must be a metric '
                            f'name or a list of names, got {metric!r}')
        metrics = [metric] if isinstance(metric, str) else list(metric)
        unknown = [
            m for m in metrics if m not in HOST_METRICS + ('boundary', )
        ]
        if unknown or not metrics:
            raise KeyError(f'BoundaryAPMetric: unknown metric {unknown} in '
                           f'metric={metrics}; choose from '
                           f'{list(HOST_METRICS) + ["boundary"]}')
        owner = 'BoundaryAPMetric'
        check_str(ann_file, 'ann_file', owner, optional=True)
        dilation_ratio = check_ratio(boundary_dilation_ratio,
                                     'boundary_dilation_ratio')
        cpu_count = check_int(boundary_cpu_count, 'boundary_cpu_count', owner,
                              1)
        fast_boundary = check_bool(fast_boundary, 'fast_boundary', owner)
        host = [m for m in metrics if m != 'boundary']
        super().__init__(ann_file=ann_file, metric=host or 'segm', **kwargs)
        self.metrics = metrics
        self.boundary_dilation_ratio = dilation_ratio
        self.boundary_cpu_count = cpu_count
        self.fast_boundary = fast_boundary
        if self._coco_api is not None and 0 in self._coco_api.anns:
            # pycocotools (and faster-coco-eval) store the id of the matched
            # GT per detection and read 0 as "unmatched"
            warnings.warn(
                f'{ann_file}: an annotation has id 0; COCO evaluation '
                'counts a detection matched to it as a false positive. '
                'Number annotation ids from 1.')
        if self.metric_items is not None:
            bad = [i for i in self.metric_items if i not in COCO_STAT_INDEX]
            if bad:
                raise KeyError(f'metric_items {bad} are not supported; '
                               f'choose from {list(COCO_STAT_INDEX)}')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate the host metrics, then Boundary AP.

        Args:
            results (list): ``(gt, prediction)`` pairs from
                ``CocoMetric.process``, gathered from all ranks.

        Returns:
            dict[str, float]: e.g. ``segm_mAP``, ``boundary_mAP``, ...
            (``coco/`` is prepended by the evaluator).
        """
        eval_results = OrderedDict()
        host = [m for m in self.metrics if m != 'boundary']
        if host:
            all_metrics, self.metrics = self.metrics, host
            try:
                eval_results.update(super().compute_metrics(results))
            finally:
                self.metrics = all_metrics
        if 'boundary' in self.metrics and not self.format_only:
            eval_results.update(self._boundary_ap(results))
        return eval_results

    def _ensure_coco_api(self, gts: Sequence[dict],
                         outfile_prefix: str) -> None:
        """Build the GT COCO api and ids as ``CocoMetric`` does."""
        if self._coco_api is None:
            path = self.gt_to_coco_json(
                gt_dicts=gts, outfile_prefix=outfile_prefix)
            self._coco_api = COCO(path)
        if self.cat_ids is None:
            self.cat_ids = self._coco_api.get_cat_ids(
                cat_names=self.dataset_meta['classes'])
        if self.img_ids is None:
            self.img_ids = self._coco_api.get_img_ids()

    def _boundary_ap(self, results: list) -> Dict[str, float]:
        """Boundary AP of the mask predictions with faster-coco-eval."""
        from faster_coco_eval import COCO as FastCOCO

        logger: MMLogger = MMLogger.get_current_instance()
        logger.info('Evaluating boundary...')
        gts, preds = zip(*results)
        with tempfile.TemporaryDirectory() as tmp_dir:
            prefix = osp.join(tmp_dir, 'results')
            self._ensure_coco_api(gts, prefix)
            result_files = self.results2json(preds, prefix)
            if 'segm' not in result_files:
                raise KeyError(
                    'BoundaryAPMetric: metric "boundary" needs mask '
                    'predictions (pred_instances.masks), found none')
            predictions = load(result_files['segm'])
        if not predictions:
            logger.error('The testing results of the whole dataset is '
                         'empty.')
            return OrderedDict()
        # As mmdet does for segm: without a box, the instance area used
        # for APs/APm/APl is the mask area.
        for pred in predictions:
            pred.pop('bbox', None)

        quiet = lambda *args, **kwargs: None  # noqa: E731
        coco_gt = FastCOCO(
            copy.deepcopy(self._coco_api.dataset), print_function=quiet)
        coco_dt = coco_gt.loadRes(predictions)
        coco_eval = build_boundary_cocoeval(
            coco_gt,
            coco_dt,
            self.boundary_dilation_ratio,
            fast_boundary=self.fast_boundary,
            print_function=quiet,
            boundary_cpu_count=self.boundary_cpu_count)
        coco_eval.params.catIds = self.cat_ids
        coco_eval.params.imgIds = self.img_ids
        coco_eval.params.maxDets = list(self.proposal_nums)
        coco_eval.params.iouThrs = np.asarray(self.iou_thrs)
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
        stats = coco_eval.stats

        eval_results = OrderedDict()
        if self.classwise:
            eval_results.update(
                self._classwise_table(coco_eval.eval['precision'], logger))
        items = self.metric_items or AP_ITEMS
        for item in items:
            val = stats[COCO_STAT_INDEX[item]]
            eval_results[f'boundary_{item}'] = float(f'{round(val, 3)}')
        logger.info('boundary_mAP_copypaste: ' + ' '.join(f'{v:.3f}'
                                                          for v in stats[:6]))
        return eval_results

    def _classwise_table(self, precisions: np.ndarray,
                         logger: MMLogger) -> Dict[str, float]:
        """Per-category Boundary AP, logged as a table.

        Args:
            precisions (np.ndarray): (iou, recall, cls, area, maxDets).
            logger (MMLogger): Where the table goes.

        Returns:
            dict[str, float]: ``{name}_boundary_precision`` per class.
        """
        from terminaltables import AsciiTable

        def mean_ap(p: np.ndarray) -> float:
            p = p[p > -1]
            return float(np.mean(p)) if p.size else float('nan')

        out, rows = OrderedDict(), []
        for idx, cat_id in enumerate(self.cat_ids):
            name = self._coco_api.loadCats(cat_id)[0]['name']
            row = [
                mean_ap(precisions[:, :, idx, 0, -1]),
                mean_ap(precisions[0, :, idx, 0, -1]),
                mean_ap(precisions[5, :, idx, 0, -1])
                if precisions.shape[0] > 5 else float('nan'),
            ] + [mean_ap(precisions[:, :, idx, a, -1]) for a in (1, 2, 3)]
            out[f'{name}_boundary_precision'] = round(row[0], 3)
            rows.append([name] + [f'{round(v, 3)}' for v in row])
        headers = ['category'] + [f'boundary_{i}' for i in AP_ITEMS]
        table = AsciiTable([headers] + rows)
        logger.info('\n' + table.table)
        return out
