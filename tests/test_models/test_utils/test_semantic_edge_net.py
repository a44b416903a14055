# Copyright (c) mmboundary contributors. All rights reserved.
import hashlib
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmboundary.models.utils import FrozenAuxNet, training_only_prefixes
from mmboundary.models.utils.semantic_edge_net import (
    SemanticEdgeNet, edge_target, evaluate_edge_net, load_edge_net_state,
    noisy_soft_masks, one_hot_masks, pretrain_cache_key,
    pretrain_semantic_edge_net, save_edge_net, settings_with_defaults)


def _np_conv_replicate(x, w, b):
    """Direct (N, Ci, H, W) x (Co, Ci, k, k) correlation, edge padding."""
    k = w.shape[-1]
    r = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (r, r), (r, r)), mode='edge')
    n, _, h, wd = x.shape
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(h):
        for j in range(wd):
            win = xp[:, :, i:i + k, j:j + k]
            out[:, :, i, j] = np.einsum('nchw,ochw->no', win, w) + b
    return out


def test_shapes_and_taps():
    torch.manual_seed(0)
    net = SemanticEdgeNet(num_classes=5)
    assert [tuple(c.weight.shape) for c in net.convs] == [(16, 5, 3, 3),
                                                          (32, 16, 3, 3),
                                                          (2, 32, 3, 3)]
    x = torch.rand(2, 5, 6, 7).softmax(dim=1)
    out = net(x)
    assert [tuple(t.shape) for t in out.pre_act] == [(2, 16, 6, 7),
                                                     (2, 32, 6, 7),
                                                     (2, 2, 6, 7)]
    assert [tuple(t.shape) for t in out.post_act] == [(2, 16, 6, 7),
                                                      (2, 32, 6, 7),
                                                      (2, 2, 6, 7)]
    # Taps: psi before / after ReLU, softmax at the end.
    torch.testing.assert_close(out.post_act[0], out.pre_act[0].clamp(min=0))
    torch.testing.assert_close(out.post_act[1], out.pre_act[1].clamp(min=0))
    torch.testing.assert_close(out.probs, out.pre_act[2].softmax(dim=1))
    assert out.post_act[2] is out.probs
    assert (out.pre_act[0] < 0).any()  # the pre-ReLU tap keeps negatives
    # Independent re-derivation of the three layers with numpy.
    ws = [(c.weight.detach().double().numpy(),
           c.bias.detach().double().numpy()) for c in net.convs]
    a1 = _np_conv_replicate(x.double().numpy(), *ws[0])
    a2 = _np_conv_replicate(np.maximum(a1, 0), *ws[1])
    a3 = _np_conv_replicate(np.maximum(a2, 0), *ws[2])
    for got, want in zip(out.pre_act, (a1, a2, a3)):
        np.testing.assert_allclose(
            got.detach().double().numpy(), want, atol=1e-5)


def test_partial_forward_and_bad_input():
    net = SemanticEdgeNet(num_classes=3, kernel_size=5)
    x = torch.rand(1, 3, 8, 8)
    out = net(x, num_layers=2)
    assert len(out.pre_act) == 2 and out.probs is None
    torch.testing.assert_close(out.pre_act[1], net(x).pre_act[1])
    assert net.receptive_radius == 6
    with pytest.raises(ValueError, match='num_classes = 3'):
        net(torch.rand(1, 4, 8, 8))
    with pytest.raises(ValueError, match='kernel_size'):
        SemanticEdgeNet(3, kernel_size=4)


def test_edge_target_by_hand():
    label = torch.tensor([[[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0],
                           [2, 2, 0, 0]]])
    # 8-neighbour rule, border pixels only look at pixels inside the image.
    want = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1],
                          [1, 1, 1, 0]]])
    assert torch.equal(edge_target(label), want)
    # An ignore pixel: it and its 8 neighbours are ignored, nothing else.
    label = torch.zeros(1, 5, 5, dtype=torch.long)
    label[0, 2, 2] = 255
    label[0, 4, 4] = 1
    got = edge_target(label, ignore_index=255)
    want = torch.zeros(1, 5, 5, dtype=torch.long)
    want[0, 1:4, 1:4] = 255
    want[0, 3:5, 3:5] = torch.tensor([[255, 1], [1, 1]])
    assert torch.equal(got, want)
    # ignore_radius widens the band (Chebyshev distance).
    got = edge_target(label, ignore_index=255, ignore_radius=2)
    assert int((got == 255).sum()) == 25


def test_edge_target_matches_data_pipeline():
    from mmboundary.datasets.transforms.boundary import semantic_edge_map
    rng = np.random.default_rng(0)
    for _ in range(5):
        lab = rng.integers(0, 4, size=(12, 15))
        lab = np.kron(lab, np.ones((2, 2), dtype=np.int64))[:20, :25]
        lab[rng.random(lab.shape) < 0.03] = 255
        ours = edge_target(torch.from_numpy(lab)[None], 255)[0].numpy()
        theirs = semantic_edge_map(lab, ignore_index=255, connectivity=8)
        keep = ours != 255
        assert keep.sum() > 100
        np.testing.assert_array_equal(ours[keep], theirs[keep])


def test_one_hot_and_noisy_masks():
    label = torch.tensor([[[0, 1], [255, 2]]])
    oh = one_hot_masks(label, 3)
    assert torch.equal(oh[0, :, 0, 0], torch.tensor([1., 0., 0.]))
    torch.testing.assert_close(oh[0, :, 1, 0], torch.full((3, ), 1 / 3))
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        one_hot_masks(torch.tensor([[[3]]]), 3)
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


def test_border_is_not_an_edge():
    """Replicate padding: a constant mask looks the same at the border."""
    torch.manual_seed(0)
    net = SemanticEdgeNet(3)
    x = one_hot_masks(torch.zeros(1, 6, 6, dtype=torch.long), 3)
    out = net(x).pre_act[2]
    torch.testing.assert_close(out, out[:, :, :1, :1].expand_as(out))
    assert F.softmax(out, 1).shape == (1, 2, 6, 6)
