# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretraining of InverseForm's InverseNet on the dataset's boundaries
(InverseForm Sec. 3.3-3.4), with its separation report.

The paper trains the inverse-transformation net on "boundary maps of images
sampled from the target dataset", transformed with an STN; the appendix with
the exact recipe is not public. Ours (every setting enters the cache key):

1. GT label maps, rescaled by a random factor in ``label_scale_range``
   (nearest neighbour, like the pipeline's ``RandomResize``), give Sobel
   boundaries (:func:`~mmboundary.utils.label_boundary.sobel_boundary_map`,
   ignore -> 0); T x T tiles with at least ``min_boundary_frac`` boundary
   pixels form a pool (``tiles_per_image`` per map, at most
   ``max_pool_tiles``), drawn with random flips / transposition.
2. Each pair is ``(x, t_theta(x))`` with theta drawn by
   :func:`sample_transforms`: rotation +-``max_rotation_deg``, log-uniform
   isotropic scale in ``scale_range`` and aspect in ``aspect_range``, shear
   +-``max_shear``, translation +-``max_shift_px`` pixels (and perspective
   +-``max_perspective`` for homographies); each component is active with
   probability ``component_prob``; ``identity_prob`` of the pairs are exact
   identities (calibration). The warped map is, each with its own
   probability, blurred, scaled by a gain and lifted by a background level,
   so that soft predicted probabilities are in distribution.
3. Loss: the squared distance between predicted and true parameters
   (Euclidean: ``||theta_hat - theta||_F^2``; geodesic: ``d_geo^2``), Adam
   with cosine decay.

:func:`evaluate_inverse_net` writes the separation report: on validation
boundary tiles, the fraction of tiles where d(identity) < d(4 px shift),
d(10 degree rotation), d(1.2x zoom), and the median distance for shifts of
0, 1, 2, 4, 8 px; :func:`inverse_net_self_check` says whether it shows a
usable net.
"""
import json
import math
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

# yapf: disable
from mmboundary.models.pretraining.shared import (complete_settings,
                                                  isolated_rng,
                                                  load_aux_net_state,
                                                  save_aux_net,
                                                  settings_cache_key,
                                                  train_aux_net)
from mmboundary.models.utils.inverse_net import (TRANSFORM_OF_DISTANCE,
                                                 InverseNet, check_distance,
                                                 geodesic_distance,
                                                 inverse_distance,
                                                 matrix_to_params,
                                                 params_to_matrix,
                                                 warp_boundary)
from mmboundary.utils.label_boundary import sobel_boundary_map

# yapf: enable

#: Version of the pretraining recipe; part of the cache key.
INVERSE_NET_RECIPE_VERSION = 1

#: Default settings; every key is part of the cache hash.
DEFAULT_INVERSE_NET_SETTINGS = dict(
    distance='euclidean',
    tile_size=112,
    hidden=(384, 64),
    in_pool=1,
    ignore_index=255,
    sobel_threshold=0.0,
    geodesic_lambda=0.1,
    label_scale_range=(0.75, 1.5),
    min_boundary_frac=0.02,
    tiles_per_image=16,
    max_pool_tiles=4096,
    max_shift_px=8.0,
    max_rotation_deg=10.0,
    scale_range=(0.9, 1.1),
    aspect_range=(0.95, 1.05),
    max_shear=0.05,
    max_perspective=0.05,
    component_prob=0.6,
    identity_prob=0.2,
    soften_prob=0.5,
    gain_prob=0.5,
    gain_range=(0.6, 1.0),
    background_prob=0.5,
    background_range=(0.0, 0.3),
    steps=3000,
    batch_size=64,
    lr=1e-3,
    weight_decay=0.0,
    seed=0,
)

_TUPLE_KEYS = ('hidden', 'label_scale_range', 'scale_range', 'aspect_range',
               'gain_range', 'background_range')


def inverse_net_settings_with_defaults(
        settings: Optional[Dict] = None) -> Dict:
    """Fill ``settings`` with :data:`DEFAULT_INVERSE_NET_SETTINGS`.

    Raises:
        KeyError: an unknown key (a typo would otherwise be ignored).
        ValueError: an unknown distance.
    """
    out = complete_settings(DEFAULT_INVERSE_NET_SETTINGS, settings,
                            'InverseNet pretraining')
    check_distance(out['distance'], "settings['distance']")
    for key in _TUPLE_KEYS:
        out[key] = tuple(
            int(v) if key == 'hidden' else float(v) for v in out[key])
    return out


def inverse_net_cache_key(settings: Dict,
                          train_fingerprint: str,
                          val_fingerprint: str = '') -> str:
    """sha256 hex of the recipe version, the complete settings and data."""
    return settings_cache_key(INVERSE_NET_RECIPE_VERSION,
                              inverse_net_settings_with_defaults(settings),
                              train_fingerprint, val_fingerprint)


def build_inverse_net(settings: Dict) -> InverseNet:
    """The InverseNet the settings describe (family from the distance)."""
    cfg = inverse_net_settings_with_defaults(settings)
    return InverseNet(
        tile_size=cfg['tile_size'],
        num_params=TRANSFORM_OF_DISTANCE[cfg['distance']][1],
        hidden=cfg['hidden'],
        in_pool=cfg['in_pool'])


def sample_transforms(n: int, settings: Dict,
                      rng: np.random.Generator) -> torch.Tensor:
    """Random STN matrices of the pretraining recipe.

    ``A = R(phi) diag(s * a, s / a) [[1, shear], [0, 1]]``, translation
    ``(tx, ty) * 2 / T`` and, for homographies, ``(h31, h32)``; every
    component is active with probability ``component_prob``, a fraction
    ``identity_prob`` of the matrices is I_3.

    Args:
        n (int): Number of matrices.
        settings (dict): Complete settings.
        rng (np.random.Generator): Randomness.

    Returns:
        Tensor: (n, 3, 3) float32.
    """
    cfg = inverse_net_settings_with_defaults(settings)
    p = cfg['component_prob']
    t = cfg['tile_size']

    def comp(lo, hi, neutral):
        on = rng.random(n) < p
        return np.where(on, rng.uniform(lo, hi, n), neutral)

    phi = np.deg2rad(
        comp(-cfg['max_rotation_deg'], cfg['max_rotation_deg'], 0.0))
    s = np.exp(comp(*np.log(cfg['scale_range']), 0.0))
    a = np.exp(comp(*np.log(cfg['aspect_range']), 0.0))
    shear = comp(-cfg['max_shear'], cfg['max_shear'], 0.0)
    tx = comp(-cfg['max_shift_px'], cfg['max_shift_px'], 0.0) * 2 / t
    ty = comp(-cfg['max_shift_px'], cfg['max_shift_px'], 0.0) * 2 / t
    theta = np.zeros((n, 3, 3))
    c, si = np.cos(phi), np.sin(phi)
    sx, sy = s * a, s / a
    # R(phi) @ diag(sx, sy) @ [[1, shear], [0, 1]]
    theta[:, 0, 0] = c * sx
    theta[:, 0, 1] = c * sx * shear - si * sy
    theta[:, 1, 0] = si * sx
    theta[:, 1, 1] = si * sx * shear + c * sy
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    theta[:, 2, 2] = 1.0
    if TRANSFORM_OF_DISTANCE[cfg['distance']][1] == 8:
        mp = cfg['max_perspective']
        theta[:, 2, 0] = comp(-mp, mp, 0.0)
        theta[:, 2, 1] = comp(-mp, mp, 0.0)
    ident = rng.random(n) < cfg['identity_prob']
    theta[ident] = np.eye(3)
    return torch.from_numpy(theta).float()


def boundary_tiles(label: np.ndarray,
                   settings: Dict,
                   num: int,
                   rng: np.random.Generator,
                   scale: Optional[float] = None) -> List[np.ndarray]:
    """Up to ``num`` T x T Sobel-boundary tiles of one label map with at
    least ``min_boundary_frac`` boundary pixels (8 tries per tile).

    Args:
        label (np.ndarray): (H, W) label map.
        settings (dict): Complete settings.
        num (int): Tiles wanted.
        rng (np.random.Generator): Randomness.
        scale (float, optional): Label rescale factor; None draws it from
            ``label_scale_range``.

    Returns:
        list[np.ndarray]: float32 (T, T) maps in {0, 1}.
    """
    cfg = settings
    t = cfg['tile_size']
    if scale is None:
        scale = float(rng.uniform(*cfg['label_scale_range']))
    label = np.asarray(label)
    if scale != 1.0:
        h, w = label.shape
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        label = cv2.resize(label, size, interpolation=cv2.INTER_NEAREST)
    edge = sobel_boundary_map(label, cfg['ignore_index'],
                              cfg['sobel_threshold'])
    edge = (edge == 1).astype(np.float32)
    h, w = edge.shape
    if h < t or w < t:
        edge = np.pad(edge, ((0, max(0, t - h)), (0, max(0, t - w))))
        h, w = edge.shape
    tiles = []
    for _ in range(num):
        for _ in range(8):
            y = int(rng.integers(0, h - t + 1))
            x = int(rng.integers(0, w - t + 1))
            tile = edge[y:y + t, x:x + t]
            if tile.mean() >= cfg['min_boundary_frac']:
                tiles.append(tile.copy())
                break
    return tiles


def _augment(y: torch.Tensor, cfg: Dict,
             rng: np.random.Generator) -> torch.Tensor:
    """Soften / gain / background of warped tiles (soft predictions)."""
    n = y.shape[0]
    soft = torch.from_numpy(rng.random(n) < cfg['soften_prob']).view(
        n, 1, 1, 1)
    k = torch.tensor([1., 4., 6., 4., 1.]) / 16
    kernel = (k[:, None] * k[None, :]).view(1, 1, 5, 5).to(y)
    blurred = F.conv2d(y, kernel, padding=2)
    peak = blurred.flatten(1).amax(1).clamp(min=1e-6).view(n, 1, 1, 1)
    y = torch.where(soft.to(y.device), blurred / peak, y)
    gain_on = rng.random(n) < cfg['gain_prob']
    gain = torch.from_numpy(
        np.where(gain_on, rng.uniform(*cfg['gain_range'], n), 1.0)).float()
    bg_on = rng.random(n) < cfg['background_prob']
    bg = torch.from_numpy(
        np.where(bg_on, rng.uniform(*cfg['background_range'], n),
                 0.0)).float()
    gain, bg = gain.view(n, 1, 1, 1).to(y), bg.view(n, 1, 1, 1).to(y)
    return bg + (gain - bg) * y


def _dihedral(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Random flips and transposition of (B, 1, T, T) tiles (the 8
    symmetries of the square), per tile."""
    n = x.shape[0]
    flags = torch.from_numpy(rng.random((3, n)) < 0.5).to(x.device)
    x = torch.where(flags[0].view(n, 1, 1, 1), x.flip(-1), x)
    x = torch.where(flags[1].view(n, 1, 1, 1), x.flip(-2), x)
    return torch.where(flags[2].view(n, 1, 1, 1), x.transpose(-1, -2), x)


def _training_loss(r_hat: torch.Tensor, theta: torch.Tensor,
                   cfg: Dict) -> torch.Tensor:
    """Squared parameter distance (see the module docstring)."""
    if cfg['distance'] == 'euclidean':
        r = matrix_to_params(theta, r_hat.shape[1])
        return (r_hat - r).pow(2).sum(1).mean()
    d = geodesic_distance(
        params_to_matrix(r_hat), theta, cfg['geodesic_lambda'])
    return d.pow(2).mean()


def _pool(train_labels: Callable[[int], np.ndarray], num_train: int, cfg: Dict,
          rng: np.random.Generator) -> torch.Tensor:
    per = cfg['tiles_per_image']
    n_img = min(num_train, max(1, cfg['max_pool_tiles'] // max(per, 1)))
    pick = np.linspace(0, num_train - 1, n_img).round().astype(int)
    tiles = []
    for i in pick:
        tiles += boundary_tiles(train_labels(int(i)), cfg, per, rng)
    if not tiles:
        raise ValueError(
            'pretrain_inverse_net: no training tile of '
            f'{cfg["tile_size"]}x{cfg["tile_size"]} has >= '
            f'{cfg["min_boundary_frac"]:.0%} boundary pixels; lower '
            'min_boundary_frac or tile_size.')
    return torch.from_numpy(np.stack(tiles).astype(np.uint8)).unsqueeze(1)


def pretrain_inverse_net(train_labels: Callable[[int], np.ndarray],
                         num_train: int,
                         settings: Optional[Dict] = None,
                         val_labels: Optional[Sequence[np.ndarray]] = None,
                         device: str = 'cpu',
                         log: Optional[Callable[[str], None]] = None,
                         quiet: bool = False) -> Tuple[InverseNet, Dict]:
    """Pretrain an InverseNet on a dataset's GT boundaries (Sec. 3.4).

    Deterministic given ``settings['seed']`` (the caller's global RNG
    streams are left untouched).

    Args:
        train_labels (callable): ``i -> (H, W) int array``.
        num_train (int): Number of training label maps.
        settings (dict, optional): Overrides of
            :data:`DEFAULT_INVERSE_NET_SETTINGS`.
        val_labels (sequence of arrays, optional): Validation label maps
            for the separation report.
        device (str): Torch device.
        log (callable, optional): Receives the windowed loss lines.
        quiet (bool): No progress bar / progress lines.

    Returns:
        tuple[InverseNet, dict]: The net (eval mode, ``pretrained`` set) and
        the report (settings, final training loss, ``val`` separation).
    """
    cfg = inverse_net_settings_with_defaults(settings)
    if num_train < 1:
        raise ValueError('pretrain_inverse_net: no training label maps '
                         '(num_train=0); check the dataset paths.')
    log = log or (lambda msg: None)
    with isolated_rng(device, cfg['seed']):
        t0 = time.time()
        rng = np.random.default_rng(cfg['seed'])
        pool = _pool(train_labels, num_train, cfg, rng).to(device)
        net = build_inverse_net(cfg).to(device)

        def batch_loss(step: int) -> torch.Tensor:
            idx = torch.from_numpy(
                rng.integers(0, pool.shape[0], cfg['batch_size']))
            x = _dihedral(pool[idx.to(pool.device)].float(), rng)
            theta = sample_transforms(x.shape[0], cfg, rng).to(device)
            y = _augment(warp_boundary(x, theta), cfg, rng)
            return _training_loss(net(x, y), theta, cfg)

        windows = []

        def on_window(done: int, mean: float) -> None:
            windows.append(mean)
            log(f'inverse-net step {done}/{cfg["steps"]}: loss '
                f'{mean:.5f} ({time.time() - t0:.0f}s)')

        losses = train_aux_net(
            net,
            batch_loss,
            cfg['steps'],
            cfg['lr'],
            cfg['weight_decay'],
            max(cfg['steps'] // 10, 1),
            on_window,
            desc='InverseNet pretraining',
            quiet=quiet)
        first = losses[0] if losses else float('nan')
        last = windows[-1] if windows else float('nan')
        report = dict(
            settings=cfg,
            recipe=INVERSE_NET_RECIPE_VERSION,
            num_train=int(num_train),
            pool_tiles=int(pool.shape[0]),
            num_parameters=sum(p.numel() for p in net.parameters()),
            steps=cfg['steps'],
            first_train_loss=first,
            final_train_loss=last,
            seconds=round(time.time() - t0, 1))
        if val_labels is not None:
            report['val'] = evaluate_inverse_net(
                net, val_labels, cfg, device=device)
            report['num_val'] = len(val_labels)
            log('inverse-net val separation: ' + json.dumps(report['val']))
    return net, report


#: Transformations of the separation report, by name: the identity, shifts
#: along +x by 1, 2, 4, 8 px, a 10 degree rotation, a 1.2x zoom.
SEPARATION_TRANSFORMS = ('identity', 'shift 1 px', 'shift 2 px', 'shift 4 px',
                         'shift 8 px', 'rotation 10 deg', 'zoom 1.2x')


def separation_thetas(tile_size: int) -> Dict[str, torch.Tensor]:
    """The (3, 3) STN matrices of :data:`SEPARATION_TRANSFORMS` for tiles
    of ``tile_size`` pixels (normalised coordinates: a shift of ``k`` px is
    ``2k / T``)."""
    thetas = {'identity': torch.eye(3)}
    for k in (1, 2, 4, 8):
        theta = torch.eye(3)
        theta[0, 2] = -2.0 * k / tile_size
        thetas[f'shift {k} px'] = theta
    phi = math.radians(10)
    thetas['rotation 10 deg'] = torch.tensor(
        [[math.cos(phi), -math.sin(phi), 0], [math.sin(phi),
                                              math.cos(phi), 0], [0, 0, 1]])
    thetas['zoom 1.2x'] = torch.diag(torch.tensor([1 / 1.2, 1 / 1.2, 1.0]))
    return thetas


def validation_tiles(val_labels: Sequence[np.ndarray],
                     settings: Dict,
                     num_tiles: int = 200,
                     seed: int = 123) -> torch.Tensor:
    """Up to ``num_tiles`` boundary tiles (scale 1) of validation maps,
    spread evenly over the maps, (K, 1, T, T) uint8."""
    cfg = inverse_net_settings_with_defaults(settings)
    rng = np.random.default_rng(seed)
    per = max(1, math.ceil(num_tiles / max(len(val_labels), 1)))
    tiles = []
    for lab in val_labels:
        tiles += boundary_tiles(lab, cfg, per, rng, scale=1.0)
    if not tiles:
        raise ValueError('evaluate_inverse_net: no validation tile has '
                         'enough boundary pixels.')
    return torch.from_numpy(np.stack(tiles[:num_tiles])).unsqueeze(1)


@torch.no_grad()
def separation_distances(net: InverseNet,
                         tiles: torch.Tensor,
                         settings: Dict,
                         device: str = 'cpu') -> Dict[str, torch.Tensor]:
    """Distance of every tile ``x`` to each transformed copy ``t(x)``.

    Args:
        net (InverseNet): The (pretrained) net.
        tiles (Tensor): (K, 1, T, T) boundary tiles.
        settings (dict): The net's settings (distance, lambda).
        device (str): Torch device.

    Returns:
        dict[str, Tensor]: Per name of :data:`SEPARATION_TRANSFORMS`, the
        (K, ) distances ``d(net(x, t(x)))`` on the CPU.
    """
    cfg = inverse_net_settings_with_defaults(settings)
    x = tiles.to(device)
    net.eval()
    out = {}
    for name, theta in separation_thetas(cfg['tile_size']).items():
        y = warp_boundary(x, theta.to(device).expand(x.shape[0], 3, 3))
        out[name] = inverse_distance(
            net(x, y), cfg['distance'], cfg['geodesic_lambda']).cpu()
    return out


@torch.no_grad()
def evaluate_inverse_net(net: InverseNet,
                         val_labels: Sequence[np.ndarray],
                         settings: Dict,
                         num_tiles: int = 200,
                         seed: int = 123,
                         device: str = 'cpu') -> Dict:
    """Separation of identity from transformed copies on val boundaries.

    ``num_tiles`` tiles (scale 1) of the validation maps; for each tile x,
    the distance (the settings' one) of ``(x, x)`` is compared with that of
    ``(x, t(x))`` for t = shift by 1, 2, 4, 8 px along +x, 10 degree
    rotation, 1.2x zoom (:func:`separation_distances`).

    Returns:
        dict: ``num_tiles``, ``identity_median``, ``shift_median`` (px ->
        median for 0, 1, 2, 4, 8), ``median_increasing_0_2_4_8`` (strictly),
        ``frac_identity_below_shift4``, ``frac_identity_below_rot10``,
        ``frac_identity_below_zoom1.2``.
    """
    x = validation_tiles(val_labels, settings, num_tiles, seed)
    d = separation_distances(net, x, settings, device)
    d_id = d['identity']
    medians = {0: float(d_id.median())}
    medians.update(
        {k: float(d[f'shift {k} px'].median())
         for k in (1, 2, 4, 8)})
    seq = [medians[k] for k in (0, 2, 4, 8)]

    def below(name: str) -> float:
        return float((d_id < d[name]).float().mean())

    return {
        'num_tiles': int(x.shape[0]),
        'identity_median': medians[0],
        'shift_median': {
            str(k): v
            for k, v in medians.items()
        },
        'median_increasing_0_2_4_8': all(a < b for a, b in zip(seq, seq[1:])),
        'frac_identity_below_shift4': below('shift 4 px'),
        'frac_identity_below_rot10': below('rotation 10 deg'),
        'frac_identity_below_zoom1.2': below('zoom 1.2x'),
    }


#: Least fraction of validation tiles where d(identity) < d(4 px shift) of a
#: usable InverseNet (the InverseForm spec's warning level; the stored tiny
#: config reaches 0.985).
INVERSE_NET_MIN_FRAC_SHIFT4 = 0.85


def inverse_net_self_check(report: Dict) -> Optional[List[str]]:
    """What makes the pretrained InverseNet of ``report`` unusable.

    The check, on the validation separation report (``val``, see
    :func:`evaluate_inverse_net`): the median distance strictly increases
    over shifts of 0, 2, 4, 8 px, and d(identity) < d(4 px shift) on at
    least :data:`INVERSE_NET_MIN_FRAC_SHIFT4` of the tiles.

    Args:
        report (dict): The pretraining report.

    Returns:
        list[str] | None: Each failure with its measured values and bound
        (empty: passed); None when the report has no validation part.
    """
    val = report.get('val')
    if not val:
        return None
    failures = []
    if not val['median_increasing_0_2_4_8']:
        medians = ', '.join(f'{k} px {val["shift_median"][k]:.4f}'
                            for k in ('0', '2', '4', '8'))
        failures.append('the median distance does not increase strictly '
                        f'over shifts ({medians})')
    frac = val['frac_identity_below_shift4']
    if not frac >= INVERSE_NET_MIN_FRAC_SHIFT4:
        failures.append(f'd(identity) < d(4 px shift) on {frac:.1%} of '
                        f'{val["num_tiles"]} tiles < '
                        f'{INVERSE_NET_MIN_FRAC_SHIFT4:.0%}')
    return failures


def inverse_net_state(net: InverseNet, report: Dict, settings: Dict) -> Dict:
    """Checkpoint content: tensor ``state_dict`` and JSON-able ``meta``."""
    cfg = inverse_net_settings_with_defaults(settings)
    meta = dict(
        net.meta(),
        distance=cfg['distance'],
        transform=TRANSFORM_OF_DISTANCE[cfg['distance']][0],
        geodesic_lambda=cfg['geodesic_lambda'],
        recipe=INVERSE_NET_RECIPE_VERSION,
        report_json=json.dumps(report, default=list))
    return dict(
        state_dict={
            k: v.detach().cpu()
            for k, v in net.state_dict().items()
        },
        meta=meta)


def save_inverse_net(net: InverseNet, report: Dict, out_dir: str,
                     name: str) -> Tuple[str, str]:
    """Write ``<name>-<sha256[:8]>.pth`` and its JSON report (atomic)."""
    return save_aux_net(
        inverse_net_state(net, report, report['settings']), report, out_dir,
        name)


def load_inverse_net_state(path: str,
                           net: InverseNet) -> Dict[str, torch.Tensor]:
    """Load and verify an InverseNet checkpoint for ``net``'s configuration.

    The checkpoint's ``meta`` (written by :func:`save_inverse_net`) must
    agree on tile size, architecture (widths, pooling) and transformation
    family; keys and shapes must match exactly. A bare state dict is
    accepted when keys and shapes match (its family is then only checked
    through the output size).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a mismatch; the message names both values and the fix.
    """
    expected = net.meta()

    def check(state: Dict, meta: Dict) -> None:
        for key in ('tile_size', 'num_params', 'hidden', 'in_pool', 'arch'):
            if key in meta and meta[key] != expected[key]:
                what = {
                    'num_params':
                    'transformation family (6 = affine for '
                    "'euclidean', 8 = homography for 'geodesic')",
                }.get(key, key)
                raise ValueError(
                    f'inverse_net_checkpoint={path!r} has {key}='
                    f'{meta[key]!r} but the loss needs {key}='
                    f'{expected[key]!r} ({what}); pretrain a matching net '
                    'with tools/misc/train_inverse_net.py or change the '
                    "loss's inverse_net / distance settings.")
        w3 = state.get('fc3.weight')
        if w3 is not None and w3.shape[0] != expected['num_params']:
            raise ValueError(
                f'inverse_net_checkpoint={path!r} regresses {w3.shape[0]} '
                f"parameters but the loss's distance needs "
                f"{expected['num_params']} (6 = affine / 'euclidean', 8 = "
                "homography / 'geodesic').")

    state, _ = load_aux_net_state(
        path,
        net.state_dict(),
        option='inverse_net_checkpoint',
        described_as=f'InverseNet({expected})',
        how_to_get='Pretrain one with `python tools/misc/train_inverse_net.py'
        ' CONFIG` or set inverse_net_checkpoint=None and add '
        'InverseNetPretrainHook to custom_hooks.',
        check=check)
    return state


__all__: List[str] = [
    'DEFAULT_INVERSE_NET_SETTINGS', 'INVERSE_NET_RECIPE_VERSION',
    'inverse_net_settings_with_defaults', 'inverse_net_cache_key',
    'build_inverse_net', 'sample_transforms', 'boundary_tiles',
    'pretrain_inverse_net', 'evaluate_inverse_net', 'inverse_net_state',
    'SEPARATION_TRANSFORMS', 'separation_thetas', 'validation_tiles',
    'separation_distances', 'save_inverse_net', 'load_inverse_net_state',
    'INVERSE_NET_MIN_FRAC_SHIFT4', 'inverse_net_self_check'
]
