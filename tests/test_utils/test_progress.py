# Copyright (c) mmboundary contributors. All rights reserved.
import io

import pytest

from mmboundary.utils.progress import Progress, format_seconds, track


class FakeClock:

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_format_seconds():
    assert format_seconds(0) == '0:00'
    assert format_seconds(7.4) == '0:07'
    assert format_seconds(725) == '12:05'
    assert format_seconds(3723) == '1:02:03'
    assert format_seconds(float('inf')) == '?'
    assert format_seconds(-1) == '?'


def test_plain_mode_rate_limits_and_has_no_control_characters():
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(
        10, desc='mean shift', stream=out, interval=10, tty=False, clock=clock)
    for step in range(10):
        clock.now += 2.0  # 2 s a step
        progress.update()
    progress.close()
    lines = out.getvalue().splitlines()
    # first step, then one line at least 10 s after the last, then the end
    assert lines[0] == 'mean shift: 1/10 (10%), 0:02 elapsed, ETA 0:18'
    assert lines[1] == 'mean shift: 6/10 (60%), 0:12 elapsed, ETA 0:08'
    assert lines[-1] == 'mean shift: 10/10 (100%), 0:20 elapsed, ETA 0:00'
    assert len(lines) == 3
    assert '\r' not in out.getvalue() and '\x1b' not in out.getvalue()


def test_quiet_prints_nothing():
    out = io.StringIO()
    assert list(track(range(5), desc='x', quiet=True, stream=out,
                      tty=True)) == [0, 1, 2, 3, 4]
    assert out.getvalue() == ''


def test_terminal_mode_draws_mmengine_bar():
    out = io.StringIO()
    assert list(track([1, 2, 3], desc='convert', stream=out,
                      tty=True)) == [1, 2, 3]
    text = out.getvalue()
    assert text.startswith('convert\n')
    assert '3/3' in text and 'ETA' in text


def test_track_needs_total_without_len():
    with pytest.raises(TypeError, match='total='):
        list(track(iter([1, 2])))
    assert list(track(iter([1, 2]), total=2, tty=False,
                      stream=io.StringIO())) == [1, 2]


def test_eta_before_first_step_is_unknown():
    clock = FakeClock()
    progress = Progress(4, stream=io.StringIO(), tty=False, clock=clock)
    assert progress.eta() == float('inf')
    clock.now += 3
    progress.update()
    assert progress.eta() == pytest.approx(9.0)
    with pytest.raises(ValueError, match='total'):
        Progress(-1)
