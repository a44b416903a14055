# Copyright (c) mmboundary contributors. All rights reserved.
"""Cost that InverseForm adds to a DeepLabV3 R50-D8 training iteration, and
at inference.

Builds mmseg's DeepLabV3 R50-D8 (random weights, BN instead of SyncBN, BN
statistics frozen so that a batch of 1 passes ASPP's image pooling), then
times, interleaved in one run on the same random ``--crop`` batch with
blocky labels:

* ``baseline``: full training iterations (forward, losses, backward, SGD
  step) of the model as configured by mmseg (decode head + FCN auxiliary
  head);
* ``+inverseform``: the same with a :class:`BoundaryHead` added to the
  auxiliary heads (on the stride-4 backbone features), trained with
  :class:`BoundaryBCELoss` and :class:`InverseFormLoss` (224 x 224 tiles,
  ``in_pool=2``, the paper-table InverseNet; random weights marked
  pretrained: its cost does not depend on them);
* inference (``model.predict``) of both models: the boundary head is an
  auxiliary head, so it never runs there.

Prints the medians and the ratios. Target: at most +10 % per training
iteration and +0 % at inference.

Example::

    OMP_NUM_THREADS=2 python tools/analysis_tools/benchmark_inverseform.py \
        --batch-size 1 --reps 2
    python tools/analysis_tools/benchmark_inverseform.py --device cuda \
        --reps 20
"""
import argparse
import statistics
import time

import torch
from torch import nn

from mmboundary.utils.label_boundary import sobel_boundary_target


def parse_args():
    parser = argparse.ArgumentParser(
        description='Time InverseForm (boundary head + L_bxe + L_if) in a '
        'DeepLabV3 R50 iteration and at inference.')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument(
        '--crop', type=int, nargs=2, default=(512, 1024), help='H W')
    parser.add_argument(
        '--reps', type=int, default=3, help='timed iterations per variant')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--tile-size', type=int, default=224)
    parser.add_argument('--in-pool', type=int, default=2)
    parser.add_argument(
        '--distance', default='euclidean', choices=['euclidean', 'geodesic'])
    return parser.parse_args()


def main():
    args = parse_args()
    from benchmark_semeda import build_deeplabv3  # same folder
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    import mmboundary  # noqa: F401
    from mmboundary.models.losses import InverseFormLoss
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build_deeplabv3(args.num_classes).to(device).train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
    boundary_head = MODELS.build(
        dict(
            type='BoundaryHead',
            in_channels=256,
            in_index=0,
            channels=64,
            num_convs=1,
            kernel_size=3,
            dropout_ratio=0.0,
            norm_cfg=dict(type='BN', requires_grad=True),
            align_corners=False,
            loss_decode=[
                dict(type='BoundaryBCELoss', loss_weight=0.3),
                dict(
                    type='InverseFormLoss',
                    distance=args.distance,
                    inverse_net=dict(
                        tile_size=args.tile_size,
                        hidden=(384, 64),
                        in_pool=args.in_pool),
                    loss_weight=0.3)
            ])).to(device)
    for loss in boundary_head.loss_decode:
        if isinstance(loss, InverseFormLoss):  # random weights: timing only
            nn.init.normal_(loss.inverse_net.net.fc3.weight, std=0.01)
            loss.inverse_net.net.pretrained.fill_(1)
    for m in boundary_head.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
    fcn_aux = model.auxiliary_head
    variants = {
        'baseline': nn.ModuleList([fcn_aux]),
        '+inverseform': nn.ModuleList([fcn_aux, boundary_head])
    }
    params = [p for p in model.parameters() if p.requires_grad]
    params += [p for p in boundary_head.parameters() if p.requires_grad]
    optim = torch.optim.SGD(params, lr=1e-4)

    h, w = args.crop
    inputs = torch.randn(args.batch_size, 3, h, w, device=device)
    gen = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(args.batch_size):
        blocks = torch.randint(
            0, args.num_classes, (1, h // 32, w // 32), generator=gen)
        label = blocks.repeat_interleave(32, 1).repeat_interleave(32, 2)
        label = label.to(device)
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=label)
        s.gt_edge_map = PixelData(data=sobel_boundary_target(label))
        s.set_metainfo(
            dict(
                img_shape=(h, w),
                pad_shape=(h, w),
                ori_shape=(h, w),
                scale_factor=(1.0, 1.0)))
        samples.append(s)

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize()

    def iteration(name):
        model.auxiliary_head = variants[name]
        sync()
        t0 = time.perf_counter()
        losses = model.loss(inputs, samples)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        optim.zero_grad()
        total.backward()
        optim.step()
        sync()
        return time.perf_counter() - t0

    def inference(name):
        model.auxiliary_head = variants[name]
        sync()
        t0 = time.perf_counter()
        with torch.no_grad():
            model.predict(inputs, samples)
        sync()
        return time.perf_counter() - t0

    for _ in range(args.warmup):
        for name in variants:
            iteration(name)
            inference(name)
    times = {
        'baseline': [],
        '+inverseform': [],
        'baseline predict': [],
        '+inverseform predict': []
    }
    for rep in range(args.reps):  # interleaved, so drift hits both
        order = list(variants) if rep % 2 == 0 else list(variants)[::-1]
        for name in order:
            times[name].append(iteration(name))
        for name in order:
            times[f'{name} predict'].append(inference(name))
    med = {k: statistics.median(v) for k, v in times.items()}
    extra = sum(p.numel() for p in boundary_head.parameters())
    print(f'device={device} batch={args.batch_size} crop={h}x{w} '
          f'reps={args.reps} threads={torch.get_num_threads()} '
          f'distance={args.distance} tile={args.tile_size}/'
          f'{args.in_pool}')
    for name, vals in times.items():
        print(f'{name:>22}: median {med[name]:.3f}s  '
              f'({", ".join(f"{v:.3f}" for v in vals)})')
    ratio = med['+inverseform'] / med['baseline']
    infer = med['+inverseform predict'] / med['baseline predict']
    print(f'training iteration ratio (+inverseform)/baseline = {ratio:.4f} '
          f'(+{100 * (ratio - 1):.2f} %), target <= 10 %: '
          f'{"PASS" if ratio <= 1.10 else "FAIL"}')
    print(f'inference ratio = {infer:.4f} (the boundary head, {extra} '
          'parameters incl. the frozen InverseNet, is an auxiliary head and '
          'never runs in predict)')


if __name__ == '__main__':
    main()
