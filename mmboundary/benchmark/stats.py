# Copyright (c) mmboundary contributors. All rights reserved.
"""Statistics of the tables: mean and sample standard deviation over
seeds, the paired difference of a method to its baseline with a Student-t
interval (``scipy.stats``), the seeds an interval of a given half-width
needs (issue 19, power), the verdict of a difference against a paper's
direction, and whether a validation curve has converged."""
import math
from typing import Dict, Optional, Sequence

__all__ = [
    'mean_std', 'paired_difference', 't_quantile', 'half_width',
    'seeds_needed', 'paper_verdict', 'curve_converged', 'VERDICTS', 'MIN_SEEDS'
]

#: Seeds below which no interval exists (a sample std needs two values).
MIN_SEEDS = 2

#: The verdicts of :func:`paper_verdict`, in words.
VERDICTS = dict(
    reproduced="reproduced in the paper's direction",
    reversed="reversed (against the paper's direction)",
    higher='higher (the paper claims no direction)',
    lower='lower (the paper claims no direction)',
    no_effect='no effect as large as the target',
    inconclusive='inconclusive (interval wider than the target, holds 0)',
    one_seed='one seed: no interval, no verdict',
    floor='not measurable (method and baseline at 0 on every seed)')


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


def half_width(diffs: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the Student-t interval of the mean of ``diffs``:
    ``t(0.5 + confidence / 2, n - 1) * s / sqrt(n)`` (``s``: sample std).

    Args:
        diffs (Sequence[float]): (n, ) paired differences, one per seed.
        confidence (float): Two-sided confidence of the interval.

    Raises:
        ValueError: Fewer than :data:`MIN_SEEDS` values (too few seeds for
            an interval).
    """
    n = len(diffs)
    if n < MIN_SEEDS:
        raise ValueError(f'too few seeds for an interval: {n} paired '
                         f'value(s); an interval needs at least {MIN_SEEDS} '
                         'seeds (e.g. --seeds 0 1 2)')
    std = mean_std(diffs)['std']
    return t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)


def seeds_needed(std: float,
                 target: float,
                 confidence: float = 0.95,
                 max_seeds: int = 1000) -> Optional[int]:
    """The fewest seeds n >= 2 whose interval half-width
    ``t(0.5 + confidence / 2, n - 1) * std / sqrt(n)`` is at most
    ``target``, taking ``std`` (the sample std of the paired differences,
    e.g. over the stored seeds) as the true one; None if more than
    ``max_seeds``. A plan, not a promise: ``std`` from 3 seeds is itself
    uncertain.

    Example: std 1.0, target 1.0: n = 7 (t(0.975, 6) / sqrt(7) =
    2.446912 / 2.645751 = 0.9248; n = 6 gives 2.570582 / 2.449490 =
    1.0494).

    Raises:
        ValueError: ``target`` not positive or ``std`` negative.
    """
    if not target > 0:
        raise ValueError(f'seeds_needed: target must be > 0, got {target!r}')
    if std < 0:
        raise ValueError(f'seeds_needed: std must be >= 0, got {std!r}')
    q = 0.5 + confidence / 2
    for n in range(MIN_SEEDS, max_seeds + 1):
        if t_quantile(q, n - 1) * std / math.sqrt(n) <= target:
            return n
    return None


def paper_verdict(mean: Optional[float],
                  low: Optional[float],
                  high: Optional[float],
                  direction: Optional[int],
                  target: float,
                  floor: bool = False) -> str:
    """The verdict of a paired difference against the paper's direction
    (issue 19, item 6); a key of :data:`VERDICTS`.

    In order: ``floor`` (method and baseline 0 on every seed) ->
    ``'floor'``; no interval (one seed) -> ``'one_seed'``; an interval that
    excludes 0 -> ``'reproduced'`` if on the paper's side (``direction``
    +1: the paper's method is higher, -1: lower), ``'reversed'`` if not,
    ``'higher'``/``'lower'`` when the paper claims no direction
    (``direction`` None or 0); an interval that holds 0 and lies inside
    ``[-target, +target]`` -> ``'no_effect'``; else ``'inconclusive'``.

    Args:
        mean (float): Mean paired difference (method - baseline), points.
        low, high (float | None): Its interval (None with one seed).
        direction (int | None): +1, -1, or None/0 (no claimed direction).
        target (float): The effect size that counts (points): 0.5 for the
            semantic metrics, 1.0 for the instance ones.
        floor (bool): Whether both rows are at 0 on every seed.
    """
    if floor:
        return 'floor'
    if low is None or high is None:
        return 'one_seed'
    if low > 0 or high < 0:
        sign = 1 if low > 0 else -1
        if not direction:
            return 'higher' if sign > 0 else 'lower'
        return 'reproduced' if sign == direction else 'reversed'
    if -target <= low and high <= target:
        return 'no_effect'
    return 'inconclusive'


def curve_converged(curve: Sequence[Dict],
                    key: str,
                    max_iters: int,
                    tolerance: float = 1.0) -> Dict[str, object]:
    """Whether a validation curve is on a plateau (issue 19, item 2): over
    the last quarter of the schedule (points at iterations >= 3/4 of
    ``max_iters``) the metric moves by less than ``tolerance`` points
    (max - min).

    Args:
        curve (Sequence[dict]): Points ``{'iter': int, 'metrics': {key:
            value in points}}``.
        key (str): The metric.
        max_iters (int): The schedule's length.
        tolerance (float): Largest max - min on a plateau (points).

    Returns:
        dict: ``converged`` (bool, None with fewer than 2 points in the
        last quarter), ``spread`` (max - min there), ``points`` (how many).
    """
    start = 0.75 * max_iters
    values = [
        float(p['metrics'][key]) for p in curve
        if p['iter'] >= start and p['metrics'].get(key) is not None
    ]
    if len(values) < 2:
        return dict(converged=None, spread=None, points=len(values))
    spread = max(values) - min(values)
    return dict(
        converged=spread < tolerance, spread=spread, points=len(values))


def on_floor(entries: Sequence[Optional[Dict]], key: str) -> bool:
    """Whether every run of ``entries`` (result entries with ``runs``;
    None skipped) scores exactly 0 on metric ``key``: a method and its
    baseline both at the floor, whose differences (all 0) measure
    nothing."""
    values = [
        r['metrics'].get(key) for e in entries if e is not None
        for r in e['runs']
    ]
    return bool(values) and all(
        v is not None and float(v) == 0 for v in values)
