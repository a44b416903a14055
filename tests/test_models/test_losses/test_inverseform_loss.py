# Copyright (c) mmboundary contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmboundary.models.losses import InverseFormLoss
from mmboundary.models.losses.inverseform_loss import (extract_tiles,
                                                       grid_tiles, tile_boxes,
                                                       tile_starts)
from mmboundary.models.pretraining.inverse_net import inverse_net_state
from mmboundary.models.utils import training_only_prefixes
from mmboundary.models.utils.inverse_net import InverseNet, params_to_matrix
from mmboundary.registry import MODELS

T = 4
NET = dict(tile_size=T, hidden=(8, 4))


def _save(path, net, distance='euclidean'):
    net.pretrained.fill_(1)
    torch.save(
        inverse_net_state(net, {}, dict(distance=distance, **NET)), path)
    return str(path)


@pytest.fixture
def random_ckpt(tmp_path):
    """A net with random (non-zero) weights in every layer."""
    torch.manual_seed(0)
    net = InverseNet(**NET)
    torch.nn.init.normal_(net.fc3.weight, std=0.5)
    return _save(tmp_path / 'random.pth', net), net


def _difference_net(num_params=6):
    """fc1 sees x - y, all biases 0: r = 0 (theta_hat = I) iff x == y."""
    torch.manual_seed(1)
    net = InverseNet(num_params=num_params, **NET)
    with torch.no_grad():
        a = torch.randn(8, T * T)
        net.fc1.weight.copy_(torch.cat([a, -a], dim=1))
        net.fc1.bias.zero_()
        net.fc2.weight.copy_(torch.randn(4, 8).abs())
        net.fc2.bias.zero_()
        net.fc3.weight.copy_(torch.randn(num_params, 4))
        net.fc3.bias.zero_()
    return net


def test_tile_boxes_by_hand():
    assert tile_starts(7, 3) == [0, 3, 4]
    assert tile_starts(6, 3) == [0, 3]
    assert tile_starts(2, 3) == [0]
    assert tile_starts(3, 3) == [0]
    assert tile_boxes(5, 7, 3) == [(0, 0), (0, 3), (0, 4), (2, 0), (2, 3),
                                   (2, 4)]


@pytest.mark.parametrize('h,w,t', [(5, 7, 3), (13, 4, 4), (9, 31, 8),
                                   (2, 3, 4), (1, 17, 5), (33, 65, 16)])
def test_cover_tiling_covers_every_pixel(h, w, t):
    maps = torch.arange(2 * h * w, dtype=torch.float32).view(2, 1, h, w) + 1
    tiles, k = extract_tiles(maps, t)
    rows, cols = max(1, math.ceil(h / t)), max(1, math.ceil(w / t))
    assert k == rows * cols and tiles.shape == (2 * k, 1, t, t)
    # every pixel of every image is in one of its own tiles
    for n in range(2):
        seen = set(tiles[n * k:(n + 1) * k].flatten().tolist()) - {0.0}
        assert seen == set(maps[n].flatten().tolist())
    # tiles are unresampled crops, in box order; padding is zero
    hp, wp = max(h, t), max(w, t)
    padded = F.pad(maps, (0, wp - w, 0, hp - h))
    for n in range(2):
        for i, (y, x) in enumerate(tile_boxes(hp, wp, t)):
            crop = padded[n, :, y:y + t, x:x + t]
            assert torch.equal(tiles[n * k + i], crop)


def test_cover_tiling_multichannel_and_gradient_by_hand():
    # two channels travel together; a pixel's gradient of sum(tiles) is the
    # number of tiles holding it: 5 x 7, T = 3 -> rows [0, 2], columns
    # [0, 3, 4]: row 2 and columns 4, 5 are covered twice
    maps = torch.rand(2, 2, 5, 7, requires_grad=True)
    tiles, k = extract_tiles(maps, 3)
    assert k == 6 and tiles.shape == (12, 2, 3, 3)
    assert torch.equal(tiles[k + 5], maps[1, :, 2:5, 4:7])
    tiles.sum().backward()
    rows = torch.tensor([1., 1., 2., 1., 1.])
    cols = torch.tensor([1., 1., 1., 1., 2., 2., 1.])
    assert torch.equal(maps.grad, (rows[:, None] * cols).expand(2, 2, 5, 7))


def test_grid_tiles_reproduce_reference():
    maps = torch.rand(2, 1, 10, 17)
    tiles, k = grid_tiles(maps, 4, (2, 3))
    big = F.interpolate(maps, (8, 12), mode='bilinear', align_corners=False)
    assert k == 6
    for n in range(2):
        for i in range(2):
            for j in range(3):
                assert torch.equal(tiles[n * 6 + i * 3 + j],
                                   big[n, :, 4 * i:4 * i + 4, 4 * j:4 * j + 4])


def _inputs():
    torch.manual_seed(3)
    target = torch.zeros(2, 6, 9, dtype=torch.long)
    target[:, :, 3] = 1
    target[1, 4, :] = 1
    target[0, 0, 0] = 255
    logits = torch.randn(2, 1, 6, 9)
    return logits, target


def test_value_against_direct_computation(random_ckpt):
    path, net = random_ckpt
    logits, target = _inputs()
    for distance_red in ('mean', 'sum', 'none'):
        loss = InverseFormLoss(
            path, inverse_net=NET, reduction=distance_red, loss_weight=0.7)
        got = loss(logits, target)
        # by hand: sigmoid, zero at ignore, 2 x 3 = 6 tiles per image at
        # rows (0, 2), cols (0, 4, 5)
        valid = (target != 255).float()
        p = torch.sigmoid(logits[:, 0]) * valid
        g = (target == 1).float() * valid
        dists, keeps = [], []
        for n in range(2):
            for y in (0, 2):
                for x in (0, 4, 5):
                    gt = g[n, y:y + T, x:x + T][None, None]
                    pr = p[n, y:y + T, x:x + T][None, None]
                    with torch.no_grad():
                        th = params_to_matrix(net(gt, pr))[0]
                    d = math.sqrt(((th - torch.eye(3))**2).sum() + 1e-12)
                    keep = float(gt.sum() >= 1)
                    dists.append(d * keep)
                    keeps.append(keep)
        dists, keeps = torch.tensor(dists), torch.tensor(keeps)
        assert 0 < keeps.sum() < 12  # some tiles lack GT boundary
        if distance_red == 'mean':
            ref = dists.sum() / keeps.sum()
        elif distance_red == 'sum':  # eq. 5 per image, mean over images
            ref = dists.view(2, 6).sum(1).mean()
        else:
            ref = dists
        torch.testing.assert_close(got, 0.7 * ref, rtol=1e-5, atol=1e-6)


def test_min_gt_pixels_keeps_a_tile_at_the_bound(random_ckpt):
    path, net = random_ckpt
    # one image, three 4 x 4 tiles (x0 = 0, 4, 8) with 2, 3 and 4 GT pixels
    target = torch.zeros(1, 4, 12, dtype=torch.long)
    target[0, 0, 0:2] = 1
    target[0, 1, 4:7] = 1
    target[0, 2, 8:12] = 1
    torch.manual_seed(2)
    logits = torch.randn(1, 1, 4, 12)
    p = torch.sigmoid(logits[0, 0])
    g = target[0].float()
    dists = []
    for x in (0, 4, 8):
        with torch.no_grad():
            th = params_to_matrix(
                net(g[None, None, :, x:x + T], p[None, None, :, x:x + T]))[0]
        dists.append(math.sqrt(((th - torch.eye(3))**2).sum() + 1e-12))
    assert min(dists) > 1e-3  # every tile counts when kept
    loss = InverseFormLoss(path, inverse_net=NET, min_gt_pixels=3)
    # a tile with exactly min_gt_pixels GT pixels is kept
    none = loss(logits, target, reduction_override='none')
    torch.testing.assert_close(
        none, torch.tensor([0.0, dists[1], dists[2]]), rtol=1e-5, atol=1e-6)
    assert loss(logits, target).item() == pytest.approx(
        (dists[1] + dists[2]) / 2, rel=1e-5)
    # one more and only the 4-pixel tile stays
    loss4 = InverseFormLoss(path, inverse_net=NET, min_gt_pixels=4)
    assert loss4(logits, target).item() == pytest.approx(dists[2], rel=1e-5)


def test_gradient_contract_and_reference_bug(random_ckpt):
    path, net = random_ckpt
    logits, target = _inputs()
    logits.requires_grad_()
    loss = InverseFormLoss(path, inverse_net=NET)
    out = loss(logits, target)
    out.backward()
    # A non-zero, finite gradient reaches the prediction ...
    assert torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 1e-4
    # ... and nothing reaches the frozen net.
    for p in loss.inverse_net.parameters():
        assert not p.requires_grad and p.grad is None
    assert training_only_prefixes(loss.state_dict()) == ['inverse_net.']
    # No gradient at ignored pixels.
    assert logits.grad[0, 0, 0, 0] == 0
    # The released code's input transform (log_softmax over the singleton
    # channel) is identically 0, so its loss has exactly zero gradient; ours
    # changes with the prediction.
    ref_input = F.log_softmax(logits, dim=1)
    assert torch.equal(ref_input, torch.zeros_like(ref_input))
    other = loss(logits.detach() + 1.0, target)
    assert abs(other.item() - out.item()) > 1e-4


def test_zero_at_the_optimum_and_geodesic(tmp_path):
    logits, target = _inputs()
    target[0, 0, 0] = 0
    perfect = 40.0 * (2 * target[:, None].float() - 1)  # sigmoid -> {0, 1}
    for distance, n in (('euclidean', 6), ('geodesic', 8)):
        net = _difference_net(n)
        path = _save(tmp_path / f'{distance}.pth', net, distance)
        loss = InverseFormLoss(path, distance=distance, inverse_net=NET)
        best = loss(perfect, target)
        assert best.item() == pytest.approx(1e-6, abs=1e-6)
        shifted = torch.roll(perfect, 1, dims=-1)
        assert loss(shifted, target).item() > best.item() + 1e-3
        x = logits.clone().requires_grad_()
        loss(x, target).backward()
        assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_ignore_and_empty_inputs(random_ckpt):
    path, _ = random_ckpt
    loss = InverseFormLoss(path, inverse_net=NET)
    logits, target = _inputs()
    changed = logits.clone()
    changed[0, 0, 0, 0] = 50.0  # an ignored pixel
    assert loss(changed, target).item() == pytest.approx(
        loss(logits, target).item(), abs=1e-7)
    # mmseg's ignore_index overrides the loss's.
    t7 = target.masked_fill(target == 255, 7)
    assert loss(
        logits, t7, ignore_index=7).item() == pytest.approx(
            loss(logits, target).item(), abs=1e-7)
    # No GT boundary at all: 0, finite, graph kept, zero gradient.
    x = torch.randn(1, 1, 5, 5, requires_grad=True)
    empty = loss(x, torch.zeros(1, 5, 5, dtype=torch.long))
    assert empty.item() == 0 and empty.requires_grad
    empty.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    # All ignored, smaller than a tile: the same.
    y = torch.randn(1, 1, 2, 3, requires_grad=True)
    assert loss(y, torch.full((1, 2, 3), 255)).item() == 0
    # Smaller than a tile with boundary: padded, one tile per image.
    small = loss(
        torch.randn(2, 1, 2, 3),
        torch.ones(2, 1, 2, 3).long(),
        reduction_override='none')
    assert small.shape == (2, )


def test_resize_grid_mode(random_ckpt):
    path, net = random_ckpt
    logits, target = _inputs()
    loss = InverseFormLoss(
        path,
        inverse_net=NET,
        tiling='resize_grid',
        grid=(1, 2),
        skip_empty_gt=False)
    valid = (target != 255).float()[:, None]
    p = torch.sigmoid(logits) * valid
    g = (target == 1).float()[:, None] * valid
    gp, _ = grid_tiles(p, T, (1, 2))
    gg, _ = grid_tiles(g, T, (1, 2))
    r = net(gg, gp)
    ref = (r.pow(2).sum(1) + 1e-12).sqrt().mean()
    torch.testing.assert_close(loss(logits, target), ref)
    with pytest.raises(ValueError, match='tile_size=4 is larger than the 3x9'):
        loss(logits[:, :, :3], target[:, :3])


def test_bad_input(random_ckpt, tmp_path):
    path, net = random_ckpt
    with pytest.raises(ValueError, match="'manhattan'"):
        InverseFormLoss(path, distance='manhattan', inverse_net=NET)
    with pytest.raises(ValueError, match="unknown `tiling`"):
        InverseFormLoss(path, tiling='grid', inverse_net=NET)
    with pytest.raises(ValueError, match="start with 'loss_'"):
        InverseFormLoss(path, inverse_net=NET, loss_name='inverseform')
    with pytest.raises(KeyError, match='tile'):
        InverseFormLoss(path, inverse_net=dict(tile=4))
    # Checkpoint for another tile size / architecture / family.
    with pytest.raises(
            ValueError, match='tile_size=4 but the loss needs '
            'tile_size=8'):
        InverseFormLoss(path, inverse_net=dict(NET, tile_size=8))
    with pytest.raises(
            ValueError,
            match=r'hidden=\[8, 4\] but the loss '
            r'needs hidden=\[16, 4\]'):
        InverseFormLoss(path, inverse_net=dict(NET, hidden=(16, 4)))
    with pytest.raises(
            ValueError, match='num_params=6 .* num_params=8 .*'
            'homography'):
        InverseFormLoss(path, distance='geodesic', inverse_net=NET)
    bare = str(tmp_path / 'bare.pth')
    torch.save(net.state_dict(), bare)
    with pytest.raises(ValueError, match="regresses 6 parameters .* needs 8"):
        InverseFormLoss(bare, distance='geodesic', inverse_net=NET)
    InverseFormLoss(bare, inverse_net=NET)  # keys and shapes match
    with pytest.raises(FileNotFoundError, match='train_inverse_net.py'):
        InverseFormLoss(str(tmp_path / 'missing.pth'), inverse_net=NET)
    # No checkpoint and no hook: refused, never random weights.
    with pytest.raises(RuntimeError, match='InverseNetPretrainHook'):
        InverseFormLoss(inverse_net=NET)(*_inputs())
    loss = InverseFormLoss(path, inverse_net=NET)
    logits, target = _inputs()
    with pytest.raises(ValueError, match=r'\(N, 1, H, W\) boundary logits'):
        loss(torch.randn(2, 3, 6, 9), target)
    with pytest.raises(ValueError, match='boundary map in .*found 3'):
        loss(logits, target.masked_fill(target == 1, 3))
    with pytest.raises(ValueError, match='weight must be None'):
        loss(logits, target, weight=torch.ones(2, 6, 9))


def test_reinit_is_undone_and_registry(random_ckpt):
    path, net = random_ckpt
    loss = MODELS.build(
        dict(
            type='InverseFormLoss',
            inverse_net_checkpoint=path,
            inverse_net=NET))
    assert isinstance(loss, InverseFormLoss)
    from mmseg.registry import MODELS as SEG_MODELS
    assert SEG_MODELS.get('InverseFormLoss') is InverseFormLoss
    torch.nn.init.zeros_(loss.inverse_net.net.fc1.weight)
    with pytest.warns(UserWarning, match='restoring'):
        loss(*_inputs())
    assert torch.equal(loss.inverse_net.net.fc1.weight, net.fc1.weight)
    assert 'tiling=' in repr(loss) and loss.loss_name == 'loss_inverseform'
