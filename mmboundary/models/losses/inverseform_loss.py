# Copyright (c) mmboundary contributors. All rights reserved.
"""InverseForm loss (Borse et al., CVPR 2021, Sec. 3.4, eq. 5).

The predicted boundary map b_pred = sigmoid(boundary logits) and the GT
boundary b_gt are split into T x T tiles; a frozen, pretrained InverseNet
regresses the transformation between each (GT tile, predicted tile) pair
and the loss is its distance from the identity (eq. 1 or eq. 3), summed
(eq. 5) or averaged over tiles.

Unlike the released code, the prediction enters through a sigmoid (the
released ``log_softmax`` over one channel is identically 0: no gradient),
tiles are cut at native resolution for any image size (``tiling='cover'``;
the released resize to 672 x 1344 and 3 x 6 grid is ``'resize_grid'``),
ignore pixels are zeroed in both maps, and the net's weights are verified.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmboundary.models.pretraining.inverse_net import load_inverse_net_state
from mmboundary.models.utils.frozen import FrozenAuxNet, accept_published_drop
from mmboundary.models.utils.inverse_net import (TRANSFORM_OF_DISTANCE,
                                                 InverseNet, check_distance,
                                                 inverse_distance)
from mmboundary.registry import MODELS
from mmboundary.utils.validation import (check_bool, check_choice, check_dict,
                                         check_int, check_loss_name,
                                         check_number, check_sequence,
                                         check_str)

_NO_WEIGHTS_MSG = (
    'InverseFormLoss: the InverseNet has no pretrained weights. Give '
    'inverse_net_checkpoint=PATH (written by `python tools/misc/'
    'train_inverse_net.py CONFIG`) or add dict(type="InverseNetPretrainHook")'
    ' to custom_hooks; a random InverseNet is never used.')


def tile_starts(size: int, tile: int) -> List[int]:
    """Tile starts along one axis: 0, T, 2T, ... while they fit, plus
    ``size - T`` if needed to reach the end (flush with the border); [0]
    when ``size <= T``."""
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile + 1, tile))
    if starts[-1] + tile < size:
        starts.append(size - tile)
    return starts


def tile_boxes(height: int, width: int, tile: int) -> List[Tuple[int, int]]:
    """Top-left corners ``(y0, x0)`` of the ``'cover'`` tiling: at native
    resolution, ceil(H / T) x ceil(W / T) tiles covering every pixel (maps
    smaller than T are zero-padded to T)."""
    return [(y, x) for y in tile_starts(height, tile)
            for x in tile_starts(width, tile)]


def _tiles_along(maps: torch.Tensor, dim: int, tile: int) -> torch.Tensor:
    """Split axis ``dim`` (size >= T) into (K, T) at :func:`tile_starts`."""
    size = maps.shape[dim]
    regular = size // tile
    parts = [
        maps.narrow(dim, 0, regular * tile).unflatten(dim, (regular, tile))
    ]
    if regular * tile < size:
        parts.append(maps.narrow(dim, size - tile, tile).unsqueeze(dim))
    return torch.cat(parts, dim) if len(parts) > 1 else parts[0]


def extract_tiles(maps: torch.Tensor, tile: int) -> Tuple[torch.Tensor, int]:
    """Cut (N, C, H, W) maps into the ``'cover'`` tiles.

    Args:
        maps (Tensor): (N, C, H, W).
        tile (int): T.

    Returns:
        tuple[Tensor, int]: (N * K, C, T, T) tiles, image-major then box
        order, and K (tiles per image). Maps smaller than T along an axis
        are zero-padded at the bottom / right.
    """
    h, w = maps.shape[-2:]
    if h < tile or w < tile:
        maps = F.pad(maps, (0, max(0, tile - w), 0, max(0, tile - h)))
    # Per axis: the regular tiles as one view, plus the flush last one (as
    # tile_starts lists them); a few large copies whose backward writes
    # one or two zero maps per axis, not one full-size map per tile.
    n, c = maps.shape[:2]
    tiles = _tiles_along(_tiles_along(maps, 2, tile), 4, tile)
    k = tiles.shape[2] * tiles.shape[4]
    # (N, C, Ky, T, Kx, T) -> (N, Ky, Kx, C, T, T): image, then box order
    return tiles.permute(0, 2, 4, 1, 3, 5).reshape(n * k, c, tile, tile), k


def grid_tiles(maps: torch.Tensor, tile: int,
               grid: Tuple[int, int]) -> Tuple[torch.Tensor, int]:
    """The released code's tiling: bilinear resize of (N, C, H, W) maps to
    (rows * T, cols * T), then a rows x cols grid of T x T tiles."""
    rows, cols = grid
    resized = F.interpolate(
        maps, (rows * tile, cols * tile), mode='bilinear', align_corners=False)
    n, c = maps.shape[:2]
    tiles = resized.view(n, c, rows, tile, cols,
                         tile).permute(0, 2, 4, 1, 3, 5)
    return tiles.reshape(n * rows * cols, c, tile, tile), rows * cols


@MODELS.register_module()
class InverseFormLoss(nn.Module):
    """InverseForm distance loss for a boundary head's ``loss_decode``.

    **Inputs**: (N, 1, H, W) boundary logits and an (N, H, W) or
    (N, 1, H, W) boundary target in {0, 1, ``ignore_index``} (the boundary
    head's Sobel GT). ``b_pred = sigmoid(logits)`` (``pred_activation=
    'none'``: the input already is a probability map); pixels ignored in the
    target are set to 0 in both maps, so they neither create nor hide
    boundaries and get no gradient.

    **Tiling**: ``'cover'`` cuts both maps at native resolution into
    ceil(H/T) x ceil(W/T) tiles (the last row / column flush with the
    border; maps smaller than T zero-padded), any size and aspect ratio.
    ``'resize_grid'`` reproduces the released code: bilinear resize to
    (rows * T, cols * T) and a ``grid`` of tiles.

    **Per tile** the frozen InverseNet maps (GT tile, predicted tile) to
    ``theta_hat`` and the distance from I_3 is eq. 1 (``'euclidean'``, an
    affine net) or eq. 3 (``'geodesic'``, a homography net). With
    ``skip_empty_gt`` tiles with fewer than ``min_gt_pixels`` GT boundary
    pixels are left out (their transformation is undefined).

    **Reduction**: ``'mean'`` over kept tiles (or ``/ avg_factor``),
    ``'sum'`` = eq. 5 per image averaged over images, ``'none'`` = the
    (N * K, ) per-tile distances (0 for left-out tiles); times
    ``loss_weight``. Without any kept tile the loss is 0 with a graph.

    Args:
        inverse_net_checkpoint (str, optional): Verified InverseNet file;
            None: ``InverseNetPretrainHook`` provides it.
        distance (str): 'euclidean' or 'geodesic'. Defaults to 'euclidean'.
        geodesic_lambda (float): lambda of eq. 3. Defaults to 0.1.
        inverse_net (dict): InverseNet ``tile_size``, ``hidden``,
            ``in_pool``. Defaults to dict(tile_size=112, hidden=(384, 64),
            in_pool=1).
        tiling (str): 'cover' or 'resize_grid'. Defaults to 'cover'.
        grid (tuple[int, int]): Rows, columns of 'resize_grid'.
            Defaults to (3, 6).
        skip_empty_gt (bool): Leave out tiles without GT boundary.
            Defaults to True.
        min_gt_pixels (int): GT boundary pixels a kept tile needs.
            Defaults to 1.
        pred_activation (str): 'sigmoid' or 'none'. Defaults to 'sigmoid'.
        reduction (str): 'mean', 'sum' or 'none'. Defaults to 'mean'.
        loss_weight (float): gamma of eq. 6. Defaults to 1.0.
        ignore_index (int): Ignored target value (mmseg passes its own).
            Defaults to 255.
        loss_name (str): Starts with ``loss_``. Defaults to
            'loss_inverseform'.
    """

    def __init__(self,
                 inverse_net_checkpoint: Optional[str] = None,
                 distance: str = 'euclidean',
                 geodesic_lambda: float = 0.1,
                 inverse_net: Optional[dict] = None,
                 tiling: str = 'cover',
                 grid: Sequence[int] = (3, 6),
                 skip_empty_gt: bool = True,
                 min_gt_pixels: int = 1,
                 pred_activation: str = 'sigmoid',
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_inverseform') -> None:
        super().__init__()
        owner = 'InverseFormLoss'
        check_str(
            inverse_net_checkpoint,
            'inverse_net_checkpoint',
            owner,
            optional=True)
        check_str(distance, 'distance', owner)
        check_distance(distance)
        self.geodesic_lambda = check_number(
            geodesic_lambda, 'geodesic_lambda', owner, low=0)
        check_dict(inverse_net, 'inverse_net', owner, optional=True)
        self.tiling = check_choice(tiling, ('cover', 'resize_grid'), 'tiling',
                                   owner)
        grid = check_sequence(grid, 'grid', owner, length=2)
        self.grid = tuple(
            check_int(g, f'grid[{i}]', owner, low=1)
            for i, g in enumerate(grid))
        self.skip_empty_gt = check_bool(skip_empty_gt, 'skip_empty_gt', owner)
        self.min_gt_pixels = check_int(
            min_gt_pixels, 'min_gt_pixels', owner, low=0)
        self.pred_activation = check_choice(pred_activation,
                                            ('sigmoid', 'none'),
                                            'pred_activation', owner)
        self.reduction = check_choice(reduction, ('mean', 'sum', 'none'),
                                      'reduction', owner)
        self.loss_weight = check_number(
            loss_weight, 'loss_weight', owner, low=0)
        self.ignore_index = check_int(ignore_index, 'ignore_index', owner)
        check_loss_name(loss_name, owner)
        net_cfg = dict(tile_size=112, hidden=(384, 64), in_pool=1)
        unknown = sorted(set(inverse_net or {}) - set(net_cfg))
        if unknown:
            raise KeyError(f'{owner}: unknown `inverse_net` key(s) '
                           f'{unknown}; known: {sorted(net_cfg)}.')
        net_cfg.update(inverse_net or {})
        self.inverse_net_checkpoint = inverse_net_checkpoint
        self.distance = distance
        self._loss_name = loss_name
        self.inverse_net = accept_published_drop(
            FrozenAuxNet(
                InverseNet(
                    num_params=TRANSFORM_OF_DISTANCE[distance][1], **net_cfg)),
            owner, 'InverseNet')
        self._ready = False
        self._target_checked = False
        if inverse_net_checkpoint is not None:
            self.load_inverse_net(inverse_net_checkpoint)

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict."""
        return self._loss_name

    @property
    def tile_size(self) -> int:
        """T."""
        return self.inverse_net.net.tile_size

    def net_settings(self) -> dict:
        """The pretraining settings this loss fixes (the hook's key)."""
        net = self.inverse_net.net
        return dict(
            distance=self.distance,
            tile_size=net.tile_size,
            hidden=net.hidden,
            in_pool=net.in_pool,
            ignore_index=self.ignore_index,
            geodesic_lambda=self.geodesic_lambda)

    def load_inverse_net(self, path: str) -> None:
        """Load verified InverseNet weights (see :func:`~mmboundary.models.
        pretraining.inverse_net.load_inverse_net_state`)."""
        state = load_inverse_net_state(path, self.inverse_net.net)
        self.inverse_net.load_verified(state)
        self._ready = False

    def _tiles(self, maps: torch.Tensor) -> Tuple[torch.Tensor, int]:
        t = self.tile_size
        if self.tiling == 'cover':
            return extract_tiles(maps, t)
        h, w = maps.shape[-2:]
        if t > h or t > w:
            raise ValueError(
                f"InverseFormLoss(tiling='resize_grid'): tile_size={t} is "
                f'larger than the {h}x{w} boundary map; use '
                "tiling='cover' (any size) or a smaller inverse_net "
                'tile_size.')
        return grid_tiles(maps, t, self.grid)

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): (N, 1, H, W) boundary logits.
            target (Tensor): (N, H, W) or (N, 1, H, W) in {0, 1, ignore}.
            weight (Tensor, optional): Not used by a tile-level distance;
                must be None.
            avg_factor (float, optional): Denominator of ``'mean'``.
            reduction_override (str, optional): Overrides ``reduction``.
            ignore_index (int, optional): Overrides ``self.ignore_index``.

        Returns:
            Tensor: scalar, or (N * K, ) for ``'none'``.
        """
        reduction = reduction_override or self.reduction
        ignore = self.ignore_index if ignore_index is None \
            else int(ignore_index)
        if pred.dim() != 4 or pred.shape[1] != 1:
            raise ValueError(
                'InverseFormLoss needs (N, 1, H, W) boundary logits, got '
                f'{tuple(pred.shape)}; put it in the loss_decode of a '
                'BoundaryHead (1 output channel).')
        if target.dim() == 4 and target.shape[1] == 1:
            target = target[:, 0]
        if tuple(target.shape) != (pred.shape[0], *pred.shape[2:]):
            raise ValueError(
                f'InverseFormLoss: target shape {tuple(target.shape)} does '
                f'not match logits {tuple(pred.shape)}.')
        if weight is not None:
            raise ValueError(
                'InverseFormLoss: pixel weights have no meaning for a '
                'tile-level distance; do not combine it with a pixel '
                'sampler (weight must be None).')
        if not self._target_checked:
            bad = (target != 0) & (target != 1) & (target != ignore)
            if bool(bad.any()):
                raise ValueError(
                    'InverseFormLoss: the target must be a boundary map in '
                    f'{{0, 1, {ignore}}}, found {int(target[bad][0])}; the '
                    'BoundaryHead converts the GT (add GenerateSobelBoundary'
                    ' to the pipeline).')
            self._target_checked = True
        if not self._ready:
            self.inverse_net.check_weights(
                _NO_WEIGHTS_MSG, 'InverseFormLoss', self.inverse_net_checkpoint
                or 'the pretrained InverseNet')
            self._ready = True
        with torch.autocast(pred.device.type, enabled=False):
            valid = (target != ignore).unsqueeze(1).float()
            if self.pred_activation == 'sigmoid':
                prob = pred.float().sigmoid()
            else:
                prob = pred.float().clamp(0, 1)
            prob = prob * valid
            gt = (target == 1).unsqueeze(1).float() * valid
            gt_tiles, per_image = self._tiles(gt)
            pred_tiles, _ = self._tiles(prob)
            if self.skip_empty_gt:
                keep = (gt_tiles.sum((1, 2, 3)) >= self.min_gt_pixels).float()
            else:
                keep = gt_tiles.new_ones(gt_tiles.shape[0])
            r = self.inverse_net(gt_tiles, pred_tiles)
            dist = inverse_distance(r, self.distance, self.geodesic_lambda)
            dist = dist * keep
            if reduction == 'none':
                loss = dist
            elif reduction == 'sum':
                loss = dist.view(-1, per_image).sum(1).mean()
            else:
                denom = keep.sum().clamp(min=1) if avg_factor is None \
                    else avg_factor
                loss = dist.sum() / denom
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        """Settings shown by ``print(model)``."""
        return (f'distance={self.distance!r}, tiling={self.tiling!r}, '
                f'tile_size={self.tile_size}, reduction={self.reduction!r}, '
                f'loss_weight={self.loss_weight}')
