# Copyright (c) mmboundary contributors. All rights reserved.
import glob
import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

import mmboundary.engine.hooks.frozen_net_pretrain_hook as base_mod
import mmboundary.engine.hooks.inverse_net_pretrain_hook as hook_mod
from mmboundary.engine.hooks import InverseNetPretrainHook
from mmboundary.models.losses import InverseFormLoss
from mmboundary.models.utils.inverse_net import InverseNet
from mmboundary.models.utils.inverse_net_pretrain import inverse_net_state
from mmboundary.registry import HOOKS

NET = dict(tile_size=16, hidden=(16, 8))
SETTINGS = dict(
    steps=6, batch_size=4, tiles_per_image=2, label_scale_range=(1.0, 1.0))


class FakeSegDataset:

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

    def __init__(self, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        self.loss = InverseFormLoss(inverse_net=NET, **kwargs)


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        lab = np.kron(rng.integers(0, 3, (4, 5)), np.ones((8, 8), np.int64))
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
        logger=MMLogger.get_instance('test_inverse_net_pretrain_hook'))


@pytest.fixture
def calls(monkeypatch):
    record = []
    real = hook_mod.pretrain_inverse_net_from_datasets

    def counting(*args, **kwargs):
        record.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(hook_mod, 'pretrain_inverse_net_from_datasets',
                        counting)
    return record


def test_pretrains_once_and_reuses_cache(tmp_path, dataset, calls):
    runner = _runner(tmp_path, dataset)
    hook = HOOKS.build(dict(type='InverseNetPretrainHook', settings=SETTINGS))
    hook.before_train(runner)
    assert len(calls) == 1 and hook.pretrained_here
    files = glob.glob(str(tmp_path / 'inverse_net' / '*.pth'))
    assert files == [hook.checkpoint]
    report = json.load(open(hook.checkpoint[:-4] + '.json'))
    assert report['settings']['tile_size'] == 16
    assert report['settings']['steps'] == 6
    assert report['cache_key'][:12] in hook.checkpoint
    assert 0 <= report['val']['frac_identity_below_shift4'] <= 1
    net = InverseNet(**NET)
    net.load_state_dict(
        torch.load(hook.checkpoint, weights_only=True)['state_dict'])
    loaded = runner.model.loss.inverse_net.net.state_dict()
    for k, v in net.state_dict().items():
        assert torch.equal(loaded[k], v)
    target = torch.zeros(1, 20, 20, dtype=torch.long)
    target[:, :, 10] = 1
    assert torch.isfinite(runner.model.loss(torch.randn(1, 1, 20, 20), target))
    # resumed run: no pretraining, same weights
    runner2 = _runner(tmp_path, dataset)
    hook2 = InverseNetPretrainHook(settings=SETTINGS)
    hook2.before_train(runner2)
    assert len(calls) == 1 and hook2.checkpoint == hook.checkpoint
    assert not hook2.pretrained_here
    # another distance is another net (and cache entry)
    runner3 = _runner(tmp_path, dataset, Toy(distance='geodesic'))
    InverseNetPretrainHook(settings=SETTINGS).before_train(runner3)
    assert len(calls) == 2
    assert runner3.model.loss.inverse_net.net.num_params == 8


def test_ranks_barrier_and_errors(tmp_path, dataset, calls, monkeypatch):
    barriers = []
    monkeypatch.setattr(base_mod, 'barrier', lambda: barriers.append(1))
    monkeypatch.setattr(base_mod, 'get_dist_info', lambda: (1, 2))
    # rank 1 never pretrains: without rank 0's file it fails clearly
    with pytest.raises(FileNotFoundError, match='shared by all ranks'):
        InverseNetPretrainHook(settings=SETTINGS).before_train(
            _runner(tmp_path, dataset))
    assert calls == [] and barriers == [1]
    monkeypatch.setattr(base_mod, 'get_dist_info', lambda: (0, 2))
    InverseNetPretrainHook(settings=SETTINGS).before_train(
        _runner(tmp_path, dataset))
    assert len(calls) == 1 and barriers == [1, 1]
    monkeypatch.setattr(base_mod, 'get_dist_info', lambda: (1, 2))
    runner1 = _runner(tmp_path, dataset)
    InverseNetPretrainHook(settings=SETTINGS).before_train(runner1)
    assert len(calls) == 1 and int(
        runner1.model.loss.inverse_net.net.pretrained) == 1

    with pytest.raises(KeyError, match='stepz'):
        InverseNetPretrainHook(settings=dict(stepz=3))
    model = nn.Module()
    model.a = InverseFormLoss(inverse_net=NET)
    model.b = InverseFormLoss(inverse_net=dict(NET, tile_size=8))
    with pytest.raises(ValueError, match='disagree'):
        InverseNetPretrainHook(settings=SETTINGS).before_train(
            _runner(tmp_path, dataset, model))


def test_configured_checkpoint_is_left_alone(tmp_path, dataset, calls):
    net = InverseNet(**NET)
    net.pretrained.fill_(1)
    path = str(tmp_path / 'given.pth')
    torch.save(inverse_net_state(net, {}, NET), path)
    model = nn.Module()
    model.loss = InverseFormLoss(path, inverse_net=NET)
    InverseNetPretrainHook(settings=SETTINGS).before_train(
        _runner(tmp_path, dataset, model))
    assert calls == []
    assert not glob.glob(str(tmp_path / 'inverse_net' / '*.pth'))


def test_missing_boundary_target_fails_before_training(tmp_path, dataset,
                                                       calls):
    from mmboundary.datasets.transforms import GenerateSobelBoundary
    from mmboundary.models.heads import BoundaryHead
    with_head = Toy()
    with_head.head = BoundaryHead(
        in_channels=4, channels=4, loss_decode=dict(type='BoundaryBCELoss'))
    dataset.pipeline = SimpleNamespace(transforms=[object()])
    with pytest.raises(KeyError, match='GenerateSobelBoundary'):
        InverseNetPretrainHook(settings=SETTINGS).before_train(
            _runner(tmp_path, dataset, with_head))
    assert calls == []
    dataset.pipeline.transforms.append(GenerateSobelBoundary())
    InverseNetPretrainHook(settings=SETTINGS).before_train(
        _runner(tmp_path, dataset, with_head))
    assert len(calls) == 1


def test_missing_checkpoint_without_hook_fails_before_training(tmp_path):
    from mmboundary.engine.hooks import EdgeNetPretrainHook
    from mmboundary.engine.hooks.frozen_net_pretrain_hook import \
        check_frozen_nets_provided
    from mmboundary.models.losses import SemedaLoss
    model = Toy()
    with pytest.raises(ValueError) as info:
        check_frozen_nets_provided(model, [EdgeNetPretrainHook()])
    msg = str(info.value)
    assert '1 InverseFormLoss module(s)' in msg
    assert '`inverse_net_checkpoint`' in msg
    assert "dict(type='InverseNetPretrainHook')" in msg
    # the pretraining hook, or a checkpoint, provides the net
    check_frozen_nets_provided(model, [InverseNetPretrainHook()])
    net = InverseNet(**NET)
    net.pretrained.fill_(1)
    path = str(tmp_path / 'given.pth')
    torch.save(inverse_net_state(net, {}, NET), path)
    given = nn.Module()
    given.loss = InverseFormLoss(path, inverse_net=NET)
    check_frozen_nets_provided(given, [])
    # SEMEDA's edge net: the same check names its key and hook
    semeda = nn.Module()
    semeda.loss = SemedaLoss(num_classes=3)
    with pytest.raises(
            ValueError,
            match="`edge_net_checkpoint`.*"
            r"dict\(type='EdgeNetPretrainHook'\)"):
        check_frozen_nets_provided(semeda, [InverseNetPretrainHook()])
    check_frozen_nets_provided(semeda, [EdgeNetPretrainHook()])
