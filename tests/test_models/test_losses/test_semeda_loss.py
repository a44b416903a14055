# Copyright (c) mmboundary contributors. All rights reserved.
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmboundary.models.losses import SemedaLoss
from mmboundary.models.pretraining.edge_net import edge_net_state
from mmboundary.models.utils import training_only_prefixes
from mmboundary.models.utils.semantic_edge_net import SemanticEdgeNet
from mmboundary.registry import MODELS

C = 3


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    """A 'pretrained' edge net: random weights, saved the official way."""
    torch.manual_seed(0)
    net = SemanticEdgeNet(C)
    net.pretrained.fill_(1)
    path = tmp_path_factory.mktemp('edge') / 'edge.pth'
    torch.save(edge_net_state(net, {}), str(path))
    return str(path), net


def _labels():
    return torch.tensor([[[0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [2, 2, 2, 1, 1],
                          [2, 2, 2, 255, 255]]])


def _np_forward(x, net):
    """numpy re-derivation of the edge net (replicate padding)."""
    acts = []
    a = x
    for i, conv in enumerate(net.convs):
        w = conv.weight.detach().double().numpy()
        b = conv.bias.detach().double().numpy()
        xp = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)), mode='edge')
        n, _, h, wd = a.shape
        out = np.zeros((n, w.shape[0], h, wd))
        for r in range(h):
            for c in range(wd):
                out[:, :, r, c] = np.einsum('nchw,ochw->no',
                                            xp[:, :, r:r + 3, c:c + 3], w) + b
        acts.append(out)
        a = np.maximum(out, 0) if i < 2 else out
    return acts


def test_zero_at_the_optimum(ckpt):
    path, _ = ckpt
    label = _labels()
    onehot = F.one_hot(label.clamp(max=C - 1), C).permute(0, 3, 1, 2)
    logits = 1000.0 * onehot.float()  # softmax saturates to exact one-hot
    for before_relu in (True, False):
        for distance in ('l1', 'l2'):
            loss = SemedaLoss(
                C,
                path,
                layer_weights=(0.25, 0.5, 1.0),
                before_relu=before_relu,
                distance=distance)
            val = loss(logits.clone().requires_grad_(), label)
            assert val.item() == 0.0
    # Logits only slightly away from the optimum give a positive loss.
    assert SemedaLoss(C, path)(onehot.float() * 5, label).item() > 0


def test_value_against_direct_computation(ckpt):
    path, net = ckpt
    label = _labels()
    torch.manual_seed(1)
    logits = torch.randn(1, C, 4, 5)
    lam = (1.0, 0.5, 0.25)
    # Direct computation of eq. 6: uniform 1/C at ignore pixels in both
    # inputs, embeddings by numpy, sum over non-ignored pixels.
    lab = label.numpy()
    valid = lab != 255
    probs = logits.softmax(1).double().numpy()
    gt = np.zeros((1, C, 4, 5))
    for c in range(C):
        gt[0, c] = (lab[0] == c)
    probs[:, :, ~valid[0]] = 1 / C
    gt[:, :, ~valid[0]] = 1 / C
    pa, ga = _np_forward(probs, net), _np_forward(gt, net)
    pixel = sum(lam_l * np.abs(p - g).sum(1)
                for lam_l, p, g in zip(lam, pa, ga))
    want_sum = float((pixel * valid).sum())
    loss = SemedaLoss(C, path, layer_weights=lam, reduction='sum')
    assert loss(logits, label).item() == pytest.approx(want_sum, rel=1e-5)
    loss.reduction = 'mean'
    assert loss(logits, label).item() == pytest.approx(
        want_sum / valid.sum(), rel=1e-5)
    assert loss(
        logits, label, avg_factor=7.0).item() == pytest.approx(
            want_sum / 7.0, rel=1e-5)
    none = loss(logits, label, reduction_override='none')
    assert none.shape == (1, 4, 5)
    np.testing.assert_allclose(none.numpy(), pixel * valid, rtol=1e-5)
    loss.loss_weight = 3.0
    assert loss(logits, label).item() == pytest.approx(
        3 * want_sum / valid.sum(), rel=1e-5)
    # weight= multiplies the per-pixel loss.
    weight = torch.rand(1, 4, 5)
    loss.loss_weight = 1.0
    got = loss(logits, label, weight=weight, reduction_override='sum')
    assert got.item() == pytest.approx(
        float((pixel * valid * weight.numpy()).sum()), rel=1e-5)
    # l2 and after-ReLU variants.
    pixel2 = sum(lam_l * ((np.maximum(p, 0) - np.maximum(g, 0))**2).sum(1)
                 for lam_l, p, g in zip(lam[:2], pa[:2], ga[:2]))

    def softmax(a):
        e = np.exp(a - a.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    pixel2 = pixel2 + lam[2] * ((softmax(pa[2]) - softmax(ga[2]))**2).sum(1)
    loss = SemedaLoss(
        C,
        path,
        layer_weights=lam,
        before_relu=False,
        distance='l2',
        reduction='sum')
    assert loss(logits, label).item() == pytest.approx(
        float((pixel2 * valid).sum()), rel=1e-5)


def test_edge_ce_mode(ckpt):
    """PPCE on edges (eq. 5) = CE(g(S-hat), E*) over defined edge pixels."""
    path, net = ckpt
    label = _labels()
    torch.manual_seed(2)
    logits = torch.randn(1, C, 4, 5)
    probs = logits.softmax(1).masked_fill((label == 255)[:, None], 1 / C)
    edge_logits = torch.from_numpy(
        _np_forward(probs.double().numpy(), net)[2]).float()
    # 8-neighbour GT edges by hand; pixels next to ignore are ignored.
    e = torch.tensor([[[0, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 255, 255, 255],
                       [0, 0, 255, 255, 255]]])
    want = F.cross_entropy(edge_logits, e, ignore_index=255)
    loss = SemedaLoss(C, path, mode='edge_ce', loss_weight=5.0)
    assert loss.loss_name == 'loss_edge_ce'
    assert loss(logits, label).item() == pytest.approx(
        5 * want.item(), rel=1e-5)


def test_gradient_contract(ckpt):
    path, _ = ckpt
    loss = SemedaLoss(C, path)
    label = _labels()
    logits = torch.randn(1, C, 4, 5, requires_grad=True)
    loss(logits, label).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    # Never the edge net: frozen, no grad, not trainable.
    for p in loss.edge_net.parameters():
        assert not p.requires_grad and p.grad is None
    assert list(filter(lambda p: p.requires_grad, loss.parameters())) == []
    # Ignore pixels get exactly zero gradient.
    ignore = (label == 255)[:, None].expand_as(logits)
    assert torch.all(logits.grad[ignore] == 0)
    # Eval mode whatever model.train() says.
    loss.train()
    assert not loss.edge_net.training and not loss.edge_net.net.training
    # The edge net runs channels-last internally; the gradient handed back
    # to the segmentor is a plain NCHW-contiguous tensor with the values of
    # a direct NCHW computation of eq. 6.
    assert logits.grad.is_contiguous()
    assert not logits.grad.is_contiguous(memory_format=torch.channels_last)
    ref = logits.detach().clone().requires_grad_()
    probs = ref.softmax(dim=1).masked_fill((label == 255)[:, None], 1.0 / C)
    gt = F.one_hot(label.masked_fill(label == 255, 0),
                   C).permute(0, 3, 1, 2).float().masked_fill(
                       (label == 255)[:, None], 1.0 / C)
    net = loss.edge_net.net
    total = 0
    xp, xg = probs, gt
    for lam, conv in zip((1.0, 0.5, 0.25), net.convs):
        xp = F.conv2d(
            F.pad(xp, (1, 1, 1, 1), mode='replicate'), conv.weight, conv.bias)
        xg = F.conv2d(
            F.pad(xg, (1, 1, 1, 1), mode='replicate'), conv.weight, conv.bias)
        total = total + lam * ((xp - xg).abs().sum(1) * (label != 255)).sum()
        xp, xg = xp.relu(), xg.relu()
    (total / (label != 255).sum()).backward()
    torch.testing.assert_close(logits.grad, ref.grad)


def test_ignore_pixels(ckpt):
    path, _ = ckpt
    loss = SemedaLoss(C, path, reduction='sum')
    label = _labels()
    torch.manual_seed(3)
    logits = torch.randn(1, C, 4, 5)
    base = loss(logits, label)
    # Neither create: changing the prediction at ignore pixels changes
    # nothing.
    other = logits.clone()
    other[:, :, 3, 3:] = torch.randn(C, 2) * 50
    assert loss(other, label).item() == base.item()
    # ... nor hide: with a perfect prediction everywhere, one wrong valid
    # pixel next to the ignore region is still counted.
    onehot = F.one_hot(label.clamp(max=C - 1), C).permute(0, 3, 1, 2)
    perfect = 1000.0 * onehot.float()
    assert loss(perfect, label).item() == 0
    wrong = perfect.clone()
    wrong[0, :, 2, 3] = torch.tensor([1000.0, 0, 0])  # class 0, not 1
    assert loss(wrong, label).item() > 0
    # All-ignore input: finite zero loss, finite zero gradient.
    logits = torch.randn(1, C, 4, 5, requires_grad=True)
    all_ignore = torch.full((1, 4, 5), 255)
    for reduction in ('mean', 'sum'):
        val = loss(logits, all_ignore, reduction_override=reduction)
        assert val.item() == 0 and torch.isfinite(val)
    val.backward()
    assert torch.all(logits.grad == 0)
    # Empty batch.
    empty = loss(
        torch.zeros(0, C, 4, 5), torch.zeros(0, 4, 5, dtype=torch.long))
    assert empty.item() == 0
    # ignore_index passed by mmseg overrides the default.
    lab2 = label.masked_fill(label == 255, 7)
    assert loss(
        logits, lab2,
        ignore_index=7).item() == pytest.approx(loss(logits, label).item())


def test_build_time_errors(ckpt, tmp_path):
    path, _ = ckpt
    with pytest.raises(ValueError, match=r'\(1.0, 0.5\).*2 values.*3 layers'):
        SemedaLoss(C, path, layer_weights=(1.0, 0.5))
    with pytest.raises(ValueError, match=r'\(0.0, 0.0, 0.0\).*all-zero'):
        SemedaLoss(C, path, layer_weights=(0, 0, 0))
    with pytest.raises(
            ValueError, match='trained for 3 classes but '
            'num_classes=19'):
        SemedaLoss(19, path)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        SemedaLoss(C, str(tmp_path / 'missing.pth'))
    with pytest.raises(ValueError, match="start with 'loss_'"):
        SemedaLoss(C, path, loss_name='semeda')
    # No checkpoint and no hook: a clear error, never random weights.
    loss = SemedaLoss(C)
    with pytest.raises(RuntimeError, match='EdgeNetPretrainHook'):
        loss(torch.randn(1, C, 4, 5), _labels())
    with pytest.raises(ValueError, match='4 channels but num_classes=3'):
        SemedaLoss(C, path)(torch.randn(1, 4, 4, 5), _labels())


def test_in_mmseg_decode_head(ckpt):
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS as SEG_MODELS
    from mmseg.structures import SegDataSample
    path, _ = ckpt
    head_cfg = dict(
        type='FCNHead',
        in_channels=4,
        channels=4,
        num_convs=1,
        num_classes=C,
        loss_decode=[
            dict(type='CrossEntropyLoss', loss_weight=1.0),
            dict(type='SemedaLoss', num_classes=C, edge_net_checkpoint=path)
        ])
    with DefaultScope.overwrite_default_scope('mmseg'):
        head = SEG_MODELS.build(head_cfg)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=_labels())
    sample.set_metainfo(dict(img_shape=(4, 5)))
    losses = head.loss_by_feat(torch.randn(1, C, 2, 3), [sample])
    assert set(losses) == {'loss_ce', 'loss_semeda', 'acc_seg'}
    assert losses['loss_semeda'] > 0
    # Decode head for another class count: the loss sees 5-channel logits
    # and names both counts and the fix (no call-stack introspection).
    head_cfg['num_classes'] = 5
    with DefaultScope.overwrite_default_scope('mmseg'):
        head5 = SEG_MODELS.build(head_cfg)
    msg = (r'5 channels but num_classes=3\. .*set SemedaLoss num_classes to '
           r"the decode head's num_classes")
    with pytest.raises(ValueError, match=msg):
        head5.loss_by_feat(torch.randn(1, 5, 2, 3), [sample])
    # A sigmoid head (one channel for two classes) is refused the same way.
    sig_cfg = dict(
        head_cfg,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        loss_decode=[
            dict(type='SemedaLoss', num_classes=2),
            dict(type='CrossEntropyLoss', use_sigmoid=True)
        ])
    with DefaultScope.overwrite_default_scope('mmseg'):
        sig_head = SEG_MODELS.build(sig_cfg)
    sample2 = SegDataSample()
    sample2.gt_sem_seg = PixelData(data=_labels().clamp(max=1))
    sample2.set_metainfo(dict(img_shape=(4, 5)))
    with pytest.raises(ValueError, match='1 channels but num_classes=2'):
        sig_head.loss_by_feat(torch.randn(1, 1, 2, 3), [sample2])
    # The edge net is training-only in the state dict.
    prefixes = training_only_prefixes(head.state_dict())
    assert prefixes == ['loss_decode.1.edge_net.']


def test_optimizer_and_reinit(ckpt):
    """mmengine's optimizer never changes the edge net; a re-initialised
    edge net is restored from the verified checkpoint."""
    from mmengine.optim import build_optim_wrapper
    path, net = ckpt

    class Toy(nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(C, C, 1)
            self.loss = SemedaLoss(C, path)

    model = Toy()
    optim = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=0.1, weight_decay=0.5)))
    before = {k: v.clone() for k, v in model.loss.state_dict().items()}
    for _ in range(2):
        out = model.conv(torch.randn(1, C, 4, 5))
        optim.update_params(model.loss(out, _labels()))
    after = model.loss.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # A layer-wide re-initialisation after loading is undone.
    nn.init.zeros_(model.loss.edge_net.net.convs[0].weight)
    model.loss._ready = False
    with pytest.warns(UserWarning, match='restoring'):
        model.loss(torch.randn(1, C, 4, 5), _labels())
    assert torch.equal(model.loss.edge_net.net.convs[0].weight,
                       net.convs[0].weight)


def test_registry():
    assert MODELS.get('SemedaLoss') is SemedaLoss
    from mmseg.registry import MODELS as SEG_MODELS
    assert SEG_MODELS.get('SemedaLoss') is SemedaLoss
