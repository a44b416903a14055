# Copyright (c) mmboundary contributors. All rights reserved.
"""One home for the command lines' conventions.

Every tool builds its parser with :func:`strict_parser` (no prefix matching:
``--resum`` is an error, not ``--resume``) and runs its ``main`` through
:func:`run_cli`, which turns a :class:`UserError` (bad input the user can
fix) into one line on stderr and exit status 2. ``--debug`` on the command
line (or ``MMB_DEBUG=1``) shows the full traceback instead.
"""
import argparse
import os
import sys
from typing import Callable, List, Optional

__all__ = ['UserError', 'strict_parser', 'add_quiet', 'run_cli']


class UserError(Exception):
    """A problem with the user's input (a missing file, a bad option, bad
    data) whose message names what is wrong and how to fix it.

    Command lines print only the message, in one line.
    """


def strict_parser(description: Optional[str] = None,
                  **kwargs) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` that refuses abbreviated long options.

    Args:
        description (str, optional): the tool's help text.
        **kwargs: passed to ``argparse.ArgumentParser``.

    Returns:
        argparse.ArgumentParser: with ``allow_abbrev=False``.
    """
    kwargs.setdefault('allow_abbrev', False)
    if kwargs['allow_abbrev']:
        raise ValueError('strict_parser: allow_abbrev must stay False')
    return argparse.ArgumentParser(description=description, **kwargs)


def add_quiet(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--quiet`` (no progress output) to ``parser``."""
    parser.add_argument(
        '--quiet',
        action='store_true',
        help='print no progress bars or progress lines')
    return parser


def debug_requested(argv: Optional[List[str]] = None) -> bool:
    """True when ``--debug`` is in ``argv`` (default ``sys.argv``) or the
    environment sets ``MMB_DEBUG=1``."""
    argv = sys.argv[1:] if argv is None else argv
    return '--debug' in argv or os.environ.get('MMB_DEBUG', '') == '1'


def run_cli(main: Callable[[], Optional[int]],
            argv: Optional[List[str]] = None) -> None:
    """Run a tool's ``main`` and exit with its status.

    A :class:`UserError` ends the program with ``error: <message>`` on
    stderr (one line) and status 2, unless a traceback was asked for with
    ``--debug`` or ``MMB_DEBUG=1``.

    Args:
        main (callable): the tool's entry point; its return value (None or
            an int) is the exit status.
        argv (list[str], optional): the arguments, to look for ``--debug``
            (default ``sys.argv[1:]``).
    """
    try:
        status = main()
    except UserError as err:
        if debug_requested(argv):
            raise
        message = ' '.join(str(err).split('\n'))
        print(f'error: {message}', file=sys.stderr)
        sys.exit(2)
    sys.exit(status or 0)
