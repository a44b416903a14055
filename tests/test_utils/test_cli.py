# Copyright (c) mmboundary contributors. All rights reserved.
import pytest

from mmboundary.utils.cli import (UserError, add_quiet, debug_requested,
                                  run_cli, strict_parser)


def test_strict_parser_refuses_prefixes():
    parser = add_quiet(strict_parser('x'))
    parser.add_argument('--resume', action='store_true')
    assert parser.parse_args(['--resume', '--quiet']).quiet
    with pytest.raises(SystemExit):
        parser.parse_args(['--resum'])
    with pytest.raises(ValueError, match='allow_abbrev'):
        strict_parser(allow_abbrev=True)


def test_run_cli_one_line(capsys):

    def main():
        raise UserError('data root data/cs missing:\nrun the generator')

    with pytest.raises(SystemExit) as exc:
        run_cli(main, argv=[])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == 'error: data root data/cs missing: run the generator\n'
    with pytest.raises(UserError):
        run_cli(main, argv=['--debug'])


def test_run_cli_status(monkeypatch):
    monkeypatch.delenv('MMB_DEBUG', raising=False)
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: 3, argv=[])
    assert exc.value.code == 3
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: None, argv=[])
    assert exc.value.code == 0
    assert not debug_requested([])
    monkeypatch.setenv('MMB_DEBUG', '1')
    assert debug_requested([])
