# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.data: bad data roots end in one line with the
command that fixes them (issue 20)."""
import pytest

from mmboundary.benchmark import data as job
from mmboundary.utils.cli import UserError


def test_a_folder_without_cityscapes_layout_is_refused(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(job, 'run', lambda *a, **k: ran.append(a))
    root = tmp_path / 'mine'
    root.mkdir()
    (root / 'notes.txt').write_text('a user file')
    with pytest.raises(UserError) as e:
        job.ensure_data(str(root), 3, str(tmp_path / 'data.log'))
    msg = str(e.value)
    assert msg.startswith(f'--data-root {root}: no Cityscapes layout')
    assert ('`python tools/dataset_converters/generate_synthetic_cityscapes'
            f'.py --out {root} --seed 3`') in msg
    assert '\n' not in msg and ran == []  # nothing ran, nothing deleted
    assert (root / 'notes.txt').read_text() == 'a user file'


def test_a_conversion_that_did_not_finish_names_the_command(
        tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(job, 'run', lambda cmd, log: ran.append(cmd))
    root = tmp_path / 'cs'
    for sub in ('leftImg8bit', 'gtFine'):
        (root / sub).mkdir(parents=True)
    with pytest.raises(UserError) as e:
        job.ensure_data(str(root), 0, str(tmp_path / 'data.log'))
    assert [cmd[1].rsplit('/', 1)[-1] for cmd in ran] == ['cityscapes.py']
    msg = str(e.value)
    assert 'still not converted' in msg and str(tmp_path / 'data.log') in msg
    assert f'`python tools/dataset_converters/cityscapes.py {root} ' \
        '--nproc 2`' in msg


def test_a_missing_root_is_generated_then_converted(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(job, 'run', lambda cmd, log: ran.append(cmd))
    monkeypatch.setattr(job, 'data_ready', lambda root: len(ran) == 2)
    job.ensure_data(str(tmp_path / 'new'), 4, str(tmp_path / 'data.log'))
    assert [cmd[1].rsplit('/', 1)[-1] for cmd in ran
            ] == ['generate_synthetic_cityscapes.py', 'cityscapes.py']
    assert ran[0][-4:] == ['--out', str(tmp_path / 'new'), '--seed', '4']


def test_no_training_files_names_the_commands(tmp_path):
    with pytest.raises(UserError) as e:
        job.train_files(str(tmp_path))
    msg = str(e.value)
    assert 'no training images or *_labelTrainIds.png' in msg
    assert 'generate_synthetic_cityscapes.py --out' in msg
    assert 'cityscapes.py' in msg and '--nproc 2`' in msg


def test_a_root_of_another_data_version_is_regenerated_saying_why(
        tmp_path, monkeypatch, capsys):
    """The main job's own root, written by data version 1 (no version in
    its marker) with the right seed and all its images: regenerated with
    --overwrite, and the log names both versions."""
    import json

    from mmboundary.datasets.synthetic_cityscapes import MARKER
    ran = []
    monkeypatch.setattr(job, 'run', lambda cmd, log: ran.append(cmd))
    monkeypatch.setattr(job, 'data_ready', lambda root: True)
    root = tmp_path / 'cs'
    img = root / 'leftImg8bit' / 'train' / 'aachen'
    img.mkdir(parents=True)
    (img / 'a_leftImg8bit.png').write_bytes(b'png')
    settings = dict(seed=0, num_train=1, num_val=0, height=256, width=512)
    (root / MARKER).write_text(json.dumps(settings))
    job.ensure_data(str(root), 0, str(tmp_path / 'data.log'))
    assert len(ran) == 1 and ran[0][-5:] == [
        '--out', str(root), '--seed', '0', '--overwrite'
    ]
    out = capsys.readouterr().out
    assert (f'generating the synthetic dataset in {root} (its data are '
            'version 1, the generator writes version 2; --overwrite)') in out
    # the same root at version 2: left as it is
    ran.clear()
    (root / MARKER).write_text(json.dumps(dict(settings, version=2)))
    job.ensure_data(str(root), 0, str(tmp_path / 'data.log'))
    assert ran == [] and f'data ready in {root}' in capsys.readouterr().out
