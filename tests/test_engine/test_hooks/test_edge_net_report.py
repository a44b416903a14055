# Copyright (c) mmboundary contributors. All rights reserved.
"""The edge-net F1 that EdgeNetPretrainHook reports, recomputed
independently (issue 14, item 4): brute-force 8-neighbour edges, the net
run on clean one-hot masks, and counts made here."""
import json

import numpy as np
import pytest
import torch

from mmboundary.engine.hooks import EdgeNetPretrainHook
from mmboundary.models.utils.semantic_edge_net import SemanticEdgeNet
from .frozen_net_cases import EdgeCase, runner_stub, write_label_maps

CASE = EdgeCase()
C = CASE.C


def brute_force_edges(label, ignore_index, radius):
    """(edge, valid): edge where one of the 8 in-image neighbours has
    another label; valid where no ignore pixel lies within ``radius``
    (Chebyshev)."""
    h, w = label.shape
    edge = np.zeros((h, w), bool)
    valid = np.ones((h, w), bool)
    ignore = np.argwhere(label == ignore_index)
    for y in range(h):
        for x in range(w):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w and \
                            label[yy, xx] != label[y, x]:
                        edge[y, x] = True
            if len(ignore) and (np.abs(ignore -
                                       (y, x)).max(1) <= radius).any():
                valid[y, x] = False
    return edge, valid


def recomputed_report(path, labels, ignore_index=255):
    ckpt = torch.load(path, weights_only=True)
    net = SemanticEdgeNet(C)
    net.load_state_dict(ckpt['state_dict'])
    net.eval()
    tp = fp = fn = 0
    for lab in labels:
        onehot = np.eye(
            C, dtype=np.float32)[np.where(lab == ignore_index, 0, lab)]
        onehot[lab == ignore_index] = 1.0 / C
        masks = torch.from_numpy(onehot).permute(2, 0, 1)[None]
        with torch.no_grad():
            pred = (net(masks).probs[0, 1] > 0.5).numpy()
        edge, valid = brute_force_edges(lab, ignore_index,
                                        3 * (net.kernel_size // 2))
        tp += int((pred & edge & valid).sum())
        fp += int((pred & ~edge & valid).sum())
        fn += int((~pred & edge & valid).sum())
    return dict(
        tp=tp,
        fp=fp,
        fn=fn,
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        f1=2 * tp / (2 * tp + fp + fn) if tp else 0.0)


@pytest.mark.parametrize(
    'seed,ignored,edges_found', [(1, np.s_[0, :5], True),
                                 (0, np.s_[0], False)],
    ids=['part_of_the_first_row', 'whole_first_row'])
def test_reported_f1_equals_a_recomputed_f1(tmp_path, seed, ignored,
                                            edges_found):
    labels = CASE.labels(seed, ignored)
    dataset = write_label_maps(tmp_path, labels)
    hook = EdgeNetPretrainHook(
        settings=CASE.settings, accept_failed_check=True)
    hook.before_train(runner_stub(tmp_path, dataset, CASE.model()))
    with open(hook.checkpoint[:-4] + '.json') as f:
        report = json.load(f)['val_clean']
    expected = recomputed_report(hook.checkpoint, labels)
    if edges_found:  # the net of this short run finds some edges
        assert expected['tp'] > 0
    assert expected['fp'] + expected['fn'] > 0  # counts, not all zero
    for key in ('tp', 'fp', 'fn'):
        assert report[key] == expected[key], key
    for key in ('precision', 'recall', 'f1'):
        assert report[key] == pytest.approx(expected[key], abs=1e-12), key
