# Copyright (c) mmboundary contributors. All rights reserved.
"""Projection-only vs BoxInst vs AsyInst over seeds on the compact configs.

Trains (``--run``) every missing (config, seed) pair with ``tools/train.py``
(the configs evaluate once, at the end of training) and prints a Markdown
table of mask AP and Boundary AP (``BoundaryAPMetric``), mean +- sample
standard deviation over the seeds, the per-seed values and the differences
paired by seed. Results are read from each run's ``vis_data/scalars.json``.

Example::

    OMP_NUM_THREADS=1 python tools/analysis_tools/asyinst_evidence.py \
        --run --seeds 0 1 2 --work-dir work_dirs/asyinst_evidence
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

from mmboundary.testing._utils import REPO_ROOT

SUFFIX = '_r18-fpn_1xb2-200iter_synthetic-cityscapes-128x256.py'
ROWS = (('projection only', 'boxinst-proj'), ('BoxInst', 'boxinst'),
        ('AsyInst', 'asyinst'))
METRICS = (('mask AP', 'coco/segm_mAP'), ('mask AP50', 'coco/segm_mAP_50'),
           ('Boundary AP', 'coco/boundary_mAP'), ('box AP', 'coco/bbox_mAP'))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/asyinst_evidence')
    parser.add_argument('--run', action='store_true', help='train missing')
    parser.add_argument(
        '--cfg-options', nargs='*', default=[], help='passed to train.py')
    return parser.parse_args()


def result(work_dir):
    """The last validation metrics of a run, or None."""
    found = None
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if METRICS[0][1] in record:
                    found = record
    return found


def main():
    args = parse_args()
    table = {}
    for seed in args.seeds:  # seed-major: complete comparisons come first
        for name, tag in ROWS:
            config = osp.join('configs', 'asyinst', tag + SUFFIX)
            work_dir = osp.join(args.work_dir, f'{tag}_s{seed}')
            record = result(work_dir)
            if record is None and args.run:
                cmd = [
                    sys.executable,
                    osp.join(REPO_ROOT, 'tools',
                             'train.py'), config, '--work-dir', work_dir,
                    '--cfg-options', f'randomness.seed={seed}'
                ] + args.cfg_options
                print('running:', ' '.join(cmd), flush=True)
                subprocess.run(
                    cmd, check=True, cwd=REPO_ROOT, env=dict(os.environ))
                record = result(work_dir)
            if record is None:
                raise FileNotFoundError(
                    f'no validation result in {work_dir}; pass --run')
            table[(name, seed)] = record
    print(f'seeds: {args.seeds}; metrics in percent (mean +- sample std)')
    print('| Config | ' + ' | '.join(m for m, _ in METRICS) + ' |')
    print('|---' * (len(METRICS) + 1) + '|')
    for name, _ in ROWS:
        cells = []
        for _, key in METRICS:
            values = [100 * table[(name, s)][key] for s in args.seeds]
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f'{statistics.mean(values):.2f} +- {std:.2f}')
        print(f'| {name} | ' + ' | '.join(cells) + ' |')
    for a, b in (('AsyInst', 'BoxInst'), ('BoxInst', 'projection only'),
                 ('AsyInst', 'projection only')):
        cells = []
        for _, key in METRICS:
            diffs = [
                100 * (table[(a, s)][key] - table[(b, s)][key])
                for s in args.seeds
            ]
            std = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
            cells.append(f'{statistics.mean(diffs):+.2f} +- {std:.2f}')
        print(f'| {a} - {b} (paired) | ' + ' | '.join(cells) + ' |')
    print()
    for name, _ in ROWS:
        for label, key in METRICS[::2]:
            values = ' / '.join(f'{100 * table[(name, s)][key]:.2f}'
                                for s in args.seeds)
            print(f'{name}, {label} per seed: {values}')


if __name__ == '__main__':
    main()
