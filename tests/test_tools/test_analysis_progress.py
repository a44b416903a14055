# Copyright (c) mmboundary contributors. All rights reserved.
"""Progress with an ETA in the analysis tools (issue 21, item 3): plain,
sparse lines on stderr when it is not a terminal (no control characters,
no line per step), nothing with ``--quiet``, results on stdout unchanged."""
import re
import sys

import pytest

from mmboundary.testing import import_tool
from ..conftest import run_tool

TOOLS = [
    'tools/analysis_tools/asyinst_affinity_stats.py',
    'tools/analysis_tools/benchmark_asyinst.py',
    'tools/analysis_tools/benchmark_boundary_metrics.py',
    'tools/analysis_tools/benchmark_edge_agreement.py',
    'tools/analysis_tools/benchmark_inverseform.py',
    'tools/analysis_tools/benchmark_semeda.py',
    'tools/analysis_tools/boxinst_mask_diagnosis.py',
]
CONTROL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')  # all but \t and \n


@pytest.mark.parametrize('path', TOOLS)
def test_tool_has_quiet(path, monkeypatch, capsys):
    tool = import_tool(path)
    monkeypatch.setattr(sys, 'argv', [path, '--help'])
    with pytest.raises(SystemExit) as exit_:
        tool.parse_args()
    assert exit_.value.code == 0
    assert '--quiet' in capsys.readouterr().out


def test_paired_ratios_reports_pairs(capsys):
    bench = import_tool('tools/analysis_tools/benchmark_inverseform.py')
    out = bench.paired_ratios(
        lambda: 1.0, lambda: 2.0, 3, desc='pairs', quiet=False)
    assert out['ratio'] == [2.0, 2.0, 2.0]
    err = capsys.readouterr().err.splitlines()
    # the first pair and the last; the ones between only every 10 s
    assert [line.split(',')[0]
            for line in err] == ['pairs: 1/3 (33%)', 'pairs: 3/3 (100%)']
    assert all('ETA' in line for line in err)
    bench.paired_ratios(lambda: 1.0, lambda: 2.0, 3, desc='pairs', quiet=True)
    assert capsys.readouterr().err == ''


def test_benchmark_progress_in_a_log_and_quiet(tmp_path):
    args = [
        'tools/analysis_tools/benchmark_semeda.py', '--crop', '32', '32',
        '--reps', '3', '--warmup', '1', '--out-json',
        str(tmp_path / 'r.json')
    ]
    env = dict(OMP_NUM_THREADS='1')
    proc = run_tool(args, env=env)
    rounds = [
        line for line in proc.stderr.splitlines()
        if line.startswith('timed rounds')
    ]
    # a pipe is not a terminal: plain lines, the first round and the last
    # (the rest only every 10 s), each with counts and an ETA
    assert 2 <= len(rounds) <= 3, proc.stderr
    assert rounds[0].startswith(
        'timed rounds (ce, ce+semeda, loss alone): 1/3 (33%)')
    assert rounds[-1].startswith(
        'timed rounds (ce, ce+semeda, loss alone): 3/3 (100%)')
    assert rounds[-1].endswith('ETA 0:00')
    assert not CONTROL.search(proc.stdout + proc.stderr)
    assert 'iteration ratio' in proc.stdout  # the results, on stdout

    quiet = run_tool(args + ['--quiet'], env=env)
    assert 'timed rounds' not in quiet.stderr
    assert 'warm-up' not in quiet.stderr
    assert 'iteration ratio' in quiet.stdout
