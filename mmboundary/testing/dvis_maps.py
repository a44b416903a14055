# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS instance-label maps with the value statistics of a trained net.

An untrained DVIS head predicts a nearly constant map, on which the
discretiser finds nothing and the verifier never runs; timings and
equality checks need maps like a trained network's: background pushed
below 0 by the binary loss (so exactly 0 after the ReLU, with a few weak
positive speckles), instances as plateaus near distinct integers (the
quantisation loss) with a per-instance offset, occlusion, ramps two to
three map pixels wide at the boundaries (the x2 bilinear decoder) and
pixel noise.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['synthetic_dvis_map']


def synthetic_dvis_map(shape: Tuple[int, int, int],
                       num_instances: int = 8,
                       seed: int = 0,
                       noise: float = 0.04,
                       offset: float = 0.15) -> Tensor:
    """A raw (pre-ReLU) DVIS map with plateaus, ramps and noise.

    Instance ``k`` is an ellipse (axes 4 to a third of the map side, drawn
    in random order so that later ones occlude earlier ones) at the value
    ``v_k + u_k``, ``v`` a random permutation of ``1..num_instances`` and
    ``u_k`` uniform in ``[-offset, offset]``; the background is ``-0.3``;
    the map is box-blurred (3x3, the decoder's ramps), then gets Gaussian
    noise of std ``noise`` and smooth background speckles.

    Args:
        shape (tuple[int, int, int]): (B, h, w) at map resolution.
        num_instances (int): instances per image.
        seed (int): random seed (the map is a function of the arguments).
        noise (float): pixel noise std.
        offset (float): largest per-instance offset from the integer.

    Returns:
        Tensor: (B, 1, h, w) float32.
    """
    B, H, W = shape
    gen = torch.Generator().manual_seed(seed)
    out = torch.full((B, 1, H, W), -0.3)
    yy = torch.arange(H, dtype=torch.float32)[:, None]
    xx = torch.arange(W, dtype=torch.float32)[None, :]
    for b in range(B):
        values = torch.randperm(num_instances, generator=gen) + 1.0
        for k in range(num_instances):
            lo = 4.0
            hi_y, hi_x = max(lo + 1, H / 3), max(lo + 1, W / 3)
            ay = lo + float(torch.rand(1, generator=gen)) * (hi_y - lo)
            ax = lo + float(torch.rand(1, generator=gen)) * (hi_x - lo)
            cy = float(torch.rand(1, generator=gen)) * H
            cx = float(torch.rand(1, generator=gen)) * W
            inside = ((yy - cy) / ay)**2 + ((xx - cx) / ax)**2 <= 1
            u = (float(torch.rand(1, generator=gen)) * 2 - 1) * offset
            out[b, 0][inside] = float(values[k]) + u
    if H and W:
        out = F.avg_pool2d(
            F.pad(out, (1, 1, 1, 1), mode='replicate'), 3, stride=1)
    out = out + noise * torch.randn(out.shape, generator=gen)
    if H and W:  # weak positive speckles in the background
        speck = torch.rand((B, 1, -(-H // 4), -(-W // 4)), generator=gen)
        speck = F.interpolate(
            speck, size=(H, W), mode='bilinear', align_corners=False)
        out = out + 0.35 * (speck > 0.9).float() * speck
    return out.contiguous()
