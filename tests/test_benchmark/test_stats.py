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
