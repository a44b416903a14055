# Copyright (c) mmboundary contributors. All rights reserved.
"""What tools/train.py and tools/test.py do with a failing run and with
bad options (issue 20, items 1 and 4): the log is kept with the traceback,
input errors become one line, num_workers=0 works, --amp needs a GPU."""
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmboundary.utils import launch
from mmboundary.utils.cli import UserError
from mmboundary.utils.launch import (MissingInputError, check_amp_device,
                                     fix_dataloaders, keep_log_on_failure,
                                     load_config, unwrap_worker_error)


def _start_run(work_dir, name):
    """What a runner does first: a timestamped log and an empty folder."""
    log = osp.join(work_dir, 'ts', 'ts.log')
    os.makedirs(osp.join(work_dir, 'ts', 'vis_data'))
    logger = MMLogger.get_instance(name, log_file=log)
    logger.info('started')
    return log


def _cfg(tmp_path):
    path = tmp_path / 'src' / 'my_cfg.py'
    path.parent.mkdir(exist_ok=True)
    path.write_text('a = 1\n')
    return Config.fromfile(str(path))


@pytest.fixture(autouse=True)
def no_debug(monkeypatch):
    monkeypatch.delenv('MMB_DEBUG', raising=False)
    monkeypatch.setattr('sys.argv', ['prog'])


def test_an_error_before_the_first_checkpoint_keeps_the_log(tmp_path):
    work_dir = str(tmp_path / 'wd')
    with pytest.raises(RuntimeError, match='boom'):
        with keep_log_on_failure(work_dir, _cfg(tmp_path)):
            log = _start_run(work_dir, 'keep_log_error')
            raise RuntimeError('boom')
    with open(log) as f:
        text = f.read()
    assert 'started' in text
    assert 'Run failed with RuntimeError; traceback:' in text
    assert 'Traceback (most recent call last)' in text
    assert "RuntimeError: boom" in text
    # the config dump is written next to the kept log; the empty folder went
    assert osp.isfile(osp.join(work_dir, 'my_cfg.py'))
    assert not osp.exists(osp.join(work_dir, 'ts', 'vis_data'))
    assert sorted(os.listdir(work_dir)) == ['my_cfg.py', 'ts']


def test_an_interrupt_keeps_the_log(tmp_path):
    work_dir = str(tmp_path / 'wd')
    with pytest.raises(KeyboardInterrupt):
        with keep_log_on_failure(work_dir, _cfg(tmp_path)):
            log = _start_run(work_dir, 'keep_log_interrupt')
            raise KeyboardInterrupt
    with open(log) as f:
        text = f.read()
    assert 'Run interrupted (KeyboardInterrupt: Ctrl-C or SIGINT)' in text
    assert 'KeyboardInterrupt' in text.split('traceback:')[1]


def test_an_empty_new_work_dir_goes_and_old_content_stays(tmp_path):
    work_dir = tmp_path / 'new'
    with pytest.raises(ValueError):
        with keep_log_on_failure(str(work_dir), _cfg(tmp_path)):
            os.makedirs(work_dir / 'ts' / 'vis_data')
            raise ValueError('before any log')
    assert not work_dir.exists()  # nothing written: no log, no dump
    old = tmp_path / 'old'
    old.mkdir()
    (old / 'notes.txt').write_text('keep me')
    (old / 'empty_before').mkdir()
    with pytest.raises(ValueError):
        with keep_log_on_failure(str(old), _cfg(tmp_path)):
            (old / 'ts').mkdir()
            raise ValueError('x')
    assert sorted(p.name
                  for p in old.iterdir()) == ['empty_before', 'notes.txt']


def test_input_errors_become_one_line_naming_the_log(tmp_path, monkeypatch):
    work_dir = str(tmp_path / 'wd')
    with pytest.raises(UserError) as e:
        with keep_log_on_failure(work_dir):
            log = _start_run(work_dir, 'keep_log_user')
            raise FileNotFoundError('edge_net.pth does not exist')
    assert isinstance(e.value, MissingInputError)
    assert str(e.value) == (f'edge_net.pth does not exist (traceback in '
                            f'{osp.abspath(log)})')
    # --debug / MMB_DEBUG=1: the original exception
    monkeypatch.setenv('MMB_DEBUG', '1')
    with pytest.raises(FileNotFoundError) as e:
        with keep_log_on_failure(str(tmp_path / 'wd2')):
            raise FileNotFoundError('x.pth')
    assert not isinstance(e.value, UserError)


def test_worker_errors_are_unwrapped():
    from mmboundary.datasets.checks import LabelError
    wrapped = LabelError(
        'Caught LabelError in DataLoader worker process 0.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 3, in f\n    raise LabelError(msg)\n'
        'mmboundary.datasets.checks.LabelError: a.png: label id 30 bad\n')
    assert unwrap_worker_error(wrapped) == 'a.png: label id 30 bad'
    assert unwrap_worker_error(ValueError('plain')) == 'plain'


def test_missing_config_is_a_one_line_input_error(tmp_path):
    with pytest.raises(MissingInputError, match='nope.py'):
        load_config(str(tmp_path / 'nope.py'))
    assert issubclass(MissingInputError, FileNotFoundError)


def test_num_workers_0_drops_persistent_workers():
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=0, persistent_workers=True),
            val_dataloader=dict(num_workers=2, persistent_workers=True),
            test_dataloader=None))
    assert fix_dataloaders(cfg) == ['train_dataloader']
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True


def test_amp_needs_an_accelerator(monkeypatch):
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    monkeypatch.setattr(launch, 'amp_device_available', lambda: False)
    with pytest.raises(UserError, match='--amp needs a GPU'):
        check_amp_device(cfg, flag=True)
    check_amp_device(cfg, flag=False)  # no AMP asked for
    amp_cfg = Config(dict(optim_wrapper=dict(type='AmpOptimWrapper')))
    with pytest.raises(UserError, match='optim_wrapper.type=OptimWrapper'):
        check_amp_device(amp_cfg)
    monkeypatch.setattr(launch, 'amp_device_available', lambda: True)
    check_amp_device(cfg, flag=True)
    check_amp_device(amp_cfg)


def test_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    import runpy
    import sys

    from mmboundary.testing._utils import REPO_ROOT
    tool = osp.join(REPO_ROOT, 'tools', 'train.py')
    missing = str(tmp_path / 'nope.py')
    monkeypatch.setattr(sys, 'argv', [tool, missing])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(tool, run_name='__main__')
    assert e.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        f"error: Config file '{missing}' does not exist")
    monkeypatch.setattr(sys, 'argv', [tool, missing, '--debug'])
    with pytest.raises(MissingInputError, match='nope.py'):
        runpy.run_path(tool, run_name='__main__')
