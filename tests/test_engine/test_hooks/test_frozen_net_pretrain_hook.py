# Copyright (c) mmboundary contributors. All rights reserved.
"""The mechanism of FrozenNetPretrainHook, run over both of its hooks
(EdgeNetPretrainHook, InverseNetPretrainHook): rank 0 pretrains once, the
file is cached by a hash of data and settings with its JSON report, every
rank loads it verified, a resumed run reuses it, a configured checkpoint is
left alone, and bad setups fail before training. What only one hook does is
in test_edge_net_pretrain_hook.py / test_inverse_net_pretrain_hook.py;
bad constructor arguments are in tests/test_bad_inputs.py."""
import glob
import json
import os
import os.path as osp

import pytest
import torch

import mmboundary.engine.hooks.frozen_net_pretrain_hook as base_mod
from mmboundary.engine.hooks.frozen_net_pretrain_hook import \
    check_frozen_nets_provided
from mmboundary.models.pretraining import FailedSelfCheck
from mmboundary.registry import HOOKS
from .frozen_net_cases import (CASE_BY_NAME, CASES, FakeSegDataset,
                               count_pretraining, runner_stub)


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request):
    return request.param


@pytest.fixture
def dataset(case, tmp_path):
    return case.dataset(tmp_path)


@pytest.fixture
def calls(case, monkeypatch):
    return count_pretraining(case, monkeypatch)


def _run(case, work_dir, dataset, model=None, val_dataset=None, **hook_kwargs):
    """Build the case's hook, run its before_train; return hook, runner.
    The tiny nets fail their self-check, accepted here unless the test says
    otherwise (the check itself: test_failed_self_check_...)."""
    hook = case.hook_cls(**dict(
        dict(settings=case.settings, accept_failed_check=True), **hook_kwargs))
    runner = runner_stub(work_dir, dataset, model or case.model(), val_dataset)
    hook.before_train(runner)
    return hook, runner


def _cached(tmp_path, case):
    return sorted(glob.glob(str(tmp_path / case.subdir / '*.pth')))


def _assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb)
    for k, v in sa.items():
        assert torch.equal(sb[k], v), k


def test_pretrains_once_writes_report_and_reuses_cache(tmp_path, case, dataset,
                                                       calls):
    runner = runner_stub(tmp_path, dataset, case.model())
    hook = HOOKS.build(
        dict(
            type=case.hook_cls.__name__,
            settings=case.settings,
            accept_failed_check=True))
    hook.before_train(runner)
    assert len(calls) == 1 and hook.pretrained_here
    assert _cached(tmp_path, case) == [hook.checkpoint]
    # the JSON report next to the file: settings (the hook's and the
    # loss's), the cache key in the file name, the file's own sha256
    with open(hook.checkpoint[:-4] + '.json') as f:
        report = json.load(f)
    for key, value in case.reported.items():
        assert report['settings'][key] == value, key
    name = osp.basename(hook.checkpoint)
    assert name.startswith(f'{hook.name}_{report["cache_key"][:12]}-')
    assert report['checkpoint'] == name
    assert name.endswith(f'-{report["sha256"][:8]}.pth')
    assert report['train_seg_maps'] == len(dataset)
    # the loss holds the file's weights, marked pretrained, and runs
    loaded = case.net(runner.model.loss)
    _assert_same_weights(case.file_net(hook.checkpoint), loaded)
    assert int(loaded.pretrained) == 1
    assert torch.isfinite(case.run_loss(runner.model.loss, dataset))

    # A resumed run (new model, new hook, same work dir): no pretraining,
    # the same file and weights.
    hook2, runner2 = _run(case, tmp_path, dataset)
    assert len(calls) == 1 and not hook2.pretrained_here
    assert hook2.checkpoint == hook.checkpoint
    _assert_same_weights(loaded, case.net(runner2.model.loss))

    # Other settings: another cache entry, pretrained again.
    hook3, _ = _run(case, tmp_path, dataset, settings=case.other_settings)
    assert len(calls) == 2 and hook3.pretrained_here
    assert len(_cached(tmp_path, case)) == 2
    assert hook3.checkpoint != hook.checkpoint
    # Other training data or other validation data (one map fewer):
    # another cache entry each.
    fewer = type(dataset)(dataset.paths[:-1])
    hook4, _ = _run(case, tmp_path, fewer, val_dataset=dataset)
    hook5, _ = _run(case, tmp_path, dataset, val_dataset=fewer)
    assert len(calls) == 4 and hook4.pretrained_here and hook5.pretrained_here
    assert len(_cached(tmp_path, case)) == 4
    with open(hook4.checkpoint[:-4] + '.json') as f:
        assert json.load(f)['train_seg_maps'] == len(dataset) - 1


def test_cached_file_is_verified_on_load(tmp_path, case, dataset, calls):
    hook, _ = _run(case, tmp_path, dataset)
    torch.save(dict(state_dict=dict(bogus=torch.zeros(1))), hook.checkpoint)
    with pytest.raises(ValueError) as info:
        _run(case, tmp_path, dataset)
    assert hook.checkpoint in str(info.value)
    assert len(calls) == 1  # the file was found, not pretrained again


def _write_report(checkpoint, **parts):
    path = checkpoint[:-len('.pth')] + '.json'
    with open(path) as f:
        report = json.load(f)
    report.update(parts)
    with open(path, 'w') as f:
        json.dump(report, f)
    return path


def test_failed_self_check_is_refused_before_training(tmp_path, case, dataset,
                                                      calls):
    """A cached net whose report fails its self-check (hand-made report) is
    refused with the measured values and the accepting option; a passing
    report, or accept_failed_check=True, lets it be loaded."""
    hook, _ = _run(case, tmp_path, dataset)
    name = case.hook_cls.__name__
    _write_report(hook.checkpoint, **case.failing_report)
    model = case.model()
    with pytest.raises(FailedSelfCheck) as info:
        _run(case, tmp_path, dataset, model, accept_failed_check=False)
    msg = str(info.value)
    assert msg.startswith(f'{case.hook_cls.net_description} '
                          f'{hook.checkpoint} fails its self-check: ')
    assert case.failing_values in msg
    assert f'accept_failed_check=True on {name}' in msg
    assert int(case.net(model.loss).pretrained) == 0  # nothing loaded
    assert len(calls) == 1  # found in the cache, not pretrained again
    # accepted: loaded, with a warning naming the values
    hook2, runner = _run(case, tmp_path, dataset, accept_failed_check=True)
    assert hook2.checkpoint == hook.checkpoint
    assert int(case.net(runner.model.loss).pretrained) == 1
    # a passing report: loaded without accepting anything
    _write_report(hook.checkpoint, **case.passing_report)
    hook3, runner = _run(case, tmp_path, dataset, accept_failed_check=False)
    assert int(case.net(runner.model.loss).pretrained) == 1
    # no report at all: refused, naming the missing file
    json_path = hook.checkpoint[:-len('.pth')] + '.json'
    os.remove(json_path)
    with pytest.raises(FailedSelfCheck, match=json_path.replace('.', r'\.')):
        _run(case, tmp_path, dataset, accept_failed_check=False)


def test_accept_failed_check_must_be_a_bool(case):
    with pytest.raises(TypeError, match='accept_failed_check'):
        case.hook_cls(accept_failed_check='yes')
    assert case.hook_cls().accept_failed_check is False


def test_rank0_pretrains_every_rank_loads(tmp_path, case, dataset, calls,
                                          monkeypatch):
    barriers = []
    monkeypatch.setattr(base_mod, 'barrier', lambda: barriers.append(1))
    monkeypatch.setattr(base_mod, 'get_dist_info', lambda: (1, 2))
    # Rank 1 never pretrains: without rank 0's file it fails clearly
    # (after the barrier).
    with pytest.raises(FileNotFoundError, match='shared by all ranks'):
        _run(case, tmp_path, dataset)
    assert calls == [] and barriers == [1]
    # Rank 0 of 2 pretrains, then waits at the barrier.
    monkeypatch.setattr(base_mod, 'get_dist_info', lambda: (0, 2))
    hook0, runner0 = _run(case, tmp_path, dataset)
    assert len(calls) == 1 and barriers == [1, 1] and hook0.pretrained_here
    # Rank 1 loads rank 0's file after the barrier.
    monkeypatch.setattr(base_mod, 'get_dist_info', lambda: (1, 2))
    hook1, runner1 = _run(case, tmp_path, dataset)
    assert len(calls) == 1 and barriers == [1, 1, 1]
    assert not hook1.pretrained_here
    assert hook1.checkpoint == hook0.checkpoint
    _assert_same_weights(
        case.net(runner0.model.loss), case.net(runner1.model.loss))
    assert int(case.net(runner1.model.loss).pretrained) == 1
    # Rank 1 whose cache dir is not rank 0's (unshared): a clear error.
    with pytest.raises(FileNotFoundError, match='shared by all ranks'):
        _run(case, tmp_path, dataset, cache_dir=str(tmp_path / 'elsewhere'))
    assert len(calls) == 1


def test_configured_checkpoint_is_left_alone(tmp_path, case, dataset, calls):
    path = str(tmp_path / 'given.pth')
    case.save_given(path)
    model = torch.nn.Module()
    model.loss = case.loss(path)
    before = {
        k: v.clone()
        for k, v in case.net(model.loss).state_dict().items()
    }
    hook, _ = _run(case, tmp_path, dataset, model)
    assert calls == [] and hook.checkpoint is None
    assert not _cached(tmp_path, case)
    for k, v in case.net(model.loss).state_dict().items():
        assert torch.equal(before[k], v), k


def test_losses_that_disagree_fail_before_pretraining(tmp_path, case, dataset,
                                                      calls):
    with pytest.raises(ValueError, match='disagree'):
        _run(case, tmp_path, dataset, case.mixed_model())
    assert calls == []


def test_missing_net_without_hook_fails_before_training(tmp_path, case):
    other = [c for c in CASES if c is not case][0]
    model = case.model()
    with pytest.raises(ValueError) as info:
        check_frozen_nets_provided(model, [other.hook_cls()])
    msg = str(info.value)
    assert f'1 {case.hook_cls.loss_description} module(s)' in msg
    assert f'`{case.hook_cls.checkpoint_key}`' in msg
    assert f"dict(type='{case.hook_cls.__name__}')" in msg
    # the pretraining hook, or a checkpoint, provides the net
    check_frozen_nets_provided(model, [case.hook_cls()])
    path = str(tmp_path / 'given.pth')
    case.save_given(path)
    given = torch.nn.Module()
    given.loss = case.loss(path)
    check_frozen_nets_provided(given, [])


def _gloo_worker(rank, world, init_file, case_name, work_dir, paths, out_dir):
    import torch.distributed as dist
    case = CASE_BY_NAME[case_name]
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        hook, runner = _run(case, work_dir, FakeSegDataset(paths))
        torch.save(
            dict(
                pretrained_here=hook.pretrained_here,
                checkpoint=hook.checkpoint,
                state=case.net(runner.model.loss).state_dict()),
            osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_two_processes_gloo(tmp_path, case, dataset):
    """Real DDP-style run: rank 0 pretrains once, both ranks load it."""
    import torch.multiprocessing as mp
    mp.spawn(
        _gloo_worker,
        args=(2, str(tmp_path / 'init'), case.name, str(tmp_path / 'work'),
              dataset.paths, str(tmp_path)),
        nprocs=2,
        join=True)
    r0 = torch.load(str(tmp_path / 'rank0.pth'), weights_only=True)
    r1 = torch.load(str(tmp_path / 'rank1.pth'), weights_only=True)
    assert r0['pretrained_here'] and not r1['pretrained_here']
    assert r0['checkpoint'] == r1['checkpoint']
    assert len(glob.glob(str(tmp_path / 'work' / case.subdir / '*.pth'))) == 1
    assert sorted(r0['state']) == sorted(r1['state'])
    for k, v in r0['state'].items():
        assert torch.equal(r1['state'][k], v), k
    assert int(r1['state']['pretrained']) == 1


def test_data_of_another_version_is_pretrained_again_naming_both(
        tmp_path, case, dataset, calls):
    """Label maps in a synthetic root of data version 1, then the same
    files under a version-2 marker: the cache key changes, the net is
    pretrained again and the log names both versions (issue 19)."""
    from types import SimpleNamespace

    from mmboundary.datasets.synthetic_cityscapes import MARKER
    marker = tmp_path / MARKER
    marker.write_text(json.dumps(dict(seed=0)))  # version 1: no field
    hook, _ = _run(case, tmp_path, dataset)
    with open(hook.checkpoint[:-4] + '.json') as f:
        assert json.load(f)['data_version'] == 1
    marker.write_text(json.dumps(dict(seed=0, version=2)))
    lines = []
    runner = runner_stub(tmp_path, dataset, case.model())
    runner.logger = SimpleNamespace(info=lines.append, warning=lines.append)
    hook2 = case.hook_cls(settings=case.settings, accept_failed_check=True)
    hook2.before_train(runner)
    assert len(calls) == 2 and hook2.pretrained_here
    assert hook2.checkpoint != hook.checkpoint
    name = type(hook2).__name__
    assert (f'{name}: cached {osp.basename(hook.checkpoint)[:-4]}.json was '
            'pretrained on synthetic data version 1, the data are version 2; '
            'pretraining again for this data version.') in lines
    with open(hook2.checkpoint[:-4] + '.json') as f:
        assert json.load(f)['data_version'] == 2
