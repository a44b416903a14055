# Copyright (c) mmboundary contributors. All rights reserved.
"""Train and evaluate a config over several seeds; mean +- sample std.

    python tools/analysis_tools/seed_evidence.py CONFIG [--seeds 0 1 2]
        [--work-dir DIR] [--metrics coco/segm_mAP coco/boundary_mAP]
        [--out RESULT.md] [--cfg-options ...]

Each seed runs ``tools/train.py CONFIG --cfg-options randomness.seed=S``
(the config's own end-of-training validation gives the metrics, read from
mmengine's ``vis_data/scalars.json``); wall time per run is recorded
(``--collect``: read back runs trained by separate invocations, wall time
from the log's first and last timestamps). The
script prints (and with ``--out`` writes) a Markdown table: one line per
seed and the mean +- sample standard deviation of every metric, in percent
for COCO-style metrics as mmdet logs them (0-1 -> x100).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', default=None)
    parser.add_argument(
        '--metrics',
        nargs='+',
        default=[
            'coco/segm_mAP', 'coco/segm_mAP_50', 'coco/boundary_mAP',
            'coco/boundary_mAP_50', 'coco/bbox_mAP'
        ])
    parser.add_argument('--out', default=None)
    parser.add_argument(
        '--collect',
        action='store_true',
        help='train nothing: read the runs already in WORK_DIR/seedS (e.g. '
        'seeds trained in parallel by separate invocations)')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    return parser.parse_args(argv)


def read_val_metrics(work_dir):
    """The last validation record of the newest run in ``work_dir``."""
    found = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')),
        key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir}')
    last = None
    with open(found[-1]) as f:
        for line in f:
            rec = json.loads(line)
            if any(k.startswith('coco/') for k in rec):
                last = rec
    if last is None:
        raise KeyError(f'{found[-1]} has no validation metrics (coco/...)')
    return last


def log_wall_seconds(log_file):
    """Seconds between the first and last mmengine timestamps of a log."""
    stamps = []
    with open(log_file) as f:
        for line in f:
            m = re.match(r'(\d\d/\d\d \d\d:\d\d:\d\d) - mmengine', line)
            if m:
                stamps.append(datetime.strptime(m.group(1), '%m/%d %H:%M:%S'))
    if len(stamps) < 2:
        raise ValueError(f'{log_file}: no mmengine timestamps')
    return (stamps[-1] - stamps[0]).total_seconds() % (366 * 86400)


def fmt(values):
    if len(values) < 2:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def main(argv=None):
    args = parse_args(argv)
    name = osp.splitext(osp.basename(args.config))[0]
    work_root = args.work_dir or osp.join('work_dirs', 'seed_evidence', name)
    rows = []
    for seed in args.seeds:
        work_dir = osp.join(work_root, f'seed{seed}')
        os.makedirs(work_dir, exist_ok=True)
        cmd = [
            sys.executable,
            osp.join(REPO_ROOT, 'tools', 'train.py'), args.config,
            '--work-dir', work_dir, '--cfg-options', f'randomness.seed={seed}'
        ] + args.cfg_options
        log_file = osp.join(work_dir, 'stdout.log')
        if args.collect:  # from the log: start-up to the last metric line
            wall = log_wall_seconds(log_file)
        else:
            start = time.perf_counter()
            with open(log_file, 'w') as log:
                subprocess.run(
                    cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - start
        metrics = read_val_metrics(work_dir)
        row = {m: 100 * float(metrics[m]) for m in args.metrics}
        row['seed'], row['wall_s'] = seed, wall
        rows.append(row)
        print(json.dumps(row), flush=True)
    head = ['seed'] + args.metrics + ['train+val wall (s)']
    lines = [
        f'`{args.config}`' +
        (f' (`--cfg-options {" ".join(args.cfg_options)}`)' if args.cfg_options
         else ''), '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)
    ]
    for r in rows:
        lines.append('| ' + ' | '.join([str(r['seed'])] +
                                       [f'{r[m]:.2f}' for m in args.metrics] +
                                       [f'{r["wall_s"]:.0f}']) + ' |')
    lines.append('| mean ± std | ' +
                 ' | '.join([fmt([r[m] for r in rows]) for m in args.metrics] +
                            [fmt([r['wall_s'] for r in rows])]) + ' |')
    text = '\n'.join(lines) + '\n'
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
