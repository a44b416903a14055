# Copyright (c) mmboundary contributors. All rights reserved.
"""The DVIS verifier cost/accuracy tool: counted MACs equal the
hand-computed ones, the accuracy table's statistics."""
import math

import pytest

from mmboundary.testing import import_tool
from mmboundary.utils.results_doc import load_results

TOOL = 'tools/analysis_tools/dvis_verifier_cost.py'


def test_cost_counted_and_stored(tmp_path):
    tool = import_tool(TOOL)
    out = tmp_path / 'cost.json'
    tool.main(['--cost-out', str(out)])
    data = load_results(str(out))
    macs = {r['config'].split('/')[-1]: r['macs'] for r in data['configs']}
    # hand-computed (see test_dvis_head.py for the terms); Cityscapes: 8
    # classes instead of 80 (128 x 72 fewer MACs in the class output)
    assert macs == {
        'dvis_r50-fpn_1xb8-55e_coco-700.py': 43434368,
        'dvis_r50-fpn_8xb1-64e_cityscapes-2048x1024.py': 43434368 - 128 * 72,
        'dvis-refcode_r50-fpn_1xb8-55e_coco-550.py': 1080125440,
        # RoI 10, 64 channels: 3686400 + 208000 + 921600 + 1843200 +
        # 3686400 + 409600 + 65536 + 1152 + 128
        'dvis_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py': 10822016,
    }
    row = data['tables']['verifier_cost']['rows'][0]
    assert row[3] == 43434368 / 1e6
    assert row[4] == 5 * 43434368 / 1e9 and row[5] == 15 * 43434368 / 1e9
    # the R50 verifier is within the paper's budget even at 15 candidates
    # and 2 FLOPs per MAC; the official widths are not at 5
    assert 2 * row[5] <= tool.PAPER_GFLOPS_700
    assert data['tables']['verifier_cost']['rows'][2][4] > 2.44


def test_count_and_formula_must_agree(monkeypatch):
    tool = import_tool(TOOL)
    from mmboundary.models.heads import DVISVerifyHead
    real = DVISVerifyHead.macs_per_candidate
    monkeypatch.setattr(DVISVerifyHead, 'macs_per_candidate',
                        lambda self: real(self) + 1)
    with pytest.raises(AssertionError, match='counted'):
        tool.cost_rows(tool.CONFIGS[:1])


def test_accuracy_table_statistics(monkeypatch, tmp_path):
    tool = import_tool(TOOL)
    from mmboundary.benchmark import data, runner, start
    monkeypatch.setattr(data, 'ensure_data', lambda *a: None)
    monkeypatch.setattr(
        start, 'ensure_start', lambda *a: {
            'sha256': 'x',
            'status': 'reused',
            'checkpoint_path': 'start.pth',
            'backbone': dict(type='ResNet', depth=18)
        })
    monkeypatch.setattr(runner, 'set_child_threads', lambda n: None)
    seen = []
    ap = {
        'official widths': [2.0, 3.0, 1.0],
        'R50 default widths': [1.5, 3.5, 0.0]
    }

    def fake_run(row, cfg, seed, args, sha):
        name = row.name[len('DVIS, '):]
        seen.append((name, seed, dict(cfg.model.mask_head.verify_head)))
        v = ap[name][seed]
        return dict(metrics={'coco/segm_mAP': v, 'coco/bbox_mAP': 2 * v})

    monkeypatch.setattr(runner, 'run_row_seed', fake_run)
    import mmboundary.benchmark as bench
    monkeypatch.setattr(bench, 'resolve_config', lambda cfg, *a, **k: cfg)
    out = tmp_path / 'acc.json'
    tool.main([
        '--seeds', '0', '1', '2', '--variants', 'official widths',
        'R50 default widths', '--jobs', '1', '--cost-out', '',
        '--accuracy-out',
        str(out), '--work-dir',
        str(tmp_path / 'w'), '--quiet'
    ])
    widths = {n: vh['conv_channels'] for n, _, vh in seen}
    assert tuple(widths['official widths']) == (256, 256, 256, 512, 512)
    assert tuple(widths['R50 default widths']) == (32, 32, 64, 64, 128)
    rows = load_results(str(out))['tables']['verifier_accuracy']['rows']
    ref, light = rows
    assert ref[1] == 2.0 and ref[2] == 1.0  # mean, sample std
    assert ref[3] == 4.0 and ref[4] == 2.0
    assert ref[5:] == [None, None, None]
    assert light[1] == pytest.approx(5 / 3)
    assert light[2] == pytest.approx(
        math.sqrt(((1.5 - 5 / 3)**2 + (3.5 - 5 / 3)**2 + (5 / 3)**2) / 2))
    # paired differences -0.5, 0.5, -1: mean -1/3, t(0.975, 2) = 4.303
    assert light[5] == pytest.approx(-1 / 3)
    half = 4.302653 * math.sqrt(((-0.5 + 1 / 3)**2 + (0.5 + 1 / 3)**2 +
                                 (-1 + 1 / 3)**2) / 2) / math.sqrt(3)
    assert light[6] == f'[{-1 / 3 - half:.2f}, {-1 / 3 + half:.2f}]'
    assert light[7] == 'within noise'
