# Copyright (c) mmboundary contributors. All rights reserved.
"""Time GenerateSemanticEdge against mmseg's GenerateEdge side by side.

Both transforms run, interleaved, on the same label map: 1024x2048 by
default, 19 classes in piecewise-constant regions, 1 % ignore pixels::

    python tools/analysis_tools/benchmark_semantic_edge.py [--repeat 20]

Prints the median time of each and the ratio mmseg / ours (> 1: ours is
faster). cv2 uses ``--cv2-threads`` threads (default 1) in both.
"""
import argparse
import time

import cv2
import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], allow_abbrev=False)
    parser.add_argument('--height', type=int, default=1024)
    parser.add_argument('--width', type=int, default=2048)
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--ignore-ratio', type=float, default=0.01)
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--cv2-threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
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


def main(argv=None):
    args = parse_args(argv)
    from mmseg.datasets.transforms import GenerateEdge

    from mmboundary.datasets.transforms import GenerateSemanticEdge
    cv2.setNumThreads(args.cv2_threads)
    label = make_label_map(args.height, args.width, args.num_classes,
                           args.ignore_ratio, args.seed)
    ours = GenerateSemanticEdge()
    theirs = GenerateEdge(edge_width=3)
    times = {'ours': [], 'mmseg': []}
    edges = {}
    for i in range(args.repeat + 1):
        for name, t in (('ours', ours), ('mmseg', theirs)):
            results = dict(gt_seg_map=label, img_shape=label.shape)
            start = time.perf_counter()
            edges[name] = t(results)['gt_edge_map']
            if i > 0:  # the first round warms up
                times[name].append(time.perf_counter() - start)
    t_ours = float(np.median(times['ours']))
    t_mmseg = float(np.median(times['mmseg']))
    print(f'label map {label.shape}, {args.num_classes} classes, '
          f'{(label == 255).mean():.2%} ignore, {args.repeat} runs, '
          f'cv2 threads {args.cv2_threads}')
    print(f'  {ours!r}')
    print(f'    median {t_ours * 1e3:.2f} ms, edge pixels '
          f'{(edges["ours"] == 1).mean():.2%}')
    print('  mmseg GenerateEdge(edge_width=3)')
    print(f'    median {t_mmseg * 1e3:.2f} ms, edge pixels '
          f'{(edges["mmseg"] == 1).mean():.2%}')
    print(f'ratio mmseg / ours = {t_mmseg / t_ours:.2f} '
          f'({"ours faster" if t_ours <= t_mmseg else "mmseg faster"})')


if __name__ == '__main__':
    main()
