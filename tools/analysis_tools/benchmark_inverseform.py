# Copyright (c) mmboundary contributors. All rights reserved.
"""Cost that InverseForm adds to a DeepLabV3 R50-D8 training iteration, and
at inference.

Builds mmseg's DeepLabV3 R50-D8 (random weights, BN instead of SyncBN, BN
statistics frozen so that a batch of 1 passes ASPP's image pooling), then
times, on the same random ``--crop`` batch with blocky labels:

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

The two variants alternate in pairs (A B, B A, A B, ...), so that a change
of the machine's load hits both alike; the reported ratio is the **median
of the per-pair ratios** (B / A). A profile of the head's parts (the
head's convolutions and the upsampling, L_bxe, L_if with the InverseNet
over the tiles, each forward + backward; the on-device Sobel GT of
``boundary_source='sobel'``) gives where the extra time goes. Target: at
most +10 % per training iteration and +0 % at inference. The tables are
stored with :func:`~mmboundary.utils.results_doc.dump_results` (``--out``).

Example::

    OMP_NUM_THREADS=2 python tools/analysis_tools/benchmark_inverseform.py \
        --reps 4
    python tools/analysis_tools/benchmark_inverseform.py --device cuda \
        --reps 20
"""
import argparse
import os
import statistics
import sys
import time
from typing import Callable, Dict, List, Sequence

import torch
from torch import nn

from mmboundary.utils.cli import add_quiet
from mmboundary.utils.label_boundary import sobel_boundary_target
from mmboundary.utils.progress import track

DEFAULT_OUT = 'configs/inverseform/results/benchmark_inverseform.json'


def parse_args():
    parser = argparse.ArgumentParser(
        description='Time InverseForm (boundary head + L_bxe + L_if) in a '
        'DeepLabV3 R50 iteration and at inference.',
        allow_abbrev=False)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument(
        '--crop', type=int, nargs=2, default=(512, 1024), help='H W')
    parser.add_argument(
        '--reps',
        type=int,
        default=4,
        help='timed pairs (one iteration of each variant per pair)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--tile-size', type=int, default=224)
    parser.add_argument('--in-pool', type=int, default=2)
    parser.add_argument(
        '--distance', default='euclidean', choices=['euclidean', 'geodesic'])
    parser.add_argument(
        '--out',
        default=DEFAULT_OUT,
        help='results JSON (dump_results); empty: do not store')
    add_quiet(parser)
    args = parser.parse_args()
    if args.reps < 1 or args.warmup < 0:
        parser.error(f'--reps {args.reps} must be >= 1 and --warmup '
                     f'{args.warmup} >= 0')
    return args


def paired_ratios(run_a: Callable[[], float],
                  run_b: Callable[[], float],
                  reps: int,
                  desc: str = 'timed pairs',
                  quiet: bool = True) -> Dict[str, List[float]]:
    """Time ``reps`` pairs, alternating the order (A B, B A, ...), so that
    a drift of the machine's load hits both variants alike. Progress (on
    stderr, between pairs) unless ``quiet``.

    Returns:
        dict: ``a`` and ``b`` (seconds per run, in pair order) and
        ``ratio`` (b / a per pair).
    """
    out = dict(a=[], b=[], ratio=[])
    for rep in track(range(reps), desc=desc, quiet=quiet, stream=sys.stderr):
        if rep % 2 == 0:
            a, b = run_a(), run_b()
        else:
            b, a = run_b(), run_a()
        out['a'].append(a)
        out['b'].append(b)
        out['ratio'].append(b / a)
    return out


def median_ratio(ratios: Sequence[float]) -> float:
    """The median of per-pair ratios (robust to a pair hit by a load
    spike, unlike the ratio of medians of unpaired runs)."""
    if not ratios:
        raise ValueError('median_ratio: no pairs were timed')
    return statistics.median(ratios)


def time_call(fn: Callable[[], None], sync: Callable[[], None],
              reps: int) -> float:
    """Median seconds of ``reps`` calls of ``fn``."""
    times = []
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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

    load_start = os.getloadavg()[0]
    for _ in track(
            range(args.warmup),
            desc='warm-up rounds',
            quiet=args.quiet,
            stream=sys.stderr):
        for name in variants:
            iteration(name)
            inference(name)
    train = paired_ratios(
        lambda: iteration('baseline'),
        lambda: iteration('+inverseform'),
        args.reps,
        desc='training iteration pairs',
        quiet=args.quiet)
    infer = paired_ratios(
        lambda: inference('baseline'),
        lambda: inference('+inverseform'),
        args.reps,
        desc='inference pairs',
        quiet=args.quiet)
    train_ratio = median_ratio(train['ratio'])
    infer_ratio = median_ratio(infer['ratio'])
    base_s = statistics.median(train['a'])

    # Where the extra time goes: the head's parts, forward + backward, on
    # the backbone features of this batch (detached: the backbone's share
    # of the head's gradient is in the iteration ratio, not here).
    from mmseg.models.utils import resize
    with torch.no_grad():
        feats = [f.detach() for f in model.extract_feat(inputs)]
    feats[0].requires_grad_(True)
    edge = torch.stack([s.gt_edge_map.data for s in samples]).long()
    bce, ifl = boundary_head.loss_decode
    logits = torch.randn(
        args.batch_size, 1, h, w, device=device, requires_grad=True)

    def head_part():
        out = resize(
            boundary_head(feats),
            size=(h, w),
            mode='bilinear',
            align_corners=False)
        out.sum().backward()

    parts = [
        ('boundary head convs + upsampling', head_part),
        ('L_bxe (BoundaryBCELoss)',
         lambda: bce(logits, edge[:, 0]).backward()),
        ('L_if (InverseFormLoss: tiles, InverseNet, distance)',
         lambda: ifl(logits, edge[:, 0]).backward()),
        ("Sobel GT on the device (boundary_source='sobel' only)",
         lambda: sobel_boundary_target(
             torch.stack([s.gt_sem_seg.data[0] for s in samples]))),
    ]
    profile = []
    for name, fn in track(
            parts,
            desc='profile of the head\'s parts',
            quiet=args.quiet,
            stream=sys.stderr):
        fn()  # warm-up
        sec = time_call(fn, sync, max(3, args.reps))
        profile.append([name, 1000 * sec, 100 * sec / base_s])
    extra = sum(p.numel() for p in boundary_head.parameters())

    setting = (f'device={device} batch={args.batch_size} crop={h}x{w} '
               f'pairs={args.reps} threads={torch.get_num_threads()} '
               f'distance={args.distance} tile={args.tile_size}/'
               f'{args.in_pool}')
    print(setting)
    for label, data in (('training iteration', train), ('predict', infer)):
        for key, name in (('a', 'baseline'), ('b', '+inverseform')):
            vals = ', '.join(f'{v:.3f}' for v in data[key])
            print(f'{label:>18} {name:>13}: median '
                  f'{statistics.median(data[key]):.3f}s ({vals})')
        print(f'{label:>18} per-pair ratios: ' +
              ', '.join(f'{r:.4f}' for r in data['ratio']))
    verdict = 'PASS' if train_ratio <= 1.10 else 'FAIL'
    print(f'training iteration: median per-pair ratio (+inverseform)/'
          f'baseline = {train_ratio:.4f} ({100 * (train_ratio - 1):+.2f} %),'
          f' target <= +10 %: {verdict}')
    print(f'inference: median per-pair ratio = {infer_ratio:.4f} (the '
          f'boundary head, {extra} parameters incl. the frozen InverseNet, '
          'is an auxiliary head and never runs in predict)')
    for name, ms, pct in profile:
        print(f'  {name}: {ms:.1f} ms ({pct:.2f} % of a baseline '
              'iteration)')
    if not args.out:
        return
    from mmboundary.utils.results_doc import dump_results
    speed = dict(
        columns=[
            'measurement', 'baseline median (s)', '+InverseForm median (s)',
            'median per-pair ratio', 'change (%)'
        ],
        rows=[[
            'training iteration',
            statistics.median(train['a']),
            statistics.median(train['b']), train_ratio, 100 * (train_ratio - 1)
        ],
              [
                  'inference (predict)',
                  statistics.median(infer['a']),
                  statistics.median(infer['b']), infer_ratio,
                  100 * (infer_ratio - 1)
              ]],
        digits=3,
        notes=[
            setting, f'target: training iteration <= +10 %: {verdict}',
            'per-pair training ratios: ' + ', '.join(f'{r:.4f}'
                                                     for r in train['ratio']),
            'inference runs the same code in both variants (the boundary '
            'head is an auxiliary head): its ratio shows the noise level'
        ])
    components = dict(
        columns=[
            'part (forward + backward)', 'ms', '% of a baseline '
            'iteration'
        ],
        rows=profile,
        digits=2,
        notes=[setting])
    dump_results(
        args.out,
        dict(speed=speed, components=components),
        device=str(device),
        load_start=load_start,
        raw=dict(train=train, predict=infer))
    print(f'stored in {args.out}')


if __name__ == '__main__':
    main()
