# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS verifier: cost per candidate by config, and accuracy of its widths.

Cost (always): for every DVIS config, the verification head is built from
the config and its multiply-accumulates per candidate are counted on a real
forward of one candidate (hooks on every ``Conv2d`` and ``Linear``: output
elements x input channels per group x kernel area, or in x out features),
checked equal to :meth:`DVISVerifyHead.macs_per_candidate`, and compared
with the paper's budget (Table 5: 2.44 GFLOPs for the whole classification
module of DVIS R101 at short edge 700, 5-15 candidates per image; the paper
does not say whether its "FLOPs" are MACs or twice as many). Stored in
``--cost-out``.

Accuracy (``--seeds``): the compact DVIS row of the main job
(``configs/dvis/dvis_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py``,
the main job's protocol: shared start, 300 iterations, 1 compute thread per
run; :mod:`mmboundary.benchmark`) trained and tested with each verifier of
``--variants`` (only ``model.mask_head.verify_head`` widths differ), mask AP
and box AP as mean +- sample std over the seeds with the paired difference
to the first variant (Student-t 95 % interval). Stored in ``--accuracy-out``.
Runs finished earlier (same resolved config and start) are reused, so an
interrupted comparison resumes. The code's widths make a compact run much
slower than the light ones (their backward dominates). Example::

    python tools/analysis_tools/dvis_verifier_cost.py --seeds 0 1 2
"""
import copy
import os
import os.path as osp
import sys
from types import SimpleNamespace
from typing import Dict, List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch import nn  # noqa: E402

import mmboundary  # noqa: E402,F401  (registers DVIS)
from mmboundary.utils.cli import UserError  # noqa: E402
from mmboundary.utils.cli import add_quiet, run_cli, strict_parser  # noqa
from mmboundary.utils.results_doc import dump_results  # noqa: E402
from mmboundary.utils.results_doc import tool_command  # noqa: E402

CONFIGS = [
    'configs/dvis/dvis_r50-fpn_1xb8-55e_coco-700.py',
    'configs/dvis/dvis_r50-fpn_8xb1-64e_cityscapes-2048x1024.py',
    'configs/dvis/dvis-refcode_r50-fpn_1xb8-55e_coco-550.py',
    'configs/dvis/dvis_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
]
COMPACT = CONFIGS[-1]
#: Paper, Table 5: classification module, DVIS R101, short edge 700.
PAPER_GFLOPS_700 = 2.44
PAPER_CANDIDATES = (5, 15)
#: Verifier widths compared on the compact row (the first is the reference
#: of the paired differences).
VARIANTS = {
    'official widths':
    dict(
        extractor_channels=256,
        conv_channels=(256, 256, 256, 512, 512),
        fc_channels=1024,
        head_fc_channels=512),
    'R50 default widths':
    dict(
        extractor_channels=32,
        conv_channels=(32, 32, 64, 64, 128),
        fc_channels=256,
        head_fc_channels=128),
    'compact config':
    dict(),
}
ACCURACY_KEYS = [('coco/segm_mAP', 'mask AP'), ('coco/bbox_mAP', 'box AP')]


def build_verifier(head_cfg: Dict):
    """The ``DVISVerifyHead`` of a ``DVISHead`` config, with the defaults
    ``DVISHead`` fills in."""
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    vh = copy.deepcopy(
        head_cfg.get('verify_head', dict(type='DVISVerifyHead')))
    vh.setdefault('num_classes', head_cfg['num_classes'])
    vh.setdefault('in_channels', head_cfg.get('in_channels', 256))
    vh.setdefault('featmap_stride', head_cfg.get('featmap_stride', 8))
    vh.setdefault('map_stride', head_cfg.get('map_stride', 4))
    return MODELS.build(vh).eval()


def counted_macs(verifier) -> int:
    """MACs of the verifier's convs and FCs on one candidate, counted by
    hooks on a real forward."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += out.numel() * (mod.in_channels // mod.groups) * k
        else:
            total[0] += out.numel() * mod.in_features

    handles = [
        m.register_forward_hook(hook) for m in verifier.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    s = verifier.roi_size * 8
    stride = int(round(1 / verifier.feat_roi.spatial_scale))
    mstride = int(round(1 / verifier.map_roi.spatial_scale))
    feat = torch.randn(1, verifier.in_channels, s // stride, s // stride)
    inst_map = torch.rand(1, 1, s // mstride, s // mstride)
    rois = torch.tensor([[0.0, 0.0, 0.0, s / 2, s / 2]])
    try:
        with torch.no_grad():
            verifier(feat, inst_map, rois, torch.ones(1),
                     torch.ones(1, s // mstride, s // mstride, dtype=bool))
    finally:
        for h in handles:
            h.remove()
    return total[0]


def cost_rows(configs: List[str]) -> List[Dict]:
    rows = []
    for path in configs:
        cfg = Config.fromfile(osp.join(REPO_ROOT, path))
        verifier = build_verifier(cfg.model.mask_head)
        counted = counted_macs(verifier)
        formula = verifier.macs_per_candidate()
        if counted != formula:
            raise AssertionError(
                f'{path}: counted {counted} MACs per candidate, '
                f'macs_per_candidate() says {formula}')
        rows.append(
            dict(
                config=path,
                roi_size=verifier.roi_size,
                widths=[verifier.extractor_channels] +
                list(verifier.conv_channels) +
                [verifier.fc_channels, verifier.head_fc_channels],
                macs=counted))
    return rows


def cost_table(rows: List[Dict]) -> Dict:
    lo, hi = PAPER_CANDIDATES
    return dict(
        verifier_cost=dict(
            columns=[
                'config', 'RoI', 'widths (extractor; trunk; FC; heads)',
                'MMACs / candidate', f'GMACs at {lo} candidates',
                f'GMACs at {hi} candidates'
            ],
            rows=[[
                osp.basename(r['config']), r['roi_size'], '{}; {}; {}; {}'.
                format(r['widths'][0], '/'.join(map(str, r['widths'][1:-2])),
                       r['widths'][-2], r['widths'][-1]), r['macs'] / 1e6, lo *
                r['macs'] / 1e9, hi * r['macs'] / 1e9
            ] for r in rows],
            digits=2,
            notes=[
                'multiply-accumulates of the convs and FCs counted by hooks '
                'on a forward of one candidate (equal to '
                'DVISVerifyHead.macs_per_candidate(), asserted); RoIAlign, '
                'BN, activations, pooling and biases not counted',
                f'paper, Table 5: {PAPER_GFLOPS_700} GFLOPs for the whole '
                'classification module of DVIS R101 at short edge 700 with '
                f'{lo}-{hi} candidates per image (Sec. 4, Table 6), i.e. '
                f'{PAPER_GFLOPS_700 / hi * 1e3:.0f}-'
                f'{PAPER_GFLOPS_700 / lo * 1e3:.0f} MFLOPs per candidate: '
                'as many MMACs if its FLOPs are MACs, half as many if a MAC '
                'counts two FLOPs'
            ]))


def accuracy(args) -> Dict:
    """Trains and tests the compact row with every variant at every seed
    (the main job's protocol and engine)."""
    from mmboundary.benchmark import (Row, load_config, mean_std,
                                      paired_difference, resolve_config,
                                      task_rows)
    from mmboundary.benchmark.data import ensure_data
    from mmboundary.benchmark.process import ECHO
    from mmboundary.benchmark.rows import TASKS
    from mmboundary.benchmark.runner import run_row_seed, set_child_threads
    from mmboundary.benchmark.start import ensure_start
    ECHO['on'] = not args.quiet
    os.makedirs(args.work_dir, exist_ok=True)
    ensure_data(args.data_root, 0, osp.join(args.work_dir, 'data.log'))
    set_child_threads(1)
    start = ensure_start(
        task_rows('semantic')[0], args.data_root, args.start_dir)
    runs = SimpleNamespace(work_dir=args.work_dir, no_reuse=False)
    records = {}
    jobs = []
    for seed in args.seeds:  # seed by seed: early runs are paired
        for name in args.variants:
            row = Row(f'DVIS, {name}', COMPACT, 'instance')
            cfg = resolve_config(
                load_config(COMPACT), 'instance', TASKS['instance']['iters'],
                args.data_root, seed, start)
            cfg.model.mask_head.verify_head.update(VARIANTS[name])
            jobs.append((name, row, cfg, seed))
    import threading
    lock = threading.Lock()
    errors = []

    def worker():
        while True:
            with lock:
                if not jobs or errors:
                    return
                name, row, cfg, seed = jobs.pop(0)
            try:
                rec = run_row_seed(row, cfg, seed, runs, start['sha256'])
            except BaseException as e:  # noqa: B902 (re-raised below)
                with lock:
                    errors.append(e)
                return
            with lock:
                records[(name, seed)] = rec
                if not args.quiet:
                    print(
                        f'[verifier] {name} seed {seed}: '
                        f"{rec['metrics']}",
                        flush=True)

    threads = [threading.Thread(target=worker) for _ in range(args.jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    ref = args.variants[0]
    table_rows, raw = [], {}
    for name in args.variants:
        vals = {
            key: [records[(name, s)]['metrics'][key] for s in args.seeds]
            for key, _ in ACCURACY_KEYS
        }
        raw[name] = vals
        row = [name]
        for key, _ in ACCURACY_KEYS:
            st = mean_std(vals[key])
            row += [st['mean'], st['std']]
        key = ACCURACY_KEYS[0][0]
        if name == ref:
            row += [None, None, None]
        else:
            d = paired_difference(vals[key], raw[ref][key])
            ci = None if d['low'] is None else (
                f"[{d['low']:.2f}, {d['high']:.2f}]")
            row += [d['mean'], ci, d['verdict']]
        table_rows.append(row)
    table = dict(
        verifier_accuracy=dict(
            columns=['verifier'] + [
                f'{label} {stat}' for _, label in ACCURACY_KEYS
                for stat in ('mean', 'std')
            ] + [f'mask AP - {ref}', '95 % interval', 'verdict'],
            rows=table_rows,
            digits=2,
            notes=[
                f'{COMPACT} under the main job\'s protocol (shared start, '
                f"{TASKS['instance']['iters']} iterations, 1 compute thread "
                f'per run), only model.mask_head.verify_head widths '
                f'changed; seeds {list(args.seeds)}; std: sample std; '
                'difference: paired by seed, Student-t 95 % interval',
                'widths: ' +
                '; '.join(f'{n}: {VARIANTS[n] or "as in the config"}'
                          for n in args.variants)
            ]))
    return dict(tables=table, raw=raw, start=start.get('status'))


def parse_args(argv: Optional[List[str]] = None):
    parser = strict_parser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--seeds',
        nargs='*',
        type=int,
        default=[],
        help='seeds of the accuracy runs (none: cost only)')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=list(VARIANTS),
        choices=list(VARIANTS))
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--data-root', default='data/synthetic_cityscapes')
    parser.add_argument(
        '--work-dir', default='work_dirs/dvis_verifier_ablation')
    parser.add_argument('--start-dir', default='work_dirs/main_job_start')
    parser.add_argument(
        '--cost-out', default='configs/dvis/results/verifier_cost.json')
    parser.add_argument(
        '--accuracy-out',
        default='configs/dvis/results/verifier_accuracy.json')
    add_quiet(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.jobs < 1:
        raise UserError(f'--jobs {args.jobs}: give at least 1.')
    if len(set(args.seeds)) != len(args.seeds):
        raise UserError(f'--seeds {args.seeds}: a seed is given twice.')
    load = os.getloadavg()[0]
    rows = cost_rows(CONFIGS)
    for r in rows:
        print(f"{r['config']}: {r['macs'] / 1e6:.2f} MMACs per candidate")
    if args.cost_out:
        dump_results(
            args.cost_out,
            cost_table(rows),
            load_start=load,
            command=tool_command(None if argv is None else [__file__] +
                                 list(argv)),
            paper_gflops_700=PAPER_GFLOPS_700,
            configs=rows)
        print(f'stored in {args.cost_out}')
    if not args.seeds:
        return
    load = os.getloadavg()[0]
    res = accuracy(args)
    for row in res['tables']['verifier_accuracy']['rows']:
        print(row)
    if args.accuracy_out:
        dump_results(
            args.accuracy_out,
            res['tables'],
            load_start=load,
            command=tool_command(None if argv is None else [__file__] +
                                 list(argv)),
            source_paths=['tools/train.py', 'tools/test.py'],
            seeds=list(args.seeds),
            values=res['raw'],
            start=res['start'])
        print(f'stored in {args.accuracy_out}')


if __name__ == '__main__':
    run_cli(main)
