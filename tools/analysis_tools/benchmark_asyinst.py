# Copyright (c) mmboundary contributors. All rights reserved.
"""What AsyInst's affinities cost, measured side by side in one run.

1. Data preprocessor: mmdet 3.3's ``BoxInstDataPreprocessor`` (per-image
   skimage Lab on the host, one full-resolution float tensor per box) vs
   mmboundary's ``AsyInstDataPreprocessor`` (batched torch, same
   ``pairwise_masks``; checked equal in this run) without and with the
   depth affinity, on ``--batch`` images of ``--height x --width``, calls
   alternated, medians and ratios printed.
2. Training iteration of BoxInst R50-FPN at the same size (preprocessing,
   forward, backward; random weights, the configs' heads): projection only,
   BoxInst (symmetric colour), AsyInst (asymmetric colour + depth) and
   mmdet's own BoxInst, alternated; the ratio AsyInst / BoxInst is the
   cost of the affinity terms.

Every repeat is one round A B C ... of all variants (interleaved), so load
from other processes hits all of them alike; the ratios printed are the
medians of the per-round ratios. ``--clock cpu`` (default) times the
process's CPU time, which other processes on a shared machine do not
inflate the way they inflate wall time (use one thread); ``--out`` stores
the tables with :func:`mmboundary.utils.results_doc.dump_results`.

Example::

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark_asyinst.py \
        --batch 2 --iter-batch 1 --height 512 --width 1024 --repeats 9 \
        --iter-repeats 5 --threads 1 \
        --out configs/asyinst/results/benchmark.json
"""
import argparse
import copy
import os
import statistics
import sys
import time

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine import MessageHub
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmboundary  # noqa: F401  (registers the modules)
from mmboundary.registry import MMDET_MODELS
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.cli import add_quiet
from mmboundary.utils.progress import track
from mmboundary.utils.results_doc import dump_results

NORM = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)
ROOT_CFG = 'configs/asyinst/boxinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py'


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument(
        '--iter-batch',
        type=int,
        default=1,
        help='images per training iteration (the paper: 1 per GPU)')
    parser.add_argument('--height', type=int, default=512)
    parser.add_argument('--width', type=int, default=1024)
    parser.add_argument('--boxes', type=int, default=10)
    parser.add_argument('--mask-stride', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--iter-repeats',
        type=int,
        default=3,
        help='training iterations per variant (0 skips part 2)')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--clock',
        choices=['cpu', 'wall'],
        default='cpu',
        help='cpu: process CPU time (robust to other jobs; use --threads '
        '1); wall: elapsed time')
    parser.add_argument(
        '--out',
        default=None,
        help='store the tables here (JSON, results_doc.dump_results)')
    add_quiet(parser)
    return parser.parse_args()


def make_batch(args, rng):
    inputs, samples = [], []
    h, w = args.height, args.width
    for _ in range(args.batch):
        blocks = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3))
        img = np.kron(blocks, np.ones((16, 16, 1), int))[:h, :w]
        img = np.clip(img + rng.integers(-8, 9, img.shape), 0, 255)
        inputs.append(torch.from_numpy(img.astype(np.uint8)).permute(2, 0, 1))
        x1 = rng.uniform(0, w - 200, args.boxes)
        y1 = rng.uniform(0, h - 150, args.boxes)
        boxes = np.stack([
            x1, y1, x1 + rng.uniform(20, 200, args.boxes),
            y1 + rng.uniform(20, 150, args.boxes)
        ], 1)
        yy, xx = np.mgrid[:h, :w].astype(np.float32)
        depth = 5 + 0.01 * xx + 0.02 * yy
        depth[rng.random((h, w)) < 0.05] = 0
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(h, w),
                ori_shape=(h, w),
                pad_shape=(h, w),
                scale_factor=(1.0, 1.0),
                gt_depth_map=depth))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
            labels=torch.from_numpy(rng.integers(0, 8, args.boxes)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


CLOCK = {'cpu': time.process_time, 'wall': time.perf_counter}


def timed(fn, clock='cpu'):
    start = CLOCK[clock]()
    fn()
    return CLOCK[clock]() - start


def median_ratio(times, num, den):
    """Median over rounds of ``times[num][i] / times[den][i]``."""
    return statistics.median(a / b for a, b in zip(times[num], times[den]))


def bench_preprocessors(args, data):
    pre = dict(NORM, mask_stride=args.mask_stride)
    mmdet = MMDET_MODELS.build(dict(type='BoxInstDataPreprocessor', **pre))
    ours = MMDET_MODELS.build(dict(type='AsyInstDataPreprocessor', **pre))
    ours_d = MMDET_MODELS.build(
        dict(type='AsyInstDataPreprocessor', depth_thresh=0.01, **pre))
    ref = mmdet(copy.deepcopy(data), training=True)
    got = ours(copy.deepcopy(data), training=True)
    same = all(
        torch.equal(r.gt_instances.pairwise_masks,
                    g.gt_instances.pairwise_masks) and np.array_equal(
                        r.gt_instances.masks.masks.astype(bool),
                        g.gt_instances.masks.masks.astype(bool))
        for r, g in zip(ref['data_samples'], got['data_samples']))
    times = {'mmdet': [], 'ours': [], 'ours+depth': []}
    for _ in track(
            range(args.repeats),
            desc='data preprocessor rounds',
            quiet=args.quiet,
            stream=sys.stderr):
        for name, module in (('mmdet', mmdet), ('ours', ours), ('ours+depth',
                                                                ours_d)):
            batch = copy.deepcopy(data)
            times[name].append(
                timed(lambda: module(batch, training=True), args.clock))
    med = {k: statistics.median(v) for k, v in times.items()}
    speedup = median_ratio(times, 'mmdet', 'ours')
    speedup_d = median_ratio(times, 'mmdet', 'ours+depth')
    print(f'== data preprocessor, {args.batch} x {args.height}x{args.width}, '
          f'{args.boxes} boxes/image, mask stride {args.mask_stride}, '
          f'{args.repeats} interleaved rounds, {args.clock} time')
    print(f'pairwise_masks and box masks identical to mmdet: {same}')
    for name, value in med.items():
        print(f'{name:>12}: median {value * 1000:8.1f} ms')
    print(f'speed-up ours vs mmdet (median of rounds):       {speedup:.2f}x')
    print(f'speed-up ours+depth vs mmdet (median of rounds): {speedup_d:.2f}x')
    return dict(
        columns=[
            'preprocessor', f'median {args.clock} time (ms)',
            'speed-up vs mmdet (median of rounds)'
        ],
        rows=[['mmdet BoxInstDataPreprocessor', med['mmdet'] * 1000, 1.0],
              [
                  'AsyInstDataPreprocessor (colour)', med['ours'] * 1000,
                  speedup
              ],
              [
                  'AsyInstDataPreprocessor (colour + depth)',
                  med['ours+depth'] * 1000, speedup_d
              ]],
        digits=2,
        notes=[
            f'{args.batch} x {args.height}x{args.width} images, '
            f'{args.boxes} boxes each, mask stride {args.mask_stride}, '
            f'{args.repeats} interleaved rounds, {torch.get_num_threads()} '
            f'thread(s); pairwise and box masks identical to mmdet: {same}'
        ]), times


def build_model(mask_head, pre, args):
    cfg = Config.fromfile(f'{REPO_ROOT}/{ROOT_CFG}')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    model_cfg.data_preprocessor = dict(pre, mask_stride=args.mask_stride)
    model_cfg.mask_head.update(mask_head)
    for key in ('loss_color', 'loss_depth'):  # not arguments of mmdet's head
        if model_cfg.mask_head.type == 'BoxInstMaskHead':
            model_cfg.mask_head.pop(key)
    model_cfg.mask_head.mask_out_stride = args.mask_stride
    torch.manual_seed(0)
    model = MMDET_MODELS.build(model_cfg)
    model.train()
    return model


def bench_iteration(args, data):
    data = dict(
        inputs=data['inputs'][:args.iter_batch],
        data_samples=data['data_samples'][:args.iter_batch])
    sym = dict(type='AsymmetricAffinityLoss', delta=0.0, gamma=0.0)
    variants = {
        'projection only':
        build_model(
            dict(loss_color=None, loss_depth=None),
            dict(type='AsyInstDataPreprocessor', **NORM), args),
        'BoxInst':
        build_model(
            dict(loss_color=sym, loss_depth=None),
            dict(type='AsyInstDataPreprocessor', **NORM), args),
        'AsyInst':
        build_model(
            dict(
                loss_color=dict(sym, delta=2.5, gamma=1.5),
                loss_depth=dict(
                    type='AsymmetricAffinityLoss',
                    delta=3.5,
                    gamma=2.5,
                    loss_weight=0.1,
                    loss_name='loss_mask_depth')),
            dict(type='AsyInstDataPreprocessor', depth_thresh=0.01, **NORM),
            args),
        'mmdet BoxInst':
        build_model(
            dict(
                type='BoxInstMaskHead',
                warmup_iters=1,
                loss_color=None,
                loss_depth=None), dict(type='BoxInstDataPreprocessor', **NORM),
            args),
    }
    hub = MessageHub.get_instance('benchmark_asyinst')
    hub.update_info('iter', 10)  # mmdet's head reads it (full weight)

    def step(model):
        batch = model.data_preprocessor(copy.deepcopy(data), training=True)
        losses = model(**batch, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
        model.zero_grad(set_to_none=True)

    for model in variants.values():  # warm-up
        step(model)
    times = {k: [] for k in variants}
    for _ in track(
            range(args.iter_repeats),
            desc=f'training iteration rounds ({len(variants)} variants)',
            quiet=args.quiet,
            stream=sys.stderr):
        for name, model in variants.items():
            times[name].append(timed(lambda: step(model), args.clock))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratios = {
        'AsyInst / BoxInst':
        median_ratio(times, 'AsyInst', 'BoxInst'),
        'AsyInst / projection only':
        median_ratio(times, 'AsyInst', 'projection only'),
        'BoxInst / projection only':
        median_ratio(times, 'BoxInst', 'projection only'),
        'BoxInst (mmboundary) / mmdet BoxInst':
        median_ratio(times, 'BoxInst', 'mmdet BoxInst'),
    }
    print(f'== training iteration, BoxInst R50-FPN, {args.iter_batch} x '
          f'{args.height}x{args.width}, mask stride {args.mask_stride}, '
          f'{args.iter_repeats} interleaved rounds, {args.clock} time')
    for name, value in med.items():
        print(f'{name:>16}: median {value:7.3f} s')
    for name, value in ratios.items():
        print(f'{name} (median of rounds): {value:.3f}')
    return dict(
        columns=['ratio (median of interleaved rounds)', 'value'],
        rows=[[k, v] for k, v in ratios.items()],
        digits=3,
        notes=[
            f'BoxInst R50-FPN training iteration (preprocessor, forward, '
            f'backward), {args.iter_batch} x {args.height}x{args.width}, '
            f'mask stride {args.mask_stride}, {args.iter_repeats} '
            f'interleaved rounds, {args.clock} time, '
            f'{torch.get_num_threads()} thread(s); median seconds: ' +
            ', '.join(f'{k} {v:.3f}' for k, v in med.items())
        ]), times


def main():
    args = parse_args()
    load_start = os.getloadavg()[0]
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmdet')
    rng = np.random.default_rng(args.seed)
    data = make_batch(args, rng)
    print(f'torch threads: {torch.get_num_threads()}')
    tables, raw = {}, {}
    tables['preprocessor'], raw['preprocessor'] = bench_preprocessors(
        args, data)
    if args.iter_repeats > 0:
        tables['iteration'], raw['iteration'] = bench_iteration(args, data)
    if args.out:
        dump_results(args.out, tables, load_start=load_start, times=raw)
        print(f'stored in {args.out}')


if __name__ == '__main__':
    main()
