# Copyright (c) mmboundary contributors. All rights reserved.
"""The runner: every row at every seed trained and tested (several at a
time on a CPU), then the tables, figures and report of the run.

1. Generates ``data/synthetic_cityscapes`` (Cityscapes layout) if missing
   and converts it (:mod:`.data`).
2. **Shared start** (:mod:`.start`): the semantic baseline config trained
   once for ``--start-iters`` and cached.
3. **Rows.** Every row of :data:`~.rows.ROWS` trains its resolved config
   (:func:`~.protocol.resolve_config`) from that start with
   ``tools/train.py``: semantic rows fine-tune the whole segmentor
   (``load_from``), instance rows initialise their backbone from the
   segmentor's (:func:`~.protocol.instance_backbone`). Each row is
   evaluated on val with ``tools/test.py``.
4. **Tables** (:mod:`.report`) and figures (:mod:`.figures`) in
   ``WORK_DIR``; ``--readme`` publishes them to ``docs/main_job/``.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from mmboundary.utils.cli import UserError
from mmboundary.utils.progress import Progress
from mmboundary.utils.reproducibility import (compute_environment,
                                              compute_threads, source_state)
from mmboundary.utils.results_doc import machine_description
from . import process
from .common import REPO_ROOT, link_prefix, log, rel, slug
from .data import ensure_data
from .figures import curves_name, draw_curves, draw_figures, redraw_figures
from .process import THREADS, read_metrics
from .protocol import (as_list, check_rows, config_sha, load_config,
                       resolve_config)
from .report import (PUBLISH_DIR, RESULTS_JSON, format_results,
                     load_job_results, publish, store_tables, summarize_task)
from .rows import (TABLES, TASKS, Row, baseline_of, scaled_metric, select_rows,
                   task_rows)
from .start import ensure_start
from .trivial import trivial_instance, trivial_semantic

#: Inputs of the main job's numbers besides mmboundary/ and configs/ (a
#: change to any of their Python files makes published results stale).
SOURCE_INPUTS = ('tools/misc/run_main_job.py', 'tools/train.py',
                 'tools/test.py', 'tools/dataset_converters')


def set_child_threads(n: int) -> None:
    """The compute threads of every training/testing child process from
    now on (see :func:`~.process.child_env`, the one place that applies
    them)."""
    THREADS['n'] = max(1, int(n))


def curve_iters(iters: int, points: int) -> List[int]:
    """The iterations a validation curve of ``points`` points evaluates:
    every ``max(1, iters // points)`` iterations, and the last one.

    E.g. ``curve_iters(100, 8) = [12, 24, 36, 48, 60, 72, 84, 96, 100]``;
    ``curve_iters(300, 0) = []`` (no curve).
    """
    if points <= 0:
        return []
    step = max(1, iters // points)
    return sorted(set(range(step, iters, step)) | {iters})


def wants_curve(row: Row, seed: int, args) -> int:
    """Validation points of ``row`` at ``seed``: ``args.curves`` for the
    rows in ``args.curve_rows`` (the baselines) at the first
    ``args.curve_seeds`` seeds, else 0."""
    points = getattr(args, 'curves', 0) or 0
    if not points or row.name not in getattr(args, 'curve_rows', ()):
        return 0
    first = list(
        args.seeds)[:getattr(args, 'curve_seeds', None) or len(args.seeds)]
    return points if seed in first else 0


def add_curve_checkpoints(cfg, points: int):
    """A copy of a resolved config that also saves the checkpoints of
    :func:`curve_iters` (nothing else changes: saving draws no random
    numbers, so the run trains as without them; validation inside the run
    would draw random numbers (the val sampler's and loader's seeds) and
    change the training that follows)."""
    import copy
    cfg = copy.deepcopy(cfg)
    iters = cfg.train_cfg['max_iters']
    cfg.default_hooks['checkpoint']['interval'] = max(1, iters // points)
    cfg.default_hooks['checkpoint']['max_keep_ckpts'] = -1
    return cfg


def run_test(cfg_path: str, ckpt: str, test_dir: str, log_file: str,
             prefix: str) -> float:
    """Evaluate ``ckpt`` on val with ``tools/test.py``; return seconds."""
    t0 = time.perf_counter()
    process.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'test.py'), cfg_path, ckpt, '--work-dir',
        test_dir
    ], log_file, prefix)
    return time.perf_counter() - t0


def run_row_seed(row: Row, cfg, seed: int, args, start_sha: str) -> Dict:
    """Train and test one row at one seed, or reuse a run of the same
    resolved config from the same start (``start_sha``: the start
    checkpoint's sha256). A baseline's run at a curve seed
    (:func:`wants_curve`) also saves the checkpoints of
    :func:`curve_iters` and tests each: its validation curve
    (``record['curve']``) and the seconds it cost (``curve_s``)."""
    work_dir = osp.join(args.work_dir, row.task, slug(row.name), f'seed{seed}')
    record_path = osp.join(work_dir, 'row.json')
    points = wants_curve(row, seed, args)
    if points:
        cfg = add_curve_checkpoints(cfg, points)
    sha = hashlib.sha256(
        (config_sha(cfg) + start_sha +
         f'threads={THREADS["n"]}').encode()).hexdigest()  # issue 24
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
    cfg_path, train_s = process.train(cfg, row.config, work_dir, prefix)
    log(f'{row.name} seed {seed}: evaluating {ckpt} on val')
    test_dir = osp.join(work_dir, 'test')
    log_file = osp.join(work_dir, 'main_job.log')
    test_s = run_test(cfg_path, ckpt, test_dir, log_file, prefix)
    first_key = TASKS[row.task]['metrics'][0][0]
    metrics = read_metrics(test_dir, first_key)
    curve, curve_s = [], 0.0
    for it in curve_iters(iters, points):
        if it == iters:
            found = metrics
        else:
            log(f'{row.name} seed {seed}: validation curve, iteration {it}')
            curve_dir = osp.join(work_dir, f'test_iter{it}')
            curve_s += run_test(cfg_path, osp.join(work_dir, f'iter_{it}.pth'),
                                curve_dir, log_file, prefix)
            found = read_metrics(curve_dir, first_key)
        curve.append(
            dict(
                iter=it,
                metrics={
                    key: scaled_metric(found, key, scale)
                    for key, _, scale in TASKS[row.task]['metrics']
                }))
    record = dict(
        name=row.name,
        config=row.config,
        seed=seed,
        iters=iters,
        config_sha=sha,
        resolved_config=rel(cfg_path),
        checkpoint=rel(ckpt),
        train_s=round(train_s, 1),
        test_s=round(test_s, 1),
        metrics={
            key: scaled_metric(metrics, key, scale)
            for key, _, scale in TASKS[row.task]['metrics']
        })
    if curve:
        record.update(curve=curve, curve_s=round(curve_s, 1))
    with open(record_path, 'w') as f:
        json.dump(record, f, indent=2)
    return dict(record, reused=False)


def pick_device() -> str:
    """``'cuda (<name>)'`` when a GPU is visible, else ``'cpu'``."""
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

    Prints one progress line per finished run (done/total, elapsed, ETA;
    none with ``args.quiet``).

    Returns:
        dict: Row name -> its records, in seed order.
    """
    import threading
    cores = os.cpu_count() or 1
    pending = [(seed, row) for seed in args.seeds for row in rows]
    jobs, threads_each = plan_jobs(args.jobs, device, cores, len(pending))
    args.jobs_used = jobs  # stored: --plan's time estimates divide by it
    set_child_threads(threads_each)
    log(f'{len(pending)} row runs, {jobs} at a time, {threads_each} compute '
        'thread(s) each')
    configs = {
        seed: resolve_rows(rows, args, start, seed)
        for seed in args.seeds
    }
    first_done, results, errors = set(), {}, []
    cond = threading.Condition()
    # one plain line per finished row run, with an ETA (its output
    # interleaves with the rows' streamed logs: never a redrawn bar)
    progress = Progress(
        len(pending),
        desc='[main job] row runs',
        quiet=getattr(args, 'quiet', False),
        tty=False,
        interval=0)

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
                progress.update()
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


def run_job(args, command: str) -> int:
    """Run the main job with the command line's options.

    Args:
        args (argparse.Namespace): ``tools/misc/run_main_job.py``'s options
            (paths absolute).
        command (str): The command line, as stored in ``results.json``.

    Returns:
        int: 0.

    Raises:
        UserError: A bad row name or a row off its table's protocol
            (before anything trains), bad data.
    """
    table = TABLES[getattr(args, 'table', 'main')]
    publish_dir = table['publish_dir']
    if args.publish_only:
        return publish_only(args.work_dir, args.readme, publish_dir)
    process.ECHO['on'] = not getattr(args, 'quiet', False)
    t_start = time.perf_counter()
    load_start = os.getloadavg()[0]
    # issue 24: the code the numbers come from
    source = source_state(REPO_ROOT, paths=SOURCE_INPUTS)
    try:
        rows = select_rows(args.rows, table['rows'])
        # the configs as written, then resolved: refuse a row before
        # training
        check_rows(rows, {r.name: load_config(r.config) for r in rows})
    except ValueError as e:
        raise UserError(str(e)) from None
    os.makedirs(args.work_dir, exist_ok=True)
    ensure_data(args.data_root, args.data_seed,
                osp.join(args.work_dir, 'data.log'))
    device = pick_device()
    set_child_threads(compute_threads())  # issue 24: the start too
    start = ensure_start(
        task_rows('semantic')[0], args.data_root, args.start_dir,
        args.start_iters, args.start_seed)
    try:
        check_rows(rows, resolve_rows(rows, args, start, args.seeds[0]))
    except ValueError as e:
        raise UserError(str(e)) from None
    log(f'device: {device}; rows: {[r.name for r in rows]}; seeds: '
        f'{args.seeds}')
    # issue 19: validation curves of the baselines (of the table and of
    # the rows compared with another row)
    args.curve_rows = sorted({
        r.name
        for r in rows if baseline_of(r, rows) is None or any(
            baseline_of(o, rows) is r for o in rows)
    })

    records = run_rows(rows, args, start, device)

    results = dict(
        command=command,
        machine=machine_description(device),
        source=source,  # issue 24: the code the numbers come from
        compute=compute_environment(device),  # issue 24: threads, ISA
        seeds=list(args.seeds),
        jobs=getattr(args, 'jobs_used', None),
        table=getattr(args, 'table', 'main'),
        protocol=getattr(args, 'protocol', None),
        curves=dict(
            points=getattr(args, 'curves', 0),
            seeds=list(args.seeds)
            [:getattr(args, 'curve_seeds', None) or len(args.seeds)],
            rows=args.curve_rows),
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
                as_list(load_config(group[0].config).test_evaluator))
        else:
            trivial = trivial_instance(args.data_root)
        figures = {}
        try:
            figures = draw_figures(task, entries, args.data_root,
                                   args.work_dir, args.num_vis,
                                   device.split(' ')[0])
            if draw_curves(task, entries,
                           osp.join(args.work_dir, curves_name(task))):
                figures['curves'] = curves_name(task)
        except ImportError as e:  # matplotlib is a mmseg/mmdet dependency
            log(f'figures skipped: {e}')
        results['tasks'][task] = dict(
            rows=entries, trivial=trivial, figures=figures)
    results['elapsed_s'] = round(time.perf_counter() - t_start, 1)
    results['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    results['load_average_start'] = load_start
    results['load_average_end'] = os.getloadavg()[0]
    text = format_results(results, link_prefix(args.work_dir))
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.work_dir, RESULTS_JSON), 'w') as f:
        json.dump(results, f, indent=2)
    store_tables(args.work_dir, results)
    print()
    print(text)
    if args.readme:
        publish(results, args.work_dir, args.readme, publish_dir)
    print(f'Logs, checkpoints and figures: {args.work_dir}/')
    return 0


def publish_only(work_dir: str,
                 readme: Optional[str],
                 publish_dir: str = PUBLISH_DIR) -> int:
    """Train nothing: publish ``WORK_DIR/results.json`` to ``docs/main_job/``
    and ``readme``'s results block; the figures that stored data allows are
    redrawn first (:func:`~.figures.redraw_figures`).

    Raises:
        UserError: No ``readme``, or no usable results (the message names
            the file and the command that writes it).
    """
    # the results first: without them --readme alone would not help
    results = load_job_results(work_dir)
    if not readme:
        raise UserError('--publish-only needs --readme README.md (the README '
                        'whose results block it writes)')
    try:
        for name in redraw_figures(results, work_dir):
            log(f'redrew {name} from the stored results')
    except ImportError as e:  # matplotlib is a mmseg/mmdet dependency
        log(f'figures not redrawn: {e}')
    store_tables(work_dir, results)
    publish(results, work_dir, readme, publish_dir)
    return 0
