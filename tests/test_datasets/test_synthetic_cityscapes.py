# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.datasets.synthetic_cityscapes, data version 2 (issue 19):
images with the structure of photographs (smooth texture, slightly blurred
edges, small sensor noise), colours that do not give the label, the
version in the marker and in the cache keys."""
import glob
import json
import math
import os.path as osp

import cv2
import numpy as np
import pytest

from mmboundary.datasets import synthetic_cityscapes as syn

cs_labels = pytest.importorskip('cityscapesscripts.helpers.labels')

H, W = 128, 256


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('syn2') / 'cs')
    syn.generate(
        out, seed=0, num_train=6, num_val=3, height=H, width=W, verbose=False)
    return out


def _pairs(root, split='*'):
    """(image RGB, labelIds, instanceIds) of every frame."""
    out = []
    for path in sorted(
            glob.glob(osp.join(root, 'leftImg8bit', split, '*', '*.png'))):
        gt = path.replace('leftImg8bit', 'gtFine', 1)[:-len('leftImg8bit.png')]
        out.append(
            (cv2.imread(path)[..., ::-1].astype(np.float64),
             cv2.imread(gt + 'gtFine_labelIds.png', cv2.IMREAD_UNCHANGED),
             cv2.imread(gt + 'gtFine_instanceIds.png', cv2.IMREAD_UNCHANGED)))
    return out


def _interior(ids, r):
    """(H, W) bool: the (2r+1)^2 window around the pixel has one id."""
    same = np.ones(ids.shape, bool)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            shifted = np.roll(np.roll(ids, dy, 0), dx, 1)
            same &= shifted == ids
    same[:r], same[-r:], same[:, :r], same[:, -r:] = (False, ) * 4
    return same


def test_marker_records_the_data_version(root):
    with open(osp.join(root, syn.MARKER)) as f:
        marker = json.load(f)
    assert marker['version'] == syn.DATA_VERSION == 2
    assert syn.read_marker(root)['version'] == 2
    assert syn.data_version(root) == 2
    label = glob.glob(osp.join(root, 'gtFine', 'train', '*', '*.png'))[0]
    assert syn.data_version(label) == 2  # found from a file deep inside
    assert syn.data_versions([label]) == f'{osp.abspath(root)}=2'


def test_a_marker_without_version_is_version_1(tmp_path):
    (tmp_path / syn.MARKER).write_text(json.dumps(dict(seed=0)))
    assert syn.read_marker(str(tmp_path))['version'] == 1
    assert syn.data_version(str(tmp_path / 'gtFine' / 'x.png')) == 1
    assert syn.data_version(str(tmp_path.parent)) is None
    assert syn.data_versions([str(tmp_path.parent / 'y.png')]) == ''


def test_texture_is_smooth_inside_objects(root):
    """Mean |horizontal neighbour difference| inside instances (3 px from
    any edge, so the blur does not reach them), over RGB channels.

    Hand bound: the sensor noise (sigma 1.5, same on the channels) gives
    E|n1 - n2| = 1.5 * sqrt(2) * sqrt(2 / pi) = 1.69; the grain (amplitude
    6, cells of W / 32 = 8 px, cubic) changes by at most about
    6 * 1.5 / 8 = 1.1 per pixel and the colour drift by less; so < 3.
    Version 1's per-pixel noise alone (sigma 9 per channel) gave
    9 * sqrt(2) * sqrt(2 / pi) = 10.2."""
    diffs = []
    for img, _, inst in _pairs(root):
        inner = _interior(inst, 3) & (inst >= 1000)
        pair = inner[:, :-1] & inner[:, 1:]
        d = np.abs(img[:, 1:] - img[:, :-1]).mean(-1)
        diffs.append(d[pair])
    diffs = np.concatenate(diffs)
    assert len(diffs) > 2000
    noise_only = 1.5 * math.sqrt(2) * math.sqrt(2 / math.pi)
    v1_noise_only = 9 * math.sqrt(2) * math.sqrt(2 / math.pi)
    assert noise_only == pytest.approx(1.69, abs=0.01)
    assert noise_only * 0.8 < diffs.mean() < 3.0
    assert diffs.mean() < v1_noise_only / 3


def test_object_edges_take_intermediate_values(root):
    """Across a vertical label edge between x0 and x0 + 1, the optics' blur
    (sigma 0.7) puts pixel x0 at Phi(-0.5 / 0.7) = 0.24 of the way from
    its side's colour to the other's (and x0 + 1 at 0.76); without blur
    both would be 0 and 1."""
    phi = 0.5 * (1 + math.erf(-0.5 / syn.EDGE_BLUR_SIGMA / math.sqrt(2)))
    assert phi == pytest.approx(0.2377, abs=1e-3)
    t0, t1 = [], []
    for img, _, inst in _pairs(root):
        grey = img.mean(-1)
        for y in range(1, H - 1):
            row = inst[y]
            for x0 in np.nonzero(row[:-1] != row[1:])[0]:
                if x0 < 4 or x0 + 5 > W:
                    continue
                window = inst[y - 1:y + 2, x0 - 3:x0 + 5]
                left, right = window[:, :4], window[:, 4:]
                if (left != row[x0]).any() or (right != row[x0 + 1]).any():
                    continue  # not a straight vertical edge here
                a, b = grey[y, x0 - 3], grey[y, x0 + 4]
                if abs(b - a) < 40:
                    continue
                t0.append((grey[y, x0] - a) / (b - a))
                t1.append((grey[y, x0 + 1] - a) / (b - a))
    assert len(t0) > 50
    assert abs(np.median(t0) - phi) < 0.08
    assert abs(np.median(t1) - (1 - phi)) < 0.08


def test_colour_does_not_give_the_label(root):
    """A nearest-class-mean colour classifier (fit on train, scored on
    val) stays far from perfect."""
    train = [(img.astype(np.uint8), lab)
             for img, lab, _ in _pairs(root, 'train')]
    val = [(img.astype(np.uint8), lab) for img, lab, _ in _pairs(root, 'val')]
    acc = syn.colour_lookup_accuracy(train, val)
    assert acc['classes'] >= 10
    assert 0.0 < acc['majority'] < 0.6
    assert acc['accuracy'] < 0.45  # measured 0.25 (seed 0, 6 + 3 frames)


def test_colour_lookup_accuracy_on_hand_made_pixels():
    img = np.zeros((1, 4, 3), np.uint8)
    img[0, :2] = 10  # label 7 around 10, label 8 around 200
    img[0, 2:] = 200
    lab = np.array([[7, 7, 8, 8]])
    val_img = np.array(
        [[[20, 20, 20], [150, 150, 150], [90, 90, 90], [0, 0, 0]]], np.uint8)
    val_lab = np.array([[7, 8, 8, 0]])  # 90 is nearer 10; 0 is void
    acc = syn.colour_lookup_accuracy([(img, lab)], [(val_img, val_lab)])
    assert acc == dict(accuracy=2 / 3, majority=2 / 3, classes=2)


def test_thin_structures_and_occlusions_are_kept(root):
    """Poles stay in the label maps and visible in the images."""
    pole = cs_labels.name2label['pole'].id
    seen = 0
    for img, lab, _ in _pairs(root):
        seen += int((lab == pole).sum())
    assert seen > 100


def test_same_seed_same_bytes(root, tmp_path):
    again = str(tmp_path / 'again')
    syn.generate(
        again,
        seed=0,
        num_train=6,
        num_val=3,
        height=H,
        width=W,
        verbose=False)
    files = sorted(
        osp.relpath(p, root)
        for p in glob.glob(osp.join(root, '*', '*', '*', '*')))
    assert len(files) == 9 * 7
    for rel in files:
        with open(osp.join(root, rel), 'rb') as a, \
                open(osp.join(again, rel), 'rb') as b:
            assert a.read() == b.read(), rel


def test_a_changed_data_version_changes_the_cache_keys(tmp_path):
    from mmboundary.models.pretraining import (files_fingerprint,
                                               inverse_net_cache_key,
                                               pretrain_cache_key)
    root = tmp_path / 'cs'
    (root / 'gtFine').mkdir(parents=True)
    label = root / 'gtFine' / 'a_labelTrainIds.png'
    label.write_bytes(b'1234')
    marker = root / syn.MARKER
    marker.write_text(json.dumps(dict(version=2)))
    v2 = files_fingerprint([str(label)])
    marker.write_text(json.dumps(dict(version=1)))
    v1 = files_fingerprint([str(label)])
    marker.unlink()
    real = files_fingerprint([str(label)])
    assert len({v1, v2, real}) == 3
    assert pretrain_cache_key({}, v1) != pretrain_cache_key({}, v2)
    assert inverse_net_cache_key({}, v1) != inverse_net_cache_key({}, v2)


def test_overwriting_a_converted_root_needs_a_converter(tmp_path):
    out = str(tmp_path / 'cs')
    kw = dict(num_train=1, num_val=0, height=64, width=128, verbose=False)
    syn.generate(out, seed=0, **kw)
    (tmp_path / 'cs' / 'train.txt').write_text('aachen/x\n')  # converted
    # same settings: nothing to rewrite, so nothing to convert
    assert syn.generate(
        out, seed=0, overwrite=True,
        **kw) == ['train/aachen/aachen_000000_000019']
    with pytest.raises(ValueError, match='needs convert='):
        syn.generate(out, seed=1, overwrite=True, **kw)
    assert (tmp_path / 'cs' / 'train.txt').is_file()  # nothing removed
    converted = []
    syn.generate(
        out,
        seed=1,
        overwrite=True,
        convert=lambda root, quiet: converted.append((root, quiet)),
        **kw)
    assert converted == [(out, True)]
    assert not (tmp_path / 'cs' / 'train.txt').exists()
    assert syn.read_marker(out)['seed'] == 1
