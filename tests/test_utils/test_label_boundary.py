# Copyright (c) mmboundary contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmboundary.datasets.transforms import boundary as transforms_boundary
from mmboundary.models.utils import semantic_edge_net
from mmboundary.utils import label_boundary
from mmboundary.utils.label_boundary import (edge_target, semantic_edge_map,
                                             sobel_boundary_map,
                                             sobel_boundary_target)


def test_one_home():
    """Transforms, losses and the edge net use the same functions."""
    assert transforms_boundary.semantic_edge_map is semantic_edge_map
    assert transforms_boundary.sobel_boundary_map is sobel_boundary_map
    assert semantic_edge_net.edge_target is edge_target
    from mmboundary.models.losses import semeda_loss
    assert semeda_loss.edge_target is label_boundary.edge_target


def test_sobel_target_by_hand():
    # Two vertical stripes: |gx| = 1 + 2 + 1 = 4 on the two columns next to
    # the change, 0 elsewhere (replicated border: no border boundary).
    lab = torch.tensor([[0, 0, 1, 1]] * 4)[None]
    expected = torch.tensor([[0, 1, 1, 0]] * 4)[None]
    assert torch.equal(sobel_boundary_target(lab), expected)
    # Strict threshold on the magnitude 4.
    assert sobel_boundary_target(lab, threshold=4.0).sum() == 0
    assert torch.equal(sobel_boundary_target(lab, threshold=3.9), expected)
    # Class ids matter: a jump 0 -> 3 has magnitude 12.
    assert torch.equal(
        sobel_boundary_target(lab * 3, threshold=11.9), expected)
    # A single pixel of class 1 in a 0 field: gx = gy = 0 at its centre (a
    # symmetric window), magnitude > 0 at its 8 neighbours.
    dot = torch.zeros(1, 5, 5, dtype=torch.long)
    dot[0, 2, 2] = 1
    out = sobel_boundary_target(dot)[0]
    ring = torch.zeros(5, 5, dtype=torch.long)
    ring[1:4, 1:4] = 1
    ring[2, 2] = 0
    assert torch.equal(out, ring)


def test_sobel_target_ignore():
    lab = torch.zeros(1, 5, 6, dtype=torch.long)
    lab[0, :, 3:] = 2
    lab[0, 0, 0] = 255
    out = sobel_boundary_target(lab)[0]
    # The ignore pixel and its 3x3 window are ignored, nothing else.
    assert out[0, 0] == out[0, 1] == out[1, 0] == out[1, 1] == 255
    assert (out == 255).sum() == 4
    assert torch.equal(out[2:, :], torch.tensor([[0, 0, 1, 1, 0, 0]] * 3))
    # (N, 1, H, W) is accepted; other shapes are not.
    assert torch.equal(sobel_boundary_target(lab[:, None])[0], out)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        sobel_boundary_target(lab[0])


def test_numpy_and_torch_twins_agree():
    rng = np.random.default_rng(0)
    for trial in range(5):
        lab = np.kron(
            rng.integers(0, 6, size=(5, 7)), np.ones((3, 4), np.int64))
        lab = lab[:13, :25].astype(np.uint8)
        ref = sobel_boundary_map(lab, threshold=float(trial))
        out = sobel_boundary_target(
            torch.from_numpy(lab).long()[None], threshold=float(trial))[0]
        np.testing.assert_array_equal(out.numpy(), ref)
        ref8 = semantic_edge_map(lab, connectivity=8, width=1)
        np.testing.assert_array_equal(
            edge_target(torch.from_numpy(lab).long()[None])[0].numpy(), ref8)
    # With an ignore region, they agree away from it (3x3 window).
    lab = np.kron(rng.integers(0, 4, (4, 4)), np.ones((4, 4), np.int64))
    lab[5:9, 5:9] = 255
    ref = sobel_boundary_map(lab.astype(np.uint8))
    out = sobel_boundary_target(torch.from_numpy(lab)[None])[0].numpy()
    far = np.ones_like(lab, bool)
    far[4:10, 4:10] = False
    np.testing.assert_array_equal(out[far], ref[far])
    assert (out[5:9, 5:9] == 255).all() and (ref[5:9, 5:9] == 255).all()
