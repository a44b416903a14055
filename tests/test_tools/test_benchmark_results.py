# Copyright (c) mmboundary contributors. All rights reserved.
"""The tables the benchmark tools store (their README blocks), from hand-made
timings with hand-computed medians, ratios and shares."""
import json

import pytest

from mmboundary.testing import import_tool
from mmboundary.utils.results_doc import load_results
from ..conftest import run_tool


def test_semeda_table():
    tool = import_tool('tools/analysis_tools/benchmark_semeda.py')
    times = {
        'ce': [1.0, 3.0, 2.0],  # median 2.0
        'ce+semeda': [2.1, 2.0, 2.4],  # median 2.1
        'semeda loss only': [0.1, 0.05, 0.3]  # median 0.1
    }
    table = tool.results_table(times, 'cpu', 1, (4, 8), 2)
    assert table['rows'] == [[
        'cpu', '1x4x8', 2, 3, 2.0, 2.1,
        pytest.approx(1.05, abs=1e-12),
        pytest.approx(5.0, abs=1e-12)
    ]]
    assert len(table['columns']) == len(table['rows'][0])
    assert table['notes'][0] == 'target: ratio <= 1.10 (met)'
    times['ce+semeda'] = [2.3, 2.3, 2.3]  # ratio 1.15
    assert tool.results_table(times, 'cpu', 1, (4, 8),
                              2)['notes'][0] == ('target: ratio <= 1.10 '
                                                 '(NOT met)')


def test_semeda_tool_stores_its_medians(tmp_path):
    out = tmp_path / 'r.json'
    # one thread whatever the calling shell sets (the table records it)
    run_tool([
        'tools/analysis_tools/benchmark_semeda.py', '--crop', '32', '32',
        '--reps', '1', '--warmup', '0', '--out-json',
        str(out)
    ],
             env=dict(OMP_NUM_THREADS='1'))
    data = load_results(str(out))
    assert data['command'].startswith(
        'python tools/analysis_tools/benchmark_semeda.py --crop 32 32')
    raw = data['raw_seconds']
    row = data['tables']['iteration']['rows'][0]
    assert row[1:4] == ['1x32x32', 1, 1]
    assert row[4:6] == [raw['ce'][0], raw['ce+semeda'][0]]
    assert row[7] == pytest.approx(
        100 * raw['semeda loss only'][0] / raw['ce'][0], rel=1e-12)


def test_edge_agreement_table():
    tool = import_tool('tools/analysis_tools/benchmark_edge_agreement.py')
    train = dict(base=[3.0, 1.0, 2.0], edge=[2.0, 4.0, 3.0])
    infer = dict(base=[1.0, 1.0, 4.0], edge=[2.0, 2.0, 2.0])
    table = tool.results_table(train, infer, [0.01, 0.03, 0.02], 'setting',
                               False)
    assert table['rows'] == [
        ['train iteration, median', 2.0, 3.0, 1.5],
        ['train iteration, fastest', 1.0, 2.0, 2.0],
        ['edge loss alone, fwd + bwd, median', None, 0.02, None],
        ['inference, median', 1.0, 2.0, 2.0],
        ['inference, fastest', 1.0, 2.0, 2.0],
    ]
    # 0.02 s of the fastest baseline iteration, 1 s
    assert table['notes'][:3] == [
        'setting', 'edge loss alone: 2.000 % of the fastest baseline '
        'iteration', 'identical predictions: NO'
    ]


def test_boundary_metrics_tables():
    tool = import_tool('tools/analysis_tools/benchmark_boundary_metrics.py')
    tables = tool.results_tables(
        dict(IoUMetric=0.01, BoundaryMetric=0.06, mBA=0.02),
        dict(segm=2.0, boundary=5.0, **{'boundary-lib': 8.0}), 'setting', 7)
    sem, inst = tables['semantic'], tables['instance']
    assert sem['rows'] == [['IoUMetric', 10.0, 1.0],
                           ['BoundaryMetric', 60.0,
                            pytest.approx(6.0)], ['mBA', 20.0, 2.0]]
    assert sem['notes'] == [
        'setting', 'target: BoundaryMetric <= 5 x IoUMetric (NOT met)'
    ]
    assert [r[1:] for r in inst['rows']] == [[2.0, 1.0], [5.0, 2.5],
                                             [8.0, 4.0]]
    assert inst['notes'] == [
        'setting; 7 GT instances', 'target: boundary AP <= 3 x segm AP (met)'
    ]


def test_edge_net_report_table():
    tool = import_tool('tools/misc/train_edge_net.py')
    counts = dict(precision=0.75, recall=0.6, f1=2 / 3, tp=3, fp=1, fn=2)
    report = dict(
        settings=dict(max_epochs=4, noise_std=1.0, logit_scale=[3.0, 10.0]),
        steps=8,
        num_train=2,
        seconds=1.5,
        num_val=2,
        val_clean=counts,
        val_noisy=dict(counts, tp=2))
    table = tool.report_table(report, '/x/net-abc.pth')
    assert table['rows'] == [
        ['clean one-hot GT', 0.75, 0.6, 2 / 3, 3, 1, 2],
        ['noisy softmax input', 0.75, 0.6, 2 / 3, 2, 1, 2],
    ]
    assert table['notes'][0].startswith(
        'net net-abc.pth: 8 steps (4 epochs) on 2 training maps in 1.5 s')
    json.dumps(table)  # storable
    del report['val_noisy']
    with pytest.raises(KeyError, match="net-abc.pth has no 'val_noisy'"):
        tool.report_table(report, '/x/net-abc.pth')
