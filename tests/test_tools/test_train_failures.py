# Copyright (c) mmboundary contributors. All rights reserved.
"""Runs that fail (issue 20, items 1, 2 and 4): interrupted with SIGINT or
ended by an exception before the first checkpoint they keep their log with
the traceback and their config dump; a label id out of range stops
evaluation with one line naming the file, unless ``check_labels=False``
(training: the sweep in tests/test_bad_inputs.py); ``num_workers=0`` with
``persistent_workers=True`` trains."""
import glob
import os.path as osp
import shutil

import cv2
import pytest

from ..conftest import TINY_SEG_CFG, data_root_options, run_tool


def _failing_config(tmp_path, mode):
    path = tmp_path / f'fail_{mode}.py'
    path.write_text(
        f'_base_ = [{TINY_SEG_CFG!r}]\n'
        "custom_imports = dict(imports=['mmboundary', 'tests.data.interrupt']"
        ', allow_failed_imports=False)\n'
        f"custom_hooks = [dict(type='TestFailAtIterHook', at_iter=1, "
        f"mode={mode!r})]\n")
    return str(path)


def _last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ''


@pytest.mark.parametrize('mode,ending', [
    ('sigint', 'Run interrupted (KeyboardInterrupt: Ctrl-C or SIGINT)'),
    ('raise', 'Run failed with RuntimeError'),
])
def test_a_run_ended_before_its_first_checkpoint_keeps_its_log(
        tiny_seg_root, tmp_path, mode, ending):
    work_dir = tmp_path / 'wd'
    proc = run_tool([
        'tools/train.py',
        _failing_config(tmp_path, mode), '--work-dir',
        str(work_dir), '--cfg-options', *data_root_options(tiny_seg_root),
        'train_dataloader.persistent_workers=True'
    ],
                    check=False)
    assert proc.returncode != 0
    logs = glob.glob(str(work_dir / '*' / '*.log'))
    assert len(logs) == 1, sorted(p.name for p in work_dir.rglob('*'))
    with open(logs[0]) as f:
        text = f.read()
    # iteration 1 ran (num_workers=0 with persistent_workers=True works)
    assert 'Iter(train) [1/4]' in text
    assert f'{ending}; traceback:' in text
    tail = text.split(ending)[1]
    assert 'Traceback (most recent call last)' in tail
    if mode == 'sigint':
        assert 'KeyboardInterrupt' in tail
    else:
        assert 'RuntimeError: test failure after iteration 1' in tail
    assert osp.isfile(work_dir / 'fail_{}.py'.format(mode))  # config dump
    assert not list(work_dir.glob('*.pth'))


@pytest.fixture
def bad_label_root(tiny_seg_root, tmp_path):
    """The tiny dataset with label id 30 in one train and one val map."""
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_seg_root, root)
    bad = {}
    for split in ('train', 'val'):
        path = osp.join(root, 'ann_dir', split, f'{split}_001.png')
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        label[3, 4] = 30
        cv2.imwrite(path, label)
        bad[split] = path
    return root, bad


def test_an_id_out_of_range_stops_evaluation_with_one_line(
        bad_label_root, tiny_seg_run, tmp_path):
    root, bad = bad_label_root
    ckpt = osp.join(tiny_seg_run, 'iter_4.pth')
    args = [
        'tools/test.py', TINY_SEG_CFG, ckpt, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *data_root_options(root)
    ]
    proc = run_tool(args, check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    assert _last_line(proc.stderr).startswith(
        f'error: {bad["val"]}: label id 30 outside the valid range [0, 3)')
    # the documented switch: no check (mmseg then ignores the id silently)
    proc = run_tool(args + ['check_labels=False'], check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'mIoU' in proc.stdout
