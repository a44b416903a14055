# Copyright (c) mmboundary contributors. All rights reserved.
"""The main job: one benchmark for every method, semantic and instance.

    python tools/misc/run_main_job.py                  # make demo: seed 0
    python tools/misc/run_main_job.py --seeds 0 1 2    # the full protocol
    python tools/misc/run_main_job.py --rows 'FCN + SEMEDA'
    python tools/misc/run_main_job.py --protocol extended --readme README.md
    python tools/misc/run_main_job.py --plan           # seeds for the target
    python tools/misc/run_main_job.py --table asyinst-ablation \
        --readme configs/asyinst/README.md

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
from mmboundary.benchmark.common import rel  # noqa: E402
from mmboundary.benchmark.power import format_plan  # noqa: E402
from mmboundary.benchmark.power import plan_power, plan_table  # noqa: E402
from mmboundary.benchmark.rows import TABLES  # noqa: E402
from mmboundary.benchmark.start import START_ITERS, START_SEED  # noqa: E402
from mmboundary.utils.cli import strict_parser  # noqa: E402
from mmboundary.utils.cli import UserError, add_quiet, run_cli  # noqa: E402
from mmboundary.utils.results_doc import dump_results  # noqa: E402

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
    parser.add_argument(
        '--table',
        default='main',
        choices=list(TABLES),
        help='the table to run: main (every method) or asyinst-ablation '
        "(the AsyInst paper's Table 1 on this data)")
    parser.add_argument(
        '--protocol',
        default=None,
        help='preset of seeds, iterations and validation curves (main: '
        'demo (default), extended; asyinst-ablation: ablation); '
        '--seeds/--iters/--curves given override it')
    parser.add_argument(
        '--curves',
        type=int,
        default=None,
        metavar='N',
        help="validation points per baseline run (the table's and the "
        "rows' own baselines; 0: none; default: the protocol's)")
    parser.add_argument(
        '--plan',
        nargs='?',
        const='docs/main_job/results.json',
        default=None,
        metavar='RESULTS_JSON',
        help='train nothing: print the seeds each row needs for the '
        "target interval half-width and the time estimate, from a stored "
        'results.json (default docs/main_job/results.json) and the '
        "--protocol's curves")
    parser.add_argument(
        '--plan-out',
        default=None,
        metavar='JSON',
        help='with --plan: also store the plan there (table "plan", with '
        'this command; README blocks render it, e.g. '
        'docs/main_job/power_plan.json)')
    parser.add_argument(
        '--budget-min',
        type=float,
        default=110.0,
        help='wall-time budget of --plan (minutes; default: 120 less a 10 %% '
        'margin for other load, the budget the extended protocol was '
        'chosen with)')
    parser.add_argument(
        '--work-dir',
        default=None,
        help="default: the table's (work_dirs/main_job, "
        'work_dirs/asyinst_ablation)')
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
    table = TABLES[args.table]
    protocols = table['protocols']
    if args.protocol is None:
        args.protocol = next(iter(protocols))
    if args.protocol not in protocols:
        parser.error(f'--protocol {args.protocol}: not a protocol of the '
                     f'{args.table} table; choose from {list(protocols)}')
    preset = protocols[args.protocol]
    if not getattr(args, '_given_seeds', False):
        args.seeds = list(preset['seeds'])
    elif len(args.seeds) < preset['min_seeds']:
        parser.error(
            f'--seeds {" ".join(map(str, args.seeds))}: too few seeds for '
            f'the intervals of --protocol {args.protocol}, which needs at '
            f"least {preset['min_seeds']} (leave --seeds out for its "
            f"{len(preset['seeds'])}, or give another --protocol)")
    if args.curves is None:
        args.curves = preset.get('curves', 0)
    elif args.curves < 0:
        parser.error(f'--curves {args.curves}: give 0 (none) or more')
    args.curve_seeds = preset.get('curve_seeds')
    if args.work_dir is None:
        args.work_dir = table['work_dir']
    if args.budget_min <= 0:
        parser.error(f'--budget-min {args.budget_min}: give minutes > 0')
    if args.plan_out and not args.plan:
        parser.error('--plan-out needs --plan (it stores the power plan)')
    if args.jobs is not None and args.jobs < 1:
        parser.error(f'--jobs {args.jobs}: give at least 1')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds {args.seeds}: a seed is given twice; each '
                     'seed is one paired run of every row')
    try:
        iters = {t: v['iters'] for t, v in TASKS.items()}
        iters.update(preset.get('iters', {}))
        iters.update(parse_iters(args.iters))
        args.iters = iters
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


def print_plan(args, command: str) -> int:
    """``--plan``: the power plan of a stored results.json."""
    import json
    path = args.plan
    if not osp.isfile(path) and osp.isfile(osp.join(REPO_ROOT, path)):
        path = osp.join(REPO_ROOT, path)  # the stored results, from anywhere
    if not osp.isfile(path):
        raise UserError(f'--plan {path}: no such file; give a results.json '
                        'the main job wrote (e.g. docs/main_job/results.json)')
    with open(path) as f:
        results = json.load(f)
    plan = plan_power(
        results,
        budget_min=args.budget_min,
        curves=args.curves,
        curve_seeds=args.curve_seeds or len(args.seeds))
    print(format_plan(plan, args.plan))
    if args.plan_out:
        dump_results(
            args.plan_out,
            dict(plan=plan_table(plan)),
            command=command,
            source_paths=[rel(path)],
            plan_from=rel(path))
        print(f'stored in {args.plan_out}')
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.plan:
        return print_plan(args,
                          command_line(sys.argv[1:] if argv is None else argv))
    for name in ('data_root', 'work_dir', 'start_dir', 'readme'):
        if getattr(args, name):  # relative to the caller's directory
            setattr(args, name, osp.abspath(getattr(args, name)))
    return run_job(args, command_line(sys.argv[1:] if argv is None else argv))


if __name__ == '__main__':
    run_cli(main)
