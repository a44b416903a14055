# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.start: the shared start's cache is reused, and
rebuilt when stale or corrupted, saying why (training faked)."""
import glob
import os
import os.path as osp

import cv2
import torch
from mmengine.config import Config

from mmboundary.benchmark import process
from mmboundary.benchmark import start as job
from mmboundary.benchmark.rows import task_rows


def _fake_train(calls):
    """Stands in for tools/train.py: writes iter_N.pth into --work-dir."""

    def run(cmd, log_file, prefix=''):
        calls.append(cmd)
        cfg = Config.fromfile(cmd[2])
        work_dir = cmd[cmd.index('--work-dir') + 1]
        torch.save(
            dict(
                state_dict={
                    'backbone.w': torch.full((2, ), float(len(calls)))
                },
                optimizer={}),
            osp.join(work_dir, f'iter_{cfg.train_cfg.max_iters}.pth'))

    return run


def test_start_cache_reused_and_invalidated(tiny_root, tmp_path, monkeypatch,
                                            capsys):
    calls = []
    monkeypatch.setattr(process, 'run', _fake_train(calls))
    start_dir = str(tmp_path / 'start')
    base = task_rows('semantic')[0]
    first = job.ensure_start(base, tiny_root, start_dir, 7)
    assert len(calls) == 1 and first['status'].startswith('trained')
    assert Config.fromfile(calls[0][2]).train_cfg.max_iters == 7
    ckpt = first['checkpoint_path']
    assert torch.load(ckpt)['state_dict']['backbone.w'].tolist() == [1, 1]
    # same inputs: reused, nothing trained
    again = job.ensure_start(base, tiny_root, start_dir, 7)
    assert len(calls) == 1 and again['status'] == 'reused'
    assert again['key'] == first['key']
    # other settings (iterations): stale, retrained
    job.ensure_start(base, tiny_root, start_dir, 8)
    assert len(calls) == 2
    assert 'stale: config changed' in capsys.readouterr().out
    # other data: stale
    label = sorted(
        glob.glob(
            osp.join(tiny_root, 'gtFine', 'train', '*',
                     '*_labelTrainIds.png')))[0]
    lab = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    lab[:4] = 0
    cv2.imwrite(label, lab)
    os.utime(label, (1, 1))
    third = job.ensure_start(base, tiny_root, start_dir, 8)
    assert len(calls) == 3
    assert 'stale: data changed' in capsys.readouterr().out
    assert third['key'] != first['key']
    # a corrupted checkpoint: rebuilt, and the message names the file
    with open(third['checkpoint_path'], 'r+b') as f:
        f.seek(10)
        f.write(b'garbage')
    job.ensure_start(base, tiny_root, start_dir, 8)
    out = capsys.readouterr().out
    assert len(calls) == 4
    assert f"corrupted: {third['checkpoint_path']} does not match its " \
        'sha256' in out
    # a truncated manifest: rebuilt
    with open(osp.join(start_dir, 'segmentor.json'), 'w') as f:
        f.write('{"key": ')
    job.ensure_start(base, tiny_root, start_dir, 8)
    assert len(calls) == 5
    assert 'segmentor.json is unreadable' in capsys.readouterr().out
    assert job.ensure_start(base, tiny_root, start_dir, 8)['status'] == \
        'reused'
    assert len(calls) == 5


def test_check_start_cache_reasons(tmp_path):
    start_dir = str(tmp_path)
    src = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict={'backbone.w': torch.ones(2)}), src)
    inputs = dict(recipe='1', config='a' * 64, data='b' * 64)
    assert job.check_start_cache(start_dir, inputs) == (None, 'missing')
    job.write_start(start_dir, src, inputs, dict(key=job.start_key(inputs)))
    manifest, why = job.check_start_cache(start_dir, inputs)
    assert why == 'ok' and manifest['inputs'] == inputs
    _, why = job.check_start_cache(start_dir, dict(inputs, recipe='2'))
    assert why.startswith('stale: recipe changed')
    # weights without a backbone are no start
    torch.save(dict(state_dict={'decode_head.w': torch.ones(2)}), src)
    job.write_start(start_dir, src, inputs, dict(key=job.start_key(inputs)))
    _, why = job.check_start_cache(start_dir, inputs)
    assert why.endswith('holds no backbone.* weights')
    os.remove(osp.join(start_dir, 'segmentor.pth'))
    _, why = job.check_start_cache(start_dir, inputs)
    assert why.startswith('corrupted:') and why.endswith('is missing')


def test_a_start_of_another_data_version_is_stale_naming_both(tmp_path):
    """start_inputs records the data version of the root; a cache made on
    version 1 data is stale on version 2 data, the reason naming both."""
    import json

    from mmboundary.datasets.synthetic_cityscapes import MARKER
    root = tmp_path / 'cs'
    img = root / 'leftImg8bit' / 'train' / 'aachen'
    img.mkdir(parents=True)
    (img / 'a_leftImg8bit.png').write_bytes(b'png')
    (root / MARKER).write_text(json.dumps(dict(seed=0)))  # version 1
    cfg = Config(dict(a=1))
    v1 = job.start_inputs(cfg, str(root))
    assert v1['data_version'] == '1'
    (root / MARKER).write_text(json.dumps(dict(seed=0, version=2)))
    v2 = job.start_inputs(cfg, str(root))
    assert v2['data_version'] == '2'
    assert v1['data'] != v2['data']  # the files' fingerprint sees it too
    assert job.start_key(v1) != job.start_key(v2)
    start_dir = str(tmp_path / 'start')
    os.makedirs(start_dir)
    src = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict={'backbone.w': torch.ones(2)}), src)
    job.write_start(start_dir, src, v1, dict(key=job.start_key(v1)))
    _, why = job.check_start_cache(start_dir, v2)
    assert why.startswith('stale: data, data_version (1 -> 2) changed')
