# Copyright (c) mmboundary contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

# yapf: disable
from mmboundary.models.utils.inverse_net import (REFERENCE_NUM_PARAMETERS,
                                                 InverseNet,
                                                 euclidean_distance,
                                                 geodesic_distance,
                                                 inverse_distance,
                                                 matrix_to_params,
                                                 params_to_matrix,
                                                 project_to_so3, warp_boundary)

# yapf: enable


def _rot(phi):
    return torch.tensor([[math.cos(phi), -math.sin(phi), 0],
                         [math.sin(phi), math.cos(phi), 0], [0, 0, 1]],
                        dtype=torch.float64)


def _mat(rows):
    return torch.tensor(rows, dtype=torch.float64)


def _np_geodesic(theta_hat, theta=None, lam=0.1):
    """Eqs. 3-4 with numpy's SVD (the paper's formula, no smoothing)."""
    m = theta_hat if theta is None else np.linalg.solve(theta, theta_hat)
    u, _, vt = np.linalg.svd(m)
    p = u @ np.diag([1, 1, np.linalg.det(u @ vt)]) @ vt
    cos = np.clip((np.trace(p) - 1) / 2, -1, 1)
    return np.arccos(cos) + lam * np.sum((m - p)**2)


CASES = [
    # (theta_hat, euclidean ||theta_hat - I||_F, geodesic eq. 3)
    (_rot(0.3), 2 * math.sqrt(2) * math.sin(0.15), 0.3),
    (_rot(-0.1), 2 * math.sqrt(2) * math.sin(0.05), 0.1),
    (_mat([[1, 0, .1], [0, 1, 0], [0, 0, 1]]), 0.1, 0.050459),
    (_mat([[1, 0, .1], [0, 1, .2], [0, 0, 1]]), math.sqrt(0.05), 0.113849),
    (_mat([[1.2, 0, 0], [0, 1.2, 0], [0, 0, 1]]), math.sqrt(0.08), 0.008),
    (_mat([[.8, 0, 0], [0, .8, 0], [0, 0, 1]]), math.sqrt(0.08), 0.008),
    (_mat([[1, 0, 0], [0, 1, 0], [.1, 0, 1]]), 0.1, 0.050459),
    (_mat([[1.1, .05, .02], [-.03, .95, -.04], [0, 0,
                                                1]]), 0.133791, 0.046482),
]


@pytest.mark.parametrize('theta_hat,euc,geo', CASES)
def test_distances_on_known_matrices(theta_hat, euc, geo):
    e = euclidean_distance(theta_hat[None])
    g = geodesic_distance(theta_hat[None])
    assert e.item() == pytest.approx(euc, abs=1e-6)
    assert g.item() == pytest.approx(geo, abs=2e-6)
    # independent re-derivation with numpy's SVD
    assert g.item() == pytest.approx(_np_geodesic(theta_hat.numpy()), abs=2e-6)


def test_relative_form_and_lambda():
    g = geodesic_distance(_rot(0.5)[None], _rot(0.2)[None])
    assert g.item() == pytest.approx(0.3, abs=1e-6)
    scale = _mat([[1.2, 0, 0], [0, 1.2, 0], [0, 0, 1]])[None]
    assert geodesic_distance(
        scale, lam=1.0).item() == pytest.approx(
            0.08, abs=1e-5)
    ref = _rot(0.2)[None]
    assert euclidean_distance(ref @ scale, ref).item() == pytest.approx(
        torch.linalg.norm(ref @ scale - ref).item())
    rng = np.random.default_rng(0)
    for _ in range(5):
        m = np.eye(3) + rng.normal(0, 0.1, (3, 3))
        t = np.eye(3) + rng.normal(0, 0.1, (3, 3))
        got = geodesic_distance(
            torch.from_numpy(m)[None], torch.from_numpy(t)[None], lam=0.3)
        assert got.item() == pytest.approx(_np_geodesic(m, t, 0.3), abs=1e-6)


def test_identity_is_the_minimum():
    eye = torch.eye(3, dtype=torch.float64)[None]
    assert euclidean_distance(eye).item() == pytest.approx(1e-6, abs=1e-9)
    assert geodesic_distance(eye).item() == pytest.approx(1e-6, abs=1e-9)
    rng = np.random.default_rng(1)
    for scale in (1e-3, 1e-2, 1e-1):
        pert = torch.from_numpy(eye.numpy() + rng.normal(0, scale, (50, 3, 3)))
        assert (euclidean_distance(pert) > euclidean_distance(eye)).all()
        assert (geodesic_distance(pert) > geodesic_distance(eye)).all()


def test_gradients_finite_at_and_near_identity():
    for n in (6, 8):
        for scale in (0.0, 1e-8, 1e-4, 1e-1):
            r = (torch.randn(16, n, dtype=torch.float64) *
                 scale).requires_grad_()
            for fn in ('euclidean', 'geodesic'):
                r.grad = None
                inverse_distance(r, fn).sum().backward()
                assert torch.isfinite(r.grad).all(), (n, scale, fn)
                if scale == 0.0:  # the minimum: zero gradient
                    assert r.grad.abs().max() < 1e-6
    # The naive SVD projection the paper describes has NaN gradients at I.
    m = torch.eye(3, dtype=torch.float64).requires_grad_()
    u, _, vh = torch.linalg.svd(m)
    (u @ vh).sum().backward()
    assert not torch.isfinite(m.grad).all()
    # Away from I the gradient is the analytic one: d||r||/dr = r / ||r||.
    r = torch.tensor([[0.3, 0, 0, 0, -0.4, 0]],
                     dtype=torch.float64,
                     requires_grad=True)
    inverse_distance(r, 'euclidean').sum().backward()
    torch.testing.assert_close(r.grad, r.detach() / 0.5)


def test_project_to_so3_matches_svd():
    rng = np.random.default_rng(2)
    for _ in range(10):
        m = np.eye(3) + rng.normal(0, 0.3, (3, 3))
        if np.linalg.det(m) <= 0.05:
            continue
        p = project_to_so3(torch.from_numpy(m)[None])[0].numpy()
        u, _, vt = np.linalg.svd(m)
        np.testing.assert_allclose(p, u @ vt, atol=1e-9)
    # det < 0: the SVD branch, a proper rotation, no gradient, no NaN.
    m = torch.diag(torch.tensor([1.0, 1.0, -1.0],
                                dtype=torch.float64))[None].requires_grad_()
    p = project_to_so3(m)
    assert torch.linalg.det(p).item() == pytest.approx(1.0)
    p.sum().backward()
    assert torch.equal(m.grad, torch.zeros_like(m))


def test_params_matrix_round_trip():
    r = torch.arange(1, 9, dtype=torch.float64)[None] / 10
    theta = params_to_matrix(r)
    torch.testing.assert_close(
        theta[0], _mat([[1.1, .2, .3], [.4, 1.5, .6], [.7, .8, 1]]))
    torch.testing.assert_close(matrix_to_params(theta, 8), r)
    theta6 = params_to_matrix(r[:, :6])
    torch.testing.assert_close(theta6[0, 2], _mat([0, 0, 1]))
    with pytest.raises(ValueError, match=r'\(B, 6\) or \(B, 8\)'):
        params_to_matrix(r[:, :5])


def test_warp_boundary_convention():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 3] = 1
    for k in (1, 2):
        theta = torch.eye(3)[None].clone()
        theta[0, 0, 2] = -2.0 * k / 8  # k px to the right
        y = warp_boundary(x, theta)
        assert y[0, 0].nonzero().tolist() == [[3, 3 + k]]
        assert y.sum().item() == pytest.approx(1.0)
    # Affine matrices: identical to the STN's affine_grid.
    theta = torch.tensor([[[0.9, 0.1, 0.05], [-0.1, 1.05, -0.1], [0, 0, 1]]])
    img = torch.rand(1, 1, 9, 13)
    ref = F.grid_sample(
        img,
        F.affine_grid(theta[:, :2], (1, 1, 9, 13), align_corners=False),
        align_corners=False)
    torch.testing.assert_close(warp_boundary(img, theta), ref)
    # The identity is exact.
    torch.testing.assert_close(warp_boundary(img, torch.eye(3)[None]), img)


def _warp_brute(img, theta):
    """warp_boundary by loops: homogeneous map of each output pixel centre,
    then bilinear sampling with zeros outside (align_corners=False)."""
    h, w = img.shape
    out = np.zeros_like(img)
    for i in range(h):
        for j in range(w):
            u = np.array([(2 * j + 1) / w - 1, (2 * i + 1) / h - 1, 1.0])
            x, y, z = theta @ u
            px = ((x / z + 1) * w - 1) / 2  # pixel coordinates
            py = ((y / z + 1) * h - 1) / 2
            x0, y0 = math.floor(px), math.floor(py)
            for yy, xx in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1,
                                                                  x0 + 1)):
                if 0 <= yy < h and 0 <= xx < w:
                    wgt = (1 - abs(px - xx)) * (1 - abs(py - yy))
                    out[i, j] += wgt * img[yy, xx]
    return out


def test_warp_boundary_homography_divides_by_the_third_coordinate():
    img = torch.rand(1, 1, 7, 10, dtype=torch.float64)
    # Homogeneous coordinates: theta and 2 theta are the same map.
    torch.testing.assert_close(
        warp_boundary(img, 2 * torch.eye(3, dtype=torch.float64)[None]), img)
    # (x, y, 1) -> (x, y, 2): sample at u / 2, a 2x zoom on the centre.
    zoom = torch.diag(torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64))
    got = warp_boundary(img, zoom[None])
    assert not torch.allclose(got, img)
    np.testing.assert_allclose(got[0, 0].numpy(),
                               _warp_brute(img[0, 0].numpy(), zoom.numpy()))
    # A projective matrix (non-zero last row) against the loops.
    persp = np.array([[0.95, 0.1, 0.05], [-0.05, 1.1, 0.02], [0.3, -0.2, 1.0]])
    got = warp_boundary(img, torch.from_numpy(persp)[None])
    np.testing.assert_allclose(
        got[0, 0].numpy(), _warp_brute(img[0, 0].numpy(), persp), atol=1e-12)


def test_inverse_net_size_shapes_and_init():
    budget = REFERENCE_NUM_PARAMETERS / 10
    assert REFERENCE_NUM_PARAMETERS == (2 * 224 * 224 * 1000 + 1000 +
                                        1000 * 32 + 32 + 32 * 4 + 4)
    for n, expected in ((6, 9_659_206), (8, 9_659_336)):
        net = InverseNet(num_params=n)
        count = sum(p.numel() for p in net.parameters())
        assert count == expected == (25088 * 384 + 384 + 384 * 64 + 64 +
                                     64 * n + n)
        assert count <= budget
    pooled = InverseNet(tile_size=224, in_pool=2)
    assert sum(p.numel() for p in pooled.parameters()) == 9_659_206
    net = InverseNet(tile_size=16, hidden=(8, 4))
    out = net(torch.rand(3, 1, 16, 16), torch.rand(3, 1, 16, 16))
    assert out.shape == (3, 6) and torch.equal(out, torch.zeros(3, 6))
    assert net.meta() == dict(
        arch='mlp', tile_size=16, num_params=6, hidden=[8, 4], in_pool=1)
    with pytest.raises(
            ValueError, match=r'\(B, 1, 16, 16\).*\(3, 2, 16, 16\)'):
        net(torch.rand(3, 1, 16, 16), torch.rand(3, 2, 16, 16))
    with pytest.raises(ValueError, match='num_params must be 6'):
        InverseNet(num_params=4)
    with pytest.raises(ValueError, match='in_pool=3 .*tile_size=16'):
        InverseNet(tile_size=16, in_pool=3)


def test_unknown_distance():
    with pytest.raises(ValueError, match="'cosine'.*euclidean"):
        inverse_distance(torch.zeros(1, 6), 'cosine')


def test_forward_is_the_dense_net_on_the_concatenation():
    """The forward (fc1 split into its x and y halves) equals the plain
    Linear-ReLU-Linear-ReLU-Linear on [pool(x), pool(y)] flattened, and a
    frozen net passes a gradient only into y."""
    torch.manual_seed(0)
    net = InverseNet(tile_size=8, hidden=(5, 3), in_pool=2)
    torch.nn.init.normal_(net.fc3.weight)
    x = torch.rand(4, 1, 8, 8)
    y = torch.rand(4, 1, 8, 8, requires_grad=True)
    flat = torch.cat(
        [F.avg_pool2d(x, 2).flatten(1),
         F.avg_pool2d(y, 2).flatten(1)], 1)
    assert flat.shape == (4, 32)
    h = torch.relu(flat @ net.fc1.weight.T + net.fc1.bias)
    h = torch.relu(h @ net.fc2.weight.T + net.fc2.bias)
    expected = h @ net.fc3.weight.T + net.fc3.bias
    out = net(x, y)
    assert torch.allclose(out, expected, atol=1e-6)
    for p in net.parameters():
        p.requires_grad_(False)
    out = net(x, y)
    out.sum().backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())
