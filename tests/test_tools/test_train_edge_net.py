# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/misc/train_edge_net.py on the tiny config: it writes the edge net
and its report where the hook looks, and the hook then reuses it."""
import glob
import json
import os.path as osp

import cv2
import pytest

from mmboundary.utils.results_doc import load_results
from ..conftest import data_root_options, run_tool
from ..test_engine.test_hooks.test_edge_net_report import recomputed_report

CFG = 'tests/data/configs/tiny_seg_semeda.py'


def test_tool_output_is_reused_by_the_hook(tiny_seg_root, tmp_path):
    work_dir = tmp_path / 'work'
    out_dir = work_dir / 'edge_net'  # the hook's default cache_dir
    options = ['--cfg-options', *data_root_options(tiny_seg_root)]
    proc = run_tool([
        'tools/misc/train_edge_net.py', CFG, '--out-dir',
        str(out_dir), *options
    ])
    files = glob.glob(str(out_dir / 'semantic_edge_net_*-*.pth'))
    assert len(files) == 1
    assert f'checkpoint: {files[0]}' in proc.stdout
    with open(files[0][:-4] + '.json') as f:
        report = json.load(f)
    # the tool took num_classes, ignore index and kernel size from the
    # SemedaLoss and the rest from the hook entry of the config
    assert report['settings']['num_classes'] == 3
    assert report['settings']['max_epochs'] == 4
    assert report['settings']['crop_size'] == [32, 32]
    # its validation F1 (both val maps), recomputed independently
    val = sorted(glob.glob(osp.join(tiny_seg_root, 'ann_dir', 'val', '*')))
    labels = [cv2.imread(p, cv2.IMREAD_UNCHANGED).astype('int64') for p in val]
    expected = recomputed_report(files[0], labels)
    assert 0 < expected['f1'] < 1  # a net that finds some edges, not all
    assert report['val_clean']['f1'] == pytest.approx(
        expected['f1'], abs=1e-12)
    assert report['num_val'] == 2

    # again: nothing to do; --out-json stores the found net's report
    stored = tmp_path / 'results' / 'edge_net.json'
    again = run_tool([
        'tools/misc/train_edge_net.py', CFG, '--out-dir',
        str(out_dir), '--out-json',
        str(stored), *options
    ])
    assert 'already holds this edge net' in again.stdout
    table = load_results(str(stored))['tables']['pretrain']
    assert table['rows'] == [[
        label, *(report[key][k]
                 for k in ('precision', 'recall', 'f1', 'tp', 'fp', 'fn'))
    ] for key, label in (('val_clean', 'clean one-hot GT'),
                         ('val_noisy', 'noisy softmax input'))]

    # training finds and loads it instead of pretraining
    train = run_tool([
        'tools/train.py', CFG, '--work-dir',
        str(work_dir), *options, 'train_cfg.max_iters=1'
    ])
    log = train.stdout + train.stderr
    assert f'EdgeNetPretrainHook: loaded {files[0]}' in log
    assert 'pretraining the SEMEDA edge net' not in log
    assert glob.glob(str(out_dir / '*.pth')) == files
