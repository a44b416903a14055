# Copyright (c) mmboundary contributors. All rights reserved.
"""Progress with an ETA for long-running commands, in the host's style.

One home for progress output. In a terminal it draws mmengine's
``ProgressBar`` (bar, rate, elapsed time and ETA on one line, redrawn with
``\\r``). Into a file or a CI log (anything that is not a terminal) it writes
plain lines without control characters, at most one per ``interval`` seconds
plus the last one, so a log never fills with per-step spam. ``quiet=True``
(the commands' ``--quiet``) prints nothing.

Example:
    >>> for item in track(items, desc='mean shift', quiet=args.quiet):
    ...     process(item)
"""
import sys
import time
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

T = TypeVar('T')

__all__ = ['Progress', 'track', 'format_seconds']


def format_seconds(seconds: float) -> str:
    """Format a duration as ``H:MM:SS`` (or ``M:SS`` under an hour).

    Args:
        seconds (float): the duration; negative or non-finite values give
            ``'?'``.

    Returns:
        str: e.g. ``'0:07'``, ``'12:05'``, ``'1:02:03'``.
    """
    if not (seconds >= 0) or seconds == float('inf'):
        return '?'
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f'{hours}:{minutes:02d}:{secs:02d}'
    return f'{minutes}:{secs:02d}'


class Progress:
    """Counts finished steps of a known total and reports them with an ETA.

    Args:
        total (int): number of steps; 0 is allowed (nothing is drawn but the
            closing line).
        desc (str): what is being done, printed before the counts.
        quiet (bool): print nothing at all. Defaults to False.
        stream (TextIO, optional): where to write; defaults to
            ``sys.stdout``.
        interval (float): seconds between two lines when the stream is not a
            terminal. Defaults to 10.
        tty (bool, optional): force terminal (True) or plain-line (False)
            mode; by default ``stream.isatty()`` decides.
        clock (callable, optional): time source (tests pass a fake one).
    """

    def __init__(self,
                 total: int,
                 desc: str = '',
                 quiet: bool = False,
                 stream: Optional[TextIO] = None,
                 interval: float = 10.0,
                 tty: Optional[bool] = None,
                 clock=time.monotonic):
        if total < 0:
            raise ValueError(f'Progress total must be >= 0, got {total}')
        self.total = int(total)
        self.desc = desc
        self.quiet = quiet
        self.stream = sys.stdout if stream is None else stream
        self.interval = float(interval)
        if tty is None:
            isatty = getattr(self.stream, 'isatty', None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty
        self.clock = clock
        self.done = 0
        self.start = clock()
        self._last_line = None
        self._bar = None
        if not self.quiet and self.tty and self.total > 0:
            from mmengine.utils import ProgressBar
            if desc:
                # mmengine's bar has no title: one line above it names it.
                self.stream.write(f'{desc}\n')
            self._bar = ProgressBar(self.total, file=self.stream)

    def eta(self) -> float:
        """Seconds left, extrapolated from the mean time per finished step.

        Returns:
            float: ``inf`` before the first step, 0 once done.
        """
        if self.done >= self.total:
            return 0.0
        if self.done == 0:
            return float('inf')
        elapsed = self.clock() - self.start
        return elapsed / self.done * (self.total - self.done)

    def line(self) -> str:
        """The plain progress line, e.g. ``'mean shift: 3/10 (30%), 0:06
        elapsed, ETA 0:14'``."""
        elapsed = self.clock() - self.start
        share = 100.0 * self.done / self.total if self.total else 100.0
        head = f'{self.desc}: ' if self.desc else ''
        return (f'{head}{self.done}/{self.total} ({share:.0f}%), '
                f'{format_seconds(elapsed)} elapsed, '
                f'ETA {format_seconds(self.eta())}')

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more finished steps and report if it is time."""
        self.done += steps
        if self.quiet:
            return
        if self._bar is not None:
            for _ in range(steps):
                self._bar.update()
            return
        now = self.clock()
        last = self._last_line
        finished = self.done >= self.total
        if finished or last is None or now - last >= self.interval:
            self.stream.write(self.line() + '\n')
            self.stream.flush()
            self._last_line = now

    def close(self) -> None:
        """End the bar's line in a terminal (plain mode has nothing open)."""
        if self._bar is not None and not self.quiet:
            self.stream.write('\n')
            self.stream.flush()
            self._bar = None


def track(iterable: Iterable[T],
          total: Optional[int] = None,
          desc: str = '',
          quiet: bool = False,
          stream: Optional[TextIO] = None,
          interval: float = 10.0,
          tty: Optional[bool] = None) -> Iterator[T]:
    """Iterate over ``iterable`` while reporting progress with an ETA.

    Args:
        iterable: what to iterate over.
        total (int, optional): its length; taken from ``len(iterable)`` when
            not given (an iterable without a length needs it).
        desc, quiet, stream, interval, tty: see :class:`Progress`.

    Yields:
        The items of ``iterable``, unchanged.
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError('track() needs total= for an iterable without '
                            'len()') from None
    progress = Progress(
        total,
        desc=desc,
        quiet=quiet,
        stream=stream,
        interval=interval,
        tty=tty)
    try:
        for item in iterable:
            yield item
            progress.update()
    finally:
        progress.close()
