# Copyright (c) mmboundary contributors. All rights reserved.
"""The benchmark's rows and tables.

Adding a method is one :class:`Row` in :data:`ROWS`::

    Row('FCN + InverseForm', 'configs/inverseform/<compact config>.py',
        'semantic', method_keys=('model.decode_head.loss_decode', ...),
        readme='configs/inverseform/README.md',
        paper=('<dataset, metric, baseline -> method, table>', 'mIoU'),
        direction=1)  # the paper's method is higher (-1: lower)

The config must inherit the task's baseline config (semantic:
``configs/baseline/fcn_r18-tiny_...``, instance: ``configs/edge_agreement/
mask-rcnn_r18-fpn_...synthetic...``) and change only what ``method_keys``
names (dotted config paths; anything under them may differ; see
:func:`mmboundary.benchmark.protocol.check_rows`).
"""
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from .common import log


class Row(NamedTuple):
    """One method of one table.

    Attributes:
        name (str): Row label (unique; ``--rows`` selects by it).
        config (str): Config relative to the repository root.
        task (str): A key of :data:`TASKS`.
        method_keys (tuple[str]): Dotted config paths where the row may
            differ from its table's baseline (the first row of the task);
            empty for the baseline itself.
        readme (str, optional): The method's README.
        paper (tuple[str, str], optional): The paper's claim in words and
            the metric key of the table it is about.
        baseline (str, optional): The row this method is compared with
            (its config differs from that row's only under
            ``method_keys``; paired differences are to it). Default: the
            task's first row. E.g. AsyInst is BoxInst plus its affinity
            terms, so its baseline is the BoxInst row.
        direction (int, optional): The paper's direction on its metric
            (``paper[1]``): +1 the method is higher than its baseline, -1
            lower; None when the paper claims no direction. Used by
            :func:`~.stats.paper_verdict`.
    """
    name: str
    config: str
    task: str
    method_keys: Tuple[str, ...] = ()
    readme: Optional[str] = None
    paper: Optional[Tuple[str, str]] = None
    baseline: Optional[str] = None
    direction: Optional[int] = None


def baseline_of(row: Row, rows: Sequence[Row]) -> Row:
    """The row ``row`` is compared with: its declared ``baseline`` or the
    first row of its task (the task's own baseline has none: None)."""
    group = [r for r in rows if r.task == row.task]
    if row.baseline is None:
        return None if row is group[0] else group[0]
    for other in group:
        if other.name == row.baseline:
            return other
    raise ValueError(f'row {row.name!r}: baseline {row.baseline!r} is not a '
                     f'{row.task} row; choose from '
                     f'{[r.name for r in group if r is not row]}')


# The rows, in table order; the first row of each task is its baseline.
ROWS = [
    Row(
        'FCN (CE)', 'configs/baseline/'
        'fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py', 'semantic'),
    Row('FCN + SEMEDA', 'configs/semeda/'
        'semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py',
        'semantic',
        method_keys=('model.decode_head.loss_decode', 'custom_hooks'),
        readme='configs/semeda/README.md',
        paper=('Cityscapes val, DeepLab v2 (ImageNet): mIoU 64.1 -> 66.6 '
               '(+2.5); trimap (1-2 px) mIoU +3.7 (Table 2, Fig. 5)', 'mIoU'),
        direction=1),
    Row('FCN + boundary BCE', 'configs/inverseform/'
        'fcn-bce_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py',
        'semantic',
        method_keys=('model.auxiliary_head', 'train_pipeline',
                     'train_dataloader.dataset.pipeline',
                     'boundary_bce_weight'),
        readme='configs/inverseform/README.md',
        paper=('not in the paper: InverseForm\'s boundary head with its '
               'class-balanced BCE only (eq. 6, gamma = 0); Sec. 1 and Fig. 2 '
               'argue pixel-wise boundary losses alone do not align '
               'boundaries', 'mBF')),
    Row('FCN + InverseForm', 'configs/inverseform/'
        'inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py',
        'semantic',
        method_keys=('model.auxiliary_head', 'train_pipeline',
                     'train_dataloader.dataset.pipeline',
                     'boundary_bce_weight', 'inverse_net', 'custom_hooks'),
        readme='configs/inverseform/README.md',
        paper=('NYU-Depth-v2, HRNet-w18: mIoU 33.18 -> 34.79 (+1.6), mBA '
               '37.46 -> 40.72 (Table 1); Cityscapes test, HRNet-48 OCR: '
               '84.2 -> 84.8 (Table 4)', 'mIoU'),
        direction=1),
    Row(
        'Mask R-CNN', 'configs/edge_agreement/'
        'mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance'),
    Row('Mask R-CNN + Edge Agreement', 'configs/edge_agreement/'
        'mask-rcnn-ea-sobel-l2_r18-fpn_1xb2-120iter_synthetic-cityscapes-'
        '128x256.py',
        'instance',
        method_keys=('model.roi_head.mask_head', ),
        readme='configs/edge_agreement/README.md',
        paper=('Cityscapes val, Mask R-CNN R-FPN, 28x28 masks: mask AP '
               '15.6 -> 17.7 (+2.1) (Table 5); COCO 18.8 -> 20.2 (Table 1)',
               'coco/segm_mAP'),
        direction=1),
    Row('BoxInst', 'configs/asyinst/'
        'boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance',
        method_keys=('model', 'train_pipeline',
                     'train_dataloader.dataset.pipeline', 'custom_hooks'),
        readme='configs/asyinst/README.md'),
    Row('AsyInst', 'configs/asyinst/'
        'asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance',
        method_keys=('model.data_preprocessor.depth_thresh',
                     'model.mask_head.loss_color',
                     'model.mask_head.loss_depth', 'train_pipeline',
                     'train_dataloader.dataset.pipeline', 'custom_hooks'),
        baseline='BoxInst',
        readme='configs/asyinst/README.md',
        paper=('Cityscapes val, R50-FPN, boxes only: mask AP BoxInst 21.15 '
               '-> AsyInst 24.69 (+3.54) (Table 2)', 'coco/segm_mAP'),
        direction=1),
    Row('DVIS', 'configs/dvis/'
        'dvis_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance',
        method_keys=('model', 'custom_hooks'),
        readme='configs/dvis/README.md',
        paper=('COCO val2017, mask AP: DVIS-700 R50-FCN 32.6, R101-FCN '
               '35.3 vs Mask R-CNN R101-FPN 36.5 (Table 3)', 'coco/segm_mAP'),
        direction=-1),
]

# Per task: the table's title, its metric columns (key in the metrics
# tools/test.py dumps, header, factor to percent), the boundary metrics of
# the bar chart, the fine-tuning iterations of every row (``--iters``
# overrides them; chosen with ``--start-iters`` so that ``make demo`` takes
# <= 15 min on 2 idle CPU cores) and how rows start from the shared
# pretrained segmentor; the effect that counts (``target``, points: the
# half-width an extended run's intervals must reach and the band of "no
# effect", issue 19) and the metrics whose intervals must reach it
# (``power``).
TASKS = OrderedDict(
    semantic=dict(
        title='Semantic segmentation',
        metrics=[('mIoU', 'mIoU', 1.0), ('mBIoU', 'mBIoU', 1.0),
                 ('mBF', 'mBF', 1.0), ('mTrimapIoU@1', 'trimap IoU@1px', 1.0),
                 ('mBA', 'mBA', 1.0)],
        boundary=['mBIoU', 'mBF', 'mTrimapIoU@1', 'mBA'],
        iters=100,
        start='segmentor',
        target=0.5,
        power=['mIoU', 'mBF']),
    instance=dict(
        title='Instance segmentation',
        metrics=[('coco/segm_mAP', 'mask AP', 100.0),
                 ('coco/boundary_mAP', 'Boundary AP', 100.0),
                 ('coco/boundary_mAP_50', 'Boundary AP50', 100.0),
                 ('coco/bbox_mAP', 'box AP', 100.0)],
        boundary=['coco/boundary_mAP', 'coco/boundary_mAP_50'],
        iters=300,
        start='backbone',
        target=1.0,
        power=['coco/segm_mAP', 'coco/boundary_mAP']),
)

_COMPACT = 'r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'
_ASY_DEPTH_KEYS = ('model.data_preprocessor.depth_thresh',
                   'model.mask_head.loss_depth', 'train_pipeline',
                   'train_dataloader.dataset.pipeline', 'custom_hooks')
_TABLE1 = 'Cityscapes val, R50-FPN, boxes only, mask AP: BoxInst 21.145'

#: The AsyInst ablation (the paper's Table 1 and its colour delta sweep,
#: Table 3, on the synthetic data; issue 19, item 5): every row is the
#: compact BoxInst (symmetric colour affinity, the baseline) plus what its
#: ``method_keys`` name. Run with ``--table asyinst-ablation``.
ASYINST_ABLATION = [
    Row('BoxInst (sym. colour)', f'configs/asyinst/boxinst_{_COMPACT}',
        'instance'),
    Row('asy. colour delta 2.5',
        f'configs/asyinst/asyinst-asycol_{_COMPACT}',
        'instance',
        method_keys=('model.mask_head.loss_color', ),
        paper=(f'{_TABLE1} -> asy. colour (delta 2.5, gamma 1.5) 24.095 '
               '(+2.95) (Table 3; Table 2 "w/o depth" 24.10)',
               'coco/segm_mAP'),
        direction=1),
    Row('asy. colour + asy. depth (AsyInst)',
        f'configs/asyinst/asyinst_{_COMPACT}',
        'instance',
        method_keys=('model.mask_head.loss_color', ) + _ASY_DEPTH_KEYS,
        paper=(f'{_TABLE1} -> AsyInst 24.687 (+3.54) (Table 1)',
               'coco/segm_mAP'),
        direction=1),
    Row('sym. colour + sym. depth',
        f'configs/asyinst/asyinst-symcol-symdep_{_COMPACT}',
        'instance',
        method_keys=_ASY_DEPTH_KEYS,
        paper=(f'{_TABLE1} -> sym. colour + sym. depth 19.948 (-1.20) '
               '(Table 1)', 'coco/segm_mAP'),
        direction=-1),
    Row('asy. colour delta 1.5',
        f'configs/asyinst/asyinst-col-d15-g15_{_COMPACT}',
        'instance',
        method_keys=('model.mask_head.loss_color', ),
        paper=(f'{_TABLE1} -> asy. colour (delta 1.5, gamma 1.5) 23.821 '
               '(+2.68) (Table 3)', 'coco/segm_mAP'),
        direction=1),
    Row('asy. colour delta 0.5',
        f'configs/asyinst/asyinst-col-d05-g15_{_COMPACT}',
        'instance',
        method_keys=('model.mask_head.loss_color', ),
        paper=('not on Cityscapes; iSAID, R50-FPN, mask mAP: BoxInst 19.2 '
               '-> asy. colour (delta 0.5, gamma 1.5) 19.5 (+0.3) (App. B.2, '
               'Table 5)', 'coco/segm_mAP'),
        direction=1),
]

#: Seeds of the extended protocol (issue 19, item 3), chosen with
#: ``run_main_job.py --plan --protocol extended`` from the stored 3-seed
#: results: the most seeds whose estimated time fits 110 min (the issue's
#: 120 min on the 2-core machine less a 10 % margin for other load; README,
#: "Extended protocol").
EXTENDED_SEEDS = 12

#: The tables one command runs (``--table``): their rows, where they are
#: published (results, figures and the README block) and their protocols
#: (``--protocol``; the first is the default): ``seeds``, ``iters`` per
#: task (default :data:`TASKS`' ``iters``), ``curves`` (validation points
#: per baseline run, 0: none; see :func:`~.runner.curve_iters`) on the
#: first ``curve_seeds`` seeds, and ``min_seeds`` (fewer is refused: too
#: few seeds for the protocol's intervals).
TABLES = OrderedDict([
    ('main',
     dict(
         rows=ROWS,
         work_dir='work_dirs/main_job',
         publish_dir='docs/main_job',
         readme='README.md',
         protocols=OrderedDict(
             demo=dict(seeds=[0], curves=0, min_seeds=1),
             extended=dict(
                 seeds=list(range(EXTENDED_SEEDS)),
                 curves=8,
                 curve_seeds=3,
                 min_seeds=EXTENDED_SEEDS)))),
    ('asyinst-ablation',
     dict(
         rows=ASYINST_ABLATION,
         work_dir='work_dirs/asyinst_ablation',
         publish_dir='docs/asyinst_ablation',
         readme='configs/asyinst/README.md',
         protocols=OrderedDict(
             ablation=dict(
                 seeds=[0, 1, 2],
                 iters=dict(instance=1500),
                 curves=6,
                 curve_seeds=1,
                 min_seeds=2)))),
])


def table_of_row(name: str) -> Optional[Row]:
    """The row called ``name`` in any table of :data:`TABLES` (None if
    none): the paper direction of results stored without it."""
    for table in TABLES.values():
        for row in table['rows']:
            if row.name == name:
                return row
    return None


def select_rows(names: Optional[Sequence[str]],
                rows: Sequence[Row] = None) -> List[Row]:
    """The rows to run: all, or those named (row or task names), plus the
    baseline of each selected task (differences are against it).

    Raises:
        ValueError: An unknown name; the message lists the known ones.
    """
    rows = list(ROWS if rows is None else rows)
    if names is None:
        return rows
    known = {r.name for r in rows}
    unknown = [n for n in names if n not in known and n not in TASKS]
    if unknown:
        raise ValueError(f'--rows: unknown row {unknown}; rows: '
                         f'{[r.name for r in rows]}, tasks: {list(TASKS)}')
    picked = {r.name for r in rows if r.name in names or r.task in names}
    # the table's baseline and each picked row's own baseline, transitively
    todo = [r for r in rows if r.name in picked]
    while todo:
        row = todo.pop()
        for base in (task_rows(row.task, rows)[0], baseline_of(row, rows)):
            if base is not None and base.name not in picked:
                log(f'--rows: adding {base.name!r}, the baseline of '
                    f'{row.name!r}')
                picked.add(base.name)
                todo.append(base)
    return [r for r in rows if r.name in picked]


def task_rows(task: str, rows: Sequence[Row] = None) -> List[Row]:
    """The rows of ``task`` (default: of :data:`ROWS`), baseline first."""
    return [r for r in (ROWS if rows is None else rows) if r.task == task]


def metric_value(metrics: Dict, name: str) -> Optional[float]:
    """The value of metric ``name`` (exact, else any ``prefix/name``)."""
    if name in metrics:
        return float(metrics[name])
    for key, value in metrics.items():
        if key.split('/')[-1] == name:
            return float(value)
    return None


def scaled_metric(metrics: Dict, key: str, scale: float) -> Optional[float]:
    """:func:`metric_value` times ``scale`` (a :data:`TASKS` factor to
    percent), rounded to 4 decimals; None when absent."""
    value = metric_value(metrics, key)
    return None if value is None else round(value * scale, 4)
