# Copyright (c) mmboundary contributors. All rights reserved.
"""The SEMEDA edge net's pretraining recipe (Algorithm 1, first loop): its
input, run, report, checkpoint, verified load, settings and self-check."""
import hashlib
import json
import os.path as osp

import numpy as np
import pytest
import torch

# yapf: disable
from mmboundary.models.pretraining.edge_net import (EDGE_NET_MIN_F1,
                                                    edge_net_self_check,
                                                    evaluate_edge_net,
                                                    load_edge_net_state,
                                                    noisy_soft_masks,
                                                    pretrain_cache_key,
                                                    pretrain_semantic_edge_net,
                                                    save_edge_net,
                                                    settings_with_defaults)
# yapf: enable
from mmboundary.models.utils import FrozenAuxNet, training_only_prefixes
from mmboundary.models.utils.semantic_edge_net import SemanticEdgeNet


def test_noisy_masks():
    label = torch.tensor([[[0, 1], [255, 2]]])
    gen = torch.Generator().manual_seed(0)
    soft = noisy_soft_masks(label, 3, 1.0, (2.0, 2.0), 255, gen)
    torch.testing.assert_close(soft.sum(dim=1), torch.ones(1, 2, 2))
    torch.testing.assert_close(soft[0, :, 1, 0], torch.full((3, ), 1 / 3))
    # Without noise it is exactly softmax(s * one-hot).
    soft = noisy_soft_masks(label, 3, 0.0, (2.0, 2.0), 255, gen)
    e = float(np.exp(2.0))
    torch.testing.assert_close(soft[0, :, 0, 0],
                               torch.tensor([e, 1., 1.]) / (e + 2))


def _blocks(seed, n=6, size=24):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lab = rng.integers(0, 3, size=(size // 6, size // 6))
        lab = np.kron(lab, np.ones((6, 6), dtype=np.int64))
        lab[:2] = 255
        out.append(lab)
    return out


def test_pretrain_save_and_load(tmp_path):
    train, val = _blocks(0), _blocks(1, n=2)
    settings = dict(
        num_classes=3,
        max_epochs=30,
        crops_per_image=1,
        crop_size=16,
        batch_size=6,
        lr=0.01)
    rng_state = torch.get_rng_state()
    net, report = pretrain_semantic_edge_net(lambda i: train[i], len(train),
                                             settings, val)
    # Seeded, but the caller's global RNG is left as it was.
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert int(net.pretrained) == 1 and not net.training
    assert report['steps'] == 30
    clean = report['val_clean']
    assert set(clean) == {'precision', 'recall', 'f1', 'tp', 'fp', 'fn'}
    p = clean['tp'] / (clean['tp'] + clean['fp'])
    r = clean['tp'] / (clean['tp'] + clean['fn'])
    assert clean['f1'] == pytest.approx(2 * p * r / (p + r))
    assert clean['f1'] > 0.9  # 30 steps suffice for 6x6 blocks

    path, json_path = save_edge_net(net, report, str(tmp_path), 'edge')
    digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert osp.basename(path) == f'edge-{digest[:8]}.pth'
    meta = json.load(open(json_path))
    assert meta['sha256'] == digest
    assert meta['settings']['noise_std'] == 1.0
    assert meta['val_clean']['f1'] == clean['f1']

    state = load_edge_net_state(path, num_classes=3)
    fresh = SemanticEdgeNet(3)
    fresh.load_state_dict(state, strict=True)
    for a, b in zip(fresh.parameters(), net.parameters()):
        assert torch.equal(a, b)
    # evaluate_edge_net is deterministic and reproduces the report.
    assert evaluate_edge_net(fresh, val)['f1'] == clean['f1']


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='train_edge_net.py'):
        load_edge_net_state(str(tmp_path / 'nope.pth'), 3)
    net = SemanticEdgeNet(4)
    path = str(tmp_path / 'four.pth')
    torch.save({'state_dict': net.state_dict()}, path)
    with pytest.raises(ValueError, match='4 classes.*num_classes=19'):
        load_edge_net_state(path, 19)
    with pytest.raises(ValueError, match='kernel size 3.*kernel_size=5'):
        load_edge_net_state(path, 4, kernel_size=5)
    bad = {k: v for k, v in net.state_dict().items() if 'convs.2' not in k}
    torch.save(bad, path)
    with pytest.raises(ValueError, match=r"missing keys \['convs.2.bias'"):
        load_edge_net_state(path, 4)
    wrong = dict(net.state_dict())
    wrong['convs.1.weight'] = torch.zeros(8, 16, 3, 3)
    torch.save(wrong, path)
    with pytest.raises(ValueError, match='convs.1.weight has shape'):
        load_edge_net_state(path, 4)
    # A FrozenAuxNet state dict (net. prefix + marker) is accepted.
    frozen = FrozenAuxNet(SemanticEdgeNet(4))
    torch.save(frozen.state_dict(), path)
    assert int(load_edge_net_state(path, 4)['pretrained']) == 1
    assert training_only_prefixes(frozen.state_dict()) == ['']


def test_settings_and_cache_key():
    with pytest.raises(KeyError, match='noise_sdt'):
        settings_with_defaults(dict(noise_sdt=1.0))
    a = pretrain_cache_key(dict(noise_std=1.0), 'train')
    assert a == pretrain_cache_key(dict(noise_std=1.0), 'train')
    assert a != pretrain_cache_key(dict(noise_std=0.5), 'train')
    assert a != pretrain_cache_key(dict(noise_std=1.0), 'other')
    # Defaults written out explicitly give the same key.
    assert a == pretrain_cache_key(dict(noise_std=1.0, seed=0), 'train')


def _edge_report(tp, fp, fn):
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    f1 = 2 * p * r / max(p + r, 1e-12)
    return dict(
        val_clean=dict(precision=p, recall=r, f1=f1, tp=tp, fp=fp, fn=fn))


def test_self_check_on_hand_made_reports():
    # no edge predicted: F1 0 fails, with every measured value named
    (msg, ) = edge_net_self_check(_edge_report(0, 0, 40))
    assert msg == ('validation edge F1 on clean GT 0.0000 < 0.5 (precision '
                   '0.0000, recall 0.0000, TP 0, FP 0, FN 40)')
    # tp 1, fp 2, fn 1: P 1/3, R 1/2, F1 0.4 < 0.5
    (msg, ) = edge_net_self_check(_edge_report(1, 2, 1))
    assert msg.startswith('validation edge F1 on clean GT 0.4000 < 0.5 ')
    # tp 1, fp 1, fn 1: F1 exactly 0.5 passes (the bound is inclusive)
    assert EDGE_NET_MIN_F1 == 0.5
    assert edge_net_self_check(_edge_report(1, 1, 1)) == []
    assert edge_net_self_check(_edge_report(99, 1, 1)) == []
    # no validation data: not measured
    assert edge_net_self_check(dict(steps=3)) is None
