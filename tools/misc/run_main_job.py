# Copyright (c) mmboundary contributors. All rights reserved.
"""The main job: one benchmark for every method, semantic and instance.

    python tools/misc/run_main_job.py                  # make demo: seed 0
    python tools/misc/run_main_job.py --seeds 0 1 2    # the full protocol
    python tools/misc/run_main_job.py --rows 'FCN + SEMEDA'

A thin command line over :mod:`mmboundary.benchmark` (rows and protocol
check, shared start, runner, statistics, report and figures; see
``mmboundary/benchmark/runner.py`` for the steps).

1. Generates ``data/synthetic_cityscapes`` if missing and converts it.
2. Trains the semantic baseline once as the shared start (cached under
   ``--start-dir``).
3. Trains and tests every row of ``mmboundary.benchmark.ROWS`` from that
   start at every seed; prints one progress line with an ETA per finished
   row run (``--quiet``: none, and the rows' logs only in their files).
4. Writes the tables (mean +- sample std over ``--seeds``, paired 95 %
   Student-t intervals to each baseline) to ``WORK_DIR/results.{md,json}``
   with figures; ``--readme README.md`` also publishes them to
   ``docs/main_job/`` (with each row's resolved config under
   ``docs/main_job/configs/``) and the README's results block.
"""
import argparse
import os.path as osp
import re
import sys
from typing import Dict, Sequence

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from mmboundary.benchmark import ROWS, TASKS, run_job  # noqa: E402
from mmboundary.benchmark.start import START_ITERS, START_SEED  # noqa: E402
from mmboundary.utils.cli import strict_parser  # noqa: E402
from mmboundary.utils.cli import add_quiet, run_cli  # noqa: E402

TOOL = 'tools/misc/run_main_job.py'


class _OnceAction(argparse.Action):
    """Store a list option and refuse it given twice on the command line."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, '_given_' + self.dest, False):
            parser.error(f'{option_string} given twice; give every value '
                         f'once, e.g. {option_string} 0 1 2')
        setattr(namespace, '_given_' + self.dest, True)
        setattr(namespace, self.dest, values)


def parse_args(argv=None):
    parser = strict_parser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Rows: ' + '; '.join(f'{r.name!r} ({r.task})' for r in ROWS))
    parser.add_argument('--data-root', default='data/synthetic_cityscapes')
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument(
        '--start-dir',
        default='work_dirs/main_job_start',
        help='cache of the shared pretrained segmentor')
    parser.add_argument(
        '--start-iters',
        type=int,
        default=START_ITERS,
        help='iterations of the shared start (semantic baseline config)')
    parser.add_argument('--start-seed', type=int, default=START_SEED)
    parser.add_argument(
        '--iters',
        nargs='+',
        default=[],
        metavar='TASK=N',
        help='fine-tuning iterations of every row of a task, e.g. '
        'semantic=300 (default: ' + ', '.join(f"{t}={v['iters']}"
                                              for t, v in TASKS.items()) + ')')
    parser.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        default=[0],
        action=_OnceAction,
        help='fine-tuning seeds; mean +- sample std and paired 95 %% '
        'intervals when more than one')
    parser.add_argument(
        '--rows',
        nargs='+',
        default=None,
        action=_OnceAction,
        help='row names (or task names) to run; the baseline of each '
        'selected task is always run')
    parser.add_argument(
        '--jobs',
        type=int,
        default=None,
        help='row runs trained in parallel (default: 1 with a GPU, else '
        'the CPU cores, at most 4); each run computes with 1 thread '
        '(MMBOUNDARY_COMPUTE_THREADS), so results do not depend on it')
    parser.add_argument(
        '--num-vis', type=int, default=3, help='val images in the figures')
    parser.add_argument(
        '--no-reuse',
        action='store_true',
        help='retrain rows whose results for the same resolved config '
        'exist in the work dir')
    parser.add_argument(
        '--publish-only',
        action='store_true',
        help='train nothing: publish WORK_DIR/results.json (with --readme)')
    parser.add_argument(
        '--readme',
        default=None,
        help='also copy the results to docs/main_job/ and write them into '
        "this README's results block")
    add_quiet(parser)
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f'--jobs {args.jobs}: give at least 1')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds {args.seeds}: a seed is given twice; each '
                     'seed is one paired run of every row')
    try:
        args.iters = dict({
            t: v['iters']
            for t, v in TASKS.items()
        }, **parse_iters(args.iters))
    except ValueError as e:
        parser.error(str(e))
    return args


def parse_iters(items: Sequence[str]) -> Dict[str, int]:
    """``['semantic=200']`` -> ``{'semantic': 200}``, checked."""
    out = {}
    for item in items:
        task, sep, value = item.partition('=')
        if not sep or task not in TASKS:
            raise ValueError(f'--iters {item!r}: expected TASK=N with TASK '
                             f'one of {list(TASKS)}')
        if task in out:
            raise ValueError(f'--iters: task {task!r} given twice')
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f'--iters {item!r}: N must be a positive '
                             'integer')
        out[task] = int(value)
    return out


def command_line(argv: Sequence[str]) -> str:
    """The command as stored in ``results.json`` (arguments quoted only
    when they need it)."""
    return f'python {TOOL}' + ''.join(
        ' ' + (a if re.fullmatch(r'[\w./=@:-]+', a) else repr(a))
        for a in argv)


def main(argv=None):
    args = parse_args(argv)
    for name in ('data_root', 'work_dir', 'start_dir', 'readme'):
        if getattr(args, name):  # relative to the caller's directory
            setattr(args, name, osp.abspath(getattr(args, name)))
    return run_job(args, command_line(sys.argv[1:] if argv is None else argv))


if __name__ == '__main__':
    run_cli(main)
