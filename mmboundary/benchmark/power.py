# Copyright (c) mmboundary contributors. All rights reserved.
"""Power planning (issue 19, item 3): from a stored ``results.json`` (its
per-seed paired differences and per-run durations), how many seeds each
row needs for a 95 % interval of half-width ``TASKS[task]['target']`` on
the metrics of ``TASKS[task]['power']``, and how long a run of that many
seeds is estimated to take. ``tools/misc/run_main_job.py --plan`` prints
it; the extended protocol's seeds (:data:`~.rows.EXTENDED_SEEDS`) were
chosen with it."""
import math
from typing import Dict, List, Optional

from mmboundary.utils.cli import UserError
from .rows import TASKS
from .stats import MIN_SEEDS, mean_std, on_floor, seeds_needed, t_quantile


def paired_values(entry: Dict, base: Dict, key: str) -> List[float]:
    """(n, ) per-seed differences ``entry - base`` of metric ``key`` (runs
    paired by seed; seeds missing on either side or values None left
    out)."""
    base_by_seed = {r['seed']: r['metrics'].get(key) for r in base['runs']}
    out = []
    for run in entry['runs']:
        value, ref = run['metrics'].get(key), base_by_seed.get(run['seed'])
        if value is not None and ref is not None:
            out.append(float(value) - float(ref))
    return out


def seed_seconds(results: Dict) -> Dict[str, object]:
    """Per-seed cost of a stored run, from its per-run durations.

    Returns:
        dict: ``row_s`` (training + testing of one seed of every row:
        the sum over rows of their mean over seeds), ``start_s`` (the
        shared start's training), ``overhead`` (the run's measured wall
        time over ``row_s * seeds / jobs + start_s``: data, trivial rows,
        figures and uneven parallel runs; 1.0 when some runs were reused,
        whose time is not in the wall time), ``test_s`` (mean test time of
        one run per row: a validation-curve point), ``jobs``.
    """
    jobs = int(results.get('jobs') or 2)
    rows, tests, all_fresh, total = 0.0, {}, True, 0.0
    for data in results['tasks'].values():
        for e in data['rows']:
            runs = e['runs']
            rows += mean_std([r['train_s'] + r['test_s']
                              for r in runs])['mean']
            total += sum(r['train_s'] + r['test_s'] for r in runs)
            tests[e['name']] = mean_std([r['test_s'] for r in runs])['mean']
            all_fresh &= not any(r.get('reused') for r in runs)
    start_s = float(results.get('start', {}).get('train_s') or 0.0)
    overhead = 1.0
    if all_fresh and results.get('elapsed_s'):
        overhead = results['elapsed_s'] / (total / jobs + start_s)
    return dict(
        row_s=rows,
        start_s=start_s,
        overhead=overhead,
        test_s=tests,
        jobs=jobs,
        fresh=all_fresh)


def estimate_minutes(cost: Dict,
                     seeds: int,
                     curve_tests: int = 0,
                     curve_test_s: float = 0.0) -> float:
    """Estimated wall minutes of ``seeds`` seeds of every row (and
    ``curve_tests`` extra val runs of ``curve_test_s`` seconds each) from
    :func:`seed_seconds`, the start trained once."""
    run_s = seeds * cost['row_s'] + curve_tests * curve_test_s
    return cost['overhead'] * (run_s / cost['jobs'] + cost['start_s']) / 60


def plan_power(results: Dict,
               budget_min: float = 120.0,
               curves: int = 0,
               curve_seeds: int = 0,
               curve_rows: Optional[List[str]] = None,
               confidence: float = 0.95,
               max_seeds: int = 200) -> Dict[str, object]:
    """The seeds each row needs and the most seeds the budget allows.

    Args:
        results (dict): A stored ``results.json`` of the main job (>= 2
            seeds).
        budget_min (float): Wall-time budget (minutes, same machine).
        curves (int): Validation points per curve run (the protocol's).
        curve_seeds (int): Seeds with curves.
        curve_rows (list[str]): Rows with curves (default: the tables'
            first rows and the rows another row is compared with).
        confidence (float): Of the intervals.
        max_seeds (int): Largest plan considered.

    Returns:
        dict: ``rows`` (one item per row and power metric: ``task``,
        ``name``, ``versus``, ``metric``, ``n``, ``std``, ``half``
        (now), ``needed``, ``half_at`` (projected at ``seeds``),
        ``met``), ``needed`` (max over rows; None if some row needs more
        than ``max_seeds``), ``seeds`` (the plan: the needed seeds if they
        fit the budget, else the most that fit), ``minutes`` (its
        estimate), ``cost`` (:func:`seed_seconds`).

    Raises:
        UserError: Fewer than 2 seeds stored (too few seeds for an
            interval).
    """
    seeds = results.get('seeds') or []
    if len(seeds) < MIN_SEEDS:
        raise UserError(
            f'--plan: too few seeds for an interval: the results hold '
            f'{len(seeds)} seed(s) {seeds}; the variance of the paired '
            f'differences needs at least {MIN_SEEDS} (run the main job with '
            '--seeds 0 1 2 first)')
    q = 0.5 + confidence / 2
    items = []
    names = []
    for task, data in results['tasks'].items():
        by_name = {e['name']: e for e in data['rows']}
        for e in data['rows']:
            if e['baseline']:
                names.append(e['name'])
                continue
            versus = e.get('compared_with') or data['rows'][0]['name']
            names.append(versus)
            for key in TASKS[task]['power']:
                diffs = paired_values(e, by_name[versus], key)
                if len(diffs) < MIN_SEEDS:
                    continue
                std = mean_std(diffs)['std']
                n = len(diffs)
                items.append(
                    dict(
                        task=task,
                        name=e['name'],
                        versus=versus,
                        metric=key,
                        n=n,
                        floor=on_floor([e, by_name[versus]], key),
                        std=std,
                        half=t_quantile(q, n - 1) * std / math.sqrt(n),
                        target=TASKS[task]['target'],
                        needed=seeds_needed(std, TASKS[task]['target'],
                                            confidence, max_seeds)))
    cost = seed_seconds(results)
    curve_rows = sorted(set(names)) if curve_rows is None else curve_rows
    curve_test_s = sum(cost['test_s'].get(n, 0.0) for n in curve_rows)

    def minutes(n):
        return estimate_minutes(cost, n, curves * min(curve_seeds, n),
                                curve_test_s)

    needed = [i['needed'] for i in items]
    worst = None if any(n is None for n in needed) else max(needed or [2])
    fits = [
        n for n in range(MIN_SEEDS, max_seeds + 1) if minutes(n) <= budget_min
    ]
    most = max(fits) if fits else None
    plan = worst if worst is not None and most is not None and \
        worst <= most else most
    for item in items:
        if plan is None:
            item.update(half_at=None, met=False)
            continue
        item['half_at'] = t_quantile(q, plan - 1) * item['std'] / \
            math.sqrt(plan)
        # both rows 0 on every seed: a std of 0 says nothing about power
        item['met'] = item['half_at'] <= item['target'] and not item['floor']
    return dict(
        rows=items,
        needed=worst,
        seeds=plan,
        minutes=None if plan is None else minutes(plan),
        budget_min=budget_min,
        cost=cost)


def plan_table(plan: Dict) -> Dict:
    """The plan as a results table (``columns``, ``rows``, ``notes``; see
    :func:`mmboundary.utils.results_doc.dump_results`): one row per row of
    the benchmark and power metric, then notes with the stored durations,
    the choice and its time estimate (an estimate: per-run durations
    measured under the stored run's load, same machine assumed)."""
    headers = {k: h for task in TASKS.values() for k, h, _ in task['metrics']}
    n_plan = plan['seeds']
    rows = []
    for i in plan['rows']:
        rows.append([
            i['name'], i['versus'], headers[i['metric']], i['n'],
            f"{i['std']:.2f}", f"{i['half']:.2f}", f"{i['target']:.1f}",
            i['needed'] or '> max',
            '-' if i['half_at'] is None else f"{i['half_at']:.2f}",
            'no (both 0 on every seed)'
            if i['floor'] else 'yes' if i['met'] else 'no'
        ])
    cost = plan['cost']
    notes = [
        f"Stored per-run durations: one seed of every row = "
        f"{cost['row_s'] / 60:.1f} min of training + testing; shared start "
        f"{cost['start_s'] / 60:.1f} min; {cost['jobs']} runs at a time; "
        f"overhead factor {cost['overhead']:.2f} (" +
        ('measured: wall time over run time of the stored run)'
         if cost['fresh'] else 'some runs were reused: not measured, 1.0)'),
        f"Seeds needed by every row: {plan['needed'] or 'more than the max'}"
        f"; budget {plan['budget_min']:.0f} min -> plan: {n_plan} seeds, "
        'estimated ' +
        ('-' if plan['minutes'] is None else f"{plan['minutes']:.0f} min") +
        ' (an estimate from the stored durations, not a measurement).'
    ]
    short = [
        f"{i['name']} {headers[i['metric']]}" for i in plan['rows']
        if not i['met']
    ]
    if short:
        notes.append('Not met at the plan (projected): ' + ', '.join(short) +
                     '.')
    return dict(
        columns=[
            'row', 'minus', 'metric', 'seeds', 'std', 'half-width', 'target',
            'seeds needed', f'half-width at {n_plan} seeds', 'met'
        ],
        rows=rows,
        notes=notes)


def format_plan(plan: Dict, source: str) -> str:
    """The plan as text: a title naming ``source``, then
    :func:`plan_table` as Markdown with its notes."""
    from mmboundary.utils.results_doc import render_table
    return (f'Power plan from {source} (95 % paired t intervals; std of the '
            'stored per-seed differences taken as the true one)\n\n' +
            render_table(plan_table(plan)).rstrip('\n'))
