# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.power (issue 19, item 3): the seeds each row
needs for the target half-width and the time a plan is estimated to take,
on hand-made results and re-derived on the stored ones."""
import json
import math
import os.path as osp

import numpy as np
import pytest

from mmboundary.benchmark import power, report
from mmboundary.benchmark.rows import TASKS
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.cli import UserError
from ._helpers import records, two_semantic_rows


def _results(seeds=(0, 1, 2), elapsed_s=100.0):
    # SEMEDA's mIoU diffs 1, 1.2, 1.1 (std 0.1); train 10, 20, 30 s and
    # test 5 s per seed and row
    miou = [31.0, 31.2, 31.1][:len(seeds)]
    recs = records(
        {
            'FCN (CE)': ([30.0] * len(seeds), [20.0] * len(seeds)),
            'FCN + SEMEDA': (miou, [21.0] * len(seeds))
        },
        seeds=seeds)
    return dict(
        seeds=list(seeds),
        start=dict(train_s=1.0),
        elapsed_s=elapsed_s,
        tasks=dict(
            semantic=dict(
                rows=report.summarize_task('semantic', recs,
                                           two_semantic_rows()))))


def test_seed_seconds_from_the_stored_durations():
    cost = power.seed_seconds(_results())
    # per row mean(15, 25, 35) = 25 s; two rows
    assert cost['row_s'] == pytest.approx(50.0)
    assert (cost['start_s'], cost['jobs'], cost['fresh']) == (1.0, 2, True)
    # 100 s wall over 150 s / 2 jobs + 1 s start
    assert cost['overhead'] == pytest.approx(100 / 76)
    assert cost['test_s'] == {'FCN (CE)': 5.0, 'FCN + SEMEDA': 5.0}
    res = _results()
    res['tasks']['semantic']['rows'][0]['runs'][0]['reused'] = True
    assert power.seed_seconds(res)['overhead'] == 1.0
    # 3 seeds, 2 jobs: 1.315789 * (3 * 50 / 2 + 1) s = 100 s
    assert power.estimate_minutes(cost, 3) == pytest.approx(100 / 60)


def test_plan_on_hand_made_results():
    plan = power.plan_power(_results(), budget_min=120)
    # mIoU: n=2: 12.706205 * 0.1 / sqrt(2) = 0.898 > 0.5; n=3: 0.248414;
    # mBF has no values
    [item] = plan['rows']
    assert (item['name'], item['versus'], item['metric'],
            item['n']) == ('FCN + SEMEDA', 'FCN (CE)', 'mIoU', 3)
    assert item['std'] == pytest.approx(0.1)
    assert item['half'] == pytest.approx(0.248414, abs=1e-6)
    assert (item['needed'], plan['needed'], plan['seeds']) == (3, 3, 3)
    assert item['met'] and item['half_at'] == pytest.approx(item['half'])
    assert plan['minutes'] == pytest.approx(100 / 60)
    # a budget that allows 2 seeds only: 1.315789 * (25 n + 1) / 60 <= 1.5
    plan = power.plan_power(_results(), budget_min=1.5)
    assert (plan['needed'], plan['seeds']) == (3, 2)
    assert plan['rows'][0]['half_at'] == pytest.approx(0.898464, abs=1e-6)
    assert plan['rows'][0]['met'] is False
    text = power.format_plan(plan, 'r.json')
    assert '| FCN + SEMEDA | FCN (CE) | mIoU | 3 | 0.10 | 0.25 | 0.5 | 3 | ' \
        '0.90 | no |' in text
    assert 'budget 2 min -> plan: 2 seeds, estimated 1 min' in text
    assert 'Not met at the plan (projected): FCN + SEMEDA mIoU.' in text
    # nothing fits: no plan
    plan = power.plan_power(_results(), budget_min=0.5)
    assert plan['seeds'] is None and plan['minutes'] is None
    # curves: 4 points on 1 seed of the baseline, 5 s each: + 20 s of runs
    plan = power.plan_power(
        _results(), budget_min=120, curves=4, curve_seeds=1)
    assert plan['minutes'] == pytest.approx(100 / 76 * 86 / 60)


def test_plan_refuses_too_few_seeds():
    with pytest.raises(
            UserError,
            match=r'too few seeds for an interval: the results '
            r'hold 1 seed\(s\) \[0\]'):
        power.plan_power(_results(seeds=(0, )))


def test_plan_of_the_stored_results_rederived():
    """Every row's std, half-width and seeds needed, re-derived from the
    stored per-seed metrics with numpy and a brute-force scipy search."""
    from scipy import stats
    path = osp.join(REPO_ROOT, 'docs', 'main_job', 'results.json')
    with open(path) as f:
        res = json.load(f)
    plan = power.plan_power(res)
    checked = 0
    for item in plan['rows']:
        rows = {e['name']: e for e in res['tasks'][item['task']]['rows']}
        method = {r['seed']: r for r in rows[item['name']]['runs']}
        base = {r['seed']: r for r in rows[item['versus']]['runs']}
        d = np.array([
            method[s]['metrics'][item['metric']] -
            base[s]['metrics'][item['metric']] for s in sorted(method)
        ])
        n = len(d)
        assert item['std'] == pytest.approx(d.std(ddof=1), abs=1e-9)
        assert item['half'] == pytest.approx(
            stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n))
        target = TASKS[item['task']]['target']
        k = 2
        while stats.t.ppf(0.975, k - 1) * d.std(ddof=1) / math.sqrt(k) > \
                target:
            k += 1
        assert item['needed'] == k
        checked += 1
    assert checked == len(plan['rows']) > 0
    assert plan['needed'] == max(i['needed'] for i in plan['rows'])


def test_rows_at_zero_on_every_seed_do_not_count_as_met():
    # a method and its baseline both 0 on every seed: differences 0, std 0;
    # the half-width 0 measures nothing, so the target is not met
    res = _results()
    for entry in res['tasks']['semantic']['rows']:
        for run in entry['runs']:
            run['metrics']['mIoU'] = 0.0
    plan = power.plan_power(res, budget_min=120)
    item = [i for i in plan['rows'] if i['metric'] == 'mIoU'][0]
    assert (item['std'], item['floor'], item['met']) == (0.0, True, False)
    cells = [r for r in power.plan_table(plan)['rows'] if r[2] == 'mIoU'][0]
    assert cells[-1] == 'no (both 0 on every seed)'
    # one seed off the floor: measured again
    res['tasks']['semantic']['rows'][1]['runs'][0]['metrics']['mIoU'] = 0.5
    plan = power.plan_power(res, budget_min=120)
    item = [i for i in plan['rows'] if i['metric'] == 'mIoU'][0]
    assert item['floor'] is False and item['std'] > 0
