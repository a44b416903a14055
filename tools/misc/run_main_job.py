# Copyright (c) mmboundary contributors. All rights reserved.
"""The main job: one benchmark for every method, semantic and instance.

    python tools/misc/run_main_job.py                  # make demo: seed 0
    python tools/misc/run_main_job.py --seeds 0 1 2    # the full protocol
    python tools/misc/run_main_job.py --rows 'FCN + SEMEDA'

1. Generates ``data/synthetic_cityscapes`` (Cityscapes layout) if missing and
   converts it (``*_gtFine_labelTrainIds.png``, COCO-style instance JSONs).
2. **Shared start.** Trains the semantic table's baseline config (a whole
   compact FCN segmentor, plain cross-entropy) once for ``--start-iters``
   iterations and caches it under ``--start-dir``, keyed by the sha256 of
   the resolved config, the training files and :data:`START_RECIPE` (like
   SEMEDA's edge-net cache). A cache whose inputs changed (stale) or whose
   checkpoint does not verify (corrupted) is rebuilt, with a message saying
   why.
3. **Rows.** Every row of :data:`ROWS` trains its own config from that
   start with ``tools/train.py``: semantic rows fine-tune the whole
   segmentor (``load_from``) with their own losses, the baseline with its
   plain loss for the same iterations; instance rows initialise their
   backbone from the segmentor's (see :func:`instance_backbone`). Each row
   is evaluated on val with ``tools/test.py``.
4. **Tables.** Per task (:data:`TASKS`), a trivial predictor row, one row
   per method (mean +- sample std over ``--seeds``), the paired difference
   of each method to the table's baseline with a 95 % Student-t interval,
   and in words which differences are within noise; printed and written to
   ``WORK_DIR/results.{md,json}`` with matplotlib figures next to them.
   ``--readme README.md`` also copies them to ``docs/main_job/`` and
   replaces the README's results block with them, verbatim.

Protocol: the rows of one table share data, crop, batch, iterations, seed
and start. The configs are checked before anything trains
(:func:`check_rows`); a row that differs from its table's baseline outside
its declared ``method_keys`` fails with a message naming it.

Adding a method is one :class:`Row` in :data:`ROWS`::

    Row('FCN + InverseForm', 'configs/inverseform/<compact config>.py',
        'semantic', method_keys=('model.decode_head.loss_decode', ...),
        readme='configs/inverseform/README.md',
        paper=('<dataset, metric, baseline -> method, table>', 'mIoU'))

The config must inherit the task's baseline config (semantic:
``configs/baseline/fcn_r18-tiny_...``, instance: ``configs/edge_agreement/
mask-rcnn_r18-fpn_...synthetic...``) and change only what ``method_keys``
names (dotted config paths; anything under them may differ).
"""
import argparse
import glob
import hashlib
import json
import math
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

# issue 24: fixed compute threads, source (commit) record, stale marking
from mmboundary.utils.reproducibility import (  # noqa: E402, I001
    compute_environment, compute_threads, source_state, stale_note, thread_env)
from mmboundary.utils.results_doc import dump_results  # noqa: E402
from mmboundary.utils.results_doc import machine_description  # noqa: E402
from mmboundary.utils.results_doc import update_readme  # noqa: E402

#: issue 24: inputs of the main job's numbers besides mmboundary/ and
#: configs/ (a change to any of their Python files makes results stale)
SOURCE_INPUTS = ('tools/misc/run_main_job.py', 'tools/train.py',
                 'tools/test.py', 'tools/dataset_converters')


class Row(NamedTuple):
    """One method of one table.

    Attributes:
        name (str): Row label (unique; ``--rows`` selects by it).
        config (str): Config relative to the repository root.
        task (str): A key of :data:`TASKS`.
        method_keys (tuple[str]): Dotted config paths where the row may
            differ from its table's baseline (the first row of the task);
            empty for the baseline itself.
        readme (str, optional): The method's README.
        paper (tuple[str, str], optional): The paper's claim in words and
            the metric key of the table it is about.
        baseline (str, optional): The row this method is compared with
            (its config differs from that row's only under
            ``method_keys``; paired differences are to it). Default: the
            task's first row. E.g. AsyInst is BoxInst plus its affinity
            terms, so its baseline is the BoxInst row.
    """
    name: str
    config: str
    task: str
    method_keys: Tuple[str, ...] = ()
    readme: Optional[str] = None
    paper: Optional[Tuple[str, str]] = None
    baseline: Optional[str] = None


def baseline_of(row: Row, rows: Sequence[Row]) -> Row:
    """The row ``row`` is compared with: its declared ``baseline`` or the
    first row of its task (the task's own baseline has none: None)."""
    group = [r for r in rows if r.task == row.task]
    if row.baseline is None:
        return None if row is group[0] else group[0]
    for other in group:
        if other.name == row.baseline:
            return other
    raise ValueError(f'row {row.name!r}: baseline {row.baseline!r} is not a '
                     f'{row.task} row; choose from '
                     f'{[r.name for r in group if r is not row]}')


# The rows, in table order; the first row of each task is its baseline.
ROWS = [
    Row(
        'FCN (CE)', 'configs/baseline/'
        'fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py', 'semantic'),
    Row('FCN + SEMEDA', 'configs/semeda/'
        'semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py',
        'semantic',
        method_keys=('model.decode_head.loss_decode', 'custom_hooks'),
        readme='configs/semeda/README.md',
        paper=('Cityscapes val, DeepLab v2 (ImageNet): mIoU 64.1 -> 66.6 '
               '(+2.5); trimap (1-2 px) mIoU +3.7 (Table 2, Fig. 5)', 'mIoU')),
    Row('FCN + boundary BCE', 'configs/inverseform/'
        'fcn-bce_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py',
        'semantic',
        method_keys=('model.auxiliary_head', 'train_pipeline',
                     'train_dataloader.dataset.pipeline',
                     'boundary_bce_weight'),
        readme='configs/inverseform/README.md',
        paper=('not in the paper: InverseForm\'s boundary head with its '
               'class-balanced BCE only (eq. 6, gamma = 0); Sec. 1 and Fig. 2 '
               'argue pixel-wise boundary losses alone do not align '
               'boundaries', 'mBF')),
    Row('FCN + InverseForm', 'configs/inverseform/'
        'inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py',
        'semantic',
        method_keys=('model.auxiliary_head', 'train_pipeline',
                     'train_dataloader.dataset.pipeline',
                     'boundary_bce_weight', 'inverse_net', 'custom_hooks'),
        readme='configs/inverseform/README.md',
        paper=('NYU-Depth-v2, HRNet-w18: mIoU 33.18 -> 34.79 (+1.6), mBA '
               '37.46 -> 40.72 (Table 1); Cityscapes test, HRNet-48 OCR: '
               '84.2 -> 84.8 (Table 4)', 'mIoU')),
    Row(
        'Mask R-CNN', 'configs/edge_agreement/'
        'mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance'),
    Row('Mask R-CNN + Edge Agreement', 'configs/edge_agreement/'
        'mask-rcnn-ea-sobel-l2_r18-fpn_1xb2-120iter_synthetic-cityscapes-'
        '128x256.py',
        'instance',
        method_keys=('model.roi_head.mask_head', ),
        readme='configs/edge_agreement/README.md',
        paper=('Cityscapes val, Mask R-CNN R-FPN, 28x28 masks: mask AP '
               '15.6 -> 17.7 (+2.1) (Table 5); COCO 18.8 -> 20.2 (Table 1)',
               'coco/segm_mAP')),
    Row('BoxInst', 'configs/asyinst/'
        'boxinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance',
        method_keys=('model', 'train_pipeline',
                     'train_dataloader.dataset.pipeline', 'custom_hooks'),
        readme='configs/asyinst/README.md'),
    Row('AsyInst', 'configs/asyinst/'
        'asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance',
        method_keys=('model.data_preprocessor.depth_thresh',
                     'model.mask_head.loss_color',
                     'model.mask_head.loss_depth', 'train_pipeline',
                     'train_dataloader.dataset.pipeline', 'custom_hooks'),
        baseline='BoxInst',
        readme='configs/asyinst/README.md',
        paper=('Cityscapes val, R50-FPN, boxes only: mask AP BoxInst 21.15 '
               '-> AsyInst 24.69 (+3.54) (Table 2)', 'coco/segm_mAP')),
    Row('DVIS', 'configs/dvis/'
        'dvis_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py',
        'instance',
        method_keys=('model', 'custom_hooks'),
        readme='configs/dvis/README.md',
        paper=('COCO val2017, mask AP: DVIS-700 R50-FCN 32.6, R101-FCN '
               '35.3 vs Mask R-CNN R101-FPN 36.5 (Table 3)', 'coco/segm_mAP')),
]

# Per task: the table's title, its metric columns (key in the metrics
# tools/test.py dumps, header, factor to percent), the boundary metrics of
# the bar chart, the fine-tuning iterations of every row (``--iters``
# overrides them; chosen with ``--start-iters`` so that ``make demo`` takes
# <= 15 min on 2 idle CPU cores) and how rows start from the shared
# pretrained segmentor.
TASKS = OrderedDict(
    semantic=dict(
        title='Semantic segmentation',
        metrics=[('mIoU', 'mIoU', 1.0), ('mBIoU', 'mBIoU', 1.0),
                 ('mBF', 'mBF', 1.0), ('mTrimapIoU@1', 'trimap IoU@1px', 1.0),
                 ('mBA', 'mBA', 1.0)],
        boundary=['mBIoU', 'mBF', 'mTrimapIoU@1', 'mBA'],
        iters=100,
        start='segmentor'),
    instance=dict(
        title='Instance segmentation',
        metrics=[('coco/segm_mAP', 'mask AP', 100.0),
                 ('coco/boundary_mAP', 'Boundary AP', 100.0),
                 ('coco/boundary_mAP_50', 'Boundary AP50', 100.0),
                 ('coco/bbox_mAP', 'box AP', 100.0)],
        boundary=['coco/boundary_mAP', 'coco/boundary_mAP_50'],
        iters=300,
        start='backbone'),
)

#: Version of the shared start's recipe; bump it when the way the start is
#: trained changes, so every cached start becomes stale.
START_RECIPE = 1
START_NAME = 'segmentor'
MARKER = '.mmboundary_synthetic_cityscapes.json'
README_BEGIN = '<!-- main-job-results: begin (written by ' \
               'tools/misc/run_main_job.py --readme; do not edit) -->'
README_END = '<!-- main-job-results: end -->'
PUBLISH_DIR = 'docs/main_job'
TABLES_JSON = 'tables.json'


# ---------------------------------------------------------------- arguments
class _OnceAction(argparse.Action):
    """Store a list option and refuse it given twice on the command line."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, '_given_' + self.dest, False):
            parser.error(f'{option_string} given twice; give every value '
                         f'once, e.g. {option_string} 0 1 2')
        setattr(namespace, '_given_' + self.dest, True)
        setattr(namespace, self.dest, values)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Rows: ' + '; '.join(f'{r.name!r} ({r.task})' for r in ROWS))
    parser.add_argument('--data-root', default='data/synthetic_cityscapes')
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument(
        '--start-dir',
        default='work_dirs/main_job_start',
        help='cache of the shared pretrained segmentor')
    parser.add_argument(
        '--start-iters',
        type=int,
        default=300,
        help='iterations of the shared start (semantic baseline config)')
    parser.add_argument('--start-seed', type=int, default=0)
    parser.add_argument(
        '--iters',
        nargs='+',
        default=[],
        metavar='TASK=N',
        help='fine-tuning iterations of every row of a task, e.g. '
        'semantic=300 (default: ' + ', '.join(f"{t}={v['iters']}"
                                              for t, v in TASKS.items()) + ')')
    parser.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        default=[0],
        action=_OnceAction,
        help='fine-tuning seeds; mean +- sample std and paired 95 %% '
        'intervals when more than one')
    parser.add_argument(
        '--rows',
        nargs='+',
        default=None,
        action=_OnceAction,
        help='row names (or task names) to run; the baseline of each '
        'selected task is always run')
    parser.add_argument(
        '--jobs',
        type=int,
        default=None,
        help='row runs trained in parallel (default: 1 with a GPU, else '
        'the CPU cores, at most 4); each run computes with 1 thread '
        '(MMBOUNDARY_COMPUTE_THREADS), so results do not depend on it')
    parser.add_argument(
        '--num-vis', type=int, default=3, help='val images in the figures')
    parser.add_argument(
        '--no-reuse',
        action='store_true',
        help='retrain rows whose results for the same resolved config '
        'exist in the work dir')
    parser.add_argument(
        '--publish-only',
        action='store_true',
        help='train nothing: publish WORK_DIR/results.json (with --readme)')
    parser.add_argument(
        '--readme',
        default=None,
        help='also copy the results to docs/main_job/ and write them into '
        "this README's results block")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f'--jobs {args.jobs}: give at least 1')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds {args.seeds}: a seed is given twice; each '
                     'seed is one paired run of every row')
    try:
        args.iters = dict({
            t: v['iters']
            for t, v in TASKS.items()
        }, **parse_iters(args.iters))
    except ValueError as e:
        parser.error(str(e))
    return args


def parse_iters(items: Sequence[str]) -> Dict[str, int]:
    """``['semantic=200']`` -> ``{'semantic': 200}``, checked."""
    out = {}
    for item in items:
        task, sep, value = item.partition('=')
        if not sep or task not in TASKS:
            raise ValueError(f'--iters {item!r}: expected TASK=N with TASK '
                             f'one of {list(TASKS)}')
        if task in out:
            raise ValueError(f'--iters: task {task!r} given twice')
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f'--iters {item!r}: N must be a positive '
                             'integer')
        out[task] = int(value)
    return out


def select_rows(names: Optional[Sequence[str]],
                rows: Sequence[Row] = None) -> List[Row]:
    """The rows to run: all, or those named (row or task names), plus the
    baseline of each selected task (differences are against it).

    Raises:
        ValueError: An unknown name; the message lists the known ones.
    """
    rows = list(ROWS if rows is None else rows)
    if names is None:
        return rows
    known = {r.name for r in rows}
    unknown = [n for n in names if n not in known and n not in TASKS]
    if unknown:
        raise ValueError(f'--rows: unknown row {unknown}; rows: '
                         f'{[r.name for r in rows]}, tasks: {list(TASKS)}')
    picked = {r.name for r in rows if r.name in names or r.task in names}
    # the table's baseline and each picked row's own baseline, transitively
    todo = [r for r in rows if r.name in picked]
    while todo:
        row = todo.pop()
        for base in (task_rows(row.task, rows)[0], baseline_of(row, rows)):
            if base is not None and base.name not in picked:
                log(f'--rows: adding {base.name!r}, the baseline of '
                    f'{row.name!r}')
                picked.add(base.name)
                todo.append(base)
    return [r for r in rows if r.name in picked]


def task_rows(task: str, rows: Sequence[Row] = None) -> List[Row]:
    return [r for r in (ROWS if rows is None else rows) if r.task == task]


def log(msg):
    print(f'[main job] {msg}', flush=True)


def slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_').lower()


# ---------------------------------------------------------------- processes
#: Compute threads of each training/testing process: fixed (issue 24:
#: :func:`mmboundary.utils.reproducibility.compute_threads`, 1 unless
#: MMBOUNDARY_COMPUTE_THREADS says otherwise), whatever ``--jobs`` or the
#: cores, so that a row's numbers do not depend on them.
THREADS = {'n': compute_threads()}


def run(cmd, log_file, prefix=''):
    """Run ``cmd`` from the repo root, streaming its output (each line after
    ``prefix``) to the console and to ``log_file``; raise with the tail of
    the output on failure."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('PYTHONUNBUFFERED', '1')
    # issue 24: a fixed number of compute threads (the bits of a run depend
    # on it), overriding the user's OMP_NUM_THREADS; recorded in results
    env = thread_env(THREADS['n'], env)
    tail = []
    os.makedirs(osp.dirname(osp.abspath(log_file)), exist_ok=True)
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
            sys.stdout.write('    ' + prefix + line)
            sys.stdout.flush()
            tail = (tail + [line])[-40:]
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}); '
                           f'see {log_file}:\n' + ''.join(tail))


# --------------------------------------------------------------------- data
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


def train_files(root: str) -> List[str]:
    """The files the shared start learns from (images and train ids)."""
    files = glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png'))
    files += glob.glob(
        osp.join(root, 'gtFine', 'train', '*', '*_labelTrainIds.png'))
    if not files:
        raise FileNotFoundError(
            f'no training images or *_labelTrainIds.png under {root}; '
            'generate and convert the data first (see --data-root)')
    return sorted(osp.abspath(p) for p in files)


# ------------------------------------------------------------------ configs
def load_config(path):
    from mmengine.config import Config
    full = path if osp.isabs(path) else osp.join(REPO_ROOT, path)
    if not osp.isfile(full):
        raise FileNotFoundError(f'config {path!r} does not exist')
    return Config.fromfile(full)


def _innermost_dataset(loader):
    dataset = loader['dataset']
    while 'dataset' in dataset and 'data_root' not in dataset:
        dataset = dataset['dataset']
    return dataset


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _plain(value):
    """ConfigDicts/tuples to plain dicts/lists (comparable, JSON-able)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


#: Transform arguments that set the crop and the image scale.
SIZE_KEYS = ('scale', 'scales', 'img_scale', 'crop_size', 'ratio_range',
             'keep_ratio')


def protocol_of(cfg) -> Dict[str, object]:
    """What every row of a table must share: the budget, batch, data (roots,
    files, evaluator annotations), crop (sizes in the pipelines), seed and
    start (``load_from`` and the backbone)."""
    data, crop = {}, {}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(loader):
            continue
        ds = _innermost_dataset(cfg[loader])
        data[loader] = {
            k: _plain(ds.get(k))
            for k in ('type', 'data_root', 'data_prefix', 'ann_file')
        }
        crop[loader] = [{
            k: _plain(t[k])
            for k in SIZE_KEYS if k in t
        } for t in ds.get('pipeline', []) if any(k in t for k in SIZE_KEYS)]
    for name in ('val_evaluator', 'test_evaluator'):
        data[name] = [
            _plain(e.get('ann_file')) for e in _as_list(cfg.get(name))
        ]
    train_cfg = cfg.get('train_cfg') or {}
    return OrderedDict(
        budget=dict(
            loop=train_cfg.get('type'), max_iters=train_cfg.get('max_iters')),
        batch=cfg.train_dataloader.get('batch_size'),
        data=data,
        crop=crop,
        seed=(cfg.get('randomness') or {}).get('seed'),
        start=dict(
            load_from=cfg.get('load_from'),
            backbone=_plain(cfg.model.get('backbone'))))


def flatten(value, prefix='') -> Dict[str, object]:
    """Nested dicts to ``{'a.b.c': leaf}``; lists are leaves."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f'{prefix}{k}.'))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: _plain(value)}


def _under(key: str, paths: Sequence[str]) -> bool:
    return any(key == p or key.startswith(p + '.') for p in paths)


def config_differences(cfg, ref) -> List[str]:
    """Dotted keys where two configs differ (missing counts as different)."""
    a, b = flatten(_plain(cfg._cfg_dict)), flatten(_plain(ref._cfg_dict))
    missing = object()
    return sorted(
        k for k in set(a) | set(b) if a.get(k, missing) != b.get(k, missing))


def check_rows(rows: Sequence[Row], configs: Dict[str, object]) -> None:
    """Refuse rows that do not follow their table's protocol.

    For every task, the first row is the table's baseline. Every other row
    must share its :func:`protocol_of` entries (budget, batch, data, crop,
    seed, start), declare ``method_keys`` that really differ from its own
    baseline (:func:`baseline_of`) and differ from it nowhere else.

    Args:
        rows: The rows (all of a task's rows, baseline first).
        configs: Row name -> its Config (as written or resolved).

    Raises:
        ValueError: The message names the row, the config, the keys and
            both values.
    """
    names = [r.name for r in rows]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'ROWS: row names {dup} are declared twice')
    for row in rows:
        if row.task not in TASKS:
            raise ValueError(f'row {row.name!r}: unknown task {row.task!r}; '
                             f'choose from {list(TASKS)}')
    for task in TASKS:
        group = [r for r in rows if r.task == task]
        if not group:
            continue
        base = group[0]
        if base.method_keys:
            raise ValueError(
                f'row {base.name!r} is the {task} baseline (first {task} '
                f'row) and must not declare method_keys {base.method_keys}')
        ref = configs[base.name]
        ref_protocol = protocol_of(ref)
        for row in group[1:]:
            cfg = configs[row.name]
            where = f'row {row.name!r} ({row.config})'
            if row.baseline == row.name:
                raise ValueError(f'{where}: a row cannot be its own baseline')
            own = baseline_of(row, rows)
            if group.index(own) > group.index(row):
                raise ValueError(
                    f'{where}: its baseline {own.name!r} must be declared '
                    'before it in ROWS')
            if not row.method_keys:
                raise ValueError(
                    f'{where}: declare method_keys, the config paths where '
                    f'it differs from its baseline {own.name!r}')
            protocol = protocol_of(cfg)
            for item, value in protocol.items():
                if value != ref_protocol[item]:
                    raise ValueError(
                        f'{where}: its {item} differs from the {task} '
                        f"table's (baseline {base.name!r}, {base.config}): "
                        f'{value} vs {ref_protocol[item]}. Every row of a '
                        'table shares data, crop, batch, budget, seed and '
                        'start; fix the config.')
            diff = config_differences(cfg, configs[own.name])
            stray = [k for k in diff if not _under(k, row.method_keys)]
            if stray:
                raise ValueError(
                    f'{where} differs from its baseline {own.name!r} at '
                    f'{stray}, outside its method_keys {row.method_keys}; '
                    'only the method may differ (add the key to '
                    'method_keys if it is part of the method)')
            unused = [
                p for p in row.method_keys
                if not any(_under(k, [p]) or _under(p, [k]) for k in diff)
            ]
            if unused:
                raise ValueError(
                    f'{where}: method_keys {unused} do not differ from its '
                    f'baseline {own.name!r}; remove them or fix the config')


def instance_backbone(seg_backbone: Dict,
                      checkpoint: Optional[str]) -> Tuple[Dict, List[int]]:
    """The instance rows' backbone: the shared segmentor's, as an mmdet
    ``ResNet`` for an FPN.

    The segmentor's ``ResNetV1c`` (deep stem, ``num_stages`` stages,
    dilated last stage for output stride 8) maps one to one onto mmdet's
    ``ResNet(deep_stem=True)`` with the same depth and widths: the same
    parameter names and shapes, every stage strided instead of dilated
    (dilation changes no weight), all stages out for the FPN. Its weights
    are the segmentor's ``backbone.*`` (``Pretrained`` init, ``prefix``).

    Args:
        seg_backbone (dict): ``model.backbone`` of the start's config.
        checkpoint (str, optional): The start's checkpoint.

    Returns:
        tuple[dict, list[int]]: The backbone config and the channels of its
        outputs (the FPN's ``in_channels``).
    """
    seg = dict(_plain(seg_backbone))
    kind = seg.get('type')
    if kind not in ('ResNetV1c', 'ResNetV1d', 'ResNet'):
        raise ValueError(
            f'instance_backbone: the start backbone {kind!r} has no mmdet '
            'counterpart here; use a ResNet(V1c/V1d) or extend the mapping')
    depth = seg['depth']
    stages = seg.get('num_stages', 4)
    base = seg.get('base_channels', 64)
    expansion = 1 if depth in (18, 34) else 4
    backbone = dict(
        type='ResNet',
        depth=depth,
        num_stages=stages,
        stem_channels=seg.get('stem_channels', base),
        base_channels=base,
        deep_stem=kind in ('ResNetV1c', 'ResNetV1d')
        or bool(seg.get('deep_stem')),
        avg_down=kind == 'ResNetV1d' or bool(seg.get('avg_down')),
        strides=(1, ) + (2, ) * (stages - 1),
        dilations=(1, ) * stages,
        out_indices=tuple(range(stages)),
        frozen_stages=-1,
        norm_cfg=seg.get('norm_cfg', dict(type='BN', requires_grad=True)),
        norm_eval=False,
        style='pytorch',
        init_cfg=None if checkpoint is None else dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.'))
    return backbone, [base * expansion * 2**i for i in range(stages)]


def resolve_config(cfg, task: str, iters: Optional[int], data_root: str,
                   seed: int, start: Optional[Dict]):
    """Apply the table's protocol to a row's config (in place).

    Sets the data root (loaders and evaluator annotations), the budget
    (``iters``; the LR schedule and loss-weight warm-ups scaled to it), the
    seed, the start and
    turns validation during training off (``tools/test.py`` evaluates the
    final checkpoint). Semantic configs get ``BoundaryMetric`` if they lack
    it.

    Args:
        cfg (Config): The row's config.
        task (str): Its task.
        iters (int, optional): Training iterations; None keeps the config's.
        data_root (str): Dataset root.
        seed (int): ``randomness.seed``.
        start (dict, optional): ``{'checkpoint_path': path, 'backbone':
            dict}`` of the shared start; None trains from scratch (the start
            itself).

    Returns:
        Config: ``cfg``.
    """
    root = data_root.rstrip('/') + '/'
    old_roots = set()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = _innermost_dataset(cfg[loader])
        old_roots.add(str(dataset.get('data_root') or ''))
        dataset['data_root'] = root
    for name in ('val_evaluator', 'test_evaluator'):
        for evaluator in _as_list(cfg.get(name)):
            ann = evaluator.get('ann_file')
            if ann:
                for old in sorted(old_roots, key=len, reverse=True):
                    if old and ann.startswith(old):
                        ann = root + ann[len(old):]
                        break
                evaluator['ann_file'] = ann
    old = cfg.train_cfg['max_iters']
    iters = iters or old
    cfg.train_cfg['max_iters'] = iters
    cfg.train_cfg['val_interval'] = iters
    cfg.default_hooks['checkpoint']['interval'] = iters
    schedulers = _as_list(cfg.get('param_scheduler'))
    for sched in schedulers:
        if sched.get('by_epoch', True) is False:
            for key in ('begin', 'end'):
                if key in sched:
                    sched[key] = int(round(sched[key] * iters / old))
            if 'milestones' in sched:
                sched['milestones'] = [
                    int(round(m * iters / old)) for m in sched['milestones']
                ]
    # warm-ups of loss weights (AsyInst's LossWeightWarmupHook) keep their
    # share of the schedule, like the LR schedulers
    for hook in _as_list(cfg.get('custom_hooks')):
        if 'warmup_iters' in hook:
            hook['warmup_iters'] = max(
                1, int(round(hook['warmup_iters'] * iters / old)))
    cfg.randomness = dict(seed=seed)
    # the final checkpoint is evaluated by tools/test.py, once
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    if task == 'semantic':
        evaluator = _as_list(cfg.test_evaluator)
        if not any(e.get('type') == 'BoundaryMetric' for e in evaluator):
            evaluator.append(dict(type='BoundaryMetric', trimap_widths=[1, 3]))
        cfg.test_evaluator = evaluator
    if start is not None:
        if TASKS[task]['start'] == 'segmentor':
            cfg.load_from = start['checkpoint_path']
        else:
            backbone, channels = instance_backbone(start['backbone'],
                                                   start['checkpoint_path'])
            if 'backbone' not in cfg.model:
                raise KeyError(f'{task} row config has no model.backbone to '
                               'initialise from the shared start')
            cfg.model.backbone = backbone
            neck = cfg.model.get('neck')
            if neck is not None and 'in_channels' in neck:
                neck['in_channels'] = channels
    return cfg


def config_sha(cfg) -> str:
    return hashlib.sha256(cfg.pretty_text.encode()).hexdigest()


# ------------------------------------------------------------ shared start
def file_sha256(path: str) -> str:
    with open(path, 'rb') as f:  # a compact checkpoint: a few MB
        return hashlib.sha256(f.read()).hexdigest()


def train(cfg,
          config: str,
          work_dir: str,
          prefix: str = '') -> Tuple[str, float]:
    """Dump ``cfg`` into ``work_dir`` and train it with ``tools/train.py``
    (log: ``work_dir/main_job.log``); return the config path and seconds."""
    cfg_path = osp.join(work_dir, osp.basename(config))
    cfg.dump(cfg_path)
    t0 = time.perf_counter()
    run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path, '--work-dir',
        work_dir
    ], osp.join(work_dir, 'main_job.log'), prefix)
    return cfg_path, time.perf_counter() - t0


def start_inputs(cfg, data_root: str) -> Dict[str, str]:
    """What the cached start depends on, each as a sha256."""
    from mmboundary.models.utils.semantic_edge_net import files_fingerprint
    return OrderedDict(
        recipe=str(START_RECIPE),
        config=config_sha(cfg),
        data=files_fingerprint(train_files(data_root)),
        threads=str(compute_threads()))  # issue 24: the bits depend on it


def start_key(inputs: Dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(inputs,
                                     sort_keys=True).encode()).hexdigest()


def check_start_cache(start_dir: str,
                      inputs: Dict[str, str]) -> Tuple[Optional[Dict], str]:
    """Verify the cached start against ``inputs``.

    Returns:
        tuple[dict | None, str]: The manifest if the cache is usable (else
        None) and why not: ``'missing'``, ``'stale: ...'`` naming the inputs
        that changed, or ``'corrupted: ...'`` naming the file.
    """
    from mmboundary.utils import load_checkpoint_safely
    manifest_path = osp.join(start_dir, f'{START_NAME}.json')
    if not osp.isfile(manifest_path):
        return None, 'missing'
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        cached_inputs = manifest['inputs']
        ckpt = osp.join(start_dir, manifest['checkpoint'])
        sha = manifest['sha256']
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, f'corrupted: {manifest_path} is unreadable ({e})'
    changed = [k for k in inputs if cached_inputs.get(k) != inputs[k]]
    if changed:
        return None, (f'stale: {", ".join(changed)} changed since it was '
                      f'trained ({manifest_path})')
    if not osp.isfile(ckpt):
        return None, f'corrupted: {ckpt} is missing'
    if file_sha256(ckpt) != sha:
        return None, f'corrupted: {ckpt} does not match its sha256 {sha[:8]}'
    try:
        state = load_checkpoint_safely(ckpt, map_location='cpu')['state_dict']
    except Exception as e:  # noqa: B902 -- any load failure means corrupted
        return None, f'corrupted: {ckpt} does not load ({e})'
    if not any(k.startswith('backbone.') for k in state):
        return None, f'corrupted: {ckpt} holds no backbone.* weights'
    manifest['checkpoint_path'] = ckpt
    return manifest, 'ok'


def write_start(start_dir: str, trained_ckpt: str, inputs: Dict[str, str],
                info: Dict) -> Dict:
    """Keep the weights of ``trained_ckpt`` as the cached start (atomic
    writes; the manifest last, so a half-written cache reads as missing or
    corrupted, never as valid)."""
    import torch

    from mmboundary.utils import load_checkpoint_safely
    ckpt = load_checkpoint_safely(trained_ckpt, map_location='cpu')
    name = f'{START_NAME}.pth'
    path = osp.join(start_dir, name)
    tmp = f'{path}.tmp{os.getpid()}'
    torch.save(
        dict(state_dict=ckpt['state_dict'], meta=dict(start_key=info['key'])),
        tmp)
    os.replace(tmp, path)
    manifest = dict(
        info, inputs=dict(inputs), checkpoint=name, sha256=file_sha256(path))
    mpath = osp.join(start_dir, f'{START_NAME}.json')
    with open(mpath + f'.tmp{os.getpid()}', 'w') as f:
        json.dump(manifest, f, indent=2)
    os.replace(mpath + f'.tmp{os.getpid()}', mpath)
    manifest['checkpoint_path'] = path
    return manifest


def ensure_start(args, base_row: Row) -> Dict:
    """The shared start: the cached segmentor, or train it (and say why)."""
    cfg = resolve_config(
        load_config(base_row.config), 'semantic', args.start_iters,
        args.data_root, args.start_seed, None)
    inputs = start_inputs(cfg, args.data_root)
    manifest, why = check_start_cache(args.start_dir, inputs)
    if manifest is not None:
        log(f'shared start: reusing {manifest["checkpoint_path"]} '
            f'(key {manifest["key"][:12]})')
        return dict(
            manifest, backbone=_plain(cfg.model.backbone), status='reused')
    if why != 'missing':
        log(f'shared start: cached start at {args.start_dir} is {why}; '
            'retraining it')
    if osp.isdir(args.start_dir):
        shutil.rmtree(args.start_dir)
    train_dir = osp.join(args.start_dir, 'train')
    os.makedirs(train_dir)
    log(f'shared start: training {base_row.config} for {args.start_iters} '
        f'iterations (seed {args.start_seed}) -> {args.start_dir}')
    _, train_s = train(cfg, base_row.config, train_dir)
    manifest = write_start(
        args.start_dir, osp.join(train_dir, f'iter_{args.start_iters}.pth'),
        inputs,
        dict(
            key=start_key(inputs),
            config=base_row.config,
            iters=args.start_iters,
            seed=args.start_seed,
            train_s=round(train_s, 1)))
    status = f'trained in {train_s:.0f} s' + ('' if why == 'missing' else
                                              f' ({why})')
    return dict(manifest, backbone=_plain(cfg.model.backbone), status=status)


# --------------------------------------------------------------- statistics
def t_cdf(t: float, df: int) -> float:
    """Student-t CDF for an integer number of degrees of freedom.

    Closed form (Abramowitz & Stegun 26.7.3/26.7.4) with
    ``theta = atan(t / sqrt(df))``: ``P(|T| < t)`` is
    ``sin(theta) * sum_k prod_{j<=k} (2j-1)/(2j) cos^(2k) theta`` for even
    ``df`` and ``2/pi * (theta + sin(theta) cos(theta) * sum_k prod_{j<=k}
    2j/(2j+1) cos^(2k) theta)`` for odd ``df`` (k up to ``(df-2)/2`` and
    ``(df-3)/2``).
    """
    if not isinstance(df, (int, np.integer)) or df < 1:
        raise ValueError(f'df must be a positive integer, got {df!r}')
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta)**2
    if df % 2 == 0:
        term = total = 1.0
        for k in range(1, (df - 2) // 2 + 1):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        inside = math.sin(theta) * total
    else:
        total = 0.0
        if df > 1:
            term = total = math.cos(theta)
            for k in range(1, (df - 3) // 2 + 1):
                term *= c2 * (2 * k) / (2 * k + 1)
                total += term
        inside = 2 / math.pi * (theta + math.sin(theta) * total)
    return 0.5 + math.copysign(0.5 * inside, t)


def t_quantile(p: float, df: int) -> float:
    """Inverse of :func:`t_cdf` in ``p`` (bisection to machine precision)."""
    if not 0 < p < 1:
        raise ValueError(f'p must be in (0, 1), got {p!r}')
    if p < 0.5:
        return -t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2


def mean_std(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean and sample standard deviation (n - 1); std None for n < 2."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError('mean_std: no values')
    n = len(values)
    mean = sum(values) / n
    std = None if n < 2 else math.sqrt(
        sum((v - mean)**2 for v in values) / (n - 1))
    return dict(mean=mean, std=std, n=n)


def paired_difference(method: Sequence[float],
                      baseline: Sequence[float],
                      confidence: float = 0.95) -> Dict[str, object]:
    """Mean of ``method[i] - baseline[i]`` (same seed i) with a Student-t
    interval, and whether it is within noise (the interval holds 0).

    Returns:
        dict: ``mean``, ``std``, ``n``, ``low``, ``high`` (None for n < 2)
        and ``verdict``: ``'higher'``, ``'lower'``, ``'within noise'`` or
        ``'one seed'``.
    """
    if len(method) != len(baseline):
        raise ValueError(f'paired_difference: {len(method)} method values '
                         f'vs {len(baseline)} baseline values; pair them by '
                         'seed')
    diffs = [float(m) - float(b) for m, b in zip(method, baseline)]
    stats = mean_std(diffs)
    n, mean, std = stats['n'], stats['mean'], stats['std']
    if n < 2:
        return dict(stats, low=None, high=None, verdict='one seed')
    half = t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
    low, high = mean - half, mean + half
    if low > 0:
        verdict = 'higher'
    elif high < 0:
        verdict = 'lower'
    else:
        verdict = 'within noise'
    return dict(stats, low=low, high=high, verdict=verdict)


# --------------------------------------------------------------- row runs
def read_metrics(test_dir, key):
    """The metrics ``tools/test.py`` dumped (``<timestamp>/<ts>.json``)."""
    found = sorted(
        glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(found):
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError:
                continue
        if _metric(data, key) is not None:
            return data
    raise FileNotFoundError(f'no metrics JSON with {key} under {test_dir}')


def _metric(metrics, name):
    """The value of metric ``name`` (exact, else any ``prefix/name``)."""
    if name in metrics:
        return float(metrics[name])
    for key, value in metrics.items():
        if key.split('/')[-1] == name:
            return float(value)
    return None


def run_row_seed(row: Row, cfg, seed: int, args, start_sha: str) -> Dict:
    """Train and test one row at one seed, or reuse a run of the same
    resolved config from the same start (``start_sha``: the start
    checkpoint's sha256)."""
    work_dir = osp.join(args.work_dir, row.task, slug(row.name), f'seed{seed}')
    record_path = osp.join(work_dir, 'row.json')
    sha = hashlib.sha256((
        config_sha(cfg) + start_sha + f'threads={THREADS["n"]}'  # issue 24
    ).encode()).hexdigest()
    iters = cfg.train_cfg['max_iters']
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    if not args.no_reuse and osp.isfile(record_path) and osp.isfile(ckpt):
        with open(record_path) as f:
            record = json.load(f)
        if record.get('config_sha') == sha:
            log(f'{row.name} seed {seed}: reusing {record_path} (same '
                'resolved config; --no-reuse retrains)')
            return dict(record, reused=True)
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    log(f'{row.name} seed {seed}: training {row.config} for {iters} '
        f'iterations -> {work_dir}')
    prefix = f'[{row.name} s{seed}] '
    cfg_path, train_s = train(cfg, row.config, work_dir, prefix)
    log(f'{row.name} seed {seed}: evaluating {ckpt} on val')
    test_dir = osp.join(work_dir, 'test')
    t0 = time.perf_counter()
    run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'test.py'), cfg_path, ckpt, '--work-dir',
        test_dir
    ], osp.join(work_dir, 'main_job.log'), prefix)
    test_s = time.perf_counter() - t0
    metrics = read_metrics(test_dir, TASKS[row.task]['metrics'][0][0])
    record = dict(
        name=row.name,
        config=row.config,
        seed=seed,
        iters=iters,
        config_sha=sha,
        resolved_config=_rel(cfg_path),
        checkpoint=_rel(ckpt),
        train_s=round(train_s, 1),
        test_s=round(test_s, 1),
        metrics={
            key: _scaled(metrics, key, scale)
            for key, _, scale in TASKS[row.task]['metrics']
        })
    with open(record_path, 'w') as f:
        json.dump(record, f, indent=2)
    return dict(record, reused=False)


def _scaled(metrics, key, scale):
    value = _metric(metrics, key)
    return None if value is None else round(value * scale, 4)


# ------------------------------------------------------- trivial predictors
def trivial_semantic(root: str, evaluator_cfg) -> Dict:
    """Predict the majority training class everywhere: mIoU (as IoUMetric
    counts it) and the table's BoundaryMetric on that prediction."""
    import cv2
    import torch
    from mmseg.datasets import CityscapesDataset

    from mmboundary.evaluation.metrics import BoundaryMetric

    def paths(split):
        return sorted(
            glob.glob(
                osp.join(root, 'gtFine', split, '*', '*_labelTrainIds.png')))

    counts = np.zeros(256, np.int64)
    for path in paths('train'):
        lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        counts += np.bincount(lab.ravel(), minlength=256)
    majority = int(np.argmax(counts[:255]))
    boundary = [e for e in evaluator_cfg if e.get('type') == 'BoundaryMetric']
    kwargs = {k: v for k, v in boundary[0].items() if k != 'type'} \
        if boundary else dict(trimap_widths=[1, 3])
    metric = BoundaryMetric(**_plain(kwargs))
    classes = CityscapesDataset.METAINFO['classes']
    metric.dataset_meta = dict(classes=classes)
    val = np.zeros(256, np.int64)
    labels = paths('val')
    for path in labels:
        lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        val += np.bincount(lab.ravel(), minlength=256)
        gt = torch.from_numpy(lab.astype(np.int64))[None]
        metric.process({}, [
            dict(
                pred_sem_seg=dict(data=torch.full_like(gt, majority)),
                gt_sem_seg=dict(data=gt),
                img_path=path)
        ])
    scores = metric.evaluate(len(labels))
    val = val[:len(classes)]
    # predicting `majority` everywhere (ignored pixels excluded, as
    # IoUMetric does): IoU = |gt == m| / |valid| for m, 0 for the others
    ious = np.where(val > 0, 0.0, np.nan)
    ious[majority] = val[majority] / val.sum()
    metrics = {k: _metric(scores, k) for k in TASKS['semantic']['boundary']}
    metrics['mIoU'] = round(100 * float(np.nanmean(ious)), 4)
    return dict(
        name=f'trivial: always class {majority} ({classes[majority]})',
        metrics=metrics)


def trivial_instance(root: str) -> Dict:
    """One whole-image instance of the majority training class per val
    image, score 1, evaluated by the table's ``BoundaryAPMetric``."""
    import torch
    from mmdet.datasets import CityscapesDataset

    from mmboundary.evaluation.metrics import BoundaryAPMetric
    ann_dir = osp.join(root, 'annotations')
    with open(osp.join(ann_dir,
                       'instancesonly_filtered_gtFine_train.json')) as f:
        train_ann = json.load(f)
    names = {c['id']: c['name'] for c in train_ann['categories']}
    counts = {}
    for ann in train_ann['annotations']:
        counts[ann['category_id']] = counts.get(ann['category_id'], 0) + 1
    classes = list(CityscapesDataset.METAINFO['classes'])
    majority = names[max(counts, key=lambda c: (counts[c], -c))]
    label = classes.index(majority)
    val_file = osp.join(ann_dir, 'instancesonly_filtered_gtFine_val.json')
    with open(val_file) as f:
        images = json.load(f)['images']
    metric = BoundaryAPMetric(
        ann_file=val_file, metric=['bbox', 'segm', 'boundary'])
    metric.dataset_meta = dict(classes=classes)
    for img in images:
        h, w = img['height'], img['width']
        metric.process({}, [
            dict(
                img_id=img['id'],
                ori_shape=(h, w),
                pred_instances=dict(
                    bboxes=torch.tensor([[0.0, 0.0, w, h]]),
                    scores=torch.ones(1),
                    labels=torch.tensor([label]),
                    masks=torch.ones(1, h, w, dtype=torch.bool)))
        ])
    scores = metric.evaluate(len(images))
    return dict(
        name=f'trivial: one whole-image {majority} per image',
        metrics={
            key: _scaled(scores, key, scale)
            for key, _, scale in TASKS['instance']['metrics']
        })


# ------------------------------------------------------------------ tables
def summarize_task(task: str, records: Dict[str, List[Dict]],
                   rows: Sequence[Row]) -> List[Dict]:
    """Per row: mean/std of every metric over seeds and, for non-baseline
    rows, the paired difference to the baseline (same seeds)."""
    keys = [k for k, _, _ in TASKS[task]['metrics']]
    out = []
    for row in rows:
        base = baseline_of(row, rows)
        runs = sorted(records[row.name], key=lambda r: r['seed'])
        entry = dict(
            name=row.name,
            config=row.config,
            method_keys=list(row.method_keys),
            readme=row.readme,
            paper=list(row.paper) if row.paper else None,
            baseline=base is None,
            compared_with=None if base is None else base.name,
            seeds=[r['seed'] for r in runs],
            iters=runs[0]['iters'],
            train_s=mean_std([r['train_s'] for r in runs])['mean'],
            runs=runs,
            summary={},
            difference={})
        for key in keys:
            values = [r['metrics'].get(key) for r in runs]
            if any(v is None for v in values):
                continue
            entry['summary'][key] = mean_std(values)
            if base is not None:
                base_runs = sorted(records[base.name], key=lambda r: r['seed'])
                if [r['seed'] for r in base_runs] != entry['seeds']:
                    raise ValueError(
                        f'{row.name}: seeds {entry["seeds"]} do not pair '
                        f'with the baseline {base.name!r}\'s '
                        f'{[r["seed"] for r in base_runs]}')
                base_values = [r['metrics'].get(key) for r in base_runs]
                if all(v is not None for v in base_values):
                    entry['difference'][key] = paired_difference(
                        values, base_values)
        out.append(entry)
    return out


def _fmt(value, digits=2, sign=False):
    if value is None:
        return '-'
    return f'{value:+.{digits}f}' if sign else f'{value:.{digits}f}'


def _cell(stat):
    if stat is None:
        return '-'
    if stat['std'] is None:
        return _fmt(stat['mean'])
    return f"{_fmt(stat['mean'])} ± {_fmt(stat['std'])}"


def _diff_cell(diff):
    if diff is None:
        return '-'
    if diff['low'] is None:
        return _fmt(diff['mean'], sign=True)
    return (f"{_fmt(diff['mean'], sign=True)} "
            f"[{_fmt(diff['low'], sign=True)}, "
            f"{_fmt(diff['high'], sign=True)}] {diff['verdict']}")


def format_table(task: str, entries: Sequence[Dict], trivial: Dict) -> str:
    """Markdown table of one task: trivial row, then one line per row
    (mean, or mean ± sample std over seeds); a metric column is shown when
    some row reports it."""
    columns = [(k, h) for k, h, _ in TASKS[task]['metrics']
               if any(k in e['summary'] for e in entries)]
    n = max(len(e['seeds']) for e in entries)
    lines = [
        '| Method | iters | ' + ' | '.join(f'{h} (%)' for _, h in columns) +
        ' | train time (s) |', '|---|---|' + '---|' * len(columns) + '---|'
    ]
    lines.append(f"| {trivial['name']} | - | " + ' | '.join(
        _fmt(trivial['metrics'].get(k)) for k, _ in columns) + ' | - |')
    for e in entries:
        label = e['name'] + (' (baseline)' if e['baseline'] else '')
        lines.append(f"| {label} | {e['iters']} | " + ' | '.join(
            _cell(e['summary'].get(k))
            for k, _ in columns) + f" | {_fmt(e['train_s'], 0)} |")
    text = '\n'.join(lines)
    if n > 1:
        text += (f'\n\nMean ± sample standard deviation over {n} seeds '
                 f"({', '.join(map(str, entries[0]['seeds']))}).")
    return text


def format_differences(task: str, entries: Sequence[Dict]) -> str:
    """Paired differences of each method to its baseline (95 % t interval)
    and, in words, which of them are within noise."""
    base, others = entries[0], entries[1:]
    if not others:
        return ''
    columns = [(k, h) for k, h, _ in TASKS[task]['metrics']
               if any(k in e['difference'] for e in others)]
    n = len(base['seeds'])
    lines = [
        '| Method | minus | ' + ' | '.join(f'{h} (points)'
                                           for _, h in columns) + ' |',
        '|---|---|' + '---|' * len(columns)
    ]
    words = []
    for e in others:
        versus = e.get('compared_with') or base['name']
        lines.append(f"| {e['name']} | {versus} | " + ' | '.join(
            _diff_cell(e['difference'].get(k)) for k, _ in columns) + ' |')
        if n < 2:
            words.append(
                f"{e['name']} vs {versus}: one seed, so no interval; "
                'whether any difference exceeds the seed-to-seed noise is '
                'not tested (run --seeds 0 1 2).')
            continue
        groups = OrderedDict(
            (v, []) for v in ('higher', 'lower', 'within noise'))
        for k, h in columns:
            diff = e['difference'].get(k)
            if diff is not None:
                groups[diff['verdict']].append(h)
        parts = [f"{v}: {', '.join(hs)}" for v, hs in groups.items() if hs]
        words.append(f"{e['name']} vs {versus} (paired over {n} "
                     f"seeds, 95 % t interval): {'; '.join(parts)}.")
    head = ('Paired difference of each method to its baseline (same seed), '
            'mean' + (' [95 % t interval] and verdict' if n > 1 else '') + ':')
    return head + '\n\n' + '\n'.join(lines) + '\n\n' + '\n'.join(
        f'- {w}' for w in words)


def format_claims(results: Dict, link_prefix: str = '') -> str:
    """Each method's paper claim beside the difference measured here."""
    lines = [
        "| Method | paper's claim | measured here (same metric, vs its "
        'baseline) | README |', '|---|---|---|---|'
    ]
    for task, data in results['tasks'].items():
        headers = {k: h for k, h, _ in TASKS[task]['metrics']}
        for e in data['rows']:
            if e['baseline'] or not e['paper']:
                continue
            claim, key = e['paper']
            diff = e['difference'].get(key)
            versus = e.get('compared_with') or data['rows'][0]['name']
            measured = '-' if diff is None else \
                f'{headers[key]} {_diff_cell(diff)} vs {versus}'
            readme = '-' if not e['readme'] else \
                f"[{e['readme']}]({link_prefix}{e['readme']})"
            lines.append(f"| {e['name']} | {claim} | {measured} | {readme} |")
    return '\n'.join(lines)


def load_averages(entry: Dict) -> Tuple[float, float]:
    """The 1-min load averages at the start and end of a run (``results`` or
    one of its ``history`` entries), as stored: ``load_average_start`` and
    ``load_average_end``.

    Results written before the two numbers were kept hold only the display
    string ``load_average`` ('1.2 / 2.0', one decimal); that is read as a
    fallback (``docs/main_job/results.json`` of earlier runs).
    """
    if 'load_average_start' in entry:
        return entry['load_average_start'], entry['load_average_end']
    start, end = (float(v) for v in str(entry['load_average']).split(' / '))
    return start, end


def with_load_averages(entry: Dict) -> Dict:
    """``entry`` with the two load averages as numbers (an old display
    string replaced; see :func:`load_averages`)."""
    start, end = load_averages(entry)
    out = {k: v for k, v in entry.items() if k != 'load_average'}
    out.update(load_average_start=start, load_average_end=end)
    return out


def format_load_average(entry: Dict) -> str:
    """'start / end' of :func:`load_averages`, one decimal each."""
    start, end = load_averages(entry)
    return f'{start:.1f} / {end:.1f}'


def format_results(results: Dict,
                   link_prefix: str = '',
                   figure_prefix: str = '') -> str:
    """The whole ``results.md``: command, machine, then per task the table,
    the differences and the figures, then the paper claims.

    Args:
        results (dict): What ``results.json`` holds.
        link_prefix (str): Prepended to repository paths (READMEs).
        figure_prefix (str): Prepended to figure file names.
    """
    note = stale_note(results, REPO_ROOT)  # issue 24: visibly stale
    out = ([note, ''] if note else []) + [
        f"Command: `{results['command']}`  ",
        f"Machine: {results['machine']}  ",
        f"Total time: {results['elapsed_s'] / 60:.1f} min "
        f"(shared start: {results['start']['status']}); load average "
        f'{format_load_average(results)} at the start and end (timings '
        'measured under other processes\' load are inflated).',
        '',
        f"Shared start: `{results['start']['config']}` trained for "
        f"{results['start']['iters']} iterations (seed "
        f"{results['start']['seed']}, key {results['start']['key'][:12]}); "
        'semantic rows fine-tune the whole segmentor from it, instance rows '
        'initialise their backbone from its backbone.',
    ]
    for task, data in results['tasks'].items():
        out += [
            '', f"### {TASKS[task]['title']}", '',
            format_table(task, data['rows'], data['trivial'])
        ]
        diff = format_differences(task, data['rows'])
        if diff:
            out += ['', diff]
        if data.get('figures'):
            out += [''] + [
                f'![{task} {kind}]({figure_prefix}{name})'
                for kind, name in data['figures'].items()
            ]
    if results.get('history'):
        out += ['', 'Measured run times (each written by the tool):', '']
        for h in results['history']:
            out.append(
                f"- `{h['command']}`: {h['elapsed_s'] / 60:.1f} min wall "
                f"time; {h['trained']} row runs trained, {h['reused']} "
                'reused from earlier runs; training + testing of all its row '
                f"runs as measured: {h['row_s'] / 60:.1f} min; load average "
                f'{format_load_average(h)}')
    out += [
        '', '### Paper claims beside this benchmark', '',
        format_claims(results, link_prefix)
    ]
    return '\n'.join(out) + '\n'


def method_tables(results: Dict) -> Dict[str, Dict]:
    """One results table per method README (named after its folder, e.g.
    ``inverseform``): the method's rows and their baselines (mean ± sample
    std over seeds), then one line per method with its paired difference
    to its baseline, and in the notes which differences are within noise.
    Written to ``tables.json`` with :func:`dump_results`; method READMEs
    show them in blocks ``docs/main_job/tables.json#<folder>``."""
    tables = OrderedDict()
    for task, data in results['tasks'].items():
        metrics = [(k, h) for k, h, _ in TASKS[task]['metrics']]
        by_name = {e['name']: e for e in data['rows']}
        groups = OrderedDict()
        for e in data['rows']:
            if e['readme'] and not e['baseline']:
                folder = osp.basename(osp.dirname(e['readme']))
                groups.setdefault(folder, []).append(e)
        for folder, methods in groups.items():
            shown = []
            for e in methods:
                versus = e.get('compared_with') or data['rows'][0]['name']
                for name in (versus, e['name']):
                    if name not in shown:
                        shown.append(name)
            n = len(by_name[shown[0]]['seeds'])
            seeds = ', '.join(map(str, by_name[shown[0]]['seeds']))
            table_rows = []
            for name in shown:
                e = by_name[name]
                table_rows.append(
                    [name, 'mean ± std' if n > 1 else 'mean'] +
                    [_cell(e['summary'].get(k))
                     for k, _ in metrics] + [e['iters']])
            for e in methods:
                versus = e.get('compared_with') or data['rows'][0]['name']
                table_rows.append(
                    [f"{e['name']} - {versus}", 'paired difference'] +
                    [_diff_cell(e['difference'].get(k))
                     for k, _ in metrics] + [e['iters']])
            words = format_differences(task,
                                       [data['rows'][0]] + methods).rsplit(
                                           '\n\n', 1)[-1]
            notes = [
                f'{TASKS[task]["title"]} on the synthetic Cityscapes '
                f'data, {n} seed(s) ({seeds}); every row fine-tunes '
                'from the same shared start under the same budget '
                '(see the top-level README).'
            ] + [w[2:] for w in words.splitlines() if w.startswith('- ')]
            tables[folder] = dict(
                columns=['Method', 'statistic'] +
                [f'{h} (%)' for _, h in metrics] + ['iters'],
                rows=table_rows,
                notes=notes)
    return tables


def store_tables(work_dir: str, results: Dict) -> Dict:
    """Write :func:`method_tables` of ``results`` to ``work_dir/tables.json``
    with the run's own command, machine, date and load average."""
    load_start, load_end = load_averages(results)
    return dump_results(
        osp.join(work_dir, TABLES_JSON),
        method_tables(results),
        command=results['command'],
        machine=results['machine'],
        date=results.get('date'),
        load_start=load_start,
        load_end=load_end,
        source=results.get('source'),  # issue 24: the run's, not now's
        compute=results.get('compute'))


def readme_block(results: Dict) -> str:
    """The README's results block: :func:`format_results` with paths
    relative to the repository root, between the markers."""
    body = format_results(
        results, link_prefix='', figure_prefix=PUBLISH_DIR + '/')
    return (f'{README_BEGIN}\nStored results: [{PUBLISH_DIR}/results.json]'
            f'({PUBLISH_DIR}/results.json).\n\n{body}{README_END}')


def replace_readme_block(text: str, block: str, readme: str) -> str:
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f'{readme} has no results block; add the two lines '
                         f'{README_BEGIN!r} and {README_END!r} where the '
                         'results go')
    return text[:begin] + block + text[end + len(README_END):]


# ------------------------------------------------------------------ figures
def _semantic_boundary(label, ignore_index=None):
    from mmboundary.datasets.transforms.boundary import semantic_edge_map
    edge = semantic_edge_map(label, ignore_index=ignore_index)
    return edge == 1


def _instance_boundary(masks, shape):
    from mmboundary.evaluation.functional.boundary_iou import mask_to_boundary
    out = np.zeros(shape, bool)
    for mask in masks:
        out |= mask_to_boundary(mask, width=1)
    return out


def _overlay(image, boundary, color=(255, 0, 0)):
    out = image.copy()
    out[boundary] = color
    return out


def predict_boundaries(task: str,
                       cfg_path: str,
                       ckpt: str,
                       images: Sequence[str],
                       device: str,
                       score_thr: float = 0.5) -> List[np.ndarray]:
    """(H, W) bool boundaries of a row's predictions on ``images``."""
    if task == 'semantic':
        from mmseg.apis import inference_model, init_model
        model = init_model(cfg_path, ckpt, device=device)
        out = []
        for img in images:
            pred = inference_model(model, img).pred_sem_seg.data[0]
            out.append(_semantic_boundary(pred.cpu().numpy()))
        return out
    from mmcv.transforms import Compose
    from mmdet.apis import inference_detector, init_detector
    model = init_detector(cfg_path, ckpt, device=device)
    pipeline = Compose([
        t for t in model.cfg.test_dataloader.dataset.pipeline
        if t['type'] != 'LoadAnnotations'
    ])
    out = []
    for img in images:
        inst = inference_detector(
            model, img, test_pipeline=pipeline).pred_instances
        keep = inst.scores >= score_thr
        masks = inst.masks[keep].cpu().numpy()
        shape = inst.masks.shape[-2:]
        out.append(_instance_boundary(masks, tuple(shape)))
    return out


def gt_boundaries(task: str, root: str,
                  num: int) -> Tuple[List[str], List[np.ndarray]]:
    """The first ``num`` val images and their GT boundaries."""
    import cv2
    if task == 'semantic':
        labels = sorted(
            glob.glob(
                osp.join(root, 'gtFine', 'val', '*',
                         '*_labelTrainIds.png')))[:num]
        images = [
            p.replace('gtFine', 'leftImg8bit',
                      1).replace('_gtFine_labelTrainIds', '_leftImg8bit')
            for p in labels
        ]
        return images, [
            _semantic_boundary(
                cv2.imread(p, cv2.IMREAD_UNCHANGED), ignore_index=255)
            for p in labels
        ]
    from pycocotools.coco import COCO
    coco = COCO(
        osp.join(root, 'annotations',
                 'instancesonly_filtered_gtFine_val.json'))
    images, bounds = [], []
    for img_id in sorted(coco.getImgIds())[:num]:
        info = coco.loadImgs(img_id)[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id, iscrowd=False))
        images.append(osp.join(root, 'leftImg8bit', 'val', info['file_name']))
        bounds.append(
            _instance_boundary([coco.annToMask(a) for a in anns],
                               (info['height'], info['width'])))
    return images, bounds


def draw_figures(task: str, entries: Sequence[Dict], root: str, out_dir: str,
                 num: int, device: str) -> Dict[str, str]:
    """``<task>_boundaries.png`` (image | GT boundary | each row's
    predicted boundary, first seed) and ``<task>_boundary_metrics.png``
    (bars, error bars = sample std when seeds > 1)."""
    import cv2
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figures = {}
    images, gts = gt_boundaries(task, root, num)
    preds = [
        predict_boundaries(
            task, osp.join(REPO_ROOT, e['runs'][0]['resolved_config']),
            osp.join(REPO_ROOT, e['runs'][0]['checkpoint']), images, device)
        for e in entries
    ]
    cols = 2 + len(entries)
    fig, axes = plt.subplots(
        len(images),
        cols,
        figsize=(3.2 * cols, 1.9 * len(images) + 0.4),
        squeeze=False)
    for i, path in enumerate(images):
        rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        panels = [('image', rgb), ('GT boundary', _overlay(rgb, gts[i]))]
        panels += [(e['name'], _overlay(rgb, preds[j][i]))
                   for j, e in enumerate(entries)]
        for j, (title, panel) in enumerate(panels):
            axes[i, j].imshow(panel)
            axes[i, j].set_axis_off()
            if i == 0:
                axes[i, j].set_title(title, fontsize=9)
    fig.tight_layout()
    name = f'{task}_boundaries.png'
    fig.savefig(osp.join(out_dir, name), dpi=80)
    plt.close(fig)
    figures['boundaries'] = name

    keys = [
        k for k in TASKS[task]['boundary']
        if all(k in e['summary'] for e in entries)
    ]
    headers = {k: h for k, h, _ in TASKS[task]['metrics']}
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(keys), 3.2))
    width = 0.8 / len(entries)
    for j, e in enumerate(entries):
        means = [e['summary'][k]['mean'] for k in keys]
        stds = [e['summary'][k]['std'] for k in keys]
        err = None if any(s is None for s in stds) else stds
        ax.bar(
            np.arange(len(keys)) + (j - (len(entries) - 1) / 2) * width,
            means,
            width,
            yerr=err,
            capsize=3,
            label=e['name'])
    ax.set_xticks(np.arange(len(keys)))
    ax.set_xticklabels([headers[k] for k in keys])
    ax.set_ylabel('%')
    n = len(entries[0]['seeds'])
    ax.set_title(
        f"{TASKS[task]['title']}: boundary metrics (" +
        (f'mean ± std, {n} seeds)' if n > 1 else '1 seed)'),
        fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = f'{task}_boundary_metrics.png'
    fig.savefig(osp.join(out_dir, name), dpi=80)
    plt.close(fig)
    figures['boundary metrics'] = name
    return figures


# --------------------------------------------------------------------- main
def pick_device() -> str:
    import torch
    if torch.cuda.is_available():
        return f'cuda ({torch.cuda.get_device_name(0)})'
    return 'cpu'


def plan_jobs(jobs: Optional[int], device: str, cores: int,
              runs: int) -> Tuple[int, int]:
    """Parallel row runs and compute threads per run.

    One run at a time on a GPU; on a CPU, ``min(cores, 4)`` runs (no more
    than there are runs) share the cores: on 2 cores, two single-threaded
    runs side by side train ~1.4x more per second than one run with two
    threads (small convolutions scale poorly across threads). The threads
    per run are fixed (issue 24: :func:`compute_threads`), never the cores
    divided among the runs: a run's numbers depend on its thread count.
    """
    if jobs is None:
        jobs = 1 if device.startswith('cuda') else min(cores, 4)
    jobs = max(1, min(jobs, runs))
    return jobs, compute_threads()


def run_rows(rows: Sequence[Row], args, start: Dict,
             device: str) -> Dict[str, List[Dict]]:
    """Train and test every row at every seed, ``--jobs`` at a time.

    Runs are taken seed by seed in table order, skipping (for now) a row's
    later seed until its first seed has finished, so that a frozen net the
    row pretrains (cached by a hash of its data and settings) is pretrained
    once and then reused. After a failure nothing new starts and the error
    is raised once the running runs end.

    Returns:
        dict: Row name -> its records, in seed order.
    """
    import threading
    cores = os.cpu_count() or 1
    pending = [(seed, row) for seed in args.seeds for row in rows]
    jobs, THREADS['n'] = plan_jobs(args.jobs, device, cores, len(pending))
    log(f'{len(pending)} row runs, {jobs} at a time, {THREADS["n"]} compute '
        'thread(s) each')
    configs = {
        seed: resolve_rows(rows, args, start, seed)
        for seed in args.seeds
    }
    first_done, results, errors = set(), {}, []
    cond = threading.Condition()

    def take():
        with cond:
            while True:
                if errors:
                    return None
                ready = [(seed, row) for seed, row in pending
                         if seed == args.seeds[0] or row.name in first_done]
                if ready:
                    pending.remove(ready[0])
                    return ready[0]
                if not pending:
                    return None
                cond.wait()

    def worker():
        while True:
            item = take()
            if item is None:
                return
            seed, row = item
            try:
                record = run_row_seed(row, configs[seed][row.name], seed, args,
                                      start['sha256'])
            except BaseException as e:  # noqa: B902 (re-raised in main)
                with cond:
                    errors.append(e)
                    cond.notify_all()
                return
            with cond:
                results[(row.name, seed)] = record
                if seed == args.seeds[0]:
                    first_done.add(row.name)
                cond.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return {
        r.name: [results[(r.name, seed)] for seed in args.seeds]
        for r in rows
    }


def resolve_rows(rows: Sequence[Row], args, start: Optional[Dict],
                 seed: int) -> Dict[str, object]:
    """Row name -> resolved config (the table's protocol applied)."""
    return {
        r.name:
        resolve_config(
            load_config(r.config), r.task, args.iters.get(r.task),
            args.data_root, seed, start)
        for r in rows
    }


def main(argv=None):
    args = parse_args(argv)
    for name in ('data_root', 'work_dir', 'start_dir', 'readme'):
        if getattr(args, name):  # relative to the caller's directory
            setattr(args, name, osp.abspath(getattr(args, name)))
    if args.publish_only:
        if not args.readme:
            raise SystemExit('--publish-only needs --readme README.md')
        with open(osp.join(args.work_dir, 'results.json')) as f:
            results = with_load_averages(json.load(f))
        store_tables(args.work_dir, results)
        publish(args, results)
        return 0
    t_start = time.perf_counter()
    load_start = os.getloadavg()[0]
    source = source_state(REPO_ROOT, paths=SOURCE_INPUTS)  # issue 24
    try:
        rows = select_rows(args.rows)
    except ValueError as e:
        raise SystemExit(str(e))
    # the configs as written, then resolved: refuse a row before training
    check_rows(rows, {r.name: load_config(r.config) for r in rows})
    os.makedirs(args.work_dir, exist_ok=True)
    ensure_data(args.data_root, args.data_seed,
                osp.join(args.work_dir, 'data.log'))
    device = pick_device()
    THREADS['n'] = compute_threads()  # issue 24: the start too (alone)
    start = ensure_start(args, task_rows('semantic')[0])
    check_rows(rows, resolve_rows(rows, args, start, args.seeds[0]))
    log(f'device: {device}; rows: {[r.name for r in rows]}; seeds: '
        f'{args.seeds}')

    records = run_rows(rows, args, start, device)

    results = dict(
        command='python tools/misc/run_main_job.py' +
        ''.join(' ' + (a if re.fullmatch(r'[\w./=@:-]+', a) else repr(a))
                for a in (sys.argv[1:] if argv is None else argv)),
        machine=machine_description(device),
        source=source,  # issue 24: the code the numbers come from
        compute=compute_environment(device),  # issue 24: threads, ISA
        seeds=list(args.seeds),
        start=dict({
            k: start.get(k)
            for k in ('key', 'config', 'iters', 'seed', 'train_s', 'status')
        }),
        tasks=OrderedDict())
    for task in TASKS:
        group = [r for r in rows if r.task == task]
        if not group:
            continue
        entries = summarize_task(task, records, group)
        if task == 'semantic':
            trivial = trivial_semantic(
                args.data_root,
                _as_list(load_config(group[0].config).test_evaluator))
        else:
            trivial = trivial_instance(args.data_root)
        figures = {}
        try:
            figures = draw_figures(task, entries, args.data_root,
                                   args.work_dir, args.num_vis,
                                   device.split(' ')[0])
        except ImportError as e:  # matplotlib is a mmseg/mmdet dependency
            log(f'figures skipped: {e}')
        results['tasks'][task] = dict(
            rows=entries, trivial=trivial, figures=figures)
    results['elapsed_s'] = round(time.perf_counter() - t_start, 1)
    results['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    results['load_average_start'] = load_start
    results['load_average_end'] = os.getloadavg()[0]
    text = format_results(results, _link_prefix(args.work_dir))
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    store_tables(args.work_dir, results)
    print()
    print(text)
    if args.readme:
        publish(args, results)
    print(f'Logs, checkpoints and figures: {args.work_dir}/')
    return 0


def _link_prefix(folder: str) -> str:
    """Relative path from ``folder`` to the repository root, with '/'."""
    return osp.relpath(REPO_ROOT, folder).replace(os.sep, '/') + '/'


def _rel(path: str) -> str:
    """``path`` relative to the repository root when inside it."""
    rel = osp.relpath(path, REPO_ROOT)
    return path if rel.startswith('..') else rel


def history_entry(results: Dict) -> Dict:
    """How long one run of the tool took (for the README): wall time, row
    runs trained and reused, and the training + testing seconds of all its
    row runs (reused ones included, as they were measured)."""
    runs = [
        r for data in results['tasks'].values() for e in data['rows']
        for r in e['runs']
    ]
    load_start, load_end = load_averages(results)
    return dict(
        command=results['command'],
        elapsed_s=results['elapsed_s'],
        load_average_start=load_start,
        load_average_end=load_end,
        trained=sum(not r.get('reused', False) for r in runs),
        reused=sum(bool(r.get('reused', False)) for r in runs),
        row_s=round(sum(r['train_s'] + r['test_s'] for r in runs), 1))


def publish(args, results: Dict) -> None:
    """Copy results and figures to ``docs/main_job/`` and write the
    README's results block from them. The run times of the results
    published before (same work dir, e.g. ``make demo`` before ``--seeds 0
    1 2``) are kept in ``history``."""
    out = osp.join(REPO_ROOT, PUBLISH_DIR)
    os.makedirs(out, exist_ok=True)
    previous = osp.join(out, 'results.json')
    history = []
    if osp.isfile(previous):
        with open(previous) as f:
            old = json.load(f)
        history = [
            with_load_averages(h)
            for h in old.get('history') or [history_entry(old)]
        ]
    entry = history_entry(results)
    results['history'] = [h for h in history if h != entry] + [entry]
    for data in results['tasks'].values():
        for name in data['figures'].values():
            shutil.copy(osp.join(args.work_dir, name), osp.join(out, name))
    with open(osp.join(out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    with open(osp.join(out, 'results.md'), 'w') as f:
        f.write(format_results(results, _link_prefix(out)))
    with open(args.readme) as f:
        text = f.read()
    text = replace_readme_block(text, readme_block(results), args.readme)
    with open(args.readme, 'w') as f:
        f.write(text)
    tables = osp.join(args.work_dir, TABLES_JSON)
    if osp.isfile(tables):
        shutil.copy(tables, osp.join(out, TABLES_JSON))
    readmes = sorted({
        osp.join(REPO_ROOT, e['readme'])
        for data in results['tasks'].values()
        for e in data['rows'] if e['readme']
    })
    for readme in readmes:
        for block in update_readme(readme, root=REPO_ROOT):
            log(f'{_rel(readme)}: rewrote the block {block}')
    log(f'wrote {PUBLISH_DIR}/results.{{md,json}}, {PUBLISH_DIR}/'
        f'{TABLES_JSON} and the results block of {args.readme}')


if __name__ == '__main__':
    sys.exit(main())
