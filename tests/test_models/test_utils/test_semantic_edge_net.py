# Copyright (c) mmboundary contributors. All rights reserved.
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmboundary.models.utils.semantic_edge_net import (SemanticEdgeNet,
                                                       edge_target,
                                                       one_hot_masks)


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


def test_one_hot_masks():
    label = torch.tensor([[[0, 1], [255, 2]]])
    oh = one_hot_masks(label, 3)
    assert torch.equal(oh[0, :, 0, 0], torch.tensor([1., 0., 0.]))
    torch.testing.assert_close(oh[0, :, 1, 0], torch.full((3, ), 1 / 3))
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        one_hot_masks(torch.tensor([[[3]]]), 3)


def test_border_is_not_an_edge():
    """Replicate padding: a constant mask looks the same at the border."""
    torch.manual_seed(0)
    net = SemanticEdgeNet(3)
    x = one_hot_masks(torch.zeros(1, 6, 6, dtype=torch.long), 3)
    out = net(x).pre_act[2]
    torch.testing.assert_close(out, out[:, :, :1, :1].expand_as(out))
    assert F.softmax(out, 1).shape == (1, 2, 6, 6)
