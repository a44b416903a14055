# Copyright (c) mmboundary contributors. All rights reserved.
"""Mean +- sample standard deviation over seeds, as a markdown table.

Each ``--group NAME=GLOB`` names the work dirs of one config trained with
several seeds (``tools/train.py ... --cfg-options randomness.seed=S``); the
last validation entry of each run's ``vis_data/scalars.json`` (written by
mmengine, the numbers of the ``Iter(val)`` log line) gives its metrics. The
table has one row per group, then the difference of every later group from
the first, paired by seed (the runs sorted by work-dir name). Per-run values
follow the table.

Example::

    python tools/analysis_tools/seed_table.py \
        --group baseline='work_dirs/ev/baseline_s*' \
        --group method='work_dirs/ev/method_s*' \
        --metrics mIoU mTrimapIoU@1 mBIoU
"""
import argparse
import glob
import json
import os.path as osp
import statistics
from typing import Dict, List

DEFAULT_METRICS = [
    'mIoU', 'mTrimapIoU@1', 'mNonBoundaryIoU@1', 'mTrimapIoU@3',
    'mNonBoundaryIoU@3', 'mBIoU', 'mBF', 'mBA'
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--group',
        action='append',
        required=True,
        help='NAME=GLOB of the work dirs of one config (one per seed)')
    parser.add_argument('--metrics', nargs='+', default=DEFAULT_METRICS)
    return parser.parse_args(argv)


def last_val_metrics(work_dir: str) -> Dict[str, float]:
    """The last entry of the newest ``*/vis_data/scalars.json`` holding
    ``mIoU`` (a validation entry).

    Raises:
        FileNotFoundError: no such entry (the run did not validate).
    """
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    for path in reversed(files):
        with open(path) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        val = [e for e in entries if 'mIoU' in e]
        if val:
            return val[-1]
    raise FileNotFoundError(f'{work_dir}: no validation entry in '
                            '*/vis_data/scalars.json; did the run finish?')


def _fmt(values: List[float]) -> str:
    mean = statistics.mean(values)
    if len(values) < 2:
        return f'{mean:.2f}'
    return f'{mean:.2f} ± {statistics.stdev(values):.2f}'


def seed_table(groups: Dict[str, List[str]], metrics: List[str]) -> str:
    """Markdown table (see the module docstring)."""
    runs = {
        name: [last_val_metrics(d) for d in dirs]
        for name, dirs in groups.items()
    }
    head = '| Config | seeds | ' + ' | '.join(metrics) + ' |'
    lines = [head, '|---|---|' + '---|' * len(metrics)]
    for name, res in runs.items():
        lines.append(f'| {name} | {len(res)} | ' +
                     ' | '.join(_fmt([r[m] for r in res])
                                for m in metrics) + ' |')
    names = list(runs)
    ref = runs[names[0]]
    for name in names[1:]:
        n = min(len(ref), len(runs[name]))
        diffs = [
            _fmt([runs[name][i][m] - ref[i][m] for i in range(n)])
            for m in metrics
        ]
        lines.append(f'| {name} - {names[0]} (paired) | {n} | ' +
                     ' | '.join(diffs) + ' |')
    lines.append('')
    for name, dirs in groups.items():
        for d, r in zip(dirs, runs[name]):
            lines.append(f'- {name} `{d}`: ' + ', '.join(f'{m} {r[m]:.2f}'
                                                         for m in metrics))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    groups = {}
    for item in args.group:
        if '=' not in item:
            raise SystemExit(f'--group {item!r}: expected NAME=GLOB')
        name, pattern = item.split('=', 1)
        dirs = sorted(glob.glob(pattern))
        if not dirs:
            raise SystemExit(f'--group {item!r}: no work dir matches')
        groups[name] = dirs
    print(seed_table(groups, args.metrics))


if __name__ == '__main__':
    main()
