# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.stats: sample std and paired Student-t intervals on
hand-computed values and published t quantiles."""
import math

import pytest

from mmboundary.benchmark import stats as job


@pytest.mark.parametrize(
    'p, df, quantile',
    [
        # two-sided 95 % critical values of printed t tables (6 digits)
        (0.975, 1, 12.706205),
        (0.975, 2, 4.302653),
        (0.975, 3, 3.182446),
        (0.975, 4, 2.776445),
        (0.975, 9, 2.262157),
        (0.995, 2, 9.924843),
        (0.95, 5, 2.015048),
        (0.025, 2, -4.302653),
        (0.5, 7, 0.0),
    ])
def test_t_quantiles_equal_the_printed_table(p, df, quantile):
    assert job.t_quantile(p, df) == pytest.approx(quantile, abs=5e-7)


def test_t_quantile_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r'p must be in \(0, 1\)'):
        job.t_quantile(1.0, 3)
    with pytest.raises(ValueError, match='df must be a positive integer'):
        job.t_quantile(0.975, 0)
    with pytest.raises(ValueError, match='df must be a positive integer'):
        job.t_quantile(0.975, 2.5)


def test_mean_and_sample_std_on_hand_values():
    assert job.mean_std([1.0, 2.0, 3.0, 4.0]) == dict(
        mean=2.5, std=pytest.approx(math.sqrt(5 / 3)), n=4)
    assert job.mean_std([7.0]) == dict(mean=7.0, std=None, n=1)
    with pytest.raises(ValueError, match='no values'):
        job.mean_std([])


def test_paired_difference_on_hand_values():
    # diffs 1, 2.5, 2: mean 11/6, sample var (25+16+1)/36/2 = 7/12;
    # half width t(0.975, 2) * sqrt(7/12) / sqrt(3) = 4.302653 * 0.440959
    # = 1.897291: interval [-0.063958, 3.730624], printed [-0.06, +3.73]
    d = job.paired_difference([31.0, 33.0, 32.0], [30.0, 30.5, 30.0])
    assert d['mean'] == pytest.approx(11 / 6)
    assert d['std'] == pytest.approx(math.sqrt(7 / 12))
    assert d['low'] == pytest.approx(-0.063958, abs=1e-6)
    assert d['high'] == pytest.approx(3.730624, abs=1e-6)
    assert (f"{d['low']:+.2f}", f"{d['high']:+.2f}") == ('-0.06', '+3.73')
    assert d['low'] < 0 < d['high'] and d['verdict'] == 'within noise'
    # two seeds: t(0.975, 1) = 12.706205; diffs 1, 2: mean 1.5, std
    # sqrt(0.5), half 12.706205 * sqrt(0.5) / sqrt(2) = 6.353103
    d = job.paired_difference([31.0, 33.0], [30.0, 31.0])
    assert (d['low'], d['high']) == (pytest.approx(1.5 - 6.353103, abs=1e-6),
                                     pytest.approx(1.5 + 6.353103, abs=1e-6))
    # a 90 % interval is narrower: t(0.95, 1) = 6.313752
    d = job.paired_difference([31.0, 33.0], [30.0, 31.0], confidence=0.9)
    assert d['high'] == pytest.approx(1.5 + 3.156876, abs=1e-6)
    d = job.paired_difference([1.0, 1.2, 1.1], [0.0, 0.0, 0.0])
    assert d['low'] > 0 and d['verdict'] == 'higher'
    d = job.paired_difference([0.0, 0.0, 0.0, 0.0], [1.0, 1.2, 1.1, 1.0])
    assert d['high'] < 0 and d['verdict'] == 'lower'
    assert d['mean'] == pytest.approx(-1.075)
    d = job.paired_difference([5.0], [3.0])
    assert d == dict(
        mean=2.0, std=None, n=1, low=None, high=None, verdict='one seed')
    with pytest.raises(ValueError, match='pair them by seed'):
        job.paired_difference([1.0, 2.0], [1.0])


# ----------------------------------------------------- issue 19: power
def test_half_width_on_hand_values():
    # diffs 1, 2.5, 2 (above): 4.302653 * sqrt(7/12) / sqrt(3) = 1.897291
    assert job.half_width([1.0, 2.5, 2.0]) == pytest.approx(1.897291, abs=1e-6)
    # diffs 1, 2: 12.706205 * sqrt(0.5) / sqrt(2) = 6.353103
    assert job.half_width([1.0, 2.0]) == pytest.approx(6.353103, abs=1e-6)
    # it is the half of paired_difference's interval
    d = job.paired_difference([31.0, 33.0, 32.0], [30.0, 30.5, 30.0])
    assert job.half_width([1.0, 2.5, 2.0]) == pytest.approx(
        (d['high'] - d['low']) / 2)
    # 90 %: t(0.95, 2) = 2.919986; * sqrt(7/12) / sqrt(3) = 1.287593
    assert job.half_width([1.0, 2.5, 2.0], 0.9) == pytest.approx(
        1.287593, abs=1e-6)
    for one in ([3.0], []):
        with pytest.raises(
                ValueError,
                match='too few seeds for an interval: '
                f'{len(one)} paired value'):
            job.half_width(one)


@pytest.mark.parametrize(
    'std, target, needed',
    [
        # n=7: 2.446912 / sqrt(7) = 0.924809 <= 1; n=6: 2.570582 / sqrt(6)
        # = 1.049436 > 1
        (1.0, 1.0, 7),
        # 0.52 * 2.446912 / sqrt(7) = 0.480901; n=6: 0.545707
        (0.52, 0.5, 7),
        # n=3: 0.16 * 4.302653 / sqrt(3) = 0.397462; n=2: 1.437574
        (0.16, 0.5, 3),
        # n=20: 2.11 * 2.093024 / sqrt(20) = 0.987518; n=19: 2.11 *
        # 2.100922 / sqrt(19) = 1.016996
        (2.11, 1.0, 20),
        (0.0, 0.5, 2),
    ])
def test_seeds_needed_on_hand_values(std, target, needed):
    assert job.seeds_needed(std, target) == needed
    # brute force with scipy: n is the first that meets the target
    from scipy import stats

    def half(n):
        return stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)

    assert half(needed) <= target
    assert needed == 2 or half(needed - 1) > target


def test_seeds_needed_refuses_and_caps():
    assert job.seeds_needed(100.0, 0.1, max_seeds=50) is None
    with pytest.raises(ValueError, match='target must be > 0'):
        job.seeds_needed(1.0, 0.0)
    with pytest.raises(ValueError, match='std must be >= 0'):
        job.seeds_needed(-1.0, 1.0)


@pytest.mark.parametrize(
    'mean, low, high, direction, target, floor, verdict',
    [
        (2.0, 0.5, 3.5, 1, 1.0, False, 'reproduced'),
        (2.0, 0.5, 3.5, -1, 1.0, False, 'reversed'),
        (-2.0, -3.5, -0.5, -1, 1.0, False, 'reproduced'),
        (-2.0, -3.5, -0.5, 1, 1.0, False, 'reversed'),
        # a small but clear effect in the paper's direction still counts
        (0.2, 0.1, 0.3, 1, 0.5, False, 'reproduced'),
        (0.2, 0.1, 0.3, None, 0.5, False, 'higher'),
        (-0.2, -0.3, -0.1, 0, 0.5, False, 'lower'),
        # holds 0, inside +-target (the bounds count as inside)
        (0.1, -0.4, 0.5, 1, 0.5, False, 'no_effect'),
        (0.0, -1.0, 1.0, -1, 1.0, False, 'no_effect'),
        (0.5, 0.0, 1.0, 1, 1.0, False, 'no_effect'),
        # holds 0, wider than the target on one side
        (0.1, -0.4, 0.6, 1, 0.5, False, 'inconclusive'),
        (0.0, -1.01, 0.9, 1, 1.0, False, 'inconclusive'),
        (0.5, 0.0, 1.2, None, 1.0, False, 'inconclusive'),
        (1.0, None, None, 1, 1.0, False, 'one_seed'),
        (0.0, 0.0, 0.0, 1, 1.0, True, 'floor'),
    ])
def test_paper_verdict_every_branch(mean, low, high, direction, target, floor,
                                    verdict):
    assert job.paper_verdict(mean, low, high, direction, target,
                             floor) == verdict
    assert verdict in job.VERDICTS


def _curve(values, iters=(25, 50, 75, 100)):
    return [dict(iter=i, metrics=dict(mIoU=v)) for i, v in zip(iters, values)]


def test_curve_converged_on_hand_curves():
    # last quarter of 100 iterations: 75 and 100 -> 39.5, 40.4: 0.9 < 1
    c = job.curve_converged(_curve([10.0, 30.0, 39.5, 40.4]), 'mIoU', 100)
    assert c == dict(converged=True, spread=pytest.approx(0.9), points=2)
    # 39.5, 40.5: moves 1.0, not < 1
    c = job.curve_converged(_curve([10.0, 30.0, 39.5, 40.5]), 'mIoU', 100)
    assert c['converged'] is False and c['spread'] == pytest.approx(1.0)
    # the early climb does not count; three points in the last quarter
    c = job.curve_converged(
        _curve([0.0, 40.0, 40.6, 40.2], iters=(10, 80, 90, 100)), 'mIoU', 100)
    assert c == dict(converged=True, spread=pytest.approx(0.6), points=3)
    # a tolerance of 0.5 points
    assert job.curve_converged(
        _curve([0.0, 40.0, 40.6, 40.2], iters=(10, 80, 90, 100)),
        'mIoU',
        100,
        tolerance=0.5)['converged'] is False
    # one point in the last quarter: not checked
    assert job.curve_converged(
        _curve([1.0, 2.0, 3.0], iters=(25, 50, 100)), 'mIoU', 100) == dict(
            converged=None, spread=None, points=1)
    # missing values are skipped
    curve = _curve([1.0, 2.0, 3.0, None])
    assert job.curve_converged(curve, 'mIoU', 100)['points'] == 1


def test_on_floor_needs_every_run_at_exactly_zero():
    from mmboundary.benchmark.stats import on_floor

    def entry(*values):
        return dict(runs=[dict(metrics={'m': v}) for v in values])

    assert on_floor([entry(0.0, 0), entry(0.0)], 'm')
    assert on_floor([entry(0.0), None], 'm')  # no baseline entry
    assert not on_floor([entry(0.0, 0.1), entry(0.0)], 'm')
    assert not on_floor([entry(0.0), entry(None)], 'm')  # missing metric
    assert not on_floor([entry(), None], 'm')  # no runs: nothing measured
