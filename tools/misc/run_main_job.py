# Copyright (c) mmboundary contributors. All rights reserved.
"""The main job: data, training, evaluation and a results table, on CPU.

    python tools/misc/run_main_job.py [--iters N] [--rows NAME ...]

1. Generates ``data/synthetic_cityscapes`` (Cityscapes layout) if missing and
   converts it (``*_gtFine_labelTrainIds.png``, COCO-style instance JSONs).
2. For every row of :data:`ROWS` (a method name and its config), trains with
   ``tools/train.py`` under the same iteration budget, then evaluates the
   final checkpoint on val with ``tools/test.py --show-dir`` (prediction
   visualisations).
3. Prints a results table (mIoU and the boundary metrics of
   :data:`BOUNDARY_COLUMNS` from ``BoundaryMetric``), next to a
   trivial predictor (the majority class of the training labels), and writes
   it to ``WORK_DIR/results.{md,json}``.

Everything goes to ``work_dirs/main_job/<row>/``: the config actually run,
the training log and checkpoint, the test log and ``vis/``. To compare a new
method, append ``(name, config)`` to :data:`ROWS`; all rows share
``--iters``, data and seed.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# (name, config relative to the repository root); later methods add rows.
ROWS = [
    ('FCN R18-tiny (CE)',
     'configs/baseline/fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
     ),
    ('FCN R18-tiny + SEMEDA', 'configs/semeda/'
     'semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'),
]

# Boundary columns of the table: (metric key, header); a column is shown
# when some row reports it (BoundaryMetric, see docs/metrics.md).
BOUNDARY_COLUMNS = [
    ('mBIoU', 'mBIoU'),
    ('mBF', 'mBF'),
    ('mTrimapIoU@1', 'trimap IoU@1px'),
    ('mBA', 'mBA'),
]

MARKER = '.mmboundary_synthetic_cityscapes.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='data/synthetic_cityscapes')
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help='training iterations of every row (default: from the first '
        "row's config)")
    parser.add_argument(
        '--rows',
        nargs='+',
        default=None,
        help='run only the rows whose name contains one of these strings')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--num-vis', type=int, default=4, help='visualisations to keep')
    return parser.parse_args(argv)


def log(msg):
    print(f'[main job] {msg}', flush=True)


def run(cmd, log_file):
    """Run ``cmd`` from the repo root, streaming its output to the console
    and to ``log_file``; raise with the tail of the output on failure."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('PYTHONUNBUFFERED', '1')
    # one compute thread per process: on 2 shared cores, torch's thread pool
    # fighting the data loader worker is several times slower
    env.setdefault('OMP_NUM_THREADS', '1')
    env.setdefault('MKL_NUM_THREADS', '1')
    tail = []
    with open(log_file, 'a') as f, subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True) as proc:
        f.write('$ ' + ' '.join(cmd) + '\n')
        for line in proc.stdout:
            f.write(line)
            sys.stdout.write('    ' + line)
            sys.stdout.flush()
            tail = (tail + [line])[-40:]
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}); '
                           f'see {log_file}:\n' + ''.join(tail))


def data_ready(root):
    polys = glob.glob(osp.join(root, 'gtFine', '*', '*', '*_polygons.json'))
    train_ids = glob.glob(
        osp.join(root, 'gtFine', '*', '*', '*_labelTrainIds.png'))
    ann = osp.join(root, 'annotations',
                   'instancesonly_filtered_gtFine_val.json')
    return bool(polys) and len(train_ids) == len(polys) and osp.isfile(ann)


def ensure_data(root, seed, log_file):
    """Generate (if missing) and convert (if not yet) the dataset."""
    tools = osp.join(REPO_ROOT, 'tools', 'dataset_converters')
    marker = osp.join(root, MARKER)
    regenerate = not osp.isdir(root)
    if osp.isfile(marker):  # ours: regenerate if other settings/incomplete
        with open(marker) as f:
            settings = json.load(f)
        images = glob.glob(osp.join(root, 'leftImg8bit', '*', '*', '*.png'))
        regenerate = settings.get('seed') != seed or len(images) != (
            settings.get('num_train', 0) + settings.get('num_val', 0))
    if regenerate:
        log(f'generating the synthetic dataset in {root}')
        run([
            sys.executable,
            osp.join(tools, 'generate_synthetic_cityscapes.py'), '--out', root,
            '--seed',
            str(seed)
        ], log_file)
    if not data_ready(root):
        log(f'converting {root} (labelTrainIds, instance JSONs)')
        run([
            sys.executable,
            osp.join(tools, 'cityscapes.py'), root, '--nproc', '2'
        ], log_file)
    else:
        log(f'data ready in {root}')


def prepare_config(src, dst, iters, data_root, seed):
    """Write the config a row runs: its own, on ``data_root``, with the
    shared budget (iterations, schedule scaled to it) and seed, evaluated
    with ``BoundaryMetric`` as well (added if the row's config lacks it)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, src))
    root = data_root.rstrip('/') + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader]['dataset']
        while 'dataset' in dataset and 'data_root' not in dataset:
            dataset = dataset['dataset']
        dataset['data_root'] = root
    old = cfg.train_cfg['max_iters']
    iters = iters or old
    cfg.train_cfg['max_iters'] = iters
    cfg.train_cfg['val_interval'] = iters
    cfg.default_hooks['checkpoint']['interval'] = iters
    schedulers = cfg.get('param_scheduler', None) or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for sched in schedulers:
        if sched.get('by_epoch', True) is False:
            for key in ('begin', 'end'):
                if key in sched:
                    sched[key] = int(round(sched[key] * iters / old))
    cfg.randomness = dict(seed=seed)
    evaluator = cfg.test_evaluator
    evaluator = list(evaluator) if isinstance(evaluator,
                                              (list, tuple)) else [evaluator]
    if not any(e.get('type') == 'BoundaryMetric' for e in evaluator):
        evaluator.append(dict(type='BoundaryMetric', trimap_widths=[1, 3]))
    cfg.test_evaluator = evaluator
    cfg.dump(dst)
    return iters


def read_metrics(test_dir):
    """The metrics ``tools/test.py`` dumped (``<timestamp>/<ts>.json``)."""
    found = sorted(
        glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(found):
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError:
                continue
        if any('IoU' in k for k in data):
            return data
    raise FileNotFoundError(f'no metrics JSON found under {test_dir}')


def _metric(metrics, name):
    """The value of metric ``name`` (any prefix, e.g. ``val/``), or None."""
    for key, value in metrics.items():
        if key.split('/')[-1] == name:
            return float(value)
    return None


def trivial_miou(root):
    """mIoU (%) on val of predicting the most frequent train class."""
    import cv2

    def hist(split):
        counts = np.zeros(256, np.int64)
        per_image = []
        for path in sorted(
                glob.glob(
                    osp.join(root, 'gtFine', split, '*',
                             '*_labelTrainIds.png'))):
            lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
            c = np.bincount(lab.ravel(), minlength=256)
            counts += c
            per_image.append(c)
        return counts, per_image

    train, _ = hist('train')
    majority = int(np.argmax(train[:255]))
    val, _ = hist('val')
    val = val[:19]
    valid = val.sum()
    # predicting `majority` everywhere (ignored pixels excluded, as
    # IoUMetric does): IoU = |gt == m| / |valid| for m, 0 for the others
    ious = np.where(val > 0, 0.0, np.nan)
    ious[majority] = val[majority] / valid
    return majority, 100 * float(np.nanmean(ious))


def keep_visualisations(show_dir, out_dir, num):
    files = sorted(
        glob.glob(osp.join(show_dir, '**', '*.png'), recursive=True))
    os.makedirs(out_dir, exist_ok=True)
    kept = []
    for path in files[:num]:
        dst = osp.join(out_dir, osp.basename(path))
        with open(path, 'rb') as a, open(dst, 'wb') as b:
            b.write(a.read())
        kept.append(dst)
    return kept


def run_row(name, config, args, iters):
    slug = re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_').lower()
    work_dir = osp.join(args.work_dir, slug)
    os.makedirs(work_dir, exist_ok=True)
    log_file = osp.join(work_dir, 'main_job.log')
    cfg_path = osp.join(work_dir, osp.basename(config))
    iters = prepare_config(config, cfg_path, iters, args.data_root, args.seed)
    log(f'{name}: training {config} for {iters} iterations '
        f'-> {work_dir}')
    start = time.perf_counter()
    run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path, '--work-dir',
        work_dir
    ], log_file)
    train_s = time.perf_counter() - start
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    log(f'{name}: evaluating {ckpt} on val')
    test_dir = osp.join(work_dir, 'test')
    show_dir = osp.abspath(osp.join(test_dir, 'show'))
    run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'test.py'), cfg_path, ckpt, '--work-dir',
        test_dir, '--show-dir', show_dir
    ], log_file)
    metrics = read_metrics(test_dir)
    vis = keep_visualisations(show_dir, osp.join(work_dir, 'vis'),
                              args.num_vis)
    return dict(
        name=name,
        config=config,
        iters=iters,
        mIoU=_metric(metrics, 'mIoU'),
        boundary={
            key: _metric(metrics, key)
            for key, _ in BOUNDARY_COLUMNS
        },
        train_s=round(train_s, 1),
        checkpoint=ckpt,
        visualisations=vis,
        metrics=metrics)


def format_table(results, trivial):
    """Markdown table: the trivial predictor, then one line per row; a
    boundary column is shown when some row reports that metric."""
    columns = [(key, header) for key, header in BOUNDARY_COLUMNS
               if any(r['boundary'].get(key) is not None for r in results)]
    head = '| Method | iters | mIoU (%) |' + ''.join(
        f' {header} (%) |' for _, header in columns) + ' train time (s) |'
    rule = '|---|---|---|' + '---|' * len(columns) + '---|'
    lines = [head, rule]
    majority, miou = trivial
    lines.append(f'| trivial: always class {majority} | - | {miou:.2f} |' +
                 ' - |' * len(columns) + ' - |')
    for r in results:
        lines.append(f"| {r['name']} | {r['iters']} | {_fmt(r['mIoU'])} |" +
                     ''.join(f" {_fmt(r['boundary'].get(key))} |"
                             for key, _ in columns) + f" {r['train_s']} |")
    return '\n'.join(lines)


def _fmt(value):
    return '-' if value is None else f'{value:.2f}'


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    os.makedirs(args.work_dir, exist_ok=True)
    ensure_data(args.data_root, args.seed, osp.join(args.work_dir, 'data.log'))
    rows = [
        r for r in ROWS
        if args.rows is None or any(s in r[0] for s in args.rows)
    ]
    if not rows:
        raise SystemExit(f'no row matches {args.rows}; rows: '
                         f'{[r[0] for r in ROWS]}')
    results = []
    iters = args.iters
    for name, config in rows:
        result = run_row(name, config, args, iters)
        iters = result['iters']  # the first row fixes the shared budget
        results.append(result)
    trivial = trivial_miou(args.data_root)
    table = format_table(results, trivial)
    elapsed = time.perf_counter() - start
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(
            dict(
                rows=results,
                trivial=dict(majority_class=trivial[0], mIoU=trivial[1]),
                elapsed_s=round(elapsed, 1)),
            f,
            indent=2)
    print()
    print(f'Results on {args.data_root} (val), {elapsed / 60:.1f} min in '
          'total:')
    print(table)
    print(f'\nLogs, checkpoints and visualisations: {args.work_dir}/')
    return 0


if __name__ == '__main__':
    sys.exit(main())
