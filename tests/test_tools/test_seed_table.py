# Copyright (c) mmboundary contributors. All rights reserved.
import json
import os

import pytest

from tests.conftest import run_tool


def _run(tmp_path, name, entries):
    d = tmp_path / name / '20260101_000000' / 'vis_data'
    os.makedirs(d)
    with open(d / 'scalars.json', 'w') as f:
        for e in entries:
            f.write(json.dumps(e) + '\n')


def test_seed_table_means_stds_and_paired_differences(tmp_path):
    train = {'loss': 1.0, 'step': 10}
    for seed, (a, b) in enumerate([(30.0, 1.0), (32.0, 2.0), (34.0, 6.0)]):
        _run(tmp_path, f'base_s{seed}',
             [train, {
                 'mIoU': 1.0
             }, {
                 'mIoU': a,
                 'mBA': b
             }])
    for seed, a in enumerate([31.0, 35.0, 33.0]):
        _run(tmp_path, f'new_s{seed}', [{'mIoU': a, 'mBA': 0.0}])
    out = run_tool([
        'tools/analysis_tools/seed_table.py', '--group',
        f'base={tmp_path}/base_s*', '--group', f'new={tmp_path}/new_s*',
        '--metrics', 'mIoU', 'mBA'
    ]).stdout
    # base: mean 32, sample std 2; mBA mean 3, std sqrt(7) = 2.65
    assert '| base | 3 | 32.00 ± 2.00 | 3.00 ± 2.65 |' in out
    assert '| new | 3 | 33.00 ± 2.00 | 0.00 ± 0.00 |' in out
    # paired differences 1, 3, -1: mean 1, std 2
    assert '| new - base (paired) | 3 | 1.00 ± 2.00 | -3.00 ± 2.65 |' in out
    bad = run_tool([
        'tools/analysis_tools/seed_table.py', '--group', f'x={tmp_path}/none*'
    ],
                   check=False)
    assert bad.returncode != 0 and 'no work dir matches' in bad.stderr


@pytest.mark.parametrize('entries', [[], [{'loss': 1.0}]])
def test_unfinished_run_is_an_error(tmp_path, entries):
    _run(tmp_path, 'r_s0', entries)
    bad = run_tool([
        'tools/analysis_tools/seed_table.py', '--group', f'r={tmp_path}/r_s*'
    ],
                   check=False)
    assert bad.returncode != 0 and 'no validation entry' in bad.stderr
