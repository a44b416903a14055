# Copyright (c) mmboundary contributors. All rights reserved.
"""Measure what the boundary metrics cost next to the metrics they extend.

Both measurements are taken side by side in one run, on the same synthetic
Cityscapes-sized predictions (no dataset needed):

1. ``BoundaryMetric`` (all parts) vs mmseg's ``IoUMetric``: time of
   ``process()`` per 1024x2048 image with 19 classes, alternating the two
   metrics image by image, and the ratio of the medians.
2. Boundary AP vs segm AP: ``BoundaryAPMetric.compute_metrics`` with
   ``metric='boundary'`` vs ``metric='segm'`` on identical results (the
   thing classes of the same maps, split into instances), with mmboundary's
   cropped boundaries (default) and with faster-coco-eval's own.

Example::

    OMP_NUM_THREADS=1 python \
        tools/analysis_tools/benchmark_boundary_metrics.py --num-images 6

Both tables are stored with :func:`mmboundary.utils.results_doc.dump_results`
in ``--out-json`` (default ``docs/results/boundary_metrics_cost.json``, the
file ``docs/metrics.md`` shows).
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

import mmboundary  # noqa: F401  (registers the metrics)
from mmboundary.evaluation import BoundaryAPMetric, BoundaryMetric
from mmboundary.utils.cli import add_quiet
from mmboundary.utils.progress import Progress, track

CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                      'traffic light', 'traffic sign', 'vegetation', 'terrain',
                      'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
                      'motorcycle', 'bicycle')
THING_IDS = tuple(range(11, 19))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument('--num-images', type=int, default=6)
    parser.add_argument('--height', type=int, default=1024)
    parser.add_argument('--width', type=int, default=2048)
    parser.add_argument(
        '--repeats',
        type=int,
        default=2,
        help='passes over the images for the seg timing')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch and OpenCV threads (same for both)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--out-json',
        default='docs/results/boundary_metrics_cost.json',
        help='where the measured tables are stored (default: %(default)s)')
    add_quiet(parser)
    return parser.parse_args(argv)


def results_tables(sem_times, inst_times, setting, n_gt):
    """The stored tables: per-image ``process()`` medians against
    ``IoUMetric`` and ``compute_metrics`` times against segm AP."""
    base = sem_times['IoUMetric']
    semantic = dict(
        columns=['metric', 'process() per image, median (ms)', 'x IoUMetric'],
        rows=[[name, 1e3 * sec, sec / base]
              for name, sec in sem_times.items()],
        digits=2,
        notes=[
            setting, 'target: BoundaryMetric <= 5 x IoUMetric (' +
            ('met' if sem_times['BoundaryMetric'] <= 5 * base else 'NOT met') +
            ')'
        ])
    segm = inst_times['segm']
    instance = dict(
        columns=['evaluation', 'compute_metrics, best of 2 (s)', 'x segm AP'],
        rows=[['segm AP', segm, 1.0],
              [
                  'boundary AP (fast_boundary=True)', inst_times['boundary'],
                  inst_times['boundary'] / segm
              ],
              [
                  "boundary AP (faster-coco-eval's own boundaries)",
                  inst_times['boundary-lib'], inst_times['boundary-lib'] / segm
              ]],
        digits=2,
        notes=[
            f'{setting}; {n_gt} GT instances',
            'target: boundary AP <= 3 x segm AP (' +
            ('met' if inst_times['boundary'] <= 3 * segm else 'NOT met') + ')'
        ])
    return dict(semantic=semantic, instance=instance)


def synthetic_scene(rng, h, w):
    """A Cityscapes-like GT label map and a plausible prediction of it."""
    gt = np.full((h, w), 10, dtype=np.uint8)  # sky
    horizon = int(h * rng.uniform(0.4, 0.5))
    gt[horizon:] = 0  # road
    for side in (0, 1):  # sidewalks, buildings, vegetation
        x0 = 0 if side == 0 else w
        xs = int(w * rng.uniform(0.15, 0.3))
        x1 = xs if side == 0 else w - xs
        cv2.fillPoly(gt, [np.array([[x0, h], [x1, horizon], [x0, horizon]])],
                     1)
        for _ in range(6):
            bx = int(rng.uniform(0, w))
            bw, bh = int(rng.uniform(80, 400)), int(rng.uniform(150, 450))
            cls = int(rng.choice([2, 8, 3, 4, 9]))
            cv2.rectangle(gt, (bx, horizon - bh), (bx + bw, horizon), cls, -1)
    for _ in range(12):  # poles, lights and signs
        x = int(rng.uniform(0, w))
        y = int(rng.uniform(horizon - 300, horizon))
        cv2.rectangle(gt, (x, y), (x + int(rng.uniform(4, 12)), horizon + 40),
                      5, -1)
        cv2.rectangle(gt, (x - 10, y - 30), (x + 20, y),
                      int(rng.choice([6, 7])), -1)
    for _ in range(int(rng.integers(10, 25))):  # things
        cls = int(rng.choice(THING_IDS))
        cy = int(rng.uniform(horizon, h - 20))
        scale = 0.2 + (cy - horizon) / (h - horizon)
        ax, ay = int(rng.uniform(20, 160) * scale) + 3, int(
            rng.uniform(20, 120) * scale) + 3
        cx = int(rng.uniform(0, w))
        cv2.ellipse(gt, (cx, cy), (ax, ay), 0, 0, 360, cls, -1)
    # prediction: a stride-4 network's blocky edges, a few px of shift per
    # region, missed thin structures and some wrong blobs
    small = cv2.resize(gt, (w // 4, h // 4), interpolation=cv2.INTER_NEAREST)
    pred = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    pred = np.roll(pred, (int(rng.integers(-2, 3)), int(rng.integers(-2, 3))),
                   (0, 1))
    for _ in range(30):
        cv2.circle(pred, (int(rng.uniform(0, w)), int(rng.uniform(0, h))),
                   int(rng.uniform(3, 30)), int(rng.integers(0, 19)), -1)
    gt[:20] = 255  # an ignored strip, as Cityscapes' ego-vehicle/border
    return gt, pred


def seg_sample(gt, pred):
    return dict(
        gt_sem_seg=dict(data=torch.from_numpy(gt.astype(np.int64))[None]),
        pred_sem_seg=dict(data=torch.from_numpy(pred.astype(np.int64))[None]))


def bench_semantic(scenes, repeats, quiet=True):
    from mmseg.evaluation import IoUMetric
    iou = IoUMetric(iou_metrics=['mIoU'])
    boundary = BoundaryMetric()
    parts = {
        m: BoundaryMetric(metrics=[m])
        for m in ('mBIoU', 'mBF', 'mTrimapIoU', 'mBA')
    }
    meta = dict(classes=CITYSCAPES_CLASSES)
    for metric in [iou, boundary] + list(parts.values()):
        metric.dataset_meta = meta
    times = {name: [] for name in ['IoUMetric', 'BoundaryMetric', *parts]}
    samples = [seg_sample(*s) for s in scenes]
    progress = Progress(
        repeats * len(samples),
        desc='semantic: images x passes (all metrics each)',
        quiet=quiet,
        stream=sys.stderr)
    for _ in range(repeats):
        for s in samples:
            for name, metric in [('IoUMetric', iou),
                                 ('BoundaryMetric', boundary), *parts.items()]:
                t0 = time.perf_counter()
                metric.process({}, [s])
                times[name].append(time.perf_counter() - t0)
            progress.update()  # outside the timed calls
    progress.close()
    res = boundary.evaluate(len(boundary.results))
    iou_res = iou.evaluate(len(iou.results))
    return {k: statistics.median(v) for k, v in times.items()}, res, iou_res


def instances(label, rng, is_pred):
    """Connected components of every thing class."""
    out = []
    for cls in THING_IDS:
        n, comp = cv2.connectedComponents((label == cls).astype(np.uint8))
        for k in range(1, n):
            mask = comp == k
            if mask.sum() < 20:
                continue
            out.append((THING_IDS.index(cls), mask,
                        float(rng.uniform(0.3, 1.0)) if is_pred else 1.0))
    return out


def bench_instance(scenes, rng, tmp_dir, quiet=True):
    from faster_coco_eval.core import mask as mask_utils
    h, w = scenes[0][0].shape
    images, anns, results = [], [], []
    for img_id, (gt, pred) in enumerate(scenes, start=1):
        images.append(dict(id=img_id, width=w, height=h, file_name=''))
        for label, mask, _ in instances(gt, rng, False):
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            rle['counts'] = rle['counts'].decode()
            ys, xs = np.nonzero(mask)
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img_id,
                    category_id=label + 1,
                    segmentation=rle,
                    area=float(mask.sum()),
                    bbox=[
                        float(xs.min()),
                        float(ys.min()),
                        float(xs.max() - xs.min() + 1),
                        float(ys.max() - ys.min() + 1)
                    ],
                    iscrowd=0))
        dets = instances(pred, rng, True)
        masks = np.stack([m for _, m, _ in dets])
        boxes = []
        for _, m, _ in dets:
            ys, xs = np.nonzero(m)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        results.append(
            dict(
                img_id=img_id,
                ori_shape=(h, w),
                pred_instances=dict(
                    bboxes=torch.tensor(boxes, dtype=torch.float32),
                    scores=torch.tensor([s for _, _, s in dets]),
                    labels=torch.tensor([lb for lb, _, _ in dets]),
                    masks=torch.from_numpy(masks))))
    categories = [
        dict(id=i + 1, name=CITYSCAPES_CLASSES[c])
        for i, c in enumerate(THING_IDS)
    ]
    ann_file = osp.join(tmp_dir, 'gt.json')
    with open(ann_file, 'w') as f:
        json.dump(
            dict(images=images, annotations=anns, categories=categories), f)
    meta = dict(classes=tuple(CITYSCAPES_CLASSES[c] for c in THING_IDS))
    processed = None
    times, scores = {}, {}
    for name in track(
        ('segm', 'boundary', 'boundary-lib') * 2,
            desc='instance: AP evaluations',
            quiet=quiet,
            stream=sys.stderr):
        metric = BoundaryAPMetric(
            ann_file=ann_file,
            metric=[name.split('-')[0]],
            fast_boundary=name == 'boundary')
        metric.dataset_meta = meta
        if processed is None:
            for r in results:
                metric.process({}, [r])
            processed = metric.results
        t0 = time.perf_counter()
        out = metric.compute_metrics(copy.deepcopy(processed))
        times.setdefault(name, []).append(time.perf_counter() - t0)
        scores.update({f'{name}:{k}': v for k, v in out.items()})
    return {k: min(v) for k, v in times.items()}, scores, len(anns)


def main(argv=None):
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    rng = np.random.default_rng(args.seed)
    scenes = [
        synthetic_scene(rng, args.height, args.width) for _ in track(
            range(args.num_images),
            desc='synthetic scenes',
            quiet=args.quiet,
            stream=sys.stderr)
    ]
    print(f'{args.num_images} images of {args.height}x{args.width}, '
          f'19 classes, {args.threads} thread(s)')

    t, res, iou_res = bench_semantic(scenes, args.repeats, args.quiet)
    sem_times = t
    base = t['IoUMetric']
    print('\n[semantic] median process() time per image')
    for name, sec in t.items():
        print(f'  {name:<16s} {sec * 1e3:8.1f} ms   x{sec / base:5.2f} '
              'of IoUMetric')
    print(f'  ratio BoundaryMetric / IoUMetric = '
          f'{t["BoundaryMetric"] / base:.2f}  (target <= 5)')
    print(f'  scores: mIoU={iou_res["mIoU"]} ' +
          ' '.join(f'{k}={v}' for k, v in res.items()))

    with tempfile.TemporaryDirectory() as tmp_dir:
        t, scores, n_gt = bench_instance(scenes, rng, tmp_dir, args.quiet)
    print(f'\n[instance] {n_gt} GT instances; compute_metrics time '
          '(best of 2)')
    print(f'  segm AP      {t["segm"]:.3f} s   segm_mAP='
          f'{scores.get("segm:segm_mAP")}')
    print(f'  boundary AP  {t["boundary"]:.3f} s   boundary_mAP='
          f'{scores.get("boundary:boundary_mAP")}   (fast_boundary=True)')
    print(f'  boundary AP  {t["boundary-lib"]:.3f} s   boundary_mAP='
          f'{scores.get("boundary-lib:boundary_mAP")}   '
          '(faster-coco-eval\'s own boundaries)')
    print(f'  ratio boundary AP / segm AP = {t["boundary"] / t["segm"]:.2f}'
          f'  (target <= 3); with the library\'s boundaries '
          f'{t["boundary-lib"] / t["segm"]:.2f}')
    from mmboundary.utils.results_doc import dump_results, tool_command
    setting = (f'{args.num_images} images of {args.height}x{args.width}, '
               f'19 classes, {args.threads} thread(s), CPU')
    dump_results(
        args.out_json,
        results_tables(sem_times, t, setting, n_gt),
        command=tool_command(None if argv is None else [__file__] +
                             list(argv)),
        load_start=load_start)
    print(f'stored in {args.out_json}')


if __name__ == '__main__':
    main()
