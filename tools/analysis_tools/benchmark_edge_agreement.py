# Copyright (c) mmboundary contributors. All rights reserved.
"""Measure what the Edge Agreement Loss costs in a Mask R-CNN iteration.

Builds the baseline Mask R-CNN and the one with :class:`EdgeAgreementMaskHead`
from two configs, gives both the *same* weights (the state dicts are
interchangeable), and times, in one process and interleaved:

* a full training iteration (data preprocessor, ``model.loss``, backward,
  an SGD step with ``lr=0`` so the weights, and therefore every iteration,
  stay identical) with the same seed for both models, so the RPN/RoI
  sampling and the number of positive RoIs are the same;
* the edge loss alone (forward + backward) on the mask logits of that
  iteration, for a less noisy estimate of its share;
* inference (``model.predict``) of both models, whose outputs must match.

Medians over ``--repeat`` runs are printed with the ratios. Example::

    OMP_NUM_THREADS=1 python \\
        tools/analysis_tools/benchmark_edge_agreement.py --size 512 --repeat 6

The measured table is stored with
:func:`mmboundary.utils.results_doc.dump_results` in ``--out-json``
(default ``configs/edge_agreement/results/benchmark_edge_agreement.json``,
the file ``configs/edge_agreement/README.md`` shows).
"""
import argparse
import copy
import os
import statistics
import sys
import time
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmboundary  # noqa: F401  (registers the head and the loss)
from mmboundary.utils.cli import add_quiet
from mmboundary.utils.progress import track

BASE = 'configs/edge_agreement/mask-rcnn_r50-fpn_8xb2-1x_coco-1333x800.py'
EDGE = ('configs/edge_agreement/'
        'mask-rcnn-ea-sobel-l2_r50-fpn_8xb2-1x_coco-1333x800.py')
OUT_JSON = 'configs/edge_agreement/results/benchmark_edge_agreement.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Cost of the edge agreement loss in Mask R-CNN',
        allow_abbrev=False)
    parser.add_argument('--base-config', default=BASE)
    parser.add_argument('--edge-config', default=EDGE)
    parser.add_argument('--size', type=int, default=512, help='image side')
    parser.add_argument('--num-gts', type=int, default=8)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--out-json',
        default=OUT_JSON,
        help='where the measured table is stored (default: %(default)s)')
    add_quiet(parser)
    return parser.parse_args(argv)


def results_table(train: Dict[str, List[float]], infer: Dict[str, List[float]],
                  loss_times: List[float], setting: str,
                  identical: bool) -> Dict:
    """The stored table: medians and minima of both models, their
    ratios, and the edge loss alone against the fastest baseline
    iteration."""
    rows = []
    for what, times in (('train iteration', train), ('inference', infer)):
        for stat, fn in (('median', statistics.median), ('fastest', min)):
            base, edge = fn(times['base']), fn(times['edge'])
            rows.append([f'{what}, {stat}', base, edge, edge / base])
    loss = statistics.median(loss_times)
    rows.insert(2, ['edge loss alone, fwd + bwd, median', None, loss, None])
    share = 100 * loss / min(train['base'])
    return dict(
        columns=['measure', 'baseline (s)', '+ edge loss (s)', 'ratio'],
        rows=rows,
        digits=4,
        notes=[
            setting, f'edge loss alone: {share:.3f} % of the fastest '
            'baseline iteration',
            'identical predictions: ' + ('yes' if identical else 'NO'),
            'baseline and edge model interleaved (ABBA) in one process; '
            'under other processes\' load absolute times are inflated and '
            'whole-iteration ratios noisy (inference runs the same code in '
            'both models, so its ratio shows that noise); the edge loss '
            'alone is the steady measure of its share'
        ])


def build(cfg_path, device):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None  # no download
    return MODELS.build(cfg.model).to(device)


def make_batch(size, num_gts, device, seed):
    from mmdet.testing import demo_mm_inputs
    torch.manual_seed(seed)
    import numpy as np
    np.random.seed(seed)
    packed = demo_mm_inputs(
        batch_size=1,
        image_shapes=[(3, size, size)],
        num_items=[num_gts],
        num_classes=80,
        with_mask=True)
    packed['inputs'] = [x.to(device) for x in packed['inputs']]
    packed['data_samples'] = [s.to(device) for s in packed['data_samples']]
    return packed


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def train_iter(model, optim, batch, seed, device):
    torch.manual_seed(seed)
    sync(device)
    start = time.perf_counter()
    data = model.data_preprocessor(copy.copy(batch), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    loss, log_vars = model.parse_losses(losses)
    optim.zero_grad()
    loss.backward()
    optim.step()
    sync(device)
    return time.perf_counter() - start, log_vars


def infer(model, batch, device):
    sync(device)
    start = time.perf_counter()
    with torch.no_grad():
        data = model.data_preprocessor(copy.copy(batch), False)
        results = model.predict(data['inputs'], data['data_samples'])
    sync(device)
    return time.perf_counter() - start, results


def main(argv=None):
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    base = build(args.base_config, args.device)
    edge = build(args.edge_config, args.device)
    base_keys = {k: v.shape for k, v in base.state_dict().items()}
    edge_keys = {k: v.shape for k, v in edge.state_dict().items()}
    assert base_keys == edge_keys, 'state dicts differ'
    edge.load_state_dict(base.state_dict(), strict=True)

    # Record the mask logits/targets/labels the edge loss sees.
    captured = {}
    head = edge.roi_head.mask_head
    original = head.loss_and_target

    def capture(mask_preds, sampling_results, batch_gt_instances,
                rcnn_train_cfg):
        out = original(mask_preds, sampling_results, batch_gt_instances,
                       rcnn_train_cfg)
        labels = torch.cat([r.pos_gt_labels for r in sampling_results])
        captured.update(
            preds=mask_preds.detach(),
            targets=out['mask_targets'].detach(),
            labels=labels)
        return out

    head.loss_and_target = capture

    batch = make_batch(args.size, args.num_gts, args.device, args.seed)
    optims = {
        name: torch.optim.SGD(m.parameters(), lr=0.0, momentum=0.0)
        for name, m in (('base', base), ('edge', edge))
    }
    models = dict(base=base, edge=edge)
    for m in models.values():
        m.train()
    times = dict(base=[], edge=[])
    # one warm-up iteration each, then interleaved timed repetitions
    for name in ('base', 'edge'):
        train_iter(models[name], optims[name], batch, args.seed, args.device)
    # ABBA order so that slow drifts of the machine cancel out; progress
    # on stderr, between the timed calls.
    for rep in track(
            range(args.repeat),
            desc='train iterations (base and edge, interleaved)',
            quiet=args.quiet,
            stream=sys.stderr):
        order = ('base', 'edge') if rep % 2 == 0 else ('edge', 'base')
        for name in order:
            t, log_vars = train_iter(models[name], optims[name], batch,
                                     args.seed, args.device)
            times[name].append(t)
            if name == 'edge':
                edge_log = log_vars
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}

    # The edge loss alone, forward + backward, on the captured tensors.
    loss_fn = head.loss_edge[0]
    preds = captured['preds'].clone().requires_grad_()
    loss_times = []
    for _ in range(max(10, args.repeat)):
        sync(args.device)
        start = time.perf_counter()
        loss_fn(
            preds, captured['targets'], label=captured['labels']).backward()
        sync(args.device)
        loss_times.append(time.perf_counter() - start)
    loss_med = statistics.median(loss_times)

    # Inference: same weights, same input, same outputs.
    for m in models.values():
        m.eval()
    inf = dict(base=[], edge=[])
    outs = {}
    for name in ('base', 'edge'):
        infer(models[name], batch, args.device)
    for rep in track(
            range(args.repeat),
            desc='inference (base and edge, interleaved)',
            quiet=args.quiet,
            stream=sys.stderr):
        order = ('base', 'edge') if rep % 2 == 0 else ('edge', 'base')
        for name in order:
            t, outs[name] = infer(models[name], batch, args.device)
            inf[name].append(t)
    inf_med = {k: statistics.median(v) for k, v in inf.items()}
    inf_best = {k: min(v) for k, v in inf.items()}
    pb, pe = outs['base'][0].pred_instances, outs['edge'][0].pred_instances
    same = (
        torch.equal(pb.bboxes, pe.bboxes) and torch.equal(pb.masks, pe.masks)
        and torch.equal(pb.scores, pe.scores))

    n_pos = captured['preds'].shape[0]
    edge_value = float(torch.as_tensor(edge_log['loss_mask_edge']).detach())
    setting = (f'device: {args.device}, threads: {torch.get_num_threads()}, '
               f'input 1x3x{args.size}x{args.size}, {args.num_gts} GT '
               f'instances, {n_pos} positive RoIs, mask logits '
               f'{tuple(captured["preds"].shape)}, repeat {args.repeat}')
    print(setting)
    print(f'loss_mask_edge in the iteration: {edge_value:.4f}')

    def ratio_line(what, base_t, edge_t, digits=4):
        return (f'{what}: baseline {base_t:.{digits}f} s  edge '
                f'{edge_t:.{digits}f} s  ratio {edge_t / base_t:.4f} '
                f'({100 * (edge_t / base_t - 1):+.2f} %)')

    print(ratio_line('train iteration, median', med['base'], med['edge']))
    print(ratio_line('train iteration, min', best['base'], best['edge']))
    print(f'edge loss alone (fwd+bwd), median: {loss_med:.6f} s = '
          f'{100 * loss_med / best["base"]:.3f} % of the fastest baseline '
          'iteration')
    print(ratio_line('inference, median', inf_med['base'], inf_med['edge']))
    print(ratio_line('inference, min', inf_best['base'], inf_best['edge']))
    print(f'identical predictions: {same}')
    raw_base = ' '.join(f'{t:.3f}' for t in times['base'])
    raw_edge = ' '.join(f'{t:.3f}' for t in times['edge'])
    print(f'raw train times (s): base {raw_base} | edge {raw_edge}')
    from mmboundary.utils.results_doc import dump_results, tool_command
    dump_results(
        args.out_json,
        dict(cost=results_table(times, inf, loss_times, setting, same)),
        device=args.device,
        command=tool_command(None if argv is None else [__file__] +
                             list(argv)),
        load_start=load_start,
        raw_seconds=dict(train=times, inference=inf, edge_loss=loss_times))
    print(f'stored in {args.out_json}')


if __name__ == '__main__':
    main()
