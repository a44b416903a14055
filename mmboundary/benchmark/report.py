# Copyright (c) mmboundary contributors. All rights reserved.
"""The report: per task a trivial predictor row, one row per method (mean
+- sample std over seeds), the paired difference of each method to its
baseline with a 95 % Student-t interval, and in words which differences are
within noise; ``results.{md,json}``, the method tables (``tables.json``)
and the README's results block, published to ``docs/main_job/``."""
import json
import os
import os.path as osp
import re
import shutil
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

from mmboundary.utils.cli import UserError
from mmboundary.utils.reproducibility import stale_note
from mmboundary.utils.results_doc import dump_results, update_readme
from . import common
from .common import link_prefix, log, rel, slug
from .rows import TASKS, Row, baseline_of, table_of_row
from .stats import (VERDICTS, curve_converged, mean_std, on_floor,
                    paired_difference, paper_verdict)

TOOL = 'tools/misc/run_main_job.py'
README_BEGIN = '<!-- main-job-results: begin (written by ' \
               'tools/misc/run_main_job.py --readme; do not edit) -->'
README_END = '<!-- main-job-results: end -->'
PUBLISH_DIR = 'docs/main_job'
TABLES_JSON = 'tables.json'
RESULTS_JSON = 'results.json'
#: Where :func:`publish` puts each row's resolved config (what ran).
CONFIGS_DIR = 'configs'
#: What every results.json written by the main job holds.
RESULTS_KEYS = ('command', 'machine', 'seeds', 'start', 'tasks', 'elapsed_s')


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
            difference={},
            paper_direction=row.direction)
        curves = [r for r in runs if r.get('curve')]
        if curves:
            # issue 19, item 2: a plateau over the last quarter
            entry['convergence'] = {
                key: [
                    dict(
                        curve_converged(r['curve'], key, r['iters']),
                        seed=r['seed']) for r in curves
                ]
                for key in TASKS[task]['power']
            }
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


def direction_of(entry: Dict):
    """The paper direction of a stored row (results stored before it was
    kept: the current row of that name; None if none)."""
    if 'paper_direction' in entry:
        return entry['paper_direction']
    row = table_of_row(entry['name'])
    return None if row is None else row.direction


def row_verdict(task: str, entry: Dict, entries: Sequence[Dict]):
    """The verdict of a row on its paper's metric (issue 19, item 6; see
    :func:`~.stats.paper_verdict`), or None for a baseline or a row
    without a paper claim or difference.

    Returns:
        tuple | None: ``(metric key, verdict key)``.
    """
    if entry['baseline'] or not entry.get('paper'):
        return None
    key = entry['paper'][1]
    diff = entry['difference'].get(key)
    if diff is None:
        return None
    versus = entry.get('compared_with') or entries[0]['name']
    base = next((e for e in entries if e['name'] == versus), None)
    return key, paper_verdict(diff['mean'], diff['low'], diff['high'],
                              direction_of(entry), TASKS[task]['target'],
                              on_floor([entry, base], key))


def verdict_text(task: str, entry: Dict, entries: Sequence[Dict]) -> str:
    """:func:`row_verdict` in words (``'-'`` when there is none)."""
    found = row_verdict(task, entry, entries)
    if found is None:
        return '-'
    key, verdict = found
    headers = {k: h for k, h, _ in TASKS[task]['metrics']}
    return f'{VERDICTS[verdict]} ({headers[key]})'


def power_check(task: str, entry: Dict) -> List[Tuple[str, float, bool]]:
    """Per metric of ``TASKS[task]['power']`` with an interval: its
    half-width and whether it meets the task's target (issue 19, item 3:
    <= 0.5 points semantic, <= 1.0 instance)."""
    target = TASKS[task]['target']
    out = []
    for key in TASKS[task]['power']:
        diff = entry['difference'].get(key)
        if diff is None or diff['low'] is None:
            continue
        half = (diff['high'] - diff['low']) / 2
        out.append((key, half, half <= target))
    return out


def format_power(task: str, entry: Dict) -> str:
    """:func:`power_check` in words, e.g. ``'mIoU 0.39 (met), mBF 1.30 (not
    met)'``; ``''`` without intervals."""
    headers = {k: h for k, h, _ in TASKS[task]['metrics']}
    return ', '.join(f"{headers[k]} {h:.2f} ({'met' if ok else 'not met'})"
                     for k, h, ok in power_check(task, entry))


def format_convergence(task: str, entries: Sequence[Dict]) -> List[str]:
    """One line per row with validation curves: converged or not (a
    warning), with the largest last-quarter spread per metric."""
    headers = {k: h for k, h, _ in TASKS[task]['metrics']}
    lines = []
    for e in entries:
        checks = e.get('convergence')
        if not checks:
            continue
        parts, bad, unknown = [], [], []
        for key, runs in checks.items():
            spreads = [r['spread'] for r in runs if r['spread'] is not None]
            if len(spreads) < len(runs):
                unknown.append(headers[key])
            if spreads:
                parts.append(f'{headers[key]} {max(spreads):.2f}')
            bad += [
                f"{headers[key]} seed {r['seed']}" for r in runs
                if r['converged'] is False
            ]
        seeds = sorted({r['seed'] for runs in checks.values() for r in runs})
        what = f"{e['name']}: validation curve over seeds {seeds}"
        if parts:
            what += '; largest last-quarter move (points): ' + ', '.join(parts)
        if bad:
            lines.append(f'**Warning: not converged** ({what}; >= 1 point '
                         f"for {', '.join(bad)}).")
        elif unknown:
            lines.append(f'Convergence not checked ({what}; fewer than 2 '
                         f"points in the last quarter for {', '.join(unknown)}"
                         ').')
        else:
            lines.append(f'Converged ({what}; < 1 point).')
    return lines


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
    convergence = format_convergence(task, entries)
    if convergence:
        text += '\n\n' + '\n'.join(f'- {line}' for line in convergence)
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
        verdict = verdict_text(task, e, entries)
        if verdict != '-':
            words.append(f"{e['name']}, verdict against the paper (target "
                         f"±{TASKS[task]['target']:.1f} points): {verdict}.")
        power = format_power(task, e)
        if power:
            words.append(f"{e['name']}, interval half-widths against the "
                         f"target {TASKS[task]['target']:.1f}: {power}.")
    head = ('Paired difference of each method to its baseline (same seed), '
            'mean' + (' [95 % t interval] and verdict' if n > 1 else '') + ':')
    return head + '\n\n' + '\n'.join(lines) + '\n\n' + '\n'.join(
        f'- {w}' for w in words)


def format_claims(results: Dict, link_prefix: str = '') -> str:
    """Each method's paper claim beside the difference measured here."""
    lines = [
        "| Method | paper's claim | measured here (same metric, vs its "
        'baseline) | verdict | README |', '|---|---|---|---|---|'
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
            verdict = verdict_text(task, e, data['rows'])
            lines.append(f"| {e['name']} | {claim} | {measured} | {verdict} "
                         f'| {readme} |')
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
    note = stale_note(results, common.REPO_ROOT)  # issue 24: visibly stale
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


def readme_block(results: Dict,
                 publish_dir: str = PUBLISH_DIR,
                 readme: str = 'README.md') -> str:
    """The README's results block: :func:`format_results` with paths
    relative to the README's folder (``readme``, relative to the
    repository root), between the markers."""
    prefix = osp.relpath(publish_dir,
                         osp.dirname(readme) or '.').replace(os.sep, '/')
    links = link_prefix(osp.join(common.REPO_ROOT, osp.dirname(readme)))
    links = '' if links == './' else links
    body = format_results(
        results, link_prefix=links, figure_prefix=prefix + '/')
    return (f'{README_BEGIN}\nStored results: [{publish_dir}/results.json]'
            f'({prefix}/results.json).\n\n{body}{README_END}')


def replace_readme_block(text: str, block: str, readme: str) -> str:
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f'{readme} has no results block; add the two lines '
                         f'{README_BEGIN!r} and {README_END!r} where the '
                         'results go')
    return text[:begin] + block + text[end + len(README_END):]


def history_entry(results: Dict) -> Dict:
    """How long one run of the tool took (for the README): wall time, row
    runs trained and reused, and the training + testing seconds of all its
    row runs (reused ones included, as they were measured; validation-curve
    tests included)."""
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
        row_s=round(
            sum(r['train_s'] + r['test_s'] + r.get('curve_s', 0.0)
                for r in runs), 1))


def load_job_results(work_dir: str) -> Dict:
    """The main job's ``WORK_DIR/results.json``, checked, with the load
    averages as numbers (:func:`with_load_averages`).

    Raises:
        UserError: The file is missing, unreadable or lacks a key the
            report needs; the message names it and the command that writes
            it.
    """
    path = osp.join(work_dir, RESULTS_JSON)
    make = f'`python {TOOL} --work-dir {rel(work_dir)}` (with the options ' \
        'of the run to publish, e.g. --seeds 0 1 2)'
    if not osp.isfile(path):
        raise UserError(f'{path} does not exist: nothing to publish; make it '
                        f'with {make}, then rerun with --publish-only')
    try:
        with open(path) as f:
            results = json.load(f)
    except ValueError as e:
        raise UserError(f'{path} is not readable JSON ({e}); remake it with '
                        f'{make}') from None
    if not isinstance(results, dict):
        raise UserError(f'{path} holds no results object; remake it with '
                        f'{make}')
    missing = [k for k in RESULTS_KEYS if k not in results]
    if 'load_average_start' not in results and \
            'load_average' not in results:
        missing.append('load_average_start')
    if missing:
        raise UserError(f'{path}: missing {missing}; it was not written by '
                        f'{TOOL}; remake it with {make}')
    return with_load_averages(results)


def published_config(task: str,
                     name: str,
                     publish_dir: str = PUBLISH_DIR) -> str:
    """Where :func:`publish` puts a row's resolved config (relative to the
    repository root), e.g. ``docs/main_job/configs/semantic/fcn_semeda.py``.
    """
    return f'{publish_dir}/{CONFIGS_DIR}/{task}/{slug(name)}.py'


def publish_configs(results: Dict,
                    publish_dir: str = PUBLISH_DIR) -> List[str]:
    """Copy each row's resolved config (its first seed's: the seeds differ
    only in ``randomness.seed``) to :func:`published_config`, paths inside
    the repository made relative to its root, so that ``python
    tools/train.py <it>`` run from the root reproduces the row.

    Returns:
        list[str]: The rows whose resolved config was not found (their
        work dir is gone); they are named in the log, not published.
    """
    root = common.REPO_ROOT
    missing = []
    for task, data in results['tasks'].items():
        for e in data['rows']:
            src = e['runs'][0].get('resolved_config')
            src = src if src is None or osp.isabs(src) else osp.join(root, src)
            if src is None or not osp.isfile(src):
                missing.append(e['name'])
                continue
            with open(src) as f:
                text = f.read()
            # absolute paths of the run's checkout -> relative to the root
            text = re.sub(re.escape(root.rstrip('/') + '/'), '', text)
            dst = osp.join(root, published_config(task, e['name'],
                                                  publish_dir))
            os.makedirs(osp.dirname(dst), exist_ok=True)
            with open(dst, 'w') as f:
                f.write(text)
    if missing:
        log(f'resolved configs not found (work dir gone?), not published '
            f'for: {missing}')
    return missing


def _copy(src: str, dst: str) -> None:
    """Copy a file unless it is already there (``--publish-only
    --work-dir docs/main_job`` re-renders the published results in
    place)."""
    if osp.abspath(src) != osp.abspath(dst):
        shutil.copy(src, dst)


def publish(results: Dict,
            work_dir: str,
            readme: str,
            publish_dir: str = PUBLISH_DIR) -> None:
    """Copy results, figures and the rows' resolved configs to
    ``docs/main_job/`` and write the README's results block from them. The
    run times of the results published before (same work dir, e.g. ``make
    demo`` before ``--seeds 0 1 2``) are kept in ``history``.

    Args:
        results (dict): What ``WORK_DIR/results.json`` holds.
        work_dir (str): The run's work dir (figures, ``tables.json``).
        readme (str): The README with the results block.
        publish_dir (str): Where, relative to the repository root (the
            table's, :data:`~.rows.TABLES`).
    """
    root = common.REPO_ROOT
    out = osp.join(root, publish_dir)
    os.makedirs(out, exist_ok=True)
    previous = osp.join(out, RESULTS_JSON)
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
            _copy(osp.join(work_dir, name), osp.join(out, name))
    publish_configs(results, publish_dir)
    with open(osp.join(out, RESULTS_JSON), 'w') as f:
        json.dump(results, f, indent=2)
    with open(osp.join(out, 'results.md'), 'w') as f:
        f.write(format_results(results, link_prefix(out)))
    with open(readme) as f:
        text = f.read()
    text = replace_readme_block(
        text,
        readme_block(results, publish_dir,
                     osp.relpath(osp.abspath(readme), root)), readme)
    with open(readme, 'w') as f:
        f.write(text)
    tables = osp.join(work_dir, TABLES_JSON)
    if osp.isfile(tables):
        _copy(tables, osp.join(out, TABLES_JSON))
    readmes = sorted({
        osp.join(root, e['readme'])
        for data in results['tasks'].values()
        for e in data['rows'] if e['readme']
    })
    for method_readme in readmes:
        for block in update_readme(method_readme, root=root):
            log(f'{rel(method_readme)}: rewrote the block {block}')
    log(f'wrote {publish_dir}/results.{{md,json}}, {publish_dir}/'
        f'{TABLES_JSON} and the results block of {readme}')
