# Copyright (c) mmboundary contributors. All rights reserved.
"""Side-by-side timing for the benchmark tools: medians of interleaved
repeats, synchronised on CUDA."""
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch

from mmboundary.utils.progress import track

__all__ = ['sync', 'timed', 'interleaved_medians']


def sync(device: str) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def timed(fn: Callable, device: str) -> Tuple[float, object]:
    """Seconds one call of ``fn`` takes (device synchronised) and its
    result."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def interleaved_medians(
        fns: Dict[str, Callable],
        repeat: int,
        device: str,
        quiet: bool = True,
        desc: str = 'timing') -> Tuple[Dict[str, float], Dict[str, List]]:
    """Median seconds of every function, the calls interleaved.

    Repeat ``r`` calls them in the given order, reversed for odd ``r``
    (ABBA), so slow drifts of the machine's load hit all of them alike.
    Warm-up calls are the caller's business.

    Args:
        fns (dict): name -> function of no arguments.
        repeat (int): calls per function.
        device (str): synchronised around every call.
        quiet (bool): no progress output.
        desc (str): progress label.

    Returns:
        tuple[dict, dict]: name -> median seconds, name -> all seconds.
    """
    names = list(fns)
    times = {n: [] for n in names}
    for r in track(range(repeat), desc=desc, quiet=quiet):
        for name in (names if r % 2 == 0 else names[::-1]):
            t, _ = timed(fns[name], device)
            times[name].append(t)
    return {n: statistics.median(v) for n, v in times.items()}, times
