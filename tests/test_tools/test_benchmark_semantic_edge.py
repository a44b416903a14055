# Copyright (c) mmboundary contributors. All rights reserved.
"""The semantic-edge benchmark stores medians, ratios and a profile."""
import statistics

from mmboundary.testing import import_tool
from mmboundary.utils.results_doc import load_results

TOOL = 'tools/analysis_tools/benchmark_semantic_edge.py'


def test_small_run_stores_times_ratio_and_profile(tmp_path):
    tool = import_tool(TOOL)
    out = tmp_path / 'edge.json'
    tool.main([
        '--height', '64', '--width', '96', '--repeat', '3', '--quiet', '--out',
        str(out)
    ])
    data = load_results(str(out))
    times, med = data['times_s'], data['medians_s']
    for key in ('ours', 'mmseg', 'floor'):
        assert len(times[key]) == 3
        assert med[key] == statistics.median(times[key])
        assert data['minima_s'][key] == min(times[key])
    rows = data['tables']['semantic_edge']['rows']
    assert [r[1] for r in rows
            ] == [med[k] * 1e3 for k in ('ours', 'mmseg', 'floor')]
    assert rows[0][3] == med['ours'] / med['floor']
    assert rows[0][4] == med['mmseg'] / med['ours']
    assert rows[1][4] == 1.0
    # the profile names the cv2 operations of the fast path, once per run
    prof = {r['function']: r['calls_per_run'] for r in data['profile']}
    assert prof['<dilate>'] == 1 and prof['<erode>'] == 1
    assert prof['<subtract>'] == 2
    assert data['command'].endswith(f'--quiet --out {out}')
