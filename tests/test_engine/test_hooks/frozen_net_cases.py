# Copyright (c) mmboundary contributors. All rights reserved.
"""What the tests of the frozen-net pretraining hooks share: a fake mmseg
dataset, a runner stub and one case per hook (SEMEDA's edge net,
InverseForm's InverseNet) saying how to build its model, read its net and
write a configured checkpoint.

``test_frozen_net_pretrain_hook.py`` runs the shared mechanism of
:class:`~mmboundary.engine.hooks.FrozenNetPretrainHook` over both cases;
``test_edge_net_pretrain_hook.py`` / ``test_inverse_net_pretrain_hook.py``
hold what only one hook does.
"""
from types import SimpleNamespace

import cv2
import numpy as np
import torch
from mmengine.logging import MMLogger
from torch import nn

import mmboundary.engine.hooks.edge_net_pretrain_hook as edge_mod
import mmboundary.engine.hooks.inverse_net_pretrain_hook as inverse_mod
from mmboundary.engine.hooks import EdgeNetPretrainHook, InverseNetPretrainHook
from mmboundary.models.losses import InverseFormLoss, SemedaLoss
from mmboundary.models.pretraining.edge_net import edge_net_state
from mmboundary.models.pretraining.inverse_net import inverse_net_state
from mmboundary.models.utils.inverse_net import InverseNet
from mmboundary.models.utils.semantic_edge_net import SemanticEdgeNet


class FakeSegDataset:
    """What the hooks read from an mmseg dataset: data infos."""

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


def write_label_maps(folder, labels):
    """Write ``labels`` as ``<i>_labelTrainIds.png`` into ``folder``."""
    paths = []
    for i, lab in enumerate(labels):
        path = str(folder / f'{i}_labelTrainIds.png')
        cv2.imwrite(path, lab.astype(np.uint8))
        paths.append(path)
    return FakeSegDataset(paths)


def runner_stub(work_dir, dataset, model, val_dataset=None):
    """The runner attributes ``FrozenNetPretrainHook.before_train`` reads
    (validation data: ``val_dataset``, else ``dataset``)."""
    val_loader = SimpleNamespace(dataset=val_dataset or dataset)
    return SimpleNamespace(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=SimpleNamespace(dataset=dataset),
        _val_loop=SimpleNamespace(dataloader=val_loader),
        logger=MMLogger.get_instance('test_frozen_net_pretrain_hooks'))


def count_pretraining(case, monkeypatch):
    """Record the arguments of every pretraining run of ``case``'s hook
    (the pretraining core wrapped where the hook calls it)."""
    record = []
    real = getattr(case.hook_module, case.pretrain_fn)

    def counting(*args, **kwargs):
        record.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(case.hook_module, case.pretrain_fn, counting)
    return record


class Toy(nn.Module):
    """A model owning one loss whose frozen net a hook provides."""

    def __init__(self, loss):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        self.loss = loss


class EdgeCase:
    """SEMEDA's edge net (:class:`EdgeNetPretrainHook`)."""

    name = 'edge'
    hook_cls = EdgeNetPretrainHook
    hook_module = edge_mod
    pretrain_fn = 'pretrain_edge_net_from_datasets'
    subdir = 'edge_net'
    C = 3
    settings = dict(
        max_epochs=2, crops_per_image=1, crop_size=16, batch_size=4, lr=0.05)
    other_settings = dict(settings, noise_std=0.5)
    # settings in the report: from the hook and from the loss
    reported = dict(max_epochs=2, num_classes=3, ignore_index=255)
    # hand-made validation parts of the report: failing / passing the
    # self-check, and how the failure names the measured values
    failing_report = dict(
        val_clean=dict(precision=0.0, recall=0.0, f1=0.0, tp=0, fp=0, fn=7))
    failing_values = ('validation edge F1 on clean GT 0.0000 < 0.5 '
                      '(precision 0.0000, recall 0.0000, TP 0, FP 0, FN 7)')
    passing_report = dict(
        val_clean=dict(precision=0.9, recall=0.9, f1=0.9, tp=9, fp=1, fn=1))

    def labels(self, seed=0, ignored=np.s_[0]):
        """Four 24x24 maps of 6x6 blocks, ``ignored`` pixels set to 255
        (by default the first row)."""
        rng = np.random.default_rng(seed)
        labels = []
        for _ in range(4):
            lab = np.kron(
                rng.integers(0, self.C, size=(4, 4)),
                np.ones((6, 6), dtype=np.int64))
            lab[ignored] = 255
            labels.append(lab)
        return labels

    def dataset(self, folder):
        return write_label_maps(folder, self.labels())

    def loss(self, checkpoint=None, **kwargs):
        return SemedaLoss(
            kwargs.pop('num_classes', self.C), checkpoint, **kwargs)

    def model(self):
        return Toy(self.loss())

    def mixed_model(self):
        """Two losses whose nets differ (class counts)."""
        model = nn.Module()
        model.a = self.loss()
        model.b = self.loss(num_classes=4)
        return model

    def net(self, loss):
        """The frozen net inside ``loss``."""
        return loss.edge_net.net

    def file_net(self, path):
        """A fresh net with the checkpoint's weights (loaded directly)."""
        net = SemanticEdgeNet(self.C)
        net.load_state_dict(torch.load(path, weights_only=True)['state_dict'])
        return net

    def save_given(self, path):
        """Write a valid checkpoint of a marked net to ``path``."""
        net = SemanticEdgeNet(self.C)
        net.pretrained.fill_(1)
        torch.save(edge_net_state(net, {}), path)

    def run_loss(self, loss, dataset):
        labels = torch.from_numpy(cv2.imread(dataset.paths[0], 0)).long()
        return loss(torch.randn(1, self.C, 24, 24), labels[None])


class InverseCase:
    """InverseForm's InverseNet (:class:`InverseNetPretrainHook`)."""

    name = 'inverse'
    hook_cls = InverseNetPretrainHook
    hook_module = inverse_mod
    pretrain_fn = 'pretrain_inverse_net_from_datasets'
    subdir = 'inverse_net'
    NET = dict(tile_size=16, hidden=(16, 8))
    settings = dict(
        steps=6, batch_size=4, tiles_per_image=2, label_scale_range=(1.0, 1.0))
    other_settings = dict(settings, steps=5)
    reported = dict(steps=6, tile_size=16, distance='euclidean')
    failing_report = dict(
        val=dict(
            num_tiles=40,
            shift_median={
                '0': 0.3,
                '1': 0.2,
                '2': 0.2,
                '4': 0.1,
                '8': 0.1
            },
            median_increasing_0_2_4_8=False,
            frac_identity_below_shift4=0.25))
    failing_values = (
        'the median distance does not increase strictly over shifts (0 px '
        '0.3000, 2 px 0.2000, 4 px 0.1000, 8 px 0.1000); d(identity) < d(4 '
        'px shift) on 25.0% of 40 tiles < 85%')
    passing_report = dict(
        val=dict(
            num_tiles=40,
            shift_median={
                '0': 0.01,
                '1': 0.02,
                '2': 0.03,
                '4': 0.04,
                '8': 0.05
            },
            median_increasing_0_2_4_8=True,
            frac_identity_below_shift4=0.95))

    def dataset(self, folder):
        """Three 32x40 maps of 8x8 blocks."""
        rng = np.random.default_rng(0)
        labels = [
            np.kron(rng.integers(0, 3, (4, 5)), np.ones((8, 8), np.int64))
            for _ in range(3)
        ]
        return write_label_maps(folder, labels)

    def loss(self, checkpoint=None, **kwargs):
        net = dict(self.NET, **kwargs.pop('inverse_net', {}))
        return InverseFormLoss(checkpoint, inverse_net=net, **kwargs)

    def model(self):
        return Toy(self.loss())

    def mixed_model(self):
        """Two losses whose nets differ (tile sizes)."""
        model = nn.Module()
        model.a = self.loss()
        model.b = self.loss(inverse_net=dict(tile_size=8))
        return model

    def net(self, loss):
        return loss.inverse_net.net

    def file_net(self, path):
        net = InverseNet(**self.NET)
        net.load_state_dict(torch.load(path, weights_only=True)['state_dict'])
        return net

    def save_given(self, path):
        net = InverseNet(**self.NET)
        net.pretrained.fill_(1)
        torch.save(inverse_net_state(net, {}, self.NET), path)

    def run_loss(self, loss, dataset):
        target = torch.zeros(1, 20, 20, dtype=torch.long)
        target[:, :, 10] = 1
        return loss(torch.randn(1, 1, 20, 20), target)


CASES = [EdgeCase(), InverseCase()]
CASE_BY_NAME = {c.name: c for c in CASES}
