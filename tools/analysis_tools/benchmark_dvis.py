# Copyright (c) mmboundary contributors. All rights reserved.
"""Speed and memory of the DVIS pair loss and mean-shift, side by side.

    python tools/analysis_tools/benchmark_dvis.py [--what pair_loss mean_shift]
        [--sizes 2x128x256 1x512x1024] [--repeat 5] [--device cpu]
        [--out configs/dvis/results/benchmark.json]

Pair loss: mmboundary's ``PermutationInvariantLoss`` (shifted views in
cache-sized stripes, the gradient accumulated during the forward pass)
against the official code's *formulation*,
re-implemented here from its description: a (K, 1, kh, kw) one-hot
difference kernel applied with ``F.conv2d`` to the replicate-padded map and
ids, |diff| clamped to [1e-8, 5], mean over K x B x H x W. Ours runs in the
official code's settings (window 33x65, dense radius 4, dilation 4, dense
axes, replicate borders, all pairs, clamp 5), so both enumerate exactly the
same pairs; the script asserts that the two losses agree. Forward +
backward times of the reference, ours and the paper's window are
interleaved (ABBA) after one warm-up each, the medians are reported; peak
memory is measured in a fresh subprocess per method and size
(CPU: growth of the resident set's high-water mark, reset to the current
size just before the measured call; CUDA: ``max_memory_allocated``). It
also reports the paper's window (129x129, 8, 8; 200 offsets) and the
mean-shift discretiser's time (median of ``--repeat``) and extra memory.
The tables are stored with :func:`mmboundary.utils.results_doc.dump_results`
(``--out``) for the README's results blocks.
"""
import argparse
import json
import os
import resource
import subprocess
import sys

import torch
import torch.nn.functional as F

from mmboundary.models.losses.dvis_losses import (PermutationInvariantLoss,
                                                  dvis_huber,
                                                  stratified_offsets)
from mmboundary.models.utils.mean_shift import MeanShiftDiscretizer
from mmboundary.models.utils.mean_shift_native import native_status
from mmboundary.testing.dvis_maps import synthetic_dvis_map
from mmboundary.utils.results_doc import dump_results, tool_command
from mmboundary.utils.timing import interleaved_medians

REFCODE = dict(
    window=(33, 65),
    dense_radius=4,
    dilation=4,
    dense_axes=True,
    pair_mode='all',
    border='replicate',
    max_diff=5.0,
    loss_weight=1.0)
PAPER = dict(window=(129, 129), dense_radius=8, dilation=8, loss_weight=1.0)


def reference_conv_pair_loss(pred,
                             ids,
                             offsets,
                             window,
                             margin=1.0,
                             pos_weight=3.0,
                             theta=0.1):
    """The official code's dilated one-hot convolution formulation."""
    kh, kw = window
    K = len(offsets)
    kernel = torch.zeros(K, 1, kh, kw, dtype=pred.dtype, device=pred.device)
    rows = torch.arange(K)
    kernel[rows, 0, kh // 2 + offsets[:, 0], kw // 2 + offsets[:, 1]] = 1
    kernel[rows, 0, kh // 2, kw // 2] -= 1
    pad = (kw // 2, kw // 2, kh // 2, kh // 2)
    x = F.pad(pred, pad, mode='replicate')
    g = F.pad(ids.to(pred.dtype), pad, mode='replicate')
    d = F.conv2d(x, kernel).abs().clamp(1e-8, 5.0)
    with torch.no_grad():
        diff = F.conv2d(g, kernel).abs() > 0.5
    same_l = dvis_huber(d, theta)
    diff_l = pos_weight * dvis_huber(F.relu(margin - d), theta)
    return torch.where(diff, diff_l, same_l).mean()


def make_inputs(size, device, seed=0):
    b, h, w = size
    gen = torch.Generator().manual_seed(seed)
    pred = (torch.rand(b, 1, h, w, generator=gen) * 4).to(device)
    # blocky instance ids (0 = background), 16x16 cells
    cells = torch.randint(
        0, 6, (b, 1, -(-h // 16), -(-w // 16)), generator=gen).float()
    ids = F.interpolate(cells, scale_factor=16)[:, :, :h, :w].long()
    return pred, ids.to(device)


def run_method(name, pred, ids):
    x = pred.clone().requires_grad_()
    if name == 'reference':
        offs = stratified_offsets((33, 65), 4, 4, True)
        loss = reference_conv_pair_loss(x, ids, offs, (33, 65))
    elif name == 'ours':
        loss = PermutationInvariantLoss(**REFCODE).to(pred.device)(x, ids[:,
                                                                          0])
    elif name == 'paper_window':
        loss = PermutationInvariantLoss(
            **PAPER, border='valid',
            pair_mode='all').to(pred.device)(x, ids[:, 0])
    else:
        raise KeyError(name)
    loss.backward()
    return loss.item()


def child(args):
    """One measurement in a fresh process: peak extra memory in MiB."""
    size = tuple(int(v) for v in args.child_size.split('x'))
    device = args.device
    if args.child in ('mean_shift', 'mean_shift_torch'):
        x = mean_shift_map(size, device)
        disc = MeanShiftDiscretizer(
            impl='torch' if args.child == 'mean_shift_torch' else 'auto')
        fn = (lambda: disc(x))
    else:
        pred, ids = make_inputs(size, device)
        fn = (lambda: run_method(args.child, pred, ids))
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        extra = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        base = _status_kib('VmRSS')
        try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            peak_key = 'VmHWM'
        except OSError:
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            peak_key = None
        fn()
        peak = _status_kib(peak_key) if peak_key else resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss
        extra = (peak - base) / 1024
    print(json.dumps(dict(extra_mib=extra)))


def _status_kib(key):
    """A ``/proc/self/status`` entry (kB)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


def memory_of(method, size, device):
    out = subprocess.run([
        sys.executable, __file__, '--child', method, '--child-size', 'x'.join(
            map(str, size)), '--device', device
    ],
                         capture_output=True,
                         text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])['extra_mib']


def bench_pair_loss(size, args):
    pred, ids = make_inputs(size, args.device)
    ref_val = run_method('reference', pred, ids)  # warm-up and agreement
    our_val = run_method('ours', pred, ids)
    run_method('paper_window', pred, ids)
    rel = abs(ref_val - our_val) / abs(ref_val)
    assert rel < 1e-5, f'losses differ: {ref_val} vs {our_val}'
    med, times = interleaved_medians(
        {
            m: (lambda m=m: run_method(m, pred, ids))
            for m in ('reference', 'ours', 'paper_window')
        }, args.repeat, args.device)
    ref_t, our_t, paper_t = (
        med[m] for m in ('reference', 'ours', 'paper_window'))
    mem = {
        m: memory_of(m, size, args.device)
        for m in ('reference', 'ours', 'paper_window')
    }
    b, h, w = size
    pairs = 118 * b * h * w
    print(f'pair loss {b}x{h}x{w} ({args.device}, K=118, equal pairs, '
          f'losses {ref_val:.6f} / {our_val:.6f}, rel diff {rel:.1e})')
    print(f'  fwd+bwd median of {args.repeat}: reference conv {ref_t:.3f} s, '
          f'ours {our_t:.3f} s -> speed-up {ref_t / our_t:.1f}x '
          f'({pairs / our_t / 1e6:.1f} M pairs/s)')
    print(f'  peak extra memory: reference conv {mem["reference"]:.0f} MiB, '
          f'ours {mem["ours"]:.0f} MiB -> ratio '
          f'{mem["ours"] / max(mem["reference"], 1e-9):.4f}')
    print(f'  paper window (129x129, 8, 8, K=200, valid): {paper_t:.3f} s, '
          f'peak extra memory {mem["paper_window"]:.0f} MiB')
    return dict(
        size=list(size),
        rel_diff=rel,
        reference_s=ref_t,
        ours_s=our_t,
        speedup=ref_t / our_t,
        memory_mib=mem,
        memory_ratio=mem['ours'] / max(mem['reference'], 1e-9),
        paper_s=paper_t,
        times_s=times)


def mean_shift_map(size, device):
    """A trained-like map (plateaus, ramps, noise; 8 instances per 256x256
    of map, at least 4)."""
    b, h, w = size
    return synthetic_dvis_map((b, h, w), max(4, h * w // 8192),
                              seed=0).relu().to(device)


def bench_mean_shift(size, args):
    b, h, w = size
    x = mean_shift_map(size, args.device)
    disc = MeanShiftDiscretizer()
    ref = MeanShiftDiscretizer(impl='torch')
    res = disc(x)  # warm-up
    same = all(torch.equal(r.masks, q.masks) for r, q in zip(res, ref(x)))
    assert same, 'the discretiser and its torch code differ'
    med, times = interleaved_medians(
        {
            'mean_shift': lambda: disc(x),
            'torch_code': lambda: ref(x)
        }, args.repeat, args.device)
    t, t_ref = med['mean_shift'], med['torch_code']
    mem = memory_of('mean_shift', size, args.device)
    mem_ref = memory_of('mean_shift_torch', size, args.device)
    print(f'mean-shift {b}x{h}x{w} ({args.device}; bandwidths 0.4/0.9, '
          f'radii 7/11, 4 iterations; {native_status()}): median of '
          f'{args.repeat} {t:.2f} s (torch code {t_ref:.2f} s, '
          f'{t_ref / t:.1f}x), peak extra memory {mem:.0f} MiB (torch code '
          f'{mem_ref:.0f} MiB), {sum(len(r) for r in res)} candidates, '
          'identical')
    return dict(
        size=list(size),
        seconds=t,
        torch_code_seconds=t_ref,
        speedup=t_ref / t,
        memory_mib=mem,
        torch_code_memory_mib=mem_ref,
        candidates=sum(len(r) for r in res),
        identical=same,
        implementation=native_status(),
        times_s=times['mean_shift'],
        torch_code_times_s=times['torch_code'])


def tables_of(pair, shift, repeat):
    """The measured numbers as :func:`dump_results` tables."""
    tables = {}
    if pair:
        tables['pair_loss'] = dict(
            columns=[
                'B x H x W', 'reference conv (s)', 'ours (s)', 'speed-up',
                'reference conv (MiB)', 'ours (MiB)', 'memory ratio',
                'paper window (s)', 'paper window (MiB)'
            ],
            rows=[[
                'x'.join(map(str, r['size'])), r['reference_s'], r['ours_s'],
                round(r['speedup'], 1), r['memory_mib']['reference'],
                r['memory_mib']['ours'],
                round(r['memory_ratio'],
                      4), r['paper_s'], r['memory_mib']['paper_window']
            ] for r in pair],
            digits=2,
            notes=[
                'forward + backward of the pair loss, the official code\'s '
                'window (33x65, dense radius 4, dilation 4, dense axes, '
                'K = 118), replicate borders, all pairs: equal pairs, the '
                'losses agree (asserted)',
                f'times: median of {repeat} interleaved (ABBA) repeats after '
                'a warm-up; memory: peak extra resident memory in a fresh '
                'process; speed-up and memory ratio: reference / ours and '
                'ours / reference',
                'paper window: 129x129, dense radius 8, dilation 8 (K = '
                '200), valid borders'
            ])
    if shift:
        tables['mean_shift'] = dict(
            columns=[
                'B x H x W', 'time (s)', 'torch code (s)', 'speed-up',
                'extra memory (MiB)', 'torch code (MiB)'
            ],
            rows=[[
                'x'.join(map(str, r['size'])), r['seconds'],
                r['torch_code_seconds'],
                round(r['speedup'],
                      1), r['memory_mib'], r['torch_code_memory_mib']
            ] for r in shift],
            digits=2,
            notes=[
                'MeanShiftDiscretizer defaults: bandwidths 0.4 / 0.9, '
                'spatial radii 7 / 11, 4 iterations, on a trained-like map '
                '(mmboundary/testing/dvis_maps.py, 8 instances per 256x256); '
                f'time: median of {repeat} interleaved repeats after a '
                'warm-up; memory: peak extra resident memory in a fresh '
                'process',
                'time: the discretiser as configured (fused CPU kernel: '
                f'{shift[0]["implementation"]}); torch code: impl=\'torch\', '
                'today\'s shifted-view code; the candidates are identical '
                '(asserted)'
            ])
    return tables


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], allow_abbrev=False)
    parser.add_argument(
        '--what',
        nargs='+',
        default=['pair_loss', 'mean_shift'],
        choices=['pair_loss', 'mean_shift'])
    parser.add_argument(
        '--sizes', nargs='+', default=['2x128x256', '1x512x1024'])
    parser.add_argument(
        '--ms-sizes', nargs='+', default=['1x128x256', '1x512x1024'])
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--out',
        default='configs/dvis/results/benchmark.json',
        help='where the tables are stored (results_doc.dump_results); '
        "'' stores nothing")
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--child-size', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child(args)
        return
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}')
    load = os.getloadavg()[0]
    pair, shift = [], []
    if 'pair_loss' in args.what:
        for s in args.sizes:
            pair.append(
                bench_pair_loss(tuple(int(v) for v in s.split('x')), args))
    if 'mean_shift' in args.what:
        for s in args.ms_sizes:
            shift.append(
                bench_mean_shift(tuple(int(v) for v in s.split('x')), args))
    if args.out:
        dump_results(
            args.out,
            tables_of(pair, shift, args.repeat),
            device=args.device,
            command=tool_command(None if argv is None else [__file__] +
                                 list(argv)),
            load_start=load,
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            pair_loss=pair,
            mean_shift=shift)
        print(f'stored in {args.out}')


if __name__ == '__main__':
    main()
