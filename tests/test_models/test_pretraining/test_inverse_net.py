# Copyright (c) mmboundary contributors. All rights reserved.
import hashlib
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch

from mmboundary.models.pretraining.inverse_net import (
    INVERSE_NET_MIN_FRAC_SHIFT4, boundary_tiles, evaluate_inverse_net,
    inverse_net_cache_key, inverse_net_self_check,
    inverse_net_settings_with_defaults, load_inverse_net_state,
    pretrain_inverse_net, sample_transforms, save_inverse_net)
from mmboundary.models.utils.inverse_net import InverseNet
from mmboundary.utils.label_boundary import sobel_boundary_map

TINY = dict(
    tile_size=16,
    hidden=(32, 16),
    steps=60,
    batch_size=16,
    tiles_per_image=4,
    label_scale_range=(1.0, 1.0),
    max_shift_px=3.0)


def _labels(seed, n=3, size=(40, 56)):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lab = np.kron(rng.integers(0, 4, (5, 7)), np.ones((8, 8), np.int64))
        lab[:2, :3] = 255
        out.append(lab[:size[0], :size[1]].astype(np.uint8))
    return out


def test_settings_and_cache_key():
    with pytest.raises(KeyError, match='max_shift'):
        inverse_net_settings_with_defaults(dict(max_shift=3))
    with pytest.raises(ValueError, match="'l2'"):
        inverse_net_settings_with_defaults(dict(distance='l2'))
    a = inverse_net_cache_key(dict(steps=10), 'train')
    assert a == inverse_net_cache_key(dict(steps=10, seed=0), 'train')
    assert a != inverse_net_cache_key(dict(steps=11), 'train')
    assert a != inverse_net_cache_key(dict(steps=10), 'other')
    assert a != inverse_net_cache_key(dict(steps=10), 'train', 'val')


def test_sample_transforms_ranges_and_determinism():
    cfg = inverse_net_settings_with_defaults(
        dict(tile_size=64, component_prob=1.0, identity_prob=0.0))
    th = sample_transforms(2000, cfg, np.random.default_rng(0))
    assert torch.equal(th,
                       sample_transforms(2000, cfg, np.random.default_rng(0)))
    assert th.shape == (2000, 3, 3)
    assert torch.equal(th[:, 2], torch.tensor([0., 0., 1.]).expand(2000, 3))
    # translation: |t| <= 8 px = 8 * 2 / 64 normalised, both signs used
    t = th[:, :2, 2]
    assert t.abs().max() <= 0.25 + 1e-6 and t.abs().max() > 0.24
    # the 2x2 part: det = s^2 in [0.81, 1.21] (rotation, aspect, shear keep
    # it), rotation angle within 10 degrees (+ shear)
    det = torch.linalg.det(th[:, :2, :2])
    assert det.min() >= 0.81 - 1e-5 and det.max() <= 1.21 + 1e-5
    # homography: a perspective row within +-0.05; identities when asked
    cfg8 = dict(cfg, distance='geodesic', identity_prob=1.0)
    th8 = sample_transforms(50, cfg8, np.random.default_rng(0))
    assert torch.equal(th8, torch.eye(3).expand(50, 3, 3))
    cfg8['identity_prob'] = 0.0
    th8 = sample_transforms(500, cfg8, np.random.default_rng(0))
    assert th8[:, 2, :2].abs().max() <= 0.05 and th8[:, 2, :2].abs().max() > 0
    # component_prob 0: nothing is transformed
    cfg0 = dict(cfg, component_prob=0.0)
    assert torch.equal(
        sample_transforms(20, cfg0, np.random.default_rng(0)),
        torch.eye(3).expand(20, 3, 3))


def test_boundary_tiles():
    cfg = inverse_net_settings_with_defaults(TINY)
    lab = _labels(0, 1)[0]
    tiles = boundary_tiles(lab, cfg, 5, np.random.default_rng(0), scale=1.0)
    edge = (sobel_boundary_map(lab) == 1).astype(np.float32)
    assert len(tiles) == 5
    for tile in tiles:
        assert tile.shape == (16, 16) and tile.mean() >= 0.02
        # every tile is a crop of the full Sobel map
        found = any(
            np.array_equal(edge[y:y + 16, x:x + 16], tile)
            for y in range(lab.shape[0] - 15)
            for x in range(lab.shape[1] - 15))
        assert found
    # a constant map has no tile with boundary
    assert boundary_tiles(
        np.zeros((20, 20), np.uint8),
        cfg,
        3,
        np.random.default_rng(0),
        scale=1.0) == []


def test_pretrain_deterministic_save_load(tmp_path):
    train, val = _labels(0), _labels(1, 2)
    rng_state = torch.get_rng_state()
    net, report = pretrain_inverse_net(lambda i: train[i], 3, TINY, val)
    assert torch.equal(torch.get_rng_state(), rng_state)
    net2, report2 = pretrain_inverse_net(lambda i: train[i], 3, TINY, val)
    for a, b in zip(net.parameters(), net2.parameters()):
        assert torch.equal(a, b)
    assert report['val'] == report2['val']
    assert int(net.pretrained) == 1 and not net.training
    assert report['num_parameters'] == 2 * 256 * 32 + 32 + 32 * 16 + 16 + \
        16 * 6 + 6
    assert report['final_train_loss'] < report['first_train_loss']
    val_rep = report['val']
    assert set(val_rep) == {
        'num_tiles', 'identity_median', 'shift_median',
        'median_increasing_0_2_4_8', 'frac_identity_below_shift4',
        'frac_identity_below_rot10', 'frac_identity_below_zoom1.2'
    }
    assert val_rep['num_tiles'] == 200 or val_rep['num_tiles'] <= 200
    assert val_rep['shift_median']['0'] == val_rep['identity_median']
    seq = [val_rep['shift_median'][k] for k in ('0', '2', '4', '8')]
    assert val_rep['median_increasing_0_2_4_8'] == all(
        a < b for a, b in zip(seq, seq[1:]))
    assert evaluate_inverse_net(net, val, TINY) == val_rep

    path, json_path = save_inverse_net(net, report, str(tmp_path), 'inv')
    digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert osp.basename(path) == f'inv-{digest[:8]}.pth'
    meta = json.load(open(json_path))
    assert meta['sha256'] == digest and meta['val'] == val_rep
    fresh = InverseNet(tile_size=16, hidden=(32, 16))
    fresh.load_state_dict(load_inverse_net_state(path, fresh))
    for a, b in zip(fresh.parameters(), net.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(
            ValueError, match='tile_size=16 but the loss needs '
            'tile_size=32'):
        load_inverse_net_state(path, InverseNet(32, hidden=(32, 16)))
    with pytest.raises(ValueError, match='num_params=6'):
        load_inverse_net_state(path,
                               InverseNet(16, num_params=8, hidden=(32, 16)))


def test_evaluate_on_an_ideal_net():
    """A hand-made 'net' that returns the true shift: the report's
    statistics then follow from the geometry alone."""

    class Centroid(torch.nn.Module):
        tile_size = 16

        def forward(self, x, y):
            xs = torch.arange(16.0)
            cx = (x.sum(2) * xs).sum(-1) / x.sum((2, 3)).clamp(min=1e-6)
            cy = (y.sum(2) * xs).sum(-1) / y.sum((2, 3)).clamp(min=1e-6)
            r = torch.zeros(x.shape[0], 6)
            r[:, 2] = -(cy - cx)[:, 0] * 2 / 16
            return r

    rep = evaluate_inverse_net(Centroid(), _labels(2, 2), TINY)
    assert rep['identity_median'] == pytest.approx(1e-6, abs=1e-6)
    assert rep['frac_identity_below_shift4'] > 0.9
    assert rep['median_increasing_0_2_4_8']
    assert rep['shift_median']['1'] < rep['shift_median']['8']
    assert math.isfinite(rep['frac_identity_below_rot10'])


def _separation(medians, frac_shift4, tiles=200):
    seq = [medians[k] for k in ('0', '2', '4', '8')]
    return dict(
        val=dict(
            num_tiles=tiles,
            identity_median=medians['0'],
            shift_median=medians,
            median_increasing_0_2_4_8=all(a < b for a, b in zip(seq, seq[1:])),
            frac_identity_below_shift4=frac_shift4,
            frac_identity_below_rot10=0.5,
            **{'frac_identity_below_zoom1.2': 0.5}))


GOOD = {'0': 0.04, '1': 0.06, '2': 0.11, '4': 0.25, '8': 0.40}


def test_self_check_on_hand_made_reports():
    assert INVERSE_NET_MIN_FRAC_SHIFT4 == 0.85
    assert inverse_net_self_check(_separation(GOOD, 0.985)) == []
    # exactly at the bound passes
    assert inverse_net_self_check(_separation(GOOD, 0.85)) == []
    # medians that stop increasing (4 px == 8 px) fail, values named
    flat = dict(GOOD, **{'8': 0.25})
    assert inverse_net_self_check(_separation(flat, 0.9)) == [
        'the median distance does not increase strictly over shifts (0 px '
        '0.0400, 2 px 0.1100, 4 px 0.2500, 8 px 0.2500)'
    ]
    # too few tiles below a 4 px shift
    assert inverse_net_self_check(_separation(GOOD, 0.845)) == [
        'd(identity) < d(4 px shift) on 84.5% of 200 tiles < 85%'
    ]
    # both at once, and a NaN fraction fails too
    both = inverse_net_self_check(_separation(flat, float('nan')))
    assert len(both) == 2 and 'nan%' in both[1]
    # no validation data: not measured
    assert inverse_net_self_check(dict(steps=3)) is None
