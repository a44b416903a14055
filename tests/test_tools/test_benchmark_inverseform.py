# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/analysis_tools/benchmark_inverseform.py: paired, alternating
timing and the median of per-pair ratios (hand values)."""
import pytest

from mmboundary.testing import import_tool

bench = import_tool('tools/analysis_tools/benchmark_inverseform.py')


def test_pairs_alternate_and_ratio_is_the_median_of_pairs():
    calls = []
    a_times = iter([1.0, 2.0, 4.0, 1.0])
    b_times = iter([1.1, 2.4, 4.2, 3.0])

    def run_a():
        calls.append('a')
        return next(a_times)

    def run_b():
        calls.append('b')
        return next(b_times)

    out = bench.paired_ratios(run_a, run_b, 4)
    # A B, B A, A B, B A: load drift hits both variants alike
    assert calls == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    assert out['a'] == [1.0, 2.0, 4.0, 1.0]
    assert out['b'] == [1.1, 2.4, 4.2, 3.0]
    assert out['ratio'] == pytest.approx([1.1, 1.2, 1.05, 3.0])
    # median of (1.05, 1.1, 1.2, 3.0) = 1.15; the ratio of the medians
    # (2.7 / 1.5 = 1.8) would let the one loaded pair dominate
    assert bench.median_ratio(out['ratio']) == pytest.approx(1.15)
    with pytest.raises(ValueError, match='no pairs'):
        bench.median_ratio([])


def test_time_call_is_the_median(monkeypatch):
    ticks = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])
    monkeypatch.setattr(bench.time, 'perf_counter', lambda: next(ticks))
    # calls of 1 s, 3 s and 2 s
    assert bench.time_call(lambda: None, lambda: None, 3) == 2.0
