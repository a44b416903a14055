# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS inference cost end to end, side by side with Mask R-CNN.

For each setting (``coco-700``: the DVIS-700 R50 config at a 700x1333 image
padded to 704x1344; ``cityscapes``: the Cityscapes R50 config at 1024x2048)
the script builds DVIS and Mask R-CNN R50-FPN from their configs and times,
in one process, interleaved (order reversed on every other repeat), after
one warm-up call each:

* the DVIS network forward (backbone, FPN, map branch);
* the mean-shift discretiser (``MeanShiftDiscretizer`` of the config, its
  fused CPU kernel where available), the same with torch and the kernel on
  one thread (what the threads bring) and, for the record, the same
  discretiser on the torch reference code (``impl='torch'``); the script
  asserts that both give the same candidates and masks (bit-equal maps);
* the verification head on those candidates;
* DVIS post-processing (``DVISHead.predict_by_feat``: everything after the
  network: discretiser, verifier, scores, matrix NMS, mask up-sampling);
* the whole ``DVIS.predict`` and Mask R-CNN's ``predict`` on the same input
  tensor.

The weights are random (no download), so the DVIS map is replaced (a
forward hook on the map branch's last conv, which still runs) by a map with
the value statistics of a trained one (``mmboundary.testing.dvis_maps``:
plateaus near distinct integers, ramps, noise, exact zeros in the
background; ``--instances`` per image). Both models keep every candidate /
detection (score thresholds 0): an untrained Mask R-CNN would otherwise
send no detection to its mask head, so it runs its full 100 RoIs, as a
trained one does on a COCO image; DVIS verifies, NMSes and up-samples all
its candidates. Medians of ``--repeat``; ratios are side by side, absolute
times are inflated by the machine's load (recorded). The tables are stored
with :func:`mmboundary.utils.results_doc.dump_results` in ``--out`` for
``configs/dvis/README.md``. Example (about 8 minutes on one idle core)::

    OMP_NUM_THREADS=1 python \\
        tools/analysis_tools/benchmark_dvis_inference.py --repeat 3
"""
import copy
import os
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmboundary  # noqa: F401  (registers DVIS)
from mmboundary.models.utils.mean_shift_native import native_status
from mmboundary.testing.dvis_maps import synthetic_dvis_map
from mmboundary.utils.cli import UserError, add_quiet, run_cli, strict_parser
from mmboundary.utils.results_doc import dump_results, tool_command
from mmboundary.utils.timing import interleaved_medians

SETTINGS = {
    'coco-700':
    dict(
        dvis='configs/dvis/dvis_r50-fpn_1xb8-55e_coco-700.py',
        mask_rcnn='configs/edge_agreement/'
        'mask-rcnn_r50-fpn_8xb2-1x_coco-1333x800.py',
        img_shape=(700, 1333),
        instances=8),
    'cityscapes':
    dict(
        dvis='configs/dvis/dvis_r50-fpn_8xb1-64e_cityscapes-2048x1024.py',
        mask_rcnn='configs/edge_agreement/'
        'mask-rcnn_r50-fpn_8xb1-64e_cityscapes-2048x1024.py',
        img_shape=(1024, 2048),
        instances=16),
}
OUT = 'configs/dvis/results/inference.json'
MEASURES = ('forward', 'mean_shift', 'mean_shift_one_thread',
            'mean_shift_reference', 'verify', 'post', 'predict',
            'mask_rcnn_predict')


def build(cfg_path: str, device: str, keep_all: bool = True):
    """A detector from its config, random weights, eval mode; with
    ``keep_all`` its score threshold is 0."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None  # no download
    if cfg.model.get('neck') is not None:
        cfg.model.neck.init_cfg = None
    if keep_all:
        if cfg.model.type == 'DVIS':
            cfg.model.test_cfg.score_thr = 0.0
        else:
            cfg.model.test_cfg.rcnn.score_thr = 0.0
    return MODELS.build(cfg.model).to(device).eval()


def padded(shape: Tuple[int, int], divisor: int = 32) -> Tuple[int, int]:
    return tuple(-(-v // divisor) * divisor for v in shape)


def make_samples(img_shape: Tuple[int, int], pad_shape: Tuple[int, int]):
    from mmdet.structures import DetDataSample
    sample = DetDataSample()
    sample.set_metainfo(
        dict(
            img_shape=tuple(img_shape),
            ori_shape=tuple(img_shape),
            pad_shape=tuple(pad_shape),
            batch_input_shape=tuple(pad_shape),
            scale_factor=(1.0, 1.0)))
    return [sample]


def same_candidates(a: List, b: List) -> bool:
    """Same candidates (masks, bandwidths, means, boxes) per image."""
    for x, y in zip(a, b):
        if len(x) != len(y):
            return False
        for key in ('masks', 'bandwidth_idx', 'means', 'areas', 'boxes'):
            if not torch.equal(x.get(key), y.get(key)):
                return False
    return len(a) == len(b)


def one_thread(fn, *args):
    """``fn(*args)`` with torch (and so the mean-shift kernel) on one
    thread; the thread count is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(threads)


def bench_setting(name: str, args) -> Dict:
    cfg = SETTINGS[name]
    dev = args.device
    img_shape = tuple(
        max(32, int(round(v * args.scale))) for v in cfg['img_shape'])
    pad_shape = padded(img_shape)
    instances = args.instances or cfg['instances']
    dvis = build(cfg['dvis'], dev)
    mrcnn = build(cfg['mask_rcnn'], dev)
    head = dvis.mask_head
    gen = torch.Generator().manual_seed(args.seed)
    inputs = torch.randn((1, 3) + pad_shape, generator=gen).to(dev)
    s = head.map_stride
    raw_map = synthetic_dvis_map((1, pad_shape[0] // s, pad_shape[1] // s),
                                 instances,
                                 seed=args.seed).to(dev)
    # a trained net's map instead of the random net's (the conv still runs)
    head.conv_map.register_forward_hook(lambda mod, inp, out: raw_map)
    samples = make_samples(img_shape, pad_shape)
    metas = [samples[0].metainfo]
    reference = copy.copy(head.discretizer)
    reference.impl = 'torch'
    with torch.no_grad():
        map_raw, feat = head(dvis.extract_feat(inputs))
        pred = torch.relu(map_raw)
        valid = torch.zeros_like(pred, dtype=torch.bool)
        valid[..., :-(-img_shape[0] // s), :-(-img_shape[1] // s)] = True
        cands = head.discretizer(pred, valid)
        ref_cands = reference(pred, valid)
        identical = same_candidates(cands, ref_cands)
        if not identical:
            raise AssertionError(
                f'{name}: the discretiser ({native_status()}) and its torch '
                'reference give different candidates')
        num = sum(len(c) for c in cands)
        if num:
            rois = head._rois(cands, dev)
            means = torch.cat([c.means for c in cands]).to(dev)
            masks = torch.cat([c.masks for c in cands]).to(dev)
        fns = dict(
            forward=lambda: head(dvis.extract_feat(inputs)),
            mean_shift=lambda: head.discretizer(pred, valid),
            mean_shift_one_thread=lambda: one_thread(head.discretizer, pred,
                                                     valid),
            mean_shift_reference=lambda: reference(pred, valid),
            verify=(lambda: head.verify_head(feat, pred, rois, means, masks))
            if num else (lambda: None),
            post=lambda: head.predict_by_feat(
                map_raw, feat, metas, rescale=True),
            predict=lambda: dvis.predict(inputs, samples, rescale=True),
            mask_rcnn_predict=lambda: mrcnn.predict(
                inputs, make_samples(img_shape, pad_shape), rescale=True))
        for fn in fns.values():  # warm-up
            fn()
        dets = len(
            mrcnn.predict(inputs, make_samples(img_shape,
                                               pad_shape))[0].pred_instances)
        med, times = interleaved_medians(
            fns, args.repeat, dev, quiet=args.quiet, desc=name)
    row = dict(
        setting=name,
        img_shape=list(img_shape),
        input_shape=list(pad_shape),
        map_shape=list(pred.shape[-2:]),
        instances=instances,
        candidates=num,
        mask_rcnn_detections=dets,
        identical_candidates=identical,
        medians_s=med,
        times_s=times,
        post_over_forward=med['post'] / med['forward'],
        predict_over_mask_rcnn=med['predict'] / med['mask_rcnn_predict'],
        mean_shift_speedup=med['mean_shift_reference'] / med['mean_shift'],
        mean_shift_thread_speedup=(med['mean_shift_one_thread'] /
                                   med['mean_shift']),
        verifier_macs_per_candidate=head.verify_head.macs_per_candidate())
    print(f"{name} {pad_shape[0]}x{pad_shape[1]} (map {row['map_shape']}, "
          f'{instances} instances, {num} candidates, identical to the torch '
          f'reference: {identical}, Mask R-CNN {dets} detections):')
    for key in MEASURES:
        print(f'  {key:22s} {med[key]:8.3f} s')
    print(f"  post-processing / forward {row['post_over_forward']:.3f} "
          '(target <= 0.10); DVIS predict / Mask R-CNN predict '
          f"{row['predict_over_mask_rcnn']:.3f} (target <= 1); mean shift "
          f"{row['mean_shift_speedup']:.1f}x faster than the torch code, "
          f"{row['mean_shift_thread_speedup']:.2f}x faster than on one "
          'thread')
    return row


def tables_of(rows: List[Dict], repeat: int, status: str) -> Dict:
    table = dict(
        columns=[
            'setting', 'input', 'map', 'instances', 'candidates',
            'forward (s)', 'mean shift (s)', 'mean shift, torch code (s)',
            'verification (s)', 'post-processing (s)', 'post / forward',
            'DVIS predict (s)', 'Mask R-CNN predict (s)', 'DVIS / Mask R-CNN',
            'verifier (GMACs)', 'mean shift, 1 thread (s)'
        ],
        rows=[[
            r['setting'], 'x'.join(map(str, r['input_shape'])),
            'x'.join(map(str,
                         r['map_shape'])), r['instances'], r['candidates'],
            r['medians_s']['forward'], r['medians_s']['mean_shift'],
            r['medians_s']['mean_shift_reference'], r['medians_s']['verify'],
            r['medians_s']['post'],
            round(r['post_over_forward'], 3), r['medians_s']['predict'],
            r['medians_s']['mask_rcnn_predict'],
            round(r['predict_over_mask_rcnn'],
                  3), r['verifier_macs_per_candidate'] * r['candidates'] / 1e9,
            r['medians_s']['mean_shift_one_thread']
        ] for r in rows],
        digits=3,
        notes=[
            f'medians of {repeat} interleaved repeats (order reversed on '
            'every other repeat) after a warm-up, one process, side by side',
            'forward: backbone + FPN + map branch; post-processing: '
            'everything after it (DVISHead.predict_by_feat: mean shift, '
            'verification head, scores, matrix NMS, mask up-sampling); '
            'predict: the whole DVIS.predict / Mask R-CNN predict on the '
            'same input tensor',
            'random weights; the DVIS map is a synthetic trained-like map '
            '(mmboundary/testing/dvis_maps.py); score thresholds 0 in both '
            'models (Mask R-CNN: 100 detections through its mask head)',
            'verifier: its multiply-accumulates on all candidates '
            '(DVISVerifyHead.macs_per_candidate() x candidates; '
            'configs/dvis/results/verifier_cost.json)',
            'mean shift, 1 thread: the same discretiser with torch and its '
            'kernel on one thread (the threads change no bit)',
            f'mean shift: {status}; its candidates and masks are identical '
            'to the torch code\'s (asserted); targets: post / forward <= '
            '0.10, DVIS / Mask R-CNN <= 1',
        ])
    return dict(inference=table)


def parse_args(argv: Optional[List[str]] = None):
    parser = strict_parser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--settings',
        nargs='+',
        default=list(SETTINGS),
        choices=list(SETTINGS))
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='scale of the test input size (1: the configs\' test size; '
        'smaller only to try the tool)')
    parser.add_argument(
        '--instances',
        type=int,
        default=None,
        help='instances per map (default: 8 COCO, 16 Cityscapes)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--out',
        default=OUT,
        help="where the table is stored (dump_results); '' stores nothing")
    add_quiet(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise UserError(
            f'--device {args.device}: no CUDA GPU is visible to torch '
            '(torch.cuda.is_available() is False); run on a machine with a '
            'GPU or use --device cpu.')
    if args.repeat < 1 or args.scale <= 0:
        raise UserError('--repeat must be >= 1 and --scale > 0 (got '
                        f'{args.repeat}, {args.scale}).')
    status = (f'{native_status()} on {torch.get_num_threads()} thread(s)'
              if args.device == 'cpu' else 'torch code on the GPU')
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'device {args.device}, mean shift: {status}')
    load = os.getloadavg()[0]
    rows = [bench_setting(name, args) for name in args.settings]
    if args.out:
        dump_results(
            args.out,
            tables_of(rows, args.repeat, status),
            device=args.device,
            command=tool_command(None if argv is None else [__file__] +
                                 list(argv)),
            load_start=load,
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            mean_shift_impl=status,
            settings=rows)
        print(f'stored in {args.out}')


if __name__ == '__main__':
    run_cli(main)
