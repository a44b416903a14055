# Copyright (c) mmboundary contributors. All rights reserved.
"""Write a small, deterministic, synthetic dataset in the Cityscapes layout.

A thin command line over :mod:`mmboundary.datasets.synthetic_cityscapes`
(see it for the files, the scene model and the image rendering, data
version 2). Each image depends only on ``(seed, split, index)``; the same
command writes byte-identical files. A marker file identifies the root as
synthetic and records the settings and the data version; an existing root
without the marker (a real dataset, say) is never touched. Re-running into
a synthetic root:

* with the same settings, a complete root is left as it is (its converted
  labels, annotations and lists stay valid) and an interrupted one is
  completed;
* with other settings (sizes, counts, seed, or a root written by another
  data version) it is refused, because the converted labels, the instance
  JSONs and ``train.txt``/``val.txt`` would no longer match;
  ``--overwrite`` removes all of them and rewrites the root, and converts
  it again when it had been converted.

Progress (with an ETA) goes to stdout; ``--quiet`` prints only the summary.

Example::

    python tools/dataset_converters/generate_synthetic_cityscapes.py \\
        --out data/synthetic_cityscapes --seed 0 --num-train 48 --num-val 16
"""
import importlib.util
import os.path as osp
import time

from mmboundary.datasets import synthetic_cityscapes as _syn
# the package's names, for the tests and callers of this tool
from mmboundary.datasets.synthetic_cityscapes import *  # noqa: F401,F403
from mmboundary.utils.cli import UserError, run_cli, strict_parser


def parse_args(argv=None):
    parser = strict_parser(
        description='Generate a synthetic dataset in the Cityscapes layout')
    parser.add_argument(
        '--out',
        default='data/synthetic_cityscapes',
        help='dataset root to write (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=48)
    parser.add_argument('--num-val', type=int, default=16)
    parser.add_argument('--height', type=int, default=256)
    parser.add_argument('--width', type=int, default=512)
    parser.add_argument(
        '--quiet', action='store_true', help='print only the summary')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='rewrite a synthetic root generated with other settings or '
        'another data version: its '
        'images, labels, converted labels, instance JSONs and split lists '
        'are removed first (and converted again if they had been)')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an input error')
    args = parser.parse_args(argv)
    if args.num_train < 0 or args.num_val < 0:
        parser.error('--num-train and --num-val must be >= 0')
    if args.height < 64 or args.width < 128:
        parser.error('--height must be >= 64 and --width >= 128')
    return args


def _convert_again(root, quiet):
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'cityscapes.py')
    spec = importlib.util.spec_from_file_location('_cityscapes_converter',
                                                  path)
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    converter.convert(root, verbose=not quiet, quiet=quiet)


def generate(out,
             seed=0,
             num_train=48,
             num_val=16,
             height=256,
             width=512,
             verbose=True,
             overwrite=False):
    """:func:`mmboundary.datasets.synthetic_cityscapes.generate`, which
    converts an overwritten root again with ``cityscapes.py`` here."""
    return _syn.generate(out, seed, num_train, num_val, height, width, verbose,
                         overwrite, _convert_again)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        frames = generate(args.out, args.seed, args.num_train, args.num_val,
                          args.height, args.width, not args.quiet,
                          args.overwrite)
    except (FileExistsError, NotADirectoryError) as e:
        raise UserError(str(e)) from e
    print(f'[synthetic cityscapes] {len(frames)} frames '
          f'({args.height}x{args.width}) in {args.out} '
          f'({time.perf_counter() - start:.1f} s)')
    return 0


if __name__ == '__main__':
    run_cli(main)
