# Copyright (c) mmboundary contributors. All rights reserved.
"""InverseForm's inverse-transformation network and distance measures.

Borse et al., "InverseForm: A Loss Function for Structured Boundary-Aware
Segmentation", CVPR 2021, Sec. 3.2 (architecture) and Sec. 3.3 (distances).

Convention (the paper's STN [21] theta): a 3x3 matrix acting on normalised
coordinates ``u`` in [-1, 1] (``align_corners=False``). A boundary tile x is
transformed by ``t_theta(x)(u) = x(pi(theta [u, 1]^T))`` with
``pi([a, b, c]) = (a / c, b / c)``, bilinear sampling and zeros outside
(:func:`warp_boundary`). One pixel of a T-pixel tile is 2 / T; an entry
``theta[0, 2] = -2k / T`` moves the content k pixels to the right.

* :class:`InverseNet`: (GT tile x, predicted tile t_theta(x)) ->
  ``r = theta_hat - I`` at the free entries (6 affine, 8 homography).
* :func:`euclidean_distance` (eq. 1) and :func:`geodesic_distance`
  (eqs. 3-4, lambda = 0.1), both with finite gradients at and near the
  identity.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: The paper's pairing (Sec. 3.3): distance -> (family, free parameters).
TRANSFORM_OF_DISTANCE = {
    'euclidean': ('affine', 6),
    'geodesic': ('homography', 8)
}

#: Reference (released) InverseNet size: 2*224^2 -> 1000 -> 32 -> 4.
REFERENCE_NUM_PARAMETERS = 100_385_164


class InverseNet(nn.Module):
    """Dense inverse-transformation network (InverseForm Sec. 3.2, Fig. 3b).

    (B, 1, T, T) GT boundary tiles x and (B, 1, T, T) transformed /
    predicted tiles y -> (B, P) parameters ``r = theta_hat - I`` (P = 6:
    2-D affine, P = 8: homography with the 9th entry fixed to 1). Only dense
    layers, as in the paper: optional fixed average pooling by ``in_pool``
    (no parameters), flatten, concatenate [x, y], Linear-ReLU-Linear-ReLU-
    Linear. The last layer starts at zero, so an untrained net predicts the
    identity. With the defaults (T = 112, widths (384, 64)) it has 9,659,206
    (P = 6) / 9,659,336 (P = 8) parameters, under a tenth of the released
    100,385,164.

    Args:
        tile_size (int): T. Defaults to 112.
        num_params (int): 6 (affine) or 8 (homography). Defaults to 6.
        hidden (Sequence[int]): The two hidden widths. Defaults to (384, 64).
        in_pool (int): Average-pool factor applied to each input map; must
            divide ``tile_size``. Defaults to 1.
    """

    def __init__(self,
                 tile_size: int = 112,
                 num_params: int = 6,
                 hidden: Sequence[int] = (384, 64),
                 in_pool: int = 1) -> None:
        super().__init__()
        if num_params not in (6, 8):
            raise ValueError('InverseNet: num_params must be 6 (affine) or 8 '
                             f'(homography), got {num_params}.')
        if int(in_pool) < 1 or int(tile_size) % int(in_pool):
            raise ValueError(f'InverseNet: in_pool={in_pool} must be >= 1 and'
                             f' divide tile_size={tile_size}.')
        if len(hidden) != 2 or min(hidden) < 1:
            raise ValueError('InverseNet: hidden must give two positive '
                             f'widths, got {tuple(hidden)}.')
        self.tile_size = int(tile_size)
        self.num_params = int(num_params)
        self.hidden = tuple(int(h) for h in hidden)
        self.in_pool = int(in_pool)
        side = self.tile_size // self.in_pool
        self.fc1 = nn.Linear(2 * side * side, self.hidden[0])
        self.fc2 = nn.Linear(self.hidden[0], self.hidden[1])
        self.fc3 = nn.Linear(self.hidden[1], self.num_params)
        nn.init.zeros_(self.fc3.weight)
        nn.init.zeros_(self.fc3.bias)
        # 1 once real weights were loaded or pretrained (see FrozenAuxNet).
        self.register_buffer('pretrained', torch.zeros((), dtype=torch.uint8))

    def meta(self) -> Dict:
        """JSON-able constructor arguments (stored in checkpoints)."""
        return dict(
            arch='mlp',
            tile_size=self.tile_size,
            num_params=self.num_params,
            hidden=list(self.hidden),
            in_pool=self.in_pool)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Regress ``theta_hat - I`` from (x, t_theta(x)).

        Args:
            x (Tensor): (B, 1, T, T) GT boundary tiles.
            y (Tensor): (B, 1, T, T) transformed / predicted tiles.

        Returns:
            Tensor: (B, num_params).
        """
        t = self.tile_size
        for name, v in (('x', x), ('y', y)):
            if v.dim() != 4 or tuple(v.shape[1:]) != (1, t, t):
                raise ValueError(
                    f'InverseNet(tile_size={t}) expects {name} of shape '
                    f'(B, 1, {t}, {t}), got {tuple(v.shape)}.')
        if x.shape[0] != y.shape[0]:
            raise ValueError(f'InverseNet: x and y batch sizes differ: '
                             f'{x.shape[0]} vs {y.shape[0]}.')
        if self.in_pool > 1:
            x = F.avg_pool2d(x, self.in_pool)
            y = F.avg_pool2d(y, self.in_pool)
        # fc1 on the concatenation [x, y], as two products with the two
        # halves of its weight: the same layer, but a gradient that reaches
        # only y (the prediction) needs only y's half in the backward pass.
        side = x.shape[-1] * x.shape[-2]
        w = self.fc1.weight
        h = F.linear(x.flatten(1), w[:, :side]) + F.linear(
            y.flatten(1), w[:, side:], self.fc1.bias)
        h = F.relu(h)
        h = F.relu(self.fc2(h))
        return self.fc3(h)


def params_to_matrix(r: torch.Tensor) -> torch.Tensor:
    """(B, 6) or (B, 8) ``theta - I`` at the free entries -> (B, 3, 3).

    6: ``[[1 + r0, r1, r2], [r3, 1 + r4, r5], [0, 0, 1]]``;
    8: the last row is ``[r6, r7, 1]``.
    """
    if r.dim() != 2 or r.shape[1] not in (6, 8):
        raise ValueError('params_to_matrix expects (B, 6) or (B, 8), got '
                         f'{tuple(r.shape)}.')
    b = r.shape[0]
    last = r.new_zeros(b, 3)
    if r.shape[1] == 8:
        last = torch.cat([r[:, 6:8], r.new_zeros(b, 1)], dim=1)
    delta = torch.cat([r[:, :6], last], dim=1).view(b, 3, 3)
    return delta + torch.eye(3, dtype=r.dtype, device=r.device)


def matrix_to_params(theta: torch.Tensor, num_params: int) -> torch.Tensor:
    """Inverse of :func:`params_to_matrix`: (B, 3, 3) -> (B, num_params)."""
    delta = (theta -
             torch.eye(3, dtype=theta.dtype, device=theta.device)).flatten(1)
    return delta[:, :num_params]


def warp_boundary(x: torch.Tensor,
                  theta: torch.Tensor,
                  mode: str = 'bilinear') -> torch.Tensor:
    """Apply the STN transformation ``theta`` to (B, C, H, W) maps.

    Output pixel at normalised ``u`` samples the input at
    ``pi(theta [u, 1]^T)`` (zeros outside, ``align_corners=False``).

    Args:
        x (Tensor): (B, C, H, W) maps.
        theta (Tensor): (B, 3, 3) matrices.
        mode (str): ``grid_sample`` mode. Defaults to 'bilinear'.

    Returns:
        Tensor: (B, C, H, W).
    """
    b, _, h, w = x.shape
    ys = (torch.arange(h, dtype=x.dtype, device=x.device) * 2 + 1) / h - 1
    xs = (torch.arange(w, dtype=x.dtype, device=x.device) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    pts = torch.stack([gx, gy, torch.ones_like(gx)], dim=-1).view(1, -1, 3)
    mapped = pts @ theta.to(x.dtype).transpose(1, 2)  # (B, HW, 3)
    grid = mapped[..., :2] / mapped[..., 2:3]
    return F.grid_sample(
        x,
        grid.view(b, h, w, 2),
        mode=mode,
        padding_mode='zeros',
        align_corners=False)


def _identity_like(theta_hat: torch.Tensor) -> torch.Tensor:
    return torch.eye(
        3, dtype=theta_hat.dtype, device=theta_hat.device).expand_as(theta_hat)


def euclidean_distance(theta_hat: torch.Tensor,
                       theta: Optional[torch.Tensor] = None,
                       eps: float = 1e-12) -> torch.Tensor:
    """Euclidean distance of InverseForm eq. 1: ``||theta_hat - theta||_F``.

    ``sqrt(||.||_F^2 + eps)`` so that the gradient is finite (zero) at the
    minimum; at ``theta_hat == theta`` the value is ``sqrt(eps)`` (1e-6).

    Args:
        theta_hat (Tensor): (B, 3, 3) predicted matrices.
        theta (Tensor, optional): (B, 3, 3) reference; None: I_3 (eq. 1).
        eps (float): Smoothing. Defaults to 1e-12.

    Returns:
        Tensor: (B, ) distances.
    """
    ref = _identity_like(theta_hat) if theta is None else theta
    return ((theta_hat - ref).pow(2).sum((1, 2)) + eps).sqrt()


def project_to_so3(m: torch.Tensor, iters: int = 12) -> torch.Tensor:
    """Nearest rotation P = U diag(1, 1, det(U V^T)) V^T of (B, 3, 3) M
    (eq. 3's projection), with finite gradients.

    For det M > 0, P is M's orthogonal polar factor, computed by the Newton
    iteration ``X <- (X + X^-T) / 2`` from X = M (differentiable even where
    singular values repeat, e.g. at M = I, where the SVD backward is NaN).
    For det M <= 0 the SVD formula runs on ``M.detach()`` (no gradient);
    the Newton branch then runs on I so that no inf / NaN reaches
    ``torch.where``.

    Args:
        m (Tensor): (B, 3, 3).
        iters (int): Newton iterations. Defaults to 12.

    Returns:
        Tensor: (B, 3, 3) rotation matrices.
    """
    det = torch.linalg.det(m)
    good = (det > 1e-6).view(-1, 1, 1)
    eye = _identity_like(m)
    x = torch.where(good, m, eye)
    for _ in range(iters):
        x = 0.5 * (x + torch.linalg.inv(x).transpose(1, 2))
    with torch.no_grad():
        u, _, vh = torch.linalg.svd(m.detach())
        d = torch.linalg.det(u @ vh)
        fix = torch.ones(m.shape[0], 3, dtype=m.dtype, device=m.device)
        fix[:, 2] = d
        svd_p = u @ torch.diag_embed(fix) @ vh
    return torch.where(good, x, svd_p)


def geodesic_distance(theta_hat: torch.Tensor,
                      theta: Optional[torch.Tensor] = None,
                      lam: float = 0.1,
                      eps: float = 1e-12) -> torch.Tensor:
    """Geodesic distance of InverseForm eqs. 3-4.

    ``M = theta^-1 theta_hat``, ``P`` = its projection onto SO(3)
    (:func:`project_to_so3`), ``R_pi = M - P`` (eq. 4) and
    ``d = arccos((tr P - 1) / 2) + lam * tr(R_pi^T R_pi)`` (eq. 3). The
    angle is computed as ``atan2(sqrt(||P - P^T||_F^2 / 8 + eps),
    (tr P - 1) / 2)``, equal to the arccos for a rotation but differentiable
    at zero angle (the arccos derivative is infinite there). At the
    identity the value is ``atan2(sqrt(eps), 1)`` (1e-6).

    Args:
        theta_hat (Tensor): (B, 3, 3) predicted matrices.
        theta (Tensor, optional): (B, 3, 3) reference; None: I_3 (the
            loss, Sec. 3.3).
        lam (float): lambda of eq. 3. Defaults to 0.1.
        eps (float): Smoothing. Defaults to 1e-12.

    Returns:
        Tensor: (B, ) distances.
    """
    with torch.autocast(theta_hat.device.type, enabled=False):
        th = theta_hat.float() if theta_hat.dtype in (
            torch.float16, torch.bfloat16) else theta_hat
        m = th if theta is None else torch.linalg.solve(theta.to(th), th)
        p = project_to_so3(m)
        skew = (p - p.transpose(1, 2)).pow(2).sum((1, 2)) / 8
        cos = (p.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2
        angle = torch.atan2((skew + eps).sqrt(), cos)
        return angle + lam * (m - p).pow(2).sum((1, 2))


def inverse_distance(r: torch.Tensor,
                     distance: str,
                     lam: float = 0.1) -> torch.Tensor:
    """Distance of the predicted ``theta_hat = I + r`` from the identity.

    Args:
        r (Tensor): (B, 6) or (B, 8) InverseNet output.
        distance (str): 'euclidean' (eq. 1) or 'geodesic' (eq. 3).
        lam (float): lambda of eq. 3.

    Returns:
        Tensor: (B, ) distances.
    """
    check_distance(distance)
    theta_hat = params_to_matrix(r)
    if distance == 'euclidean':
        return euclidean_distance(theta_hat)
    return geodesic_distance(theta_hat, None, lam)


def check_distance(distance: str, name: str = 'distance') -> None:
    """ValueError naming ``distance`` (given as ``name``) unless it is a
    known distance."""
    if distance not in TRANSFORM_OF_DISTANCE:
        raise ValueError(
            f'Unknown InverseForm `{name}` {distance!r}; use one of '
            f"{sorted(TRANSFORM_OF_DISTANCE)} ('euclidean': eq. 1 with an "
            "affine InverseNet, 'geodesic': eq. 3 with a homography one).")


__all__: List[str] = [
    'InverseNet', 'params_to_matrix', 'matrix_to_params', 'warp_boundary',
    'euclidean_distance', 'geodesic_distance', 'project_to_so3',
    'inverse_distance', 'check_distance', 'TRANSFORM_OF_DISTANCE',
    'REFERENCE_NUM_PARAMETERS'
]
