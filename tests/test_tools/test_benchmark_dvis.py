# Copyright (c) mmboundary contributors. All rights reserved.
"""The DVIS benchmark compares equal pairs; the seed tool's arithmetic."""
import importlib.util
import json
import os.path as osp
import statistics

import pytest
import torch

from mmboundary.models.losses import PermutationInvariantLoss
from mmboundary.testing._utils import REPO_ROOT


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


def test_seed_evidence_reads_metrics_and_formats(tmp_path):
    tool = _load('seed_evidence')
    run = tmp_path / '20261201_000000' / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text('\n'.join(
        json.dumps(r) for r in [{
            'loss': 1.0,
            'step': 10
        }, {
            'coco/segm_mAP': 0.004,
            'step': 300
        }, {
            'coco/segm_mAP': 0.006,
            'step': 300
        }]))
    assert tool.read_val_metrics(str(tmp_path))['coco/segm_mAP'] == 0.006
    assert tool.fmt([0.6, 0.7, 1.2]) == '0.83 ± 0.32'
    assert statistics.stdev([0.6, 0.7, 1.2]) == pytest.approx(0.3215, 1e-3)
    log = tmp_path / 'stdout.log'
    log.write_text('12/01 00:04:10 - mmengine - INFO - start\nother\n'
                   '12/01 00:25:37 - mmengine - INFO - end\n')
    assert tool.log_wall_seconds(str(log)) == 21 * 60 + 27
