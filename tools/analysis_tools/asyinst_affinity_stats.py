# Copyright (c) mmboundary contributors. All rights reserved.
"""Shares of positive colour and depth edges that BoxInst / AsyInst train on.

A thin command line over :mod:`mmboundary.engine.affinity_stats`: runs each
config's train pipeline and its ``AsyInstDataPreprocessor`` on the training
set of each ``--data-root`` and prints, among the in-box edges (centre
inside a box, as the losses count them) whose ends are valid, the share of
positive colour edges (``S >= tau_c``) and the share of those joining
same-instance pixels (issue 19's targets: >= 20 % and >= 90 %), and the
same for the depth edges (``Diff <= tau_d``; ``--depth-thresh`` overrides
tau_d, several values may be given: AsyInst Sec. 6.1 gives 0.01 without a
unit). For each root it also prints how far colour alone gives the label
(:func:`~mmboundary.datasets.synthetic_cityscapes.colour_lookup_accuracy`:
a nearest-class-mean colour classifier fitted on train, scored on val).

The tables are stored with :func:`mmboundary.utils.results_doc.dump_results`
in ``--out-json`` (default ``docs/results/affinity_edge_shares.json``,
rendered into ``configs/asyinst/README.md``); ``--no-store`` only prints.

Example (the compact configs on the default data, and on a root of the
earlier generator version for comparison)::

    OMP_NUM_THREADS=1 python tools/analysis_tools/asyinst_affinity_stats.py \\
        --data-root data/synthetic_cityscapes data/synthetic_cityscapes_v1
"""
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from mmboundary.utils.cli import UserError  # noqa: E402
from mmboundary.utils.cli import add_quiet  # noqa: E402
from mmboundary.utils.cli import run_cli  # noqa: E402
from mmboundary.utils.cli import strict_parser  # noqa: E402

CONFIGS = [
    'configs/asyinst/'
    'boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
    'configs/asyinst/'
    'asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
]


def parse_args(argv=None):
    parser = strict_parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs',
        nargs='*',
        default=CONFIGS,
        help='BoxInst / AsyInst configs (default: the compact ones)')
    parser.add_argument(
        '--data-root',
        nargs='+',
        default=None,
        help='dataset roots (default: the configs\' own)')
    parser.add_argument(
        '--num-batches',
        type=int,
        default=None,
        help='train batches per config and root (default: all)')
    parser.add_argument(
        '--depth-thresh',
        type=float,
        nargs='+',
        default=None,
        help='tau_d values for configs with depth (default: the config\'s)')
    parser.add_argument(
        '--out-json',
        default='docs/results/affinity_edge_shares.json',
        help='where the tables are stored (default: %(default)s)')
    parser.add_argument('--no-store', action='store_true', help='print only')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an input error')
    add_quiet(parser)
    args = parser.parse_args(argv)
    if args.num_batches is not None and args.num_batches < 1:
        parser.error('--num-batches must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    from mmengine.config import Config

    import mmboundary  # noqa: F401  (registers the modules)
    from mmboundary.datasets.synthetic_cityscapes import (
        colour_lookup_accuracy, data_version, read_frames)
    from mmboundary.engine.affinity_stats import (TARGETS, affinity_edge_stats,
                                                  edge_share_table, shares)
    from mmboundary.utils.progress import Progress
    from mmboundary.utils.results_doc import dump_results, tool_command
    for path in args.configs:
        if not osp.isfile(path):
            raise UserError(f'config {path} does not exist')
    roots = args.data_root or [None]
    for root in roots:
        if root is not None and not osp.isdir(osp.join(root, 'annotations')):
            raise UserError(
                f'--data-root {root}: no annotations/ there; generate and '
                'convert it (tools/dataset_converters/'
                'generate_synthetic_cityscapes.py, cityscapes.py)')
    cfgs = [Config.fromfile(path) for path in args.configs]
    rows, lookup = [], []
    for root in roots:
        real_root = root or config_root(cfgs[0])
        version = data_version(real_root)
        data = real_root.rstrip('/') + ('' if version is None else
                                        f' (v{version})')
        for path, cfg in zip(args.configs, cfgs):
            threshs = args.depth_thresh
            if cfg.model.data_preprocessor.get('depth_thresh') is None:
                threshs = []
            stats = affinity_edge_stats(
                cfg,
                args.num_batches,
                threshs,
                data_root=root,
                progress=lambda n, p=path: Progress(
                    n,
                    desc=f'{osp.basename(p)}: batches',
                    quiet=args.quiet,
                    stream=sys.stderr))
            rows.append(
                dict(data=data, config=osp.basename(path), stats=stats))
            c = shares(stats['colour'])
            print(f'{data} | {path}: {stats["images"]} images, mask stride '
                  f'{stats["mask_stride"]}, K={stats["pairwise_size"]}, '
                  f'D={stats["pairwise_dilation"]}')
            print(f'  colour tau_c={stats["color_thresh"]:g}: '
                  f'{_pct(c["positive"])} of '
                  f'{int(stats["colour"]["edges"])} in-box edges positive '
                  f'(target >= {TARGETS["positive"]:.0%}), '
                  f'{_pct(c["same"])} of those same-instance '
                  f'(target >= {TARGETS["same"]:.0%})')
            for t, counts in sorted(stats['depth'].items()):
                d = shares(counts)
                print(f'  depth tau_d={t:g}: {_pct(d["positive"])} of '
                      f'{int(counts["edges"])} in-box edges positive, '
                      f'{_pct(d["same"])} of those same-instance')
        acc = colour_lookup_accuracy(
            read_frames(real_root, 'train', step=4),
            read_frames(real_root, 'val', step=4))
        lookup.append([
            data, acc['classes'], 100 * acc['accuracy'], 100 * acc['majority']
        ])
        print(f'{data}: colour lookup (nearest class mean, '
              f'{acc["classes"]} classes) val pixel accuracy '
              f'{acc["accuracy"]:.1%}; the most frequent class alone '
              f'{acc["majority"]:.1%}')
    if args.no_store:
        return 0
    shares_table = edge_share_table(rows)
    shares_table['notes'] = [
        'In-box edges of the mask grid (image average-pooled by the mask '
        'stride, K x K neighbours at dilation D) whose ends are valid, '
        'counted over the train set as the configs load it; '
        'S = exp(-||Lab_p - Lab_q|| / 2) (BoxInst, AsyInst eq. 12). '
        'Same-instance: one GT instance mask covers both ends, or none '
        'covers either.', f'Targets (issue 19): S >= tau_c for >= '
        f'{TARGETS["positive"]:.0%} of the in-box colour edges, >= '
        f'{TARGETS["same"]:.0%} of those same-instance.'
    ]
    tables = dict(
        shares=shares_table,
        colour_lookup=dict(
            columns=[
                'data', 'classes', 'nearest-class-mean colour accuracy (%)',
                'most frequent class (%)'
            ],
            rows=lookup,
            digits=1,
            notes=[
                'Per-pixel label from the nearest class-mean RGB (means '
                'over the train images, scored on the val images, every '
                '4th pixel in both axes, void labels left out): how far a '
                'lookup of colour gives the label.'
            ]))
    dump_results(
        args.out_json,
        tables,
        command=tool_command(None if argv is None else [__file__] +
                             list(argv)),
        load_start=load_start)
    print(f'stored in {args.out_json}')
    return 0


def config_root(cfg) -> str:
    """The train dataset's ``data_root`` of a config."""
    ds = cfg.train_dataloader.dataset
    while 'data_root' not in ds and 'dataset' in ds:
        ds = ds.dataset
    return ds.data_root


def _pct(value):
    return '-' if value is None else f'{100 * value:.1f} %'


if __name__ == '__main__':
    run_cli(main)
