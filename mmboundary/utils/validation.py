# Copyright (c) mmboundary contributors. All rights reserved.
"""Constructor-argument checks shared by mmboundary's registered modules.

Each check raises a :class:`TypeError` (wrong type) or :class:`ValueError`
(out of range, unknown choice) whose message names the owner, the argument
and what is expected, so a bad config fails when the module is built,
before training starts.
"""
import math
import numbers
from typing import Any, Collection, Optional


def _fail_type(owner: str, name: str, expected: str, value: Any):
    raise TypeError(f'{owner}: `{name}` must be {expected}, got '
                    f'{value!r} ({type(value).__name__})')


def check_bool(value: Any, name: str, owner: str) -> bool:
    """``value`` if it is a bool (numpy bools too), else TypeError."""
    if isinstance(value, bool) or type(value).__name__ == 'bool_':
        return bool(value)
    _fail_type(owner, name, 'True or False', value)


def check_int(value: Any,
              name: str,
              owner: str,
              low: Optional[int] = None,
              high: Optional[int] = None,
              optional: bool = False) -> Optional[int]:
    """``value`` as an int in ``[low, high]`` (None allowed if
    ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail_type(owner, name,
                   'an integer' + (' or None' if optional else ''), value)
    value = int(value)
    if (low is not None and value < low) or (high is not None
                                             and value > high):
        raise ValueError(f'{owner}: `{name}` must be in '
                         f'[{low if low is not None else "-inf"}, '
                         f'{high if high is not None else "inf"}], '
                         f'got {value}')
    return value


def check_number(value: Any,
                 name: str,
                 owner: str,
                 low: Optional[float] = None,
                 high: Optional[float] = None,
                 low_open: bool = False,
                 optional: bool = False) -> Optional[float]:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` if
    ``low_open``; None allowed if ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail_type(owner, name, 'a number' + (' or None' if optional else ''),
                   value)
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if not math.isfinite(value) or too_low or (high is not None
                                               and value > high):
        lo = '(' if low_open else '['
        raise ValueError(f'{owner}: `{name}` must be a finite number in '
                         f'{lo}{low if low is not None else "-inf"}, '
                         f'{high if high is not None else "inf"}], '
                         f'got {value}')
    return value


def check_str(value: Any,
              name: str,
              owner: str,
              optional: bool = False) -> Optional[str]:
    """``value`` if it is a non-empty string (None allowed if
    ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        _fail_type(owner, name, 'a string' + (' or None' if optional else ''),
                   value)
    if not value:
        raise ValueError(f'{owner}: `{name}` must not be empty')
    return value


def check_loss_name(value: Any, owner: str) -> str:
    """``value`` if it is a string starting with ``loss_`` (mmengine sums
    only the loss-dict entries whose key starts with ``loss``)."""
    check_str(value, 'loss_name', owner)
    if not value.startswith('loss_'):
        raise ValueError(f"{owner}: `loss_name` must start with 'loss_' so "
                         f'that mmengine adds it to the total loss, got '
                         f'{value!r}.')
    return value


def check_choice(value: Any, choices: Collection, name: str,
                 owner: str) -> Any:
    """``value`` if it is one of ``choices``, else ValueError listing
    them."""
    try:
        ok = value in choices
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f'{owner}: unknown `{name}` {value!r}; choose from '
                         f'{list(choices)}')
    return value


def check_dict(value: Any,
               name: str,
               owner: str,
               optional: bool = False,
               list_ok: bool = False) -> Any:
    """``value`` if it is a dict (a config), or a list of dicts if
    ``list_ok`` (like ``init_cfg``); None allowed if ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, dict):
        return value
    if list_ok and isinstance(value, list) and all(
            isinstance(v, dict) for v in value):
        return value
    expected = 'a dict' + (' or a list of dicts' if list_ok else '')
    _fail_type(owner, name, expected + (' or None' if optional else ''), value)


def check_sequence(value: Any,
                   name: str,
                   owner: str,
                   length: Optional[int] = None,
                   min_length: int = 0) -> list:
    """``value`` as a list if it is a list or tuple of ``length`` items (at
    least ``min_length``); callers check the items, e.g. with
    :func:`check_number` naming each ``f'{name}[{i}]'``."""
    if not isinstance(value, (list, tuple)):
        _fail_type(owner, name, 'a list or tuple', value)
    if (length is not None
            and len(value) != length) or len(value) < min_length:
        want = length if length is not None else f'at least {min_length}'
        raise ValueError(f'{owner}: `{name}` needs {want} entries, got '
                         f'{tuple(value)}')
    return list(value)
