# Copyright (c) mmboundary contributors. All rights reserved.
"""Statistics of the tables: mean and sample standard deviation over
seeds, and the paired difference of a method to its baseline with a
Student-t interval (``scipy.stats``)."""
import math
from typing import Dict, Optional, Sequence

__all__ = ['mean_std', 'paired_difference', 't_quantile']


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom
    (``scipy.stats.t.ppf``), e.g. ``t_quantile(0.975, 2) = 4.302653``.

    Raises:
        ValueError: ``p`` outside (0, 1) or ``df`` not a positive integer.
    """
    from scipy import stats
    if not 0 < p < 1:
        raise ValueError(f'p must be in (0, 1), got {p!r}')
    if int(df) != df or df < 1:
        raise ValueError(f'df must be a positive integer, got {df!r}')
    return float(stats.t.ppf(p, int(df)))


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
