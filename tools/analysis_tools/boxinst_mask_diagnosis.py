# Copyright (c) mmboundary contributors. All rights reserved.
"""Why do box-supervised rows score mask AP 0? Train them at the main job's
protocol and measure what their masks look like.

For every variant (the main job's BoxInst and AsyInst rows, BoxInst with its
projection term only, and the BoxInst row with mmdet 3.3's own
``BoxInstDataPreprocessor`` and ``BoxInstMaskHead``), the config is resolved
exactly as the main job (:mod:`mmboundary.benchmark`) resolves its rows
(data, budget, warm-ups scaled to it, seed, backbone from the cached shared
start), trained with ``tools/train.py``, tested with ``tools/test.py --out``
and its val predictions diagnosed by :func:`mask_diagnosis`:

* per val GT instance, the detection whose box overlaps it most; over the
  GT instances matched with box IoU > 0.5: the mean IoU of that
  detection's mask with the instance, and the mean IoU the detection's box
  would have as a mask (a box-shaped mask's score);
* over the detections scoring above ``--score-thr``: the median share of a
  mask's pixels inside its own box, and the mean IoU between the masks of
  two detections of one image whose boxes do not overlap (1 means every
  detection of an image gets the same, instance-agnostic mask).

Example (seed 0 at the main job's instance budget; reuses the main job's
data and shared start, trains the start if it is missing)::

    OMP_NUM_THREADS=1 python tools/analysis_tools/boxinst_mask_diagnosis.py \\
        --iters 300 --seed 0

The table is stored with :func:`mmboundary.utils.results_doc.dump_results`
(``--out``) for the README's results block.
"""
import argparse
import os
import os.path as osp
import pickle
import sys
from typing import Dict, List, Sequence

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from mmboundary.benchmark.common import log, slug  # noqa: E402
from mmboundary.benchmark.data import ensure_data  # noqa: E402
from mmboundary.benchmark.process import read_metrics  # noqa: E402
from mmboundary.benchmark.process import run, train  # noqa: E402
from mmboundary.benchmark.protocol import load_config  # noqa: E402
from mmboundary.benchmark.protocol import resolve_config  # noqa: E402
from mmboundary.benchmark.rows import task_rows  # noqa: E402
from mmboundary.benchmark.start import ensure_start  # noqa: E402
from mmboundary.utils.cli import add_quiet  # noqa: E402
from mmboundary.utils.progress import track  # noqa: E402
from mmboundary.utils.results_doc import dump_results  # noqa: E402

#: (name, config) of the variants, in table order.
VARIANTS = [
    ('BoxInst', 'configs/asyinst/'
     'boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'),
    ('BoxInst, projection term only', 'configs/asyinst/'
     'boxinst-proj_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'),
    ('AsyInst', 'configs/asyinst/'
     'asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'),
    ('BoxInst, mmdet 3.3 modules', 'configs/asyinst/'
     'boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'),
]
#: Variants whose resolved config is passed through :func:`as_mmdet_boxinst`.
MMDET_VARIANTS = ('BoxInst, mmdet 3.3 modules', )
COLUMNS = [
    'variant', 'iters', 'mask AP', 'mask AP50', 'box AP', 'GT matched',
    'mask IoU', 'box-as-mask IoU', 'mask inside own box',
    'cross-instance mask IoU'
]


def box_mask(box: Sequence[float], shape: Sequence[int]) -> np.ndarray:
    """(h, w) bool: the pixels whose centres ``(c + 0.5, r + 0.5)`` lie in
    the box ``(x1, y1, x2, y2)`` (borders included)."""
    h, w = shape
    x1, y1, x2, y2 = (float(v) for v in box)
    cols = np.arange(w) + 0.5
    rows = np.arange(h) + 0.5
    return ((rows[:, None] >= y1) & (rows[:, None] <= y2) &
            (cols[None, :] >= x1) & (cols[None, :] <= x2))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def box_ious(boxes: np.ndarray, box) -> np.ndarray:
    """IoU (mmdet's ``bbox_overlaps``) of ``n`` (x1, y1, x2, y2) boxes with
    one box, (n,), or with ``m`` boxes given as an (m, 4) array, (n, m)."""
    import torch
    from mmdet.structures.bbox import bbox_overlaps
    boxes = torch.as_tensor(np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
    other = np.asarray(box, dtype=np.float64)
    ious = bbox_overlaps(boxes, torch.as_tensor(other.reshape(-1, 4)))
    return ious[:, 0].numpy() if other.ndim == 1 else ious.numpy()


def mask_diagnosis(preds: List[Dict],
                   gts: Dict[object, List[Dict]],
                   score_thr: float = 0.3,
                   match_iou: float = 0.5) -> Dict[str, float]:
    """What the predicted masks look like (see the module doc).

    Args:
        preds (list[dict]): per image ``img_id``, ``bboxes`` (n, 4) xyxy,
            ``scores`` (n,) and ``masks`` (n, h, w) bool.
        gts (dict): ``img_id -> [{'bbox': (x1, y1, x2, y2), 'mask': (h, w)
            bool}]``, the GT instances.
        score_thr (float): detections counted by the two last numbers.
        match_iou (float): box IoU above which a GT instance is matched.

    Returns:
        dict: ``num_gt``, ``matched``, ``mask_iou``, ``box_iou`` (means over
        the matched instances; NaN if none), ``inside`` (median over the
        detections above ``score_thr``) and ``cross_iou`` (mean over their
        pairs with non-overlapping boxes; NaN if none).
    """
    num_gt, mask_ious, box_as_mask, inside, cross = 0, [], [], [], []
    for pred in preds:
        boxes = np.asarray(pred['bboxes'], dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(pred['scores'], dtype=np.float64).reshape(-1)
        masks = np.asarray(pred['masks']).astype(bool)
        shape = masks.shape[1:]
        for gt in gts.get(pred['img_id'], []):
            num_gt += 1
            if not len(boxes):
                continue
            ious = box_ious(boxes, gt['bbox'])
            j = int(np.argmax(ious))
            if ious[j] <= match_iou:
                continue
            gt_mask = np.asarray(gt['mask']).astype(bool)
            mask_ious.append(_iou(masks[j], gt_mask))
            box_as_mask.append(_iou(box_mask(boxes[j], shape), gt_mask))
        keep = np.flatnonzero(scores > score_thr)
        for j in keep:
            area = masks[j].sum()
            inside.append(
                float((masks[j] & box_mask(boxes[j], shape)).sum() /
                      area) if area else 0.0)
        overlap = box_ious(boxes[keep], boxes[keep])  # once per image
        for a, j in enumerate(keep):
            for b in range(a + 1, len(keep)):
                if overlap[a, b] == 0:
                    cross.append(_iou(masks[j], masks[keep[b]]))

    def mean(values):
        return float(np.mean(values)) if values else float('nan')

    return dict(
        num_gt=num_gt,
        matched=len(mask_ious),
        mask_iou=mean(mask_ious),
        box_iou=mean(box_as_mask),
        inside=float(np.median(inside)) if inside else float('nan'),
        cross_iou=mean(cross))


def load_gts(ann_file: str) -> Dict[int, List[Dict]]:
    """GT instances of a COCO-style instance JSON (boxes as xyxy)."""
    from pycocotools.coco import COCO
    coco = COCO(ann_file)
    gts = {}
    for ann in coco.dataset['annotations']:
        x, y, w, h = ann['bbox']
        gts.setdefault(ann['image_id'], []).append(
            dict(bbox=(x, y, x + w, y + h), mask=coco.annToMask(ann)))
    return gts


def load_predictions(path: str) -> List[Dict]:
    """``tools/test.py --out`` predictions as :func:`mask_diagnosis` reads
    them (masks decoded if they were stored as RLE)."""
    from pycocotools import mask as mask_utils
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    preds = []
    for sample in samples:
        inst = sample['pred_instances']
        masks = inst['masks']
        if isinstance(masks, list):
            h, w = sample['ori_shape'][:2]
            masks = mask_utils.decode(masks).transpose(2, 0, 1) if masks \
                else np.zeros((0, h, w), bool)
        preds.append(
            dict(
                img_id=sample['img_id'],
                bboxes=np.asarray(inst['bboxes']),
                scores=np.asarray(inst['scores']),
                masks=np.asarray(masks)))
    return preds


def as_mmdet_boxinst(cfg):
    """The resolved BoxInst row with mmdet 3.3's own
    ``BoxInstDataPreprocessor`` and ``BoxInstMaskHead`` in place of
    mmboundary's: the same arguments, the pairwise weight warmed up inside
    mmdet's head over the row's (scaled) ``LossWeightWarmupHook`` iterations,
    no custom hooks. A control: are the row's numbers mmdet's BoxInst's?"""
    warmup = [
        h for h in cfg.get('custom_hooks', [])
        if h.get('type') == 'LossWeightWarmupHook'
    ]
    head = dict(cfg.model.mask_head)
    if len(warmup) != 1 or head.get('loss_depth') is not None or dict(
            head.get('loss_color') or {}).get('delta', 0) != 0:
        raise ValueError('as_mmdet_boxinst: expected the BoxInst row (one '
                         'LossWeightWarmupHook, symmetric colour term, no '
                         'depth term)')
    pre = dict(cfg.model.data_preprocessor)
    pre.update(type='BoxInstDataPreprocessor')
    pre.pop('depth_thresh', None)
    head.pop('loss_color')
    head.pop('loss_depth')
    head.update(type='BoxInstMaskHead', warmup_iters=warmup[0]['warmup_iters'])
    cfg.model.data_preprocessor = pre
    cfg.model.mask_head = head
    cfg.custom_hooks = []
    return cfg


def with_validation(cfg, interval: int):
    """Turn validation on again (the main job turns it off) every
    ``interval`` iterations, on the test split's loader and metric."""
    cfg.val_cfg = dict(type='ValLoop')
    cfg.val_dataloader = cfg.test_dataloader
    cfg.val_evaluator = cfg.test_evaluator
    cfg.train_cfg['val_interval'] = interval
    return cfg


def read_curve(work_dir: str, interval: int, iters: int) -> List[List]:
    """``[iteration, mask AP, box AP]`` (percent) of every validation in
    the training log (``vis_data/scalars.json``; the validations run at
    ``interval``, ``2 interval``, ... and at ``iters``, in that order)."""
    import glob
    import json
    found = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir}')
    with open(found[-1]) as f:
        evals = [
            d for d in (json.loads(line) for line in f if line.strip())
            if 'coco/segm_mAP' in d
        ]
    steps = list(range(interval, iters, interval)) + [iters]
    if len(evals) != len(steps):
        raise ValueError(f'{found[-1]}: {len(evals)} validations, expected '
                         f'{len(steps)} (at {steps})')
    return [[
        step,
        round(100 * d['coco/segm_mAP'], 2),
        round(100 * d['coco/bbox_mAP'], 2)
    ] for step, d in zip(steps, evals)]


def run_variant(name, config, args, start) -> List[object]:
    """Train and test one variant; its table row and its validation curve
    (``[]`` without ``--val-interval``)."""
    cfg = resolve_config(
        load_config(config), 'instance', args.iters, args.data_root, args.seed,
        start)
    if name in MMDET_VARIANTS:
        as_mmdet_boxinst(cfg)
    if args.val_interval:
        with_validation(cfg, args.val_interval)
    work_dir = osp.join(args.work_dir, slug(name), f'it{args.iters}')
    os.makedirs(work_dir, exist_ok=True)
    log(f'{name}: training {config} for {args.iters} iterations '
        f'(seed {args.seed}) -> {work_dir}')
    cfg_path, _ = train(cfg, config, work_dir, f'[{name}] ')
    pkl = osp.join(work_dir, 'predictions.pkl')
    run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'test.py'), cfg_path,
        osp.join(work_dir, f'iter_{args.iters}.pth'), '--work-dir',
        osp.join(work_dir, 'test'), '--out', pkl
    ], osp.join(work_dir, 'main_job.log'), f'[{name}] ')
    metrics = read_metrics(osp.join(work_dir, 'test'), 'coco/segm_mAP')
    ann = cfg.test_evaluator['ann_file']
    diag = mask_diagnosis(
        load_predictions(pkl), load_gts(ann), score_thr=args.score_thr)
    curve = read_curve(work_dir, args.val_interval, args.iters) \
        if args.val_interval else []
    return [
        name, args.iters,
        round(100 * metrics['coco/segm_mAP'], 2),
        round(100 * metrics['coco/segm_mAP_50'], 2),
        round(100 * metrics['coco/bbox_mAP'], 2),
        f"{diag['matched']}/{diag['num_gt']}",
        round(diag['mask_iou'], 3),
        round(diag['box_iou'], 3),
        round(diag['inside'], 3),
        round(diag['cross_iou'], 3)
    ], [[name] + point for point in curve]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='detections counted by the last two columns')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=[name for name, _ in VARIANTS],
        help='variant names to run (default: all)')
    parser.add_argument(
        '--val-interval',
        type=int,
        default=None,
        help='also validate every N iterations while training and store '
        'the mask and box AP curve (table "curve")')
    parser.add_argument('--data-root', default='data/synthetic_cityscapes')
    parser.add_argument('--start-dir', default='work_dirs/main_job_start')
    parser.add_argument(
        '--work-dir', default='work_dirs/boxinst_mask_diagnosis')
    parser.add_argument(
        '--out',
        default='configs/asyinst/results/mask_diagnosis.json',
        help='where the table is stored (results_doc.dump_results); '
        "'' stores nothing")
    add_quiet(parser)
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error(f'--iters {args.iters}: give a positive number')
    known = [name for name, _ in VARIANTS]
    unknown = [v for v in args.variants if v not in known]
    if unknown:
        parser.error(f'--variants: unknown {unknown}; choose from {known}')
    if args.val_interval is not None and not \
            0 < args.val_interval <= args.iters:
        parser.error(f'--val-interval {args.val_interval}: give a value in '
                     f'[1, --iters]')
    if not 0 <= args.score_thr < 1:
        parser.error(f'--score-thr {args.score_thr}: give a value in [0, 1)')
    return args


def main(argv=None):
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    for name in ('data_root', 'start_dir', 'work_dir'):
        setattr(args, name, osp.abspath(getattr(args, name)))
    os.makedirs(args.work_dir, exist_ok=True)
    ensure_data(args.data_root, 0, osp.join(args.work_dir, 'data.log'))
    start = ensure_start(
        task_rows('semantic')[0], args.data_root, args.start_dir)
    rows, curve = [], []
    chosen = [(n, c) for n, c in VARIANTS if n in args.variants]
    # one step per variant (train, test, diagnose): minutes each
    for name, config in track(
            chosen,
            desc='variants (train, test, diagnose)',
            quiet=args.quiet,
            interval=0,
            stream=sys.stderr):
        row, points = run_variant(name, config, args, start)
        rows.append(row)
        curve += points
    table = dict(
        columns=COLUMNS,
        rows=rows,
        digits=3,
        notes=[
            f'One seed ({args.seed}), the main job\'s instance protocol at '
            f'{args.iters} iterations (warm-ups scaled to it), val split. '
            'IoUs over the GT instances matched by a detection with box '
            'IoU > 0.5; the last two columns over detections with score > '
            f'{args.score_thr}. Cross-instance mask IoU: mean IoU between '
            'the masks of two detections of one image whose boxes do not '
            'overlap (1 = the same mask for every detection).'
        ])
    tables = dict(masks=table)
    if curve:
        tables['curve'] = dict(
            columns=['variant', 'iteration', 'mask AP', 'box AP'],
            rows=curve,
            digits=2,
            notes=[
                f'Validation during the same training (seed {args.seed}, '
                f'{args.iters} iterations, warm-ups scaled to them) every '
                f'{args.val_interval} iterations.'
            ])
    for name, tab in tables.items():
        print(name + ': ' + ' | '.join(tab['columns']))
        for row in tab['rows']:
            print(' | '.join(str(c) for c in row))
    if args.out:
        dump_results(args.out, tables, load_start=load_start)
        print(f'stored in {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
