# Copyright (c) mmboundary contributors. All rights reserved.
"""Picture what a pretrained InverseNet measures (InverseForm Sec. 3.3-3.4).

Takes a segmentation config (its validation set gives the boundary tiles)
and an InverseNet checkpoint (from ``tools/misc/train_inverse_net.py`` or
``InverseNetPretrainHook``; loaded weights-only and verified against the
config's ``InverseFormLoss`` settings) and draws one PNG:

* a few validation boundary tiles ``x`` (rows) beside their copies shifted
  by 4 px, rotated by 10 degrees and zoomed 1.2x, each titled with the
  distance the net assigns to ``(x, t(x))``;
* the distribution over all tiles of the distance for the identity and
  each transformation (:data:`SEPARATION_TRANSFORMS`, the report's
  separation test), as box plots.

The distances are those of
:func:`~mmboundary.models.pretraining.inverse_net.separation_distances`,
which also computes the pretraining report's separation numbers, so the
picture and the report agree.

Example::

    CFG=configs/inverseform/inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py
    python tools/misc/train_inverse_net.py $CFG --out-dir work_dirs/inv
    python tools/analysis_tools/visualize_inverse_net.py $CFG \
        --checkpoint work_dirs/inv/inverse_net_*.pth --out inverse_net.png
"""
import argparse
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.config import DictAction

#: Transformations drawn beside each example tile.
EXAMPLE_TRANSFORMS = ('shift 4 px', 'rotation 10 deg', 'zoom 1.2x')


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Draw validation boundary tiles, their transformed '
        'copies and the distances a pretrained InverseNet gives them.',
        allow_abbrev=False)
    parser.add_argument(
        'config',
        help='segmentation config with an '
        'InverseFormLoss (its val set gives the tiles)')
    parser.add_argument(
        '--checkpoint', required=True, help='InverseNet checkpoint (.pth)')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--num-examples',
        type=int,
        default=3,
        help='example tiles drawn (rows), >= 1 (default: 3)')
    parser.add_argument(
        '--num-tiles',
        type=int,
        default=200,
        help='validation tiles in the box plots (default: 200, as the '
        'pretraining report)')
    parser.add_argument(
        '--max-val-images',
        type=int,
        default=100,
        help='validation label maps read, evenly spaced (default: 100, as '
        'the hook)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as for tools/train.py')
    args = parser.parse_args(argv)
    for name in ('num_examples', 'num_tiles', 'max_val_images'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got '
                         f'{getattr(args, name)}')
    return args


def load_val_labels(cfg, max_images: int):
    """The config's validation label maps (at most ``max_images``, evenly
    spaced), as the pretraining hook reads them."""
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import DATASETS

    from mmboundary.engine.pretraining.data import dataset_labels
    if not cfg.get('val_dataloader'):
        raise KeyError('the config has no val_dataloader: the tiles come from '
                       'its validation set; give a config with one.')
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    # the hook's own reading of validation maps (its third output)
    return dataset_labels(dataset, dataset, max_images)[2] or []


def draw(tiles: torch.Tensor, thetas: Dict[str, torch.Tensor],
         distances: Dict[str, torch.Tensor], num_examples: int, out: str,
         title: str) -> None:
    """Write the figure (see the module doc) to ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mmboundary.models.utils.inverse_net import warp_boundary
    n = min(num_examples, tiles.shape[0])
    # the examples: tiles whose identity distance is closest to the median
    d_id = distances['identity']
    order = torch.argsort((d_id - d_id.median()).abs())[:n]
    cols = 1 + len(EXAMPLE_TRANSFORMS)
    fig = plt.figure(figsize=(2.2 * cols + 5.5, 2.3 * max(n, 2)))
    grid = fig.add_gridspec(max(n, 2), cols + 2)
    for r, i in enumerate(order.tolist()):
        x = tiles[i:i + 1].float()
        panels = [('tile x', x, d_id[i])]
        for name in EXAMPLE_TRANSFORMS:
            y = warp_boundary(x, thetas[name][None])
            panels.append((name, y, distances[name][i]))
        for c, (name, img, d) in enumerate(panels):
            ax = fig.add_subplot(grid[r, c])
            ax.imshow(img[0, 0].numpy(), cmap='gray', vmin=0, vmax=1)
            ax.set_title(f'{name}\nd = {float(d):.4f}', fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    ax = fig.add_subplot(grid[:, cols:])
    names = list(distances)
    ax.boxplot([distances[k].numpy() for k in names],
               showfliers=False,
               medianprops=dict(color='tab:red'))
    ax.set_xticks(range(1, len(names) + 1))
    ax.set_xticklabels(names, rotation=35, ha='right', fontsize=8)
    ax.set_ylabel('distance d(x, t(x))')
    ax.set_title(
        f'{tiles.shape[0]} validation tiles (boxes: quartiles)', fontsize=9)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    args = parse_args(argv)
    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir):
        raise FileNotFoundError(f'--out {args.out!r}: folder {out_dir} does '
                                'not exist.')
    from mmengine.config import Config

    import mmboundary  # noqa: F401  (registers the modules)
    from mmboundary.engine.pretraining.config import \
        inverse_net_settings_from_config
    from mmboundary.models.pretraining.inverse_net import (
        build_inverse_net, load_inverse_net_state, separation_distances,
        separation_thetas, validation_tiles)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    settings = inverse_net_settings_from_config(cfg)
    net = build_inverse_net(settings)
    net.load_state_dict(load_inverse_net_state(args.checkpoint, net))
    labels = load_val_labels(cfg, args.max_val_images)
    tiles = validation_tiles(labels, settings, args.num_tiles)
    distances = separation_distances(net, tiles, settings)
    title = (f'InverseNet {osp.basename(args.checkpoint)}: '
             f"{settings['distance']} distance, {settings['tile_size']} px "
             f'tiles of {osp.basename(args.config)}')
    draw(tiles, separation_thetas(settings['tile_size']), distances,
         args.num_examples, args.out, title)
    medians = {k: float(v.median()) for k, v in distances.items()}
    print(f'{tiles.shape[0]} tiles; median distance: ' +
          ', '.join(f'{k} {v:.4f}' for k, v in medians.items()))
    print(f'wrote {args.out}')
    return {k: v.numpy() for k, v in distances.items()}


if __name__ == '__main__':
    main()
