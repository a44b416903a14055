# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/train.py: training, resume, and failing early on bad input."""
import glob
import json
import os.path as osp

import torch

from mmboundary.utils import load_checkpoint_safely
from ..conftest import PROBE_CFG, TINY_SEG_CFG, data_root_options, run_tool


def test_training_writes_checkpoints_and_logs(tiny_seg_run):
    ckpts = sorted(
        osp.basename(p) for p in glob.glob(osp.join(tiny_seg_run, '*.pth')))
    assert ckpts == ['iter_2.pth', 'iter_4.pth']
    ckpt = load_checkpoint_safely(osp.join(tiny_seg_run, 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 4
    assert {'state_dict', 'optimizer', 'message_hub'} <= set(ckpt)
    assert glob.glob(osp.join(tiny_seg_run, '*', '*.log'))


def test_resume_continues_at_saved_iter_with_saved_optimizer_state(
        tiny_seg_run, tiny_seg_root, tmp_path):
    ckpt_path = osp.join(tiny_seg_run, 'iter_2.pth')
    saved = load_checkpoint_safely(ckpt_path)
    saved_state = saved['optimizer']['state']
    saved_momentum = saved_state[min(saved_state)]['momentum_buffer']

    work_dir = str(tmp_path / 'resumed')
    run_tool([
        'tools/train.py',
        PROBE_CFG,
        '--work-dir',
        work_dir,
        '--resume',
        ckpt_path,
        '--cfg-options',
        *data_root_options(tiny_seg_root),
    ])
    with open(osp.join(work_dir, 'probe_rank0.json')) as f:
        probe = json.load(f)
    assert probe['start_iter'] == 2
    assert [r['iter'] for r in probe['records']] == [2, 3]
    assert torch.allclose(
        torch.tensor(probe['optim_state']),
        saved_momentum.flatten(),
        atol=0,
        rtol=0)
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    assert not osp.isfile(osp.join(work_dir, 'iter_2.pth'))


def test_load_from_initialises_from_checkpoint(tiny_seg_run, tiny_seg_root,
                                               tmp_path):
    ckpt_path = osp.join(tiny_seg_run, 'iter_4.pth')
    work_dir = str(tmp_path / 'finetune')
    run_tool([
        'tools/train.py',
        PROBE_CFG,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *data_root_options(tiny_seg_root),
        f'load_from={ckpt_path}',
        'train_cfg.max_iters=1',
    ])
    with open(osp.join(work_dir, 'probe_rank0.json')) as f:
        probe = json.load(f)
    saved = load_checkpoint_safely(ckpt_path)['state_dict']
    assert probe['start_iter'] == 0  # load_from restores weights only
    assert probe['optim_state'] is None
    assert torch.allclose(
        torch.tensor(probe['records'][0]['before']),
        saved['decode_head.conv_seg.bias'])


def test_missing_config_fails_and_names_it(tmp_path):
    work_dir = tmp_path / 'wd'
    proc = run_tool([
        'tools/train.py', 'configs/nope/missing.py', '--work-dir',
        str(work_dir)
    ],
                    check=False)
    assert proc.returncode != 0
    assert "Config file 'configs/nope/missing.py' does not exist" in \
        proc.stderr
    assert not work_dir.exists()


def test_unknown_launcher_fails_and_names_it(tmp_path):
    work_dir = tmp_path / 'wd'
    proc = run_tool([
        'tools/train.py', TINY_SEG_CFG, '--launcher', 'magic', '--work-dir',
        str(work_dir)
    ],
                    check=False)
    assert proc.returncode == 2
    assert "invalid choice: 'magic'" in proc.stderr
    assert not work_dir.exists()


def _logs(work_dir):
    return sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')))


def test_unknown_module_type_keeps_the_log_with_the_error(
        tiny_seg_root, tmp_path):
    work_dir = tmp_path / 'wd'
    proc = run_tool([
        'tools/train.py', TINY_SEG_CFG, '--work-dir',
        str(work_dir), '--cfg-options', *data_root_options(tiny_seg_root),
        'model.decode_head.loss_decode.type=NoSuchLoss'
    ],
                    check=False)
    assert proc.returncode != 0
    assert 'NoSuchLoss is not in the' in proc.stderr
    # issue 20, item 1: the log stays, with the traceback, and the config
    logs = _logs(work_dir)
    assert len(logs) == 1
    with open(logs[0]) as f:
        text = f.read()
    assert 'Run failed with KeyError; traceback:' in text
    assert 'NoSuchLoss is not in the' in text
    assert osp.isfile(work_dir / 'tiny_seg.py')
    assert not list(work_dir.glob('*.pth'))


def test_failure_keeps_preexisting_work_dir_content(tiny_seg_root, tmp_path):
    work_dir = tmp_path / 'wd'
    work_dir.mkdir()
    (work_dir / 'notes.txt').write_text('keep me')
    proc = run_tool([
        'tools/train.py', TINY_SEG_CFG, '--work-dir',
        str(work_dir), '--cfg-options', *data_root_options(tiny_seg_root),
        'model.backbone.type=NoSuchBackbone'
    ],
                    check=False)
    assert proc.returncode != 0
    assert (work_dir / 'notes.txt').read_text() == 'keep me'
    assert len(_logs(work_dir)) == 1
