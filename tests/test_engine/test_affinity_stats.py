# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.engine.affinity_stats: the shares of positive in-box edges
and of same-instance ones among them, on a hand-made image whose colour
similarities and depth differences are computed here by brute force
(issue 19)."""
import math

import numpy as np
import pytest
import torch

from mmboundary.engine.affinity_stats import (count_edges, edge_share_table,
                                              same_instance_edges,
                                              sample_edge_counts, shares)

S, K, D = 4, 3, 2
# grey level of each 4x4 cell of a 16x24 image (grid 4 x 6)
GREY = np.array([[100, 100, 101, 160, 160, 160],
                 [100, 100, 101, 160, 160, 160], [100, 104, 101, 160, 160, 40],
                 [100, 100, 101, 160, 160, 40]])
# instance 1 covers grid columns 0-2, instance 2 grid column 5 (rows 1-3;
# at row 1 the background's grey: a positive edge joining two instances)
INST = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 2], [1, 1, 1, 0, 0, 2],
                 [1, 1, 1, 0, 0, 2]])
DEPTH = np.array([[10, 10, 10, 30, 30, 30], [10, 10, 10, 30, 30, 5],
                  [10, 10, 10, 30, 30, 5], [12, 12, 12, 30, 30, 5]], float)
BOX = (0, 0, 15, 15)  # x1, y1, x2, y2: grid columns 0-3


def lightness(v):
    """CIE L* of the sRGB grey ``v`` (a = b = 0 for greys)."""
    c = v / 255
    y = ((c + 0.055) / 1.055)**2.4 if c > 0.04045 else c / 12.92
    f = y**(1 / 3) if y > 0.008856 else 7.787 * y + 16 / 116
    return 116 * f - 16


def brute_force(tau_c=0.3, tau_d=1.0):
    """Counts by looping over every in-box edge of the grid."""
    h, w = GREY.shape
    in_box = np.zeros((h, w), bool)
    in_box[:, :4] = True
    out = dict(
        colour=dict(edges=0, positive=0, positive_same=0),
        depth=dict(edges=0, positive=0, positive_same=0))
    for y in range(h):
        for x in range(w):
            if not in_box[y, x]:
                continue
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    if dy == dx == 0:
                        continue
                    qy, qx = y + D * dy, x + D * dx
                    if not (0 <= qy < h and 0 <= qx < w):
                        continue
                    same = INST[y, x] == INST[qy, qx]
                    sim = math.exp(
                        -abs(lightness(GREY[y, x]) - lightness(GREY[qy, qx])) /
                        2)
                    c = out['colour']
                    c['edges'] += 1
                    if sim >= tau_c:
                        c['positive'] += 1
                        c['positive_same'] += int(same)
                    my, mx = y + dy, x + dx
                    diff = abs(DEPTH[y, x] + DEPTH[qy, qx] - 2 * DEPTH[my, mx])
                    d = out['depth']
                    d['edges'] += 1
                    if diff <= tau_d:
                        d['positive'] += 1
                        d['positive_same'] += int(same)
    return out


@pytest.fixture(scope='module')
def tiny():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    from mmboundary.models.data_preprocessors import AsyInstDataPreprocessor
    pre = AsyInstDataPreprocessor(
        mean=[0, 0, 0],
        std=[1, 1, 1],
        bgr_to_rgb=False,
        pad_size_divisor=S,
        mask_stride=S,
        pairwise_size=K,
        pairwise_dilation=D,
        pairwise_color_thresh=0.3,
        bottom_pixels_removed=0,
        depth_thresh=1.0)
    up = np.ones((S, S))
    img = np.kron(GREY, up).astype(np.uint8)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(16, 24),
            ori_shape=(16, 24),
            pad_shape=(16, 24),
            gt_depth_map=np.kron(DEPTH, up).astype(np.float32)))
    gt = InstanceData()
    gt.bboxes = torch.tensor([BOX], dtype=torch.float32)
    gt.labels = torch.tensor([0])
    sample.gt_instances = gt
    inputs = torch.from_numpy(np.stack([img] * 3))
    out = pre(dict(inputs=[inputs], data_samples=[sample]), training=True)
    masks = np.stack([np.kron(INST == i, up) for i in (1, 2)]).astype(bool)
    return pre, out, masks


def test_counts_match_a_brute_force_over_the_edges(tiny):
    pre, out, masks = tiny
    # the hand-made greys: 100 vs 101 and 100 vs 104 are similar (S = 0.82
    # and 0.45), 101 vs 160 or 40 not (S < 0.01)
    assert math.exp(-abs(lightness(100) - lightness(101)) / 2) == \
        pytest.approx(0.82, abs=0.01)
    assert math.exp(-abs(lightness(100) - lightness(104)) / 2) == \
        pytest.approx(0.45, abs=0.01)
    got = sample_edge_counts(pre, out['inputs'][0], out['data_samples'][0],
                             masks, [1.0])
    want = brute_force()
    assert got['colour'] == {k: float(v) for k, v in want['colour'].items()}
    assert got['depth'][1.0] == {k: float(v) for k, v in want['depth'].items()}
    # the numbers themselves: 4 rows x 4 in-box columns, neighbours inside
    # the 4 x 6 grid
    assert want['colour']['edges'] == 64
    # two of them join background (1, 3) and (3, 3) to instance 2 at (1, 5)
    assert want['colour'] == dict(edges=64, positive=36, positive_same=34)


def test_a_stricter_threshold_drops_the_weaker_edges(tiny):
    """tau_c = 0.5 keeps the 100/101 edges (S = 0.82), drops 100/104."""
    from mmboundary.models.utils import color_affinity, srgb_bytes_to_lab
    pre, out, masks = tiny
    sample = out['data_samples'][0]
    lab = srgb_bytes_to_lab(
        torch.from_numpy(np.stack([GREY] * 3)[None].astype(np.uint8))).float()
    strict = color_affinity(lab, torch.ones(1, 1, 4, 6), K, D, 0.5)
    sample.gt_instances.pairwise_masks = strict.expand(1, -1, -1, -1)
    got = sample_edge_counts(pre, out['inputs'][0], sample, masks)
    assert got['colour'] == {
        k: float(v)
        for k, v in brute_force(tau_c=0.5)['colour'].items()
    }
    assert got['colour']['positive'] < brute_force()['colour']['positive']


def test_same_instance_edges_and_shares():
    inst = torch.tensor([[[[1, 1, 0, 2, 2]]]])
    same = same_instance_edges(inst, 3, 1)
    # channel 4 is offset (0, +1): 1-1 yes, 1-0 no, 0-2 no, 2-2 yes, then
    # the zero padding (2 vs 0: no)
    assert same[0, 4, 0].tolist() == [True, False, False, True, False]
    counts = count_edges(
        torch.tensor([[[[1., 1., 0., 1.]]]]), torch.ones(1, 1, 1, 4),
        torch.tensor([[[[1., 1., 1., 0.]]]]),
        torch.tensor([[[[True, False, True, True]]]]))
    assert counts == dict(edges=3.0, positive=2.0, positive_same=1.0)
    assert shares(counts) == dict(positive=2 / 3, same=0.5)
    assert shares(dict(edges=0, positive=0, positive_same=0)) == dict(
        positive=None, same=None)


def test_edge_share_table_rows():
    stats = dict(
        colour=dict(edges=200.0, positive=50.0, positive_same=45.0),
        depth={0.01: dict(edges=100.0, positive=10.0, positive_same=10.0)})
    table = edge_share_table([dict(data='d (v2)', config='c', stats=stats)])
    assert table['rows'] == [[
        'd (v2)', 'c', 200, 25.0, 90.0, '0.01', 100, 10.0, 100.0
    ]]
    table = edge_share_table(
        [dict(data='d', config='c', stats=dict(stats, depth={}))])
    assert table['rows'][0][5:] == [None, None, None, None]
