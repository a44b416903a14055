# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.report: tables, method tables, results.json
loading, the README results block and publishing."""
import json
import math
import os.path as osp

import pytest

from mmboundary.benchmark import report as job
from mmboundary.benchmark.rows import ROWS, Row, select_rows
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.cli import UserError
from mmboundary.utils.reproducibility import git_root
from ._helpers import (old_format, publish_tree, records, results,
                       two_semantic_rows)


def test_tables_with_seeds():
    rows = two_semantic_rows()
    recs = records({
        'FCN (CE)': ([30.0, 30.5, 30.0], [20.0, 21.0, 22.0]),
        'FCN + SEMEDA': ([31.0, 33.0, 32.0], [21.0, 22.1, 23.05]),
    })
    entries = job.summarize_task('semantic', recs, rows)
    trivial = dict(
        name='trivial: always class 0 (road)',
        metrics=dict(mIoU=2.5, mBIoU=1.0))
    assert job.format_table('semantic', entries, trivial).splitlines() == [
        '| Method | iters | mIoU (%) | mBIoU (%) | train time (s) |',
        '|---|---|---|---|---|',
        '| trivial: always class 0 (road) | - | 2.50 | 1.00 | - |',
        '| FCN (CE) (baseline) | 300 | 30.17 ± 0.29 | 21.00 ± 1.00 | 20 |',
        '| FCN + SEMEDA | 300 | 32.00 ± 1.00 | 22.05 ± 1.03 | 20 |',
        '',
        'Mean ± sample standard deviation over 3 seeds (0, 1, 2).',
    ]
    text = job.format_differences('semantic', entries)
    # mIoU diffs 1, 2.5, 2: 11/6 -+ 4.302653 * sqrt(7/12) / sqrt(3);
    # mBIoU diffs 1.0, 1.1, 1.05: interval above 0
    assert '| FCN + SEMEDA | FCN (CE) | +1.83 [-0.06, +3.73] within noise | ' \
        '+1.05 [+0.93, +1.17] higher |' in text
    assert ('FCN + SEMEDA vs FCN (CE) (paired over 3 seeds, 95 % t '
            'interval): higher: mBIoU; within noise: mIoU.') in text
    # seeds that do not pair are refused, not mixed
    recs['FCN + SEMEDA'][2]['seed'] = 5
    with pytest.raises(ValueError, match='do not pair'):
        job.summarize_task('semantic', recs, rows)


def test_tables_with_one_seed():
    rows = two_semantic_rows()
    recs = records(
        {
            'FCN (CE)': ([30.0], [20.0]),
            'FCN + SEMEDA': ([29.0], [20.5])
        },
        seeds=(0, ))
    entries = job.summarize_task('semantic', recs, rows)
    table = job.format_table('semantic', entries, dict(name='t', metrics={}))
    assert table.splitlines()[3] == \
        '| FCN (CE) (baseline) | 300 | 30.00 | 20.00 | 10 |'
    text = job.format_differences('semantic', entries)
    assert '| FCN + SEMEDA | FCN (CE) | -1.00 | +0.50 |' in text
    assert 'one seed, so no interval' in text


def test_a_row_is_differenced_to_its_own_baseline():
    semeda = [r for r in ROWS if r.name == 'FCN + SEMEDA'][0]
    row = Row(
        'SEMEDA w7',
        semeda.config,
        'semantic',
        method_keys=('model.decode_head.loss_decode', ),
        baseline='FCN + SEMEDA')
    picked = select_rows(['SEMEDA w7'], list(ROWS) + [row])
    recs = {
        n: [dict(seed=0, iters=1, train_s=1.0, metrics=dict(mIoU=v))]
        for n, v in (('FCN (CE)', 10.0), ('FCN + SEMEDA', 12.0), ('SEMEDA w7',
                                                                  15.0))
    }
    entries = job.summarize_task('semantic', recs, picked)
    assert entries[2]['compared_with'] == 'FCN + SEMEDA'
    assert entries[2]['difference']['mIoU']['mean'] == 3.0
    assert entries[1]['difference']['mIoU']['mean'] == 2.0
    assert '| SEMEDA w7 | FCN + SEMEDA | +3.00 |' in \
        job.format_differences('semantic', entries)


def test_stored_intervals_are_reproduced_to_the_printed_digits():
    """The stored results (differences computed with the hand-written t
    quantile before scipy) give the same printed cells when summarized
    again from their runs."""
    with open(osp.join(REPO_ROOT, job.PUBLISH_DIR, 'results.json')) as f:
        stored = json.load(f)
    declared = {r.name: r for r in ROWS}
    checked = 0
    for task, data in stored['tasks'].items():
        rows = [declared[e['name']] for e in data['rows']]
        recs = {e['name']: e['runs'] for e in data['rows']}
        again = job.summarize_task(task, recs, rows)
        for old, new in zip(data['rows'], again):
            assert sorted(old['difference']) == sorted(new['difference'])
            for key, diff in old['difference'].items():
                assert job._diff_cell(new['difference'][key]) == \
                    job._diff_cell(diff), (old['name'], key)
                if diff['low'] is not None:
                    checked += 1
                    assert new['difference'][key]['low'] == pytest.approx(
                        diff['low'], abs=1e-8)
    assert checked > 0 or len(stored['seeds']) < 2


def test_method_tables_and_their_store(tmp_path):
    recs = records(
        {
            'FCN (CE)': ([30.0, 31.0], [20.0, 21.0]),
            'FCN + SEMEDA': ([31.0, 33.0], [21.0, 23.0]),
        },
        seeds=(0, 1))
    entries = job.summarize_task('semantic', recs, two_semantic_rows())
    res = dict(
        command='python tools/misc/run_main_job.py --seeds 0 1',
        machine='test machine',
        date='2026-12-01 03:00 UTC',
        load_average_start=0.06,
        load_average_end=12.34,
        tasks=dict(semantic=dict(rows=entries)))
    tables = job.method_tables(res)
    assert list(tables) == ['semeda']
    table = tables['semeda']
    assert table['columns'][:4] == [
        'Method', 'statistic', 'mIoU (%)', 'mBIoU (%)'
    ]
    assert table['rows'][0][:4] == [
        'FCN (CE)', 'mean ± std', '30.50 ± 0.71', '20.50 ± 0.71'
    ]
    assert table['rows'][1][:4] == [
        'FCN + SEMEDA', 'mean ± std', '32.00 ± 1.41', '22.00 ± 1.41'
    ]
    # differences 1 and 2: mean 1.5, std 0.707, t(0.975, 1) = 12.706205
    half = 12.706205 * math.sqrt(0.5) / math.sqrt(2)
    assert table['rows'][2][:3] == [
        'FCN + SEMEDA - FCN (CE)', 'paired difference',
        f'+1.50 [{1.5 - half:+.2f}, {1.5 + half:+.2f}] within noise'
    ]
    assert f'{1.5 - half:+.2f}' == '-4.85'
    assert table['rows'][2][-1] == 300
    assert any('within noise: mIoU, mBIoU' in n for n in table['notes'])
    data = job.store_tables(str(tmp_path), res)
    with open(tmp_path / 'tables.json') as f:
        stored = json.load(f)
    assert stored == data
    assert stored['command'] == res['command']
    assert stored['machine'] == 'test machine'
    assert stored['date'] == '2026-12-01 03:00 UTC'
    # the numbers themselves: the one-decimal display string would give
    # [0.1, 12.3]
    assert stored['load_average'] == [0.06, 12.34]
    assert stored['tables']['semeda']['rows'][0][0] == 'FCN (CE)'


def test_load_averages_are_numbers_shown_with_one_decimal(tmp_path):
    new = dict(load_average_start=0.06, load_average_end=12.34)
    assert job.load_averages(new) == (0.06, 12.34)
    assert job.format_load_average(new) == '0.1 / 12.3'
    assert job.with_load_averages(new) == new
    # results written before the numbers were kept: their display string
    old = dict(command='c', load_average='1.5 / 2.0')
    assert job.load_averages(old) == (1.5, 2.0)
    assert job.format_load_average(old) == '1.5 / 2.0'
    assert job.with_load_averages(old) == dict(
        command='c', load_average_start=1.5, load_average_end=2.0)
    recs = records({'FCN (CE)': ([30.0], [20.0])}, seeds=(0, ))
    entries = job.summarize_task('semantic', recs, two_semantic_rows()[:1])
    old.update(
        machine='m', elapsed_s=60.0, tasks=dict(semantic=dict(rows=entries)))
    assert job.store_tables(str(tmp_path), old)['load_average'] == [1.5, 2.0]
    entry = job.history_entry(old)
    assert (entry['load_average_start'], entry['load_average_end'],
            'load_average' in entry) == (1.5, 2.0, False)


# ---------------------------------------------------------- results loader
def _write(work_dir, data):
    work_dir.mkdir(exist_ok=True)
    (work_dir / 'results.json').write_text(json.dumps(data))


def test_the_results_loader_reads_what_the_job_writes(tmp_path):
    res = results('python a', 120.0)
    _write(tmp_path / 'w', res)
    assert job.load_job_results(str(tmp_path / 'w')) == res
    # the old display string is read as numbers
    _write(tmp_path / 'w', old_format(res, '1.2 / 2.0'))
    loaded = job.load_job_results(str(tmp_path / 'w'))
    assert job.load_averages(loaded) == (1.2, 2.0)


@pytest.mark.parametrize('key', [
    'command', 'machine', 'seeds', 'start', 'tasks', 'elapsed_s',
    'load_average'
])
def test_the_results_loader_requires_every_key(tmp_path, key):
    """Issue 20 item 7: results without ``command`` (or any key the report
    needs) are refused, naming the key and the command that remakes them."""
    res = results('python a', 120.0)
    if key == 'load_average':
        res = {k: v for k, v in res.items() if 'load_average' not in k}
        key = 'load_average_start'
    else:
        del res[key]
    _write(tmp_path / 'w', res)
    with pytest.raises(UserError) as e:
        job.load_job_results(str(tmp_path / 'w'))
    msg = str(e.value)
    assert f"missing ['{key}']" in msg and 'results.json' in msg
    assert 'python tools/misc/run_main_job.py --work-dir' in msg
    assert '\n' not in msg


def test_the_results_loader_names_a_missing_or_broken_file(tmp_path):
    with pytest.raises(UserError) as e:
        job.load_job_results(str(tmp_path / 'none'))
    msg = str(e.value)
    assert f"{tmp_path / 'none' / 'results.json'} does not exist" in msg
    assert '`python tools/misc/run_main_job.py --work-dir ' in msg
    assert '--publish-only' in msg and '\n' not in msg
    (tmp_path / 'results.json').write_text('{"command": ')
    with pytest.raises(UserError, match='is not readable JSON'):
        job.load_job_results(str(tmp_path))
    (tmp_path / 'results.json').write_text('[1, 2]')
    with pytest.raises(UserError, match='holds no results object'):
        job.load_job_results(str(tmp_path))


# ------------------------------------------------------------------ README
def test_readme_results_equal_the_stored_results():
    """Issue 14 item 5: the README's results block is what the tool renders
    from the stored results it cites, byte for byte."""
    if git_root(REPO_ROOT) is None:  # issue 24: the stale line needs git
        pytest.skip('not a git checkout: whether the results are stale '
                    '(made from other code) cannot be checked')
    path = osp.join(REPO_ROOT, job.PUBLISH_DIR, 'results.json')
    with open(path) as f:
        stored = json.load(f)
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        readme = f.read()
    assert readme.count(job.README_BEGIN) == 1
    assert job.readme_block(stored) in readme
    with open(osp.join(REPO_ROOT, job.PUBLISH_DIR, 'results.md')) as f:
        assert f.read() == job.format_results(stored, '../../')
    for data in stored['tasks'].values():
        for name in data['figures'].values():
            assert osp.isfile(osp.join(REPO_ROOT, job.PUBLISH_DIR, name))
    # every row of the stored tables is a declared row with its config
    declared = {r.name: r.config for r in ROWS}
    for data in stored['tasks'].values():
        for e in data['rows']:
            assert declared[e['name']] == e['config']


def test_replace_readme_block():
    block = job.README_BEGIN + '\nnew\n' + job.README_END
    text = f'a\n{job.README_BEGIN}\nold\n{job.README_END}\nb\n'
    assert job.replace_readme_block(text, block, 'R.md') == \
        f'a\n{block}\nb\n'
    with pytest.raises(ValueError, match='R.md has no results block'):
        job.replace_readme_block('a\n', block, 'R.md')


def test_publish_writes_docs_and_readme_and_keeps_run_times(
        tmp_path, monkeypatch):
    work_dir, readme, method_readme = publish_tree(tmp_path, monkeypatch)
    first = results('python a', 120.0)
    job.store_tables(str(work_dir), first)
    job.publish(first, str(work_dir), str(readme))
    # the method README's block now shows its table from tables.json
    text = method_readme.read_text()
    assert '| FCN + SEMEDA - FCN (CE) | paired difference |' in text
    assert 'Command: `python a`' in text
    demo = job.history_entry(results('python a', 120.0))
    later = results('python b', 300.0, reused=True)
    job.publish(later, str(work_dir), str(readme))
    assert later['history'] == [demo, job.history_entry(later)]
    out = tmp_path / job.PUBLISH_DIR
    stored = json.loads((out / 'results.json').read_text())
    assert stored['history'][0]['command'] == 'python a'
    assert (out / 'semantic_boundaries.png').read_bytes() == b'png'
    text = readme.read_text()
    assert text.startswith('# x\n\n') and text.endswith('\nend\n')
    assert job.readme_block(stored) in text
    # two rows of 10 s training + 5 s testing each
    assert ('- `python a`: 2.0 min wall time; 2 row runs trained, 0 reused '
            'from earlier runs; training + testing of all its row runs as '
            'measured: 0.5 min; load average 1.0 / 2.0') in text
    assert ('- `python b`: 5.0 min wall time; 1 row runs trained, 1 reused '
            'from earlier runs; training + testing of all its row runs as '
            'measured: 0.5 min; load average 1.0 / 2.0') in text
    assert (out / 'results.md').read_text() == job.format_results(
        stored, '../../')


def test_publish_puts_each_rows_resolved_config_beside_the_results(
        tmp_path, monkeypatch):
    """Issue 21: what each row ran (budget, seed, start) is published, with
    the checkout's absolute paths made relative to the repository root."""
    work_dir, readme, _ = publish_tree(tmp_path, monkeypatch)
    res = results('python a', 120.0)
    rows = res['tasks']['semantic']['rows']
    run_dir = tmp_path / 'work_dirs' / 'main_job' / 'semantic' / 'fcn_ce'
    run_dir.mkdir(parents=True)
    (run_dir / 'base.py').write_text(
        f"load_from = '{tmp_path}/work_dirs/main_job_start/segmentor.pth'\n"
        f"data_root = '{tmp_path}/data/synthetic_cityscapes/'\n"
        "other = '/elsewhere/x'\n"
        "train_cfg = dict(max_iters=100)\n")
    rows[0]['runs'][0]['resolved_config'] = \
        'work_dirs/main_job/semantic/fcn_ce/base.py'
    rows[1]['runs'][0]['resolved_config'] = 'work_dirs/gone.py'
    assert job.publish_configs(res) == ['FCN + SEMEDA']
    path = tmp_path / job.published_config('semantic', 'FCN (CE)')
    assert job.published_config('semantic', 'FCN (CE)') == \
        'docs/main_job/configs/semantic/fcn_ce.py'
    assert path.read_text() == (
        "load_from = 'work_dirs/main_job_start/segmentor.pth'\n"
        "data_root = 'data/synthetic_cityscapes/'\n"
        "other = '/elsewhere/x'\n"
        'train_cfg = dict(max_iters=100)\n')
    assert not (tmp_path /
                job.published_config('semantic', 'FCN + SEMEDA')).exists()
    # publish does it too
    path.unlink()
    job.store_tables(str(work_dir), res)
    job.publish(res, str(work_dir), str(readme))
    assert path.is_file()


def test_publish_only_migrates_results_of_the_old_format(
        tmp_path, monkeypatch):
    from mmboundary.benchmark import runner
    work_dir, readme, method_readme = publish_tree(tmp_path, monkeypatch)
    # published before: a run whose history entry holds the string
    demo = old_format(results('python a', 120.0), '0.7 / 1.3')
    demo['history'] = [old_format(job.history_entry(demo), '0.7 / 1.3')]
    out = tmp_path / job.PUBLISH_DIR
    out.mkdir(parents=True)
    (out / 'results.json').write_text(json.dumps(demo))
    # the work dir's results, old format too
    later = old_format(results('python b', 300.0), '1.2 / 2.0')
    (work_dir / 'results.json').write_text(json.dumps(later))
    assert runner.publish_only(str(work_dir), str(readme)) == 0
    stored = json.loads((out / 'results.json').read_text())
    assert 'load_average' not in stored
    assert job.load_averages(stored) == (1.2, 2.0)
    assert [(h['command'], job.load_averages(h), 'load_average' in h)
            for h in stored['history']] == [('python a', (0.7, 1.3), False),
                                            ('python b', (1.2, 2.0), False)]
    tables = json.loads((out / job.TABLES_JSON).read_text())
    assert tables['load_average'] == [1.2, 2.0]
    text = readme.read_text()
    assert 'load average 1.2 / 2.0 at the start and end' in text
    assert 'measured: 0.5 min; load average 0.7 / 1.3' in text
    assert '| FCN + SEMEDA - FCN (CE) |' in method_readme.read_text()


# ------------------------------------------------- issue 19: verdicts
def _semeda_entries(semeda_miou, with_curve=False):
    rows = two_semantic_rows()
    recs = records({
        'FCN (CE)': ([30.0, 30.0, 30.0], [20.0, 21.0, 22.0]),
        'FCN + SEMEDA': (semeda_miou, [21.0, 22.1, 23.05]),
    })
    if with_curve:
        for run, last in zip(recs['FCN (CE)'], (30.4, 30.3, 31.0)):
            run['curve'] = [
                dict(iter=it, metrics=dict(mIoU=v, mBF=None))
                for it, v in ((100, 20.0), (200, 29.0), (240, 29.5), (300,
                                                                      last))
            ]
    return job.summarize_task('semantic', recs, rows)


def test_verdicts_and_power_in_the_differences():
    # mIoU diffs 1, 1.2, 1.1: mean 1.1, std 0.1, half 4.302653 * 0.1 /
    # sqrt(3) = 0.248414: [0.85, 1.35], above 0, SEMEDA's paper direction
    entries = _semeda_entries([31.0, 31.2, 31.1])
    semeda = entries[1]
    assert semeda['paper_direction'] == 1
    assert job.row_verdict('semantic', semeda,
                           entries) == ('mIoU', 'reproduced')
    assert job.power_check('semantic', semeda) == [
        ('mIoU', pytest.approx(0.248414, abs=1e-6), True)
    ]
    text = job.format_differences('semantic', entries)
    assert ("- FCN + SEMEDA, verdict against the paper (target ±0.5 points):"
            " reproduced in the paper's direction (mIoU).") in text
    assert ('- FCN + SEMEDA, interval half-widths against the target 0.5: '
            'mIoU 0.25 (met).') in text
    # diffs 1, 2.5, 2: [-0.06, +3.73] holds 0, wider than 0.5
    entries = _semeda_entries([31.0, 32.5, 32.0])
    assert job.row_verdict('semantic', entries[1], entries)[1] == \
        'inconclusive'
    assert job.format_power('semantic', entries[1]) == 'mIoU 1.90 (not met)'
    # diffs -1, -1.2, -1.1: reversed
    entries = _semeda_entries([29.0, 28.8, 28.9])
    assert job.row_verdict('semantic', entries[1], entries)[1] == 'reversed'
    # diffs 0.1, -0.1, 0: [-0.25, +0.25] inside +-0.5
    entries = _semeda_entries([30.1, 29.9, 30.0])
    assert job.row_verdict('semantic', entries[1], entries)[1] == \
        'no_effect'
    claims = job.format_claims(dict(tasks=dict(semantic=dict(rows=entries))))
    assert '| no effect as large as the target (mIoU) |' in claims
    # the baseline has none; one seed: no verdict
    assert job.row_verdict('semantic', entries[0], entries) is None
    one = job.summarize_task(
        'semantic',
        records(
            {
                'FCN (CE)': ([30.0], [20.0]),
                'FCN + SEMEDA': ([29.0], [20.5])
            },
            seeds=(0, )), two_semantic_rows())
    assert job.row_verdict('semantic', one[1], one)[1] == 'one_seed'
    assert job.power_check('semantic', one[1]) == []


def test_verdict_at_the_floor_and_of_old_results():
    entries = _semeda_entries([30.0, 30.0, 30.0])
    for e in entries:
        for run in e['runs']:
            run['metrics']['mIoU'] = 0.0
    entries[1]['difference']['mIoU'] = dict(
        mean=0.0, low=0.0, high=0.0, std=0.0, n=3, verdict='within noise')
    assert job.row_verdict('semantic', entries[1], entries)[1] == 'floor'
    # results stored before the direction was kept: the current row's
    del entries[1]['paper_direction']
    assert job.direction_of(entries[1]) == 1
    assert job.direction_of(dict(name='gone')) is None


def test_convergence_lines_in_the_table():
    entries = _semeda_entries([31.0, 31.2, 31.1], with_curve=True)
    conv = entries[0]['convergence']['mIoU']
    # last quarter of 300 iterations: 240 and 300
    assert [(c['seed'], c['converged'])
            for c in conv] == [(0, True), (1, True), (2, False)]
    assert [c['spread'] for c in conv
            ] == [pytest.approx(0.9),
                  pytest.approx(0.8),
                  pytest.approx(1.5)]
    # mBF has no values: not checked
    assert [c['converged'] for c in entries[0]['convergence']['mBF']] == \
        [None] * 3
    table = job.format_table('semantic', entries, dict(name='t', metrics={}))
    assert ('- **Warning: not converged** (FCN (CE): validation curve over '
            'seeds [0, 1, 2]; largest last-quarter move (points): mIoU '
            '1.50; >= 1 point for mIoU seed 2).') in table
    entries = _semeda_entries([31.0, 31.2, 31.1], with_curve=True)
    for run in entries[0]['runs']:
        run['curve'][-1]['metrics']['mIoU'] = 29.6
    entries = job.summarize_task('semantic',
                                 {e['name']: e['runs']
                                  for e in entries}, two_semantic_rows())
    assert job.format_convergence('semantic', entries) == [
        'Convergence not checked (FCN (CE): validation curve over seeds '
        '[0, 1, 2]; largest last-quarter move (points): mIoU 0.10; fewer '
        'than 2 points in the last quarter for mBF).'
    ]


def test_readme_block_of_a_table_published_elsewhere(tmp_path, monkeypatch):
    """The ablation's block lives in configs/asyinst/README.md: its links
    and figures are relative to that README."""
    from mmboundary.benchmark import common
    monkeypatch.setattr(common, 'REPO_ROOT', str(tmp_path))
    res = results('python a', 60.0)
    block = job.readme_block(res, 'docs/asyinst_ablation',
                             'configs/asyinst/README.md')
    assert ('Stored results: [docs/asyinst_ablation/results.json]'
            '(../../docs/asyinst_ablation/results.json).') in block
    assert '![semantic boundaries](../../docs/asyinst_ablation/' \
        'semantic_boundaries.png)' in block
    assert job.readme_block(res) == job.readme_block(res, job.PUBLISH_DIR,
                                                     'README.md')


def test_publish_in_place_rerenders(tmp_path, monkeypatch):
    """``--publish-only --work-dir docs/main_job`` re-renders the stored
    results where they are (no copy of a file onto itself), keeping the
    history as it was."""
    work_dir, readme, _ = publish_tree(tmp_path, monkeypatch)
    first = results('python a', 120.0)
    job.store_tables(str(work_dir), first)
    job.publish(first, str(work_dir), str(readme))
    out = tmp_path / job.PUBLISH_DIR
    stored = json.loads((out / 'results.json').read_text())
    readme.write_text(f'# x\n\n{job.README_BEGIN}\nold\n{job.README_END}\n')
    job.store_tables(str(out), stored)
    job.publish(stored, str(out), str(readme))
    again = json.loads((out / 'results.json').read_text())
    assert again['history'] == stored['history']
    assert job.readme_block(again) in readme.read_text()
    assert (out / 'semantic_boundaries.png').read_bytes() == b'png'
