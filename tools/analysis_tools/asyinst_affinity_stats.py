# Copyright (c) mmboundary contributors. All rights reserved.
"""Fractions of positive colour and depth edges that AsyInst trains on.

Runs a config's train pipeline and its ``AsyInstDataPreprocessor`` on a few
batches and prints, among the in-box edges (centre inside a box, as the
losses count them) whose ends are valid, the fraction that is a positive
colour edge (``S_c >= tau_c``) and, if the preprocessor has
``depth_thresh``, a positive depth edge (``Diff <= tau_d``; depth valid at
both ends and the midpoint). Use it to check the unit and scale of tau_d
(AsyInst Sec. 6.1 gives 0.01 without a unit) on a dataset, and to calibrate
it on other data. ``--depth-thresh`` overrides tau_d; several values may be
given.

Example::

    OMP_NUM_THREADS=1 python tools/analysis_tools/asyinst_affinity_stats.py \
        configs/asyinst/asyinst_r50-fpn_8xb1-24k_cityscapes-512x1024.py \
        --num-batches 10 --depth-thresh 0.01 0.1 0.3
"""
import argparse
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmboundary  # noqa: F401  (registers the modules)
from mmboundary.models.utils import (depth_grad_affinity, dilated_neighbours,
                                     downsample_depth)
from mmboundary.registry import MMDET_MODELS
from mmboundary.utils.cli import add_quiet
from mmboundary.utils.progress import Progress


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument('config')
    parser.add_argument('--num-batches', type=int, default=10)
    parser.add_argument(
        '--depth-thresh',
        type=float,
        nargs='+',
        default=None,
        help='tau_d values to evaluate (default: the config\'s)')
    add_quiet(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    pre_cfg = cfg.model.data_preprocessor
    if pre_cfg.get('type') != 'AsyInstDataPreprocessor':
        raise ValueError(f'{args.config}: model.data_preprocessor is '
                         f"{pre_cfg.get('type')}, not AsyInstDataPreprocessor")
    threshs = args.depth_thresh
    if threshs is None and pre_cfg.get('depth_thresh') is not None:
        threshs = [pre_cfg.depth_thresh]
    pre = MMDET_MODELS.build(pre_cfg)
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    s, k, d = pre.mask_stride, pre.pairwise_size, pre.pairwise_dilation
    color_pos = color_all = 0.0
    depth_pos = {t: 0.0 for t in threshs or []}
    depth_all = 0.0
    progress = Progress(
        min(args.num_batches, len(loader)),
        desc='batches (pipeline + preprocessor)',
        quiet=args.quiet,
        stream=sys.stderr)
    for i, batch in enumerate(loader):
        if i >= args.num_batches:
            break
        out = pre(batch, training=True)
        inputs, samples = out['inputs'], out['data_samples']
        for j, sample in enumerate(samples):
            gt = sample.gt_instances
            if len(gt) == 0:
                continue
            box = torch.from_numpy(gt.masks.masks[:, s // 2::s,
                                                  s // 2::s]).float()
            in_box = box.amax(0)[None]  # (1, h, w): centre in some box
            color = gt.pairwise_masks[0]
            color_pos += (color * in_box).sum().item()
            # valid colour edges: the neighbour lies in the image mask
            img_mask = torch.zeros(1, 1, *inputs.shape[-2:])
            img_h, img_w = sample.img_shape[:2]
            removed = int(pre.bottom_pixels_removed * img_h / inputs.shape[-2])
            img_mask[..., :img_h - removed, :img_w] = 1
            grid = img_mask[..., s // 2::s, s // 2::s]
            nb = dilated_neighbours(grid, k, d)[0, 0]
            color_all += (nb * in_box).sum().item()
            if threshs:
                depth = torch.zeros(1, 1, *inputs.shape[-2:])
                value = torch.as_tensor(sample.metainfo[pre.depth_key])
                depth[0, 0, :img_h, :img_w] = value * pre.depth_scale
                depth_s, valid_s = downsample_depth(depth, s, img_mask)
                all_valid = depth_grad_affinity(
                    depth_s, valid_s, k, d, thresh=float('inf'))[0]
                depth_all += (all_valid * in_box).sum().item()
                for t in threshs:
                    pos = depth_grad_affinity(depth_s, valid_s, k, d, t)[0]
                    depth_pos[t] += (pos * in_box).sum().item()
        progress.update()
    progress.close()
    print(f'config: {args.config}')
    print(f'batches: {min(i + 1, args.num_batches)}, mask stride {s}, '
          f'K={k}, D={d}')
    print(f'colour: tau_c={pre.pairwise_color_thresh}: positive fraction '
          f'{color_pos / max(color_all, 1):.3f} of {int(color_all)} valid '
          'in-box edges')
    for t in threshs or []:
        print(f'depth: tau_d={t:g}: positive fraction '
              f'{depth_pos[t] / max(depth_all, 1):.3f} of {int(depth_all)} '
              'valid in-box edges')


if __name__ == '__main__':
    main()
