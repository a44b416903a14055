# Copyright (c) mmboundary contributors. All rights reserved.
"""Every command line is strict (issue 20, item 4): each ArgumentParser
under tools/ and mmboundary/ is built with ``allow_abbrev=False`` (or by
``mmboundary.utils.cli.strict_parser``), so ``--resum`` is an error, not
``--resume``."""
import ast
import glob
import os.path as osp

import pytest

from mmboundary.testing import import_tool
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.cli import strict_parser

FILES = sorted(
    osp.relpath(p, REPO_ROOT)
    for pattern in ('tools/**/*.py', 'mmboundary/**/*.py')
    for p in glob.glob(osp.join(REPO_ROOT, pattern), recursive=True))
# strict_parser itself: allow_abbrev comes from its kwargs, defaulted to
# False and refused when True (tests/test_utils/test_cli.py and below).
HOME = 'mmboundary/utils/cli.py'
PENDING = {}


def parser_calls(source):
    """``(line, strict)`` for every ``ArgumentParser(...)`` /
    ``strict_parser(...)`` call in ``source``."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(
            func, 'id', None)
        if name == 'strict_parser':
            strict = not any(k.arg == 'allow_abbrev' and not (
                isinstance(k.value, ast.Constant) and k.value.value is False)
                             for k in node.keywords)
            calls.append((node.lineno, strict))
        elif name == 'ArgumentParser':
            strict = any(
                k.arg == 'allow_abbrev' and isinstance(k.value, ast.Constant)
                and k.value.value is False for k in node.keywords)
            calls.append((node.lineno, strict))
    return calls


def test_the_scan_sees_both_forms():
    src = ('import argparse\n'
           'a = argparse.ArgumentParser(description="x")\n'
           'b = argparse.ArgumentParser(allow_abbrev=False)\n'
           'c = strict_parser("d")\n'
           'd = ArgumentParser(allow_abbrev=True)\n')
    assert parser_calls(src) == [(2, False), (3, True), (4, True), (5, False)]


def test_tools_are_found():
    tools = [f for f in FILES if f.startswith('tools/')]
    assert 'tools/train.py' in tools and 'tools/test.py' in tools
    with_parsers = [
        f for f in tools if parser_calls(open(osp.join(REPO_ROOT, f)).read())
    ]
    assert len(with_parsers) >= 18, with_parsers


@pytest.mark.parametrize('path', [
    pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=PENDING[f]))
    if f in PENDING else f for f in FILES
])
def test_every_argument_parser_is_strict(path):
    with open(osp.join(REPO_ROOT, path)) as f:
        calls = parser_calls(f.read())
    if path == HOME:
        assert len(calls) == 1  # the one inside strict_parser
        return
    loose = [line for line, strict in calls if not strict]
    assert not loose, (
        f'{path}: ArgumentParser at line(s) {loose} allows abbreviated '
        'options; build it with mmboundary.utils.cli.strict_parser or pass '
        'allow_abbrev=False')


def test_strict_parser_refuses_a_prefix(capsys):
    with pytest.raises(ValueError, match='allow_abbrev'):
        strict_parser('x', allow_abbrev=True)
    parser = strict_parser('x')
    parser.add_argument('--resume', action='store_true')
    with pytest.raises(SystemExit) as e:
        parser.parse_args(['--resum'])
    assert e.value.code == 2
    assert 'unrecognized arguments: --resum' in capsys.readouterr().err


@pytest.mark.parametrize('tool,argv,option', [
    ('tools/train.py', ['c.py', '--resum'], '--resum'),
    ('tools/test.py', ['c.py', 'k.pth', '--work', 'w'], '--work'),
])
def test_train_and_test_refuse_prefixes(tool, argv, option, capsys):
    module = import_tool(tool)
    with pytest.raises(SystemExit) as e:
        module.parse_args(argv)
    assert e.value.code == 2
    assert f'unrecognized arguments: {option}' in capsys.readouterr().err
