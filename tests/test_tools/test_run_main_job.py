# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/misc/run_main_job.py: the command line over mmboundary.benchmark
(its parts are tested in tests/test_benchmark/).

The full job (training for minutes) is ``make demo``; here its options,
its errors and one whole run with training, data and start faked.
"""
import json

import pytest

from mmboundary.benchmark import runner
from mmboundary.testing import import_tool
from mmboundary.utils.cli import UserError
from ..conftest import run_tool
from ..test_benchmark._helpers import records, results, two_semantic_rows

job = import_tool('tools/misc/run_main_job.py')


def test_arguments():
    args = job.parse_args([])
    assert args.seeds == [0] and args.rows is None
    assert args.iters == dict(semantic=100, instance=300)
    assert args.start_iters == 300 and args.start_seed == 0
    assert args.jobs is None and args.quiet is False
    args = job.parse_args(
        ['--seeds', '0', '1', '2', '--iters', 'semantic=9', '--quiet'])
    assert args.seeds == [0, 1, 2] and args.quiet is True
    assert args.iters == dict(semantic=9, instance=300)


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--seeds', '0', '1', '0'], 'a seed is given twice'),
        (['--seeds', '0', '--seeds', '1'], '--seeds given twice'),
        (['--rows', 'FCN (CE)', '--rows', 'x'], '--rows given twice'),
        (['--iters', 'semantic'], "expected TASK=N with TASK one of"),
        (['--iters', 'panoptic=3'], "expected TASK=N"),
        (['--iters', 'semantic=0'], 'N must be a positive integer'),
        (['--iters', 'semantic=3', 'semantic=4'
          ], "task 'semantic' given twice"),
        (['--jobs', '0'], '--jobs 0: give at least 1'),
        # issue 20: no abbreviations (--seed is not --seeds)
        (['--seed', '1'], 'unrecognized arguments: --seed'),
        (['--resum'], 'unrecognized arguments: --resum'),
        (['--publish', '--readme', 'R.md'
          ], 'unrecognized arguments: --publish'),
    ])
def test_bad_arguments_exit_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        job.parse_args(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_command_line_quotes_only_what_needs_it():
    assert job.command_line(['--seeds', '0', '1']) == \
        'python tools/misc/run_main_job.py --seeds 0 1'
    assert job.command_line(['--rows', 'FCN + SEMEDA']) == \
        "python tools/misc/run_main_job.py --rows 'FCN + SEMEDA'"


def test_an_unknown_row_is_one_user_error():
    with pytest.raises(UserError, match=r"unknown row \['PointRend'\]"):
        job.main(['--rows', 'PointRend'])


def test_publish_only_without_results_is_one_line(tmp_path):
    """Issue 20: the file that is missing and the command that makes it, in
    one line, exit status 2, no traceback."""
    work = tmp_path / 'work'
    proc = run_tool([
        'tools/misc/run_main_job.py', '--publish-only', '--work-dir',
        str(work), '--readme',
        str(tmp_path / 'README.md')
    ],
                    check=False,
                    timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in proc.stderr
    assert lines[0].startswith(f"error: {work / 'results.json'} does not "
                               'exist: nothing to publish; make it with '
                               '`python tools/misc/run_main_job.py '
                               f'--work-dir {work}`')
    # missing results are named first, then a missing --readme
    with pytest.raises(UserError, match='results.json does not exist'):
        job.main(['--publish-only', '--work-dir', str(work)])
    work.mkdir(exist_ok=True)
    (work / 'results.json').write_text(
        json.dumps(results('python tools/misc/run_main_job.py', 1.0)))
    with pytest.raises(UserError, match='--publish-only needs --readme'):
        job.main(['--publish-only', '--work-dir', str(work)])


def test_main_keeps_the_two_load_averages(tmp_path, monkeypatch):
    """The run's results.json holds the load averages as numbers; only
    results.md shows them rounded (training and data faked)."""
    rows = two_semantic_rows()
    loads = [0.06, 12.34]  # at the start, at the end
    monkeypatch.setattr(runner.os, 'getloadavg', lambda:
                        (loads.pop(0), 0.0, 0.0))
    for name in ('check_rows', 'ensure_data'):
        monkeypatch.setattr(runner, name, lambda *args: None)
    monkeypatch.setattr(runner, 'select_rows', lambda names, table_rows: rows)
    monkeypatch.setattr(runner, 'pick_device', lambda: 'cpu')
    monkeypatch.setattr(
        runner, 'ensure_start', lambda *args: dict(
            key='k' * 64,
            config='c.py',
            iters=4,
            seed=0,
            train_s=1.0,
            status='reused'))
    monkeypatch.setattr(runner, 'resolve_rows', lambda *args: {})
    monkeypatch.setattr(
        runner, 'run_rows', lambda *args: records(
            {
                'FCN (CE)': ([30.0], [20.0]),
                'FCN + SEMEDA': ([29.0], [20.5])
            },
            seeds=(0, )))
    monkeypatch.setattr(runner, 'trivial_semantic',
                        lambda *args: dict(name='t', metrics=dict(mIoU=2.0)))
    monkeypatch.setattr(runner, 'draw_figures', lambda *args: {})
    work_dir = tmp_path / 'work'
    assert job.main(['--work-dir', str(work_dir), '--quiet']) == 0
    assert loads == []
    res = json.loads((work_dir / 'results.json').read_text())
    assert res['command'] == \
        f'python tools/misc/run_main_job.py --work-dir {work_dir} --quiet'
    assert 'load_average' not in res
    assert (res['load_average_start'], res['load_average_end']) == (0.06,
                                                                    12.34)
    tables = json.loads((work_dir / 'tables.json').read_text())
    assert tables['load_average'] == [0.06, 12.34]
    assert 'load average 0.1 / 12.3 at the start and end' in (
        work_dir / 'results.md').read_text()
    # what it wrote publishes (the loader accepts it)
    assert runner.load_job_results(str(work_dir))['command'] == \
        res['command']
    assert set(results('c', 1.0)) - set(res) == set()


# ------------------------------------------- issue 19: protocols, tables
def test_protocol_presets_and_tables():
    from mmboundary.benchmark.rows import EXTENDED_SEEDS
    args = job.parse_args([])
    assert (args.table, args.protocol, args.curves) == ('main', 'demo', 0)
    assert args.work_dir == 'work_dirs/main_job'
    args = job.parse_args(['--protocol', 'extended'])
    assert args.seeds == list(range(EXTENDED_SEEDS))
    assert (args.curves, args.curve_seeds) == (8, 3)
    assert args.iters == dict(semantic=100, instance=300)
    # more seeds than the preset are fine; --curves overrides
    args = job.parse_args([
        '--protocol', 'extended', '--seeds', *map(str, range(20)), '--curves',
        '0'
    ])
    assert len(args.seeds) == 20 and args.curves == 0
    args = job.parse_args(['--table', 'asyinst-ablation'])
    assert (args.protocol, args.seeds) == ('ablation', [0, 1, 2])
    assert args.iters == dict(semantic=100, instance=1500)
    assert args.work_dir == 'work_dirs/asyinst_ablation'
    args = job.parse_args(
        ['--table', 'asyinst-ablation', '--iters', 'instance=40'])
    assert args.iters['instance'] == 40


@pytest.mark.parametrize(
    'argv, message',
    [
        # issue 19, item 3: too few seeds for the protocol's intervals
        (['--protocol', 'extended', '--seeds', '0'
          ], '--seeds 0: too few seeds for the intervals of --protocol '
         'extended, which needs at least'),
        (['--table', 'asyinst-ablation', '--seeds', '4'
          ], '--seeds 4: too few seeds for the intervals of --protocol '
         'ablation, which needs at least 2'),
        (['--protocol', 'ablation'], "--protocol ablation: not a protocol of "
         "the main table; choose from ['demo', 'extended']"),
        (['--table', 'nope'], "invalid choice: 'nope'"),
        (['--curves', '-1'], '--curves -1: give 0 (none) or more'),
        (['--plan', '--budget-min', '0'], '--budget-min 0.0: give minutes'),
        (['--plan-out', 'p.json'], '--plan-out needs --plan'),
    ])
def test_bad_protocol_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        job.parse_args(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_plan_prints_and_refuses_one_seed(tmp_path, capsys):
    assert job.main(['--plan']) == 0
    out = capsys.readouterr().out
    assert out.startswith('Power plan from docs/main_job/results.json')
    assert '| FCN + SEMEDA | FCN (CE) | mIoU | 3 |' in out
    one = tmp_path / 'one.json'
    one.write_text(json.dumps(results('python x', 1.0)))
    with pytest.raises(UserError, match='too few seeds for an interval'):
        job.main(['--plan', str(one)])
    with pytest.raises(UserError, match='no such file'):
        job.main(['--plan', str(tmp_path / 'none.json')])


def test_plan_out_stores_the_printed_table(tmp_path, capsys):
    from mmboundary.utils.results_doc import load_results, render_table
    out = tmp_path / 'plan.json'
    assert job.main(['--plan', '--plan-out', str(out)]) == 0
    printed = capsys.readouterr().out
    stored = load_results(str(out))
    table = stored['tables']['plan']
    # the stored table is the printed one, cell for cell, notes included
    assert render_table(table).rstrip('\n') in printed
    assert table['rows'][0][:4] == ['FCN + SEMEDA', 'FCN (CE)', 'mIoU', 3]
    assert stored['plan_from'] == 'docs/main_job/results.json'
    assert stored['command'].endswith('--plan --plan-out ' + str(out))
