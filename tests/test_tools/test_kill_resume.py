# Copyright (c) mmboundary contributors. All rights reserved.
"""Kill and resume (issue 14, item 2): a run SIGKILLed right after a
checkpoint and resumed with ``--resume`` ends bit-exactly where the same run
never interrupted ends: weights, optimizer state, warm-up factor and logged
values. A checkpoint truncated while being written is named and skipped."""
import glob
import json
import os.path as osp
import signal

import numpy as np
import pytest
import torch

from mmboundary.utils import load_checkpoint_safely
from ..conftest import run_tool

SEMEDA_CFG = 'tests/data/configs/resume_semeda.py'
EA_CFG = 'tests/data/configs/resume_mask_rcnn_ea.py'
COMMON = [
    'train_cfg.max_iters=4', 'val_cfg=None', 'val_dataloader=None',
    'val_evaluator=None', 'train_dataloader.batch_size=1',
    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    'randomness.seed=0', 'randomness.deterministic=True'
]
# (config, index of the kill hook in custom_hooks, size options)
RUNS = {
    'semeda': (SEMEDA_CFG, 2, [
        'train_dataloader.dataset.pipeline.2.scale=(256,128)',
        'train_dataloader.dataset.pipeline.3.crop_size=(64,64)',
        'model.data_preprocessor.size=(64,64)'
    ]),
    'mask_rcnn_ea': (EA_CFG, 1, [
        'train_dataloader.dataset.pipeline.2.scale=(128,64)',
        'model.train_cfg.rpn_proposal.max_per_img=50',
        'model.train_cfg.rcnn.sampler.num=32'
    ]),
}
# logged values that must match (time, data_time, memory, eta do not)
LOGGED = ('loss', 'lr', 'warmup_factor', 'acc', 'grad_norm')


def _options(name, root, kill_after):
    cfg, kill_index, sizes = RUNS[name]
    options = COMMON + sizes + [
        f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'custom_hooks.{kill_index}.kill_after={kill_after}'
    ]
    if name == 'mask_rcnn_ea':
        ann = osp.join(root, 'annotations',
                       'instancesonly_filtered_gtFine_val.json')
        options.append(f'test_evaluator.ann_file={ann}')
    return cfg, options


def _train(name, root, work_dir, kill_after=None, resume=False, check=True):
    cfg, options = _options(name, root, kill_after)
    args = ['tools/train.py', cfg, '--work-dir', str(work_dir)]
    if resume:
        args.append('--resume')
    return run_tool(
        args + ['--cfg-options', *options], check=check, timeout=600)


def _logged(work_dir):
    """{iter: {key: value}} of every scalars.json line of every run."""
    out = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                keep = {
                    k: v
                    for k, v in row.items()
                    if any(t in k for t in LOGGED) and 'time' not in k
                }
                assert 'iter' in row, f'{path}: {row}'  # no validation
                assert row['iter'] not in out or out[row['iter']] == keep
                out[row['iter']] = keep
    return out


def _assert_same(a, b, where='checkpoint'):
    """Recursive bit-exact equality of checkpoint contents."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype, where
        assert torch.equal(a, b), f'{where} differs'
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), f'{where} differs'
    elif isinstance(a, dict):
        assert set(a) == set(b), f'{where}: keys {set(a) ^ set(b)}'
        for k in a:
            _assert_same(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f'{where}[{i}]')
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'


def _hub_values(ckpt):
    """The message hub's logged histories, without the timings."""
    scalars = ckpt['message_hub']['log_scalars']
    return {
        k: (np.asarray(v._log_history), np.asarray(v._count_history))
        for k, v in scalars.items() if 'time' not in k
    }


def _iters_seen(work_dir):
    with open(osp.join(work_dir, 'iters.jsonl')) as f:
        rows = [json.loads(line) for line in f]
    return [r['iter'] for r in rows], [r['pid'] for r in rows]


def _kill_and_resume(name, root, tmp_path, truncate_next=False):
    whole = tmp_path / 'uninterrupted'
    _train(name, root, whole)
    killed = tmp_path / 'killed'
    proc = _train(name, root, killed, kill_after=2, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert osp.isfile(killed / 'iter_2.pth')
    assert not osp.exists(killed / 'iter_4.pth')
    if truncate_next:
        # a checkpoint cut short while being written, named as the latest
        data = (whole / 'iter_4.pth').read_bytes()
        (killed / 'iter_4.pth').write_bytes(data[:len(data) * 3 // 5])
        (killed / 'last_checkpoint').write_text(str(killed / 'iter_4.pth'))
    proc = _train(name, root, killed, resume=True)
    iters, pids = _iters_seen(killed)
    assert iters == [1, 2, 3, 4] and pids[1] != pids[2]
    return whole, killed, proc


def _compare(whole, killed):
    a = load_checkpoint_safely(str(whole / 'iter_4.pth'))
    b = load_checkpoint_safely(str(killed / 'iter_4.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    _assert_same(a['state_dict'], b['state_dict'], 'state_dict')
    _assert_same(a['optimizer'], b['optimizer'], 'optimizer')
    _assert_same(a['param_schedulers'], b['param_schedulers'],
                 'param_schedulers')
    _assert_same(a['mmboundary_random_state'], b['mmboundary_random_state'],
                 'random state')
    hub_a, hub_b = _hub_values(a), _hub_values(b)
    assert 'train/warmup_factor' in hub_a
    _assert_same(hub_a, hub_b, 'message_hub')
    logged_a, logged_b = _logged(str(whole)), _logged(str(killed))
    assert sorted(logged_a) == [1, 2, 3, 4]
    _assert_same(logged_a, logged_b, 'logged values')
    # warmup_iters=3: factor min(t / 3, 1) at runner.iter t = 0..3
    assert [logged_a[i]['warmup_factor'] for i in (1, 2, 3, 4)] == \
        pytest.approx([0.0, 1 / 3, 2 / 3, 1.0], abs=1e-4)
    # the run did train: the last step moved the weights
    return a, logged_a


def test_semeda_kill_resume_is_exact_and_skips_a_truncated_checkpoint(
        synthetic_cityscapes, tmp_path):
    whole, killed, proc = _kill_and_resume(
        'semeda', synthetic_cityscapes, tmp_path, truncate_next=True)
    log = proc.stdout + proc.stderr
    assert f'Not resuming from {killed / "iter_4.pth"}' in log
    assert 'truncated' in log
    assert f'Resuming from {killed / "iter_2.pth"}' in log
    ckpt, logged = _compare(whole, killed)
    # the resumed run found the edge net its first part pretrained
    assert len(glob.glob(str(killed / 'edge_net' / '*.pth'))) == 1
    assert 'pretraining the SEMEDA edge net' not in log
    assert logged[1]['decode.loss_semeda'] == 0.0  # warm-up factor 0
    assert logged[4]['decode.loss_semeda'] > 0.0


def test_mask_rcnn_edge_agreement_kill_resume_is_exact(synthetic_cityscapes,
                                                       tmp_path):
    whole, killed, _ = _kill_and_resume('mask_rcnn_ea', synthetic_cityscapes,
                                        tmp_path)
    _, logged = _compare(whole, killed)
    assert logged[1]['loss_mask_edge'] == 0.0  # warm-up factor 0
    assert logged[4]['loss_mask_edge'] > 0.0


def test_no_intact_checkpoint_is_refused_naming_the_files(
        synthetic_cityscapes, tmp_path):
    work_dir = tmp_path / 'broken'
    work_dir.mkdir()
    (work_dir / 'iter_2.pth').write_bytes(b'PK\x03\x04cut')
    proc = _train(
        'semeda', synthetic_cityscapes, work_dir, resume=True, check=False)
    assert proc.returncode != 0
    assert 'no intact checkpoint' in proc.stderr
    assert 'iter_2.pth' in proc.stderr
    assert sorted(p.name for p in work_dir.iterdir()) == ['iter_2.pth']
