# Copyright (c) mmboundary contributors. All rights reserved.
import glob
import json
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

import mmboundary.engine.hooks.edge_net_pretrain_hook as hook_mod
from mmboundary.engine.hooks import EdgeNetPretrainHook
from mmboundary.models.losses import SemedaLoss
from mmboundary.models.utils.semantic_edge_net import (SemanticEdgeNet,
                                                       edge_net_state)
from mmboundary.registry import HOOKS

C = 3
SETTINGS = dict(
    max_epochs=2, crops_per_image=1, crop_size=16, batch_size=4, lr=0.05)


class FakeSegDataset:
    """What the hook reads from an mmseg dataset: data infos."""

    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def get_data_info(self, i):
        return dict(
            seg_map_path=self.paths[i],
            reduce_zero_label=False,
            label_map=None,
            seg_fields=[])


class Toy(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(C, C, 1)
        self.loss = SemedaLoss(C)


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(4):
        lab = np.kron(
            rng.integers(0, C, size=(4, 4)), np.ones((6, 6), dtype=np.int64))
        lab[0] = 255
        path = str(tmp_path / f'{i}_labelTrainIds.png')
        cv2.imwrite(path, lab.astype(np.uint8))
        paths.append(path)
    return FakeSegDataset(paths)


def _runner(work_dir, dataset, model=None):
    return SimpleNamespace(
        model=model or Toy(),
        work_dir=str(work_dir),
        train_dataloader=SimpleNamespace(dataset=dataset),
        _val_loop=SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset)),
        logger=MMLogger.get_instance('test_edge_net_pretrain_hook'))


@pytest.fixture
def calls(monkeypatch):
    """Count the pretraining runs."""
    record = []
    real = hook_mod.pretrain_edge_net_from_datasets

    def counting(*args, **kwargs):
        record.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(hook_mod, 'pretrain_edge_net_from_datasets', counting)
    return record


def _file_weights(path):
    net = SemanticEdgeNet(C)
    net.load_state_dict(torch.load(path, weights_only=True)['state_dict'])
    return net.state_dict()


def test_pretrains_once_writes_and_reuses_cache(tmp_path, dataset, calls):
    runner = _runner(tmp_path, dataset)
    hook = HOOKS.build(dict(type='EdgeNetPretrainHook', settings=SETTINGS))
    hook.before_train(runner)
    assert len(calls) == 1 and hook.pretrained_here
    files = glob.glob(str(tmp_path / 'edge_net' / '*.pth'))
    assert files == [hook.checkpoint]
    report = json.load(open(hook.checkpoint[:-4] + '.json'))
    assert report['settings']['num_classes'] == C
    assert report['settings']['max_epochs'] == 2
    # the reported F1 equals one recomputed from the file's net on the
    # validation maps (brute-force edges, counts made in the test)
    from .test_edge_net_report import recomputed_report
    labels = [
        cv2.imread(p, cv2.IMREAD_UNCHANGED).astype(np.int64)
        for p in dataset.paths
    ]
    expected = recomputed_report(hook.checkpoint, labels)
    assert expected['fp'] + expected['fn'] > 0  # counts, not all zero
    for key in ('tp', 'fp', 'fn'):
        assert report['val_clean'][key] == expected[key], key
    assert report['val_clean']['f1'] == pytest.approx(
        expected['f1'], abs=1e-12)
    assert report['cache_key'][:12] in osp.basename(hook.checkpoint)
    # The loss got the file's weights and now runs.
    loaded = runner.model.loss.edge_net.net.state_dict()
    for k, v in _file_weights(hook.checkpoint).items():
        assert torch.equal(loaded[k], v)
    labels = torch.from_numpy(cv2.imread(dataset.paths[0], 0)).long()[None]
    runner.model.loss(torch.randn(1, C, 24, 24), labels)

    # A resumed run (new model, new hook, same work dir): no pretraining.
    runner2 = _runner(tmp_path, dataset)
    hook2 = EdgeNetPretrainHook(settings=SETTINGS)
    hook2.before_train(runner2)
    assert len(calls) == 1 and not hook2.pretrained_here
    assert hook2.checkpoint == hook.checkpoint
    for k, v in runner.model.loss.edge_net.state_dict().items():
        assert torch.equal(runner2.model.loss.edge_net.state_dict()[k], v)

    # Other settings: another cache entry.
    hook3 = EdgeNetPretrainHook(settings=dict(SETTINGS, noise_std=0.5))
    hook3.before_train(_runner(tmp_path, dataset))
    assert len(calls) == 2
    assert len(glob.glob(str(tmp_path / 'edge_net' / '*.pth'))) == 2


def test_every_rank_loads(tmp_path, dataset, calls, monkeypatch):
    barriers = []
    monkeypatch.setattr(hook_mod, 'barrier', lambda: barriers.append(1))
    # Rank 0 of 2 pretrains, then waits at the barrier.
    monkeypatch.setattr(hook_mod, 'get_dist_info', lambda: (0, 2))
    runner0 = _runner(tmp_path, dataset)
    EdgeNetPretrainHook(settings=SETTINGS).before_train(runner0)
    assert len(calls) == 1 and len(barriers) == 1
    # Rank 1 never pretrains; after the barrier it loads rank 0's file.
    monkeypatch.setattr(hook_mod, 'get_dist_info', lambda: (1, 2))
    runner1 = _runner(tmp_path, dataset)
    hook1 = EdgeNetPretrainHook(settings=SETTINGS)
    hook1.before_train(runner1)
    assert len(calls) == 1 and len(barriers) == 2
    assert not hook1.pretrained_here
    for k, v in runner0.model.loss.edge_net.state_dict().items():
        assert torch.equal(runner1.model.loss.edge_net.state_dict()[k], v)
    # Rank 1 with no file from rank 0 (unshared work dir): a clear error.
    with pytest.raises(FileNotFoundError, match='shared by all ranks'):
        EdgeNetPretrainHook(
            settings=SETTINGS, cache_dir=str(tmp_path / 'elsewhere')) \
            .before_train(_runner(tmp_path, dataset))
    assert len(calls) == 1


def test_configured_checkpoint_is_left_alone(tmp_path, dataset, calls):
    net = SemanticEdgeNet(C)
    net.pretrained.fill_(1)
    path = str(tmp_path / 'given.pth')
    torch.save(edge_net_state(net, {}), path)
    model = nn.Module()
    model.loss = SemedaLoss(C, path)
    EdgeNetPretrainHook(settings=SETTINGS).before_train(
        _runner(tmp_path, dataset, model))
    assert calls == []
    assert not glob.glob(str(tmp_path / 'edge_net' / '*.pth'))


def test_bad_settings_and_mixed_losses(tmp_path, dataset):
    with pytest.raises(KeyError, match='epochs'):
        EdgeNetPretrainHook(settings=dict(epochs=3))
    model = nn.Module()
    model.a = SemedaLoss(C)
    model.b = SemedaLoss(4)
    with pytest.raises(ValueError, match='disagree'):
        EdgeNetPretrainHook(settings=SETTINGS).before_train(
            _runner(tmp_path, dataset, model))


def _gloo_worker(rank, world, init_file, work_dir, paths, out_dir):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        runner = _runner(work_dir, FakeSegDataset(paths))
        hook = EdgeNetPretrainHook(settings=SETTINGS)
        hook.before_train(runner)
        torch.save(
            dict(
                pretrained_here=hook.pretrained_here,
                checkpoint=hook.checkpoint,
                state=runner.model.loss.edge_net.net.state_dict()),
            osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_two_processes_gloo(tmp_path, dataset):
    """Real DDP-style run: rank 0 pretrains once, both ranks load it."""
    import torch.multiprocessing as mp
    mp.spawn(
        _gloo_worker,
        args=(2, str(tmp_path / 'init'), str(tmp_path / 'work'), dataset.paths,
              str(tmp_path)),
        nprocs=2,
        join=True)
    r0 = torch.load(str(tmp_path / 'rank0.pth'), weights_only=True)
    r1 = torch.load(str(tmp_path / 'rank1.pth'), weights_only=True)
    assert r0['pretrained_here'] and not r1['pretrained_here']
    assert r0['checkpoint'] == r1['checkpoint']
    assert len(glob.glob(str(tmp_path / 'work' / 'edge_net' / '*.pth'))) == 1
    for k, v in r0['state'].items():
        assert torch.equal(r1['state'][k], v)
    assert int(r1['state']['pretrained']) == 1
