# Copyright (c) mmboundary contributors. All rights reserved.
"""Rerun the main job's cheapest row from scratch and compare it, bit for
bit, with its stored values (the guard CI runs).

    python tools/misc/reproducibility_guard.py            # check; exit 1
    python tools/misc/reproducibility_guard.py --write    # store the values
    python tools/misc/reproducibility_guard.py --variants # threads, CPUs

The row is ``FCN (CE)`` with a reduced budget (shared start 8 iterations,
row 4), run through ``tools/misc/run_main_job.py`` in a fresh temporary
folder: data, start, row and test from scratch. ``--write`` stores its
metrics and weight digests in ``docs/reproducibility/guard.json``; run it
whenever a change moves the numbers on purpose (and republish the tables:
the README says how). ``--variants`` reruns the row under other thread
counts and CPU kernels (``--full``: the main job's own budget) and stores
``docs/reproducibility/variants.json``, shown in the README.
See :mod:`mmboundary.utils.reproducibility_guard`.
"""
import json
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from mmboundary.utils import reproducibility_guard as rg  # noqa: E402
from mmboundary.utils.cli import UserError  # noqa: E402
from mmboundary.utils.cli import run_cli, strict_parser  # noqa: E402
from mmboundary.utils.results_doc import dump_results  # noqa: E402
from mmboundary.utils.results_doc import load_results  # noqa: E402


def parse_args(argv=None):
    parser = strict_parser(__doc__.split('\n')[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        '--write',
        action='store_true',
        help=f'store the values in {rg.GUARD_JSON} (after a change that '
        'moves the numbers on purpose)')
    mode.add_argument(
        '--variants',
        action='store_true',
        help='rerun the row under other thread counts and CPU kernels and '
        f'store how far it moved in {rg.VARIANTS_JSON}')
    parser.add_argument(
        '--full',
        action='store_true',
        help='with --variants: the main job\'s budget (start '
        f"{rg.FULL['start_iters']}, row {rg.FULL['iters']} iterations) "
        'instead of the guard\'s')
    parser.add_argument(
        '--keep-work-dir',
        default=None,
        metavar='DIR',
        help='run in DIR (must be empty) and keep it, instead of a '
        'temporary folder')
    parser.add_argument(
        '--jobs', type=int, default=1, help='--jobs of the main job')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.full and not args.variants:
        raise UserError('--full goes with --variants (the guard itself '
                        'always runs its reduced budget)')
    load_start = os.getloadavg()[0]
    if args.variants:
        settings = rg.FULL if args.full else rg.GUARD
        with rg.TemporaryFolder(args.keep_work_dir) as work:
            measured = rg.measure_variants(work, settings)
        dump_results(
            osp.join(REPO_ROOT, rg.VARIANTS_JSON),
            dict(variants=measured['table']),
            source_paths=rg.SOURCE_INPUTS,
            load_start=load_start,
            settings=settings,
            runs=measured['runs'])
        print(f'wrote {rg.VARIANTS_JSON}; run python '
              'tools/misc/update_readme_tables.py to show it')
        return 0
    with rg.TemporaryFolder(args.keep_work_dir) as work:
        got = rg.run_row(work, rg.GUARD, jobs=args.jobs)
    print(
        json.dumps(got['metrics']), f"weights {got['weights'][:12]}",
        f"({got['seconds']:.0f} s)")
    if args.write:
        dump_results(
            osp.join(REPO_ROOT, rg.GUARD_JSON),
            dict(guard=rg.guard_table(rg.GUARD, got)),
            command='python tools/misc/reproducibility_guard.py --write',
            source_paths=rg.SOURCE_INPUTS,
            load_start=load_start,
            settings=rg.GUARD,
            guard=got)
        print(f'wrote {rg.GUARD_JSON}')
        return 0
    stored = load_results(osp.join(REPO_ROOT, rg.GUARD_JSON))
    if stored.get('settings') != rg.GUARD:
        print(f'{rg.GUARD_JSON} holds other settings '
              f"({stored.get('settings')}); rerun with --write")
        return 1
    problems = rg.guard_check(stored['guard'], got)
    for p in problems:
        print(p)
    if problems:
        print('the guard row moved; if on purpose, rerun python '
              'tools/misc/reproducibility_guard.py --write and republish '
              'the tables (README: Reproducibility)')
        return 1
    print('the guard row reproduces its stored values exactly')
    return 0


if __name__ == '__main__':
    run_cli(main)
