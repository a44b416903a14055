# Copyright (c) mmboundary contributors. All rights reserved.
"""Time GenerateSemanticEdge against mmseg's GenerateEdge side by side.

Both transforms run, interleaved, on the same label map: 1024x2048 by
default, 19 classes in piecewise-constant regions, 1 % ignore pixels,
beside the floor of any such transform: reading the map once and writing
a map of the same size once (a numpy copy)::

    python tools/analysis_tools/benchmark_semantic_edge.py [--repeat 20]

Prints and stores (``--out``, :func:`mmboundary.utils.results_doc.
dump_results`) the median and minimum time of each, the ratio mmseg / ours
(> 1: ours is faster) and each one's multiple of the floor, and a profile
of ours (:mod:`cProfile` over ``--repeat`` calls of the transform: time per
call of every operation it runs). cv2 uses ``--cv2-threads`` threads
(default 1) in both.
"""
import cProfile
import os
import pstats
import time
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmboundary.utils.cli import add_quiet, run_cli, strict_parser
from mmboundary.utils.results_doc import dump_results, tool_command

OUT = 'configs/semeda/results/semantic_edge.json'


def parse_args(argv=None):
    parser = strict_parser(description=__doc__.split('\n')[0])
    parser.add_argument('--height', type=int, default=1024)
    parser.add_argument('--width', type=int, default=2048)
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--ignore-ratio', type=float, default=0.01)
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--cv2-threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--out',
        default=OUT,
        help="where the tables are stored; '' stores nothing")
    add_quiet(parser)
    return parser.parse_args(argv)


def make_label_map(height, width, num_classes, ignore_ratio, seed=0):
    """(H, W) uint8 map: random regions (nearest-upsampled random field with
    jittered borders) of ``num_classes`` classes, plus scattered ignore."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, num_classes, (height // 32 + 1, width // 32 + 1))
    label = cv2.resize(
        coarse.astype(np.uint8), (width, height),
        interpolation=cv2.INTER_NEAREST)
    # wobble the region borders so edges are not axis-aligned only
    shift = (4 * np.sin(np.arange(height) / 7.0)).astype(np.int64)
    rows = np.arange(width)[None, :] + shift[:, None]
    label = np.take_along_axis(label, np.clip(rows, 0, width - 1), axis=1)
    label = np.ascontiguousarray(label)
    label[rng.random(label.shape) < ignore_ratio] = 255
    return label


def profile(transform, label: np.ndarray, repeat: int) -> List[Dict]:
    """Time per call of every function the transform runs (cProfile's
    internal time, ``repeat`` calls), largest first."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        transform(dict(gt_seg_map=label, img_shape=label.shape))
    prof.disable()
    stats = pstats.Stats(prof).stats
    rows = []
    for (path, line, name), (_, ncalls, tottime, _, _) in stats.items():
        where = name if path == '~' else (
            f'{os.path.basename(path)}:{line}({name})')
        rows.append(
            dict(
                function=where,
                calls_per_run=ncalls / repeat,
                ms_per_run=tottime / repeat * 1e3))
    rows.sort(key=lambda r: -r['ms_per_run'])
    return rows


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    from mmseg.datasets.transforms import GenerateEdge

    from mmboundary.datasets.transforms import GenerateSemanticEdge
    cv2.setNumThreads(args.cv2_threads)
    load = os.getloadavg()[0]
    label = make_label_map(args.height, args.width, args.num_classes,
                           args.ignore_ratio, args.seed)
    ours = GenerateSemanticEdge()
    theirs = GenerateEdge(edge_width=3)
    fns = {
        'ours':
        lambda: ours(dict(gt_seg_map=label, img_shape=label.shape))[
            'gt_edge_map'],
        'mmseg':
        lambda: theirs(dict(gt_seg_map=label, img_shape=label.shape))[
            'gt_edge_map'],
        'floor':
        lambda: label.copy(),
    }
    times = {k: [] for k in fns}
    edges = {}
    for i in range(args.repeat + 1):
        order = list(fns) if i % 2 else list(fns)[::-1]
        for name in order:
            start = time.perf_counter()
            edges[name] = fns[name]()
            if i > 0:  # the first round warms up
                times[name].append(time.perf_counter() - start)
    med = {k: float(np.median(v)) for k, v in times.items()}
    low = {k: float(np.min(v)) for k, v in times.items()}
    prof = profile(ours, label, args.repeat)
    if not args.quiet:
        print(f'label map {label.shape}, {args.num_classes} classes, '
              f'{(label == 255).mean():.2%} ignore, {args.repeat} runs, '
              f'cv2 threads {args.cv2_threads}')
        for k, name in (('ours', repr(ours)),
                        ('mmseg', 'mmseg GenerateEdge(edge_width=3)'),
                        ('floor', 'floor: numpy copy of the map')):
            print(f'  {name}: median {med[k] * 1e3:.2f} ms, min '
                  f'{low[k] * 1e3:.2f} ms')
        print(f"ratio mmseg / ours = {med['mmseg'] / med['ours']:.2f} "
              f"(medians), {low['mmseg'] / low['ours']:.2f} (minima)")
        print('profile of ours (ms per call):')
        for r in prof[:12]:
            print(f"  {r['ms_per_run']:7.3f}  x{r['calls_per_run']:g}  "
                  f"{r['function']}")
    names = {
        'ours': 'GenerateSemanticEdge()',
        'mmseg': "mmseg's GenerateEdge(edge_width=3)",
        'floor': 'floor: read the map once, write a map once (numpy copy)'
    }
    tables = dict(
        semantic_edge=dict(
            columns=[
                'transform', 'median (ms)', 'min (ms)', 'median / floor',
                'mmseg / this (medians)'
            ],
            rows=[[
                names[k], med[k] * 1e3, low[k] * 1e3, med[k] / med['floor'],
                med['mmseg'] / med[k]
            ] for k in ('ours', 'mmseg', 'floor')],
            digits=2,
            notes=[
                f'{args.height}x{args.width} uint8 label map, '
                f'{args.num_classes} classes, {args.ignore_ratio:.0%} ignore '
                f'pixels; {args.repeat} interleaved runs after a warm-up '
                f'(order reversed every other run); cv2 threads '
                f'{args.cv2_threads}',
            ]),
        semantic_edge_profile=dict(
            columns=['operation (cProfile)', 'calls per run', 'ms per run'],
            rows=[[r['function'], r['calls_per_run'], r['ms_per_run']]
                  for r in prof if r['ms_per_run'] >= 0.005],
            digits=3,
            notes=[
                f'cProfile of {args.repeat} calls of GenerateSemanticEdge on '
                'the same map (internal time per run; operations under '
                '0.005 ms left out); each cv2 call reads and writes the '
                'whole map once or twice, as the floor row does'
            ]))
    if args.out:
        dump_results(
            args.out,
            tables,
            load_start=load,
            command=tool_command(None if argv is None else [__file__] +
                                 list(argv)),
            cv2_threads=args.cv2_threads,
            medians_s=med,
            minima_s=low,
            times_s=times,
            profile=prof)
        if not args.quiet:
            print(f'stored in {args.out}')


if __name__ == '__main__':
    run_cli(main)
