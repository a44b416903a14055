# Copyright (c) mmboundary contributors. All rights reserved.
"""The DVIS inference benchmark: side by side, stored, refuses a missing
GPU in one line."""
import statistics

import pytest
import torch
from mmengine.structures import InstanceData

from mmboundary.testing import import_tool
from mmboundary.utils.cli import UserError, run_cli
from mmboundary.utils.results_doc import load_results

TOOL = 'tools/analysis_tools/benchmark_dvis_inference.py'


def test_refuses_cuda_without_a_gpu(monkeypatch, capsys):
    bench = import_tool(TOOL)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(UserError, match='--device cuda: no CUDA GPU'):
        bench.main(['--device', 'cuda', '--out', ''])
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: bench.main(['--device', 'cuda:0']), argv=[])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: --device cuda:0: no CUDA GPU')
    assert err.count('\n') == 1


def test_same_candidates_sees_any_difference():
    bench = import_tool(TOOL)

    def cands(flip=False):
        c = InstanceData()
        c.masks = torch.zeros(2, 4, 4, dtype=torch.bool)
        c.masks[0, 1, 1] = True
        c.masks[1, 2, 2] = not flip
        c.bandwidth_idx = torch.tensor([0, 1])
        c.means = torch.tensor([1.0, 2.0])
        c.areas = c.masks.flatten(1).sum(1).float()
        c.boxes = torch.zeros(2, 4)
        return [c]

    assert bench.same_candidates(cands(), cands())
    assert not bench.same_candidates(cands(), cands(flip=True))


def test_small_run_stores_medians_and_ratios(tmp_path):
    bench = import_tool(TOOL)
    out = tmp_path / 'inference.json'
    bench.main([
        '--settings', 'coco-700', '--scale', '0.1', '--instances', '2',
        '--repeat', '2', '--quiet', '--out',
        str(out)
    ])
    data = load_results(str(out))
    row, = data['settings']
    med, times = row['medians_s'], row['times_s']
    for key in bench.MEASURES:
        assert len(times[key]) == 2
        assert med[key] == statistics.median(times[key])
    assert row['identical_candidates'] is True
    assert row['input_shape'] == [96, 160]  # 70x133 padded to 32
    assert row['map_shape'] == [24, 40]
    assert row['post_over_forward'] == med['post'] / med['forward']
    assert row['predict_over_mask_rcnn'] == (
        med['predict'] / med['mask_rcnn_predict'])
    assert row['mean_shift_thread_speedup'] == (
        med['mean_shift_one_thread'] / med['mean_shift'])
    table = data['tables']['inference']
    assert table['rows'][0][:5] == [
        'coco-700', '96x160', '24x40', 2, row['candidates']
    ]
    assert table['rows'][0][10] == round(row['post_over_forward'], 3)
    assert table['rows'][0][-1] == med['mean_shift_one_thread']
    assert table['rows'][0][-2] == (
        row['verifier_macs_per_candidate'] * row['candidates'] / 1e9)
    assert row['verifier_macs_per_candidate'] == 43434368  # the R50 verifier
    assert data['command'] == (
        'python tools/analysis_tools/benchmark_dvis_inference.py '
        '--settings coco-700 --scale 0.1 --instances 2 --repeat 2 --quiet '
        f'--out {out}')
