# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/test.py: a missing checkpoint, and one process vs two (--out and
--show-dir: test_test_out.py)."""
import os.path as osp

from ..conftest import TINY_SEG_CFG, data_root_options, run_launcher, run_tool


def test_missing_checkpoint_is_named(tmp_path):
    proc = run_tool(['tools/test.py', TINY_SEG_CFG, 'no/such.pth'],
                    check=False)
    assert proc.returncode != 0
    assert "Checkpoint 'no/such.pth' does not exist" in proc.stderr


def _miou(output):
    import re
    values = re.findall(r'mIoU: ([0-9.]+)', output)
    assert values, output[-2000:]
    return float(values[-1])


def test_dist_test_matches_single_process(tiny_seg_run, tiny_seg_root,
                                          tmp_path):
    ckpt = osp.join(tiny_seg_run, 'iter_4.pth')
    single = run_tool([
        'tools/test.py', TINY_SEG_CFG, ckpt, '--work-dir',
        str(tmp_path / 'one'), '--cfg-options',
        *data_root_options(tiny_seg_root)
    ])
    dist = run_launcher([
        'tools/dist_test.sh', TINY_SEG_CFG, ckpt, '2', '--work-dir',
        str(tmp_path / 'two'), '--cfg-options',
        *data_root_options(tiny_seg_root)
    ])
    assert _miou(dist.stdout + dist.stderr) == _miou(single.stdout +
                                                     single.stderr)
