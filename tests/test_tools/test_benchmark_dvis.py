# Copyright (c) mmboundary contributors. All rights reserved.
"""The DVIS benchmark compares equal pairs and stores medians."""
import importlib.util
import os.path as osp
import statistics

import pytest
import torch

from mmboundary.models.losses import PermutationInvariantLoss
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.results_doc import load_results


def _load(name):
    path = osp.join(REPO_ROOT, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_conv_equals_refcode_pair_loss():
    bench = _load('benchmark_dvis')
    pred, ids = bench.make_inputs((2, 24, 40), 'cpu', seed=3)
    pred = pred.double()
    x1 = pred.clone().requires_grad_()
    x2 = pred.clone().requires_grad_()
    offs = PermutationInvariantLoss(**bench.REFCODE).offsets
    assert len(offs) == 118
    ref = bench.reference_conv_pair_loss(x1, ids, offs, (33, 65))
    ours = PermutationInvariantLoss(**bench.REFCODE)(x2, ids[:, 0])
    assert ref.item() == pytest.approx(ours.item(), rel=1e-12)
    ref.backward()
    ours.backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-9, atol=1e-14)


def test_benchmark_stores_its_tables(tmp_path):
    bench = _load('benchmark_dvis')
    out = tmp_path / 'bench.json'
    bench.main([
        '--sizes', '1x24x40', '--ms-sizes', '1x16x20', '--repeat', '3',
        '--out',
        str(out)
    ])
    data = load_results(str(out))
    pair, = data['pair_loss']
    assert len(pair['times_s']['ours']) == 3
    assert pair['ours_s'] == statistics.median(pair['times_s']['ours'])
    row, = data['tables']['pair_loss']['rows']
    assert row[0] == '1x24x40'
    assert row[3] == round(pair['reference_s'] / pair['ours_s'], 1)
    assert row[6] == round(
        pair['memory_mib']['ours'] / pair['memory_mib']['reference'], 4)
    shift, = data['mean_shift']
    assert shift['seconds'] == statistics.median(shift['times_s'])
    assert shift['torch_code_seconds'] == statistics.median(
        shift['torch_code_times_s'])
    assert shift['identical'] is True
    assert data['tables']['mean_shift']['rows'] == [[
        '1x16x20', shift['seconds'], shift['torch_code_seconds'],
        round(shift['torch_code_seconds'] / shift['seconds'], 1),
        shift['memory_mib'], shift['torch_code_memory_mib']
    ]]
    # the tool's own command line, not the calling process's
    assert data['command'] == (
        'python tools/analysis_tools/benchmark_dvis.py --sizes 1x24x40 '
        f'--ms-sizes 1x16x20 --repeat 3 --out {out}')


def test_interleaved_medians_alternate_order():
    bench = _load('benchmark_dvis')
    calls = []
    med, times = bench.interleaved_medians(
        {
            'a': lambda: calls.append('a'),
            'b': lambda: calls.append('b')
        }, 4, 'cpu')
    assert calls == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    assert med['a'] == statistics.median(times['a'])
    assert len(times['b']) == 4
