# Copyright (c) mmboundary contributors. All rights reserved.
"""Numbers in the docs come from the tools that measured them.

A measuring tool (a benchmark under ``tools/analysis_tools/``, the main job)
stores what it measured with :func:`dump_results`: one JSON file holding the
exact command that produced it, the machine, the date, the load average and
one or more named tables. A README shows a table in a marked block::

    <!-- results: configs/dvis/results/pair_loss.json#speed (written by
         tools/misc/update_readme_tables.py; do not edit) -->
    | ... the table ... |
    Command: `python tools/analysis_tools/benchmark_dvis.py ...` ...
    <!-- results end -->

``python tools/misc/update_readme_tables.py`` (re)writes every block from
its JSON; ``--check`` reports blocks that differ, and
``tests/test_docs_results.py`` runs that check over every README, so a
number typed or edited by hand in a block fails the tests.

Every other Markdown table of a method README (``configs/*/README.md``)
must say on the line right above it (blank lines allowed in between) why
it holds no measured number, with one of two markers:

* ``<!-- paper numbers: <paper>, <table or section> -->``: numbers copied
  from a paper, e.g. ``<!-- paper numbers: Chen et al. 2020, Table 1 -->``;
  the text around the table must also say they are the paper's;
* ``<!-- not measured: <what the table holds> -->``: no measurement at
  all (configs, options, a paper-to-code map).

:func:`unsourced_tables` lists the tables with neither a block nor a
marker; ``tests/test_docs_results.py`` requires it to be empty for every
method README, so a measured table typed by hand fails the tests. Measured
numbers in prose must be followed by the command that produced them.

Results say which code made them: :func:`dump_results` records the
commit, uncommitted changes and a fingerprint of the inputs
(``mmboundary/``, ``configs/``, the generating tool; see
:mod:`mmboundary.utils.reproducibility`) under ``source``. A block whose
results were made from other code than the checkout's, or that record no
source, is rendered with a visible line ``> **Stale**: made at commit X;
`mmboundary` changed since ...; rerun `COMMAND`.`` above its table, and
``update_readme_tables.py --strict`` refuses it; rerunning the command
makes the block fresh.

JSON layout (``version`` 1)::

    {"version": 1, "command": "python tools/...", "machine": "...",
     "date": "2026-12-01 02:10 UTC", "load_average": [start, end],
     "source": {"commit": "<sha>", "dirty": [], "inputs": {"mmboundary":
                "<sha256>", ...}},
     "tables": {"speed": {"columns": ["size", "ratio"],
                          "rows": [["1x512x1024", 12.3]],
                          "digits": 2, "notes": ["..."]}}}
"""
import datetime
import json
import os
import os.path as osp
import platform
import re
import shlex
import sys
from typing import Dict, List, Optional, Sequence

from .reproducibility import source_state, stale_note

__all__ = [
    'RESULTS_VERSION', 'machine_description', 'tool_command', 'dump_results',
    'load_results', 'render_table', 'render_block', 'update_readme',
    'new_block', 'find_blocks', 'unsourced_tables', 'stale_blocks',
    'SOURCE_NOW'
]

RESULTS_VERSION = 1
#: ``dump_results(source=SOURCE_NOW)``: record the checkout as it is now.
SOURCE_NOW = 'now'
BLOCK_RE = re.compile(
    r'<!-- results: (?P<source>[^#\s]+)#(?P<table>[\w.-]+) \(written by '
    r'tools/misc/update_readme_tables\.py; do not edit\) -->\n'
    r'(?P<body>.*?)<!-- results end -->', re.S)
_HEADER = ('<!-- results: {source}#{table} (written by '
           'tools/misc/update_readme_tables.py; do not edit) -->\n')
_FOOTER = '<!-- results end -->'
TABLE_MARKER_RE = re.compile(
    r'^<!-- (paper numbers|not measured): \S.*\S -->$')
_TABLE_RULE_RE = re.compile(r'^\|(\s*:?-{3,}:?\s*\|)+\s*$')


def _repo_root() -> str:
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def machine_description(device: str = 'cpu') -> str:
    """CPU model, visible cores, the device used and the OS, in words."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return (f'{cpu}, {os.cpu_count()} cores visible, device {device}, '
            f'{platform.system()} {platform.release()}')


def tool_command(argv: Optional[Sequence[str]] = None) -> str:
    """The command line that runs this tool, relative to the repository
    (``python tools/... args``), for the record."""
    argv = list(sys.argv if argv is None else argv)
    script = argv[0]
    if osp.isabs(script):
        rel = osp.relpath(script, _repo_root())
        script = script if rel.startswith('..') else rel
    return ' '.join(['python', shlex.quote(script)] +
                    [shlex.quote(a) for a in argv[1:]])


def _check_table(name: str, table: Dict) -> None:
    if not isinstance(table, dict) or not isinstance(
            table.get('columns'), list) or not isinstance(
                table.get('rows'), list):
        raise ValueError(f'results table {name!r} must be a dict with the '
                         "lists 'columns' and 'rows'")
    width = len(table['columns'])
    for i, row in enumerate(table['rows']):
        if not isinstance(row, (list, tuple)) or len(row) != width:
            raise ValueError(
                f'results table {name!r}: row {i} has '
                f'{len(row) if isinstance(row, (list, tuple)) else row!r} '
                f'cells, the table has {width} columns {table["columns"]}')


def dump_results(path: str,
                 tables: Dict[str, Dict],
                 command: Optional[str] = None,
                 device: str = 'cpu',
                 load_start: Optional[float] = None,
                 load_end: Optional[float] = None,
                 machine: Optional[str] = None,
                 date: Optional[str] = None,
                 source=SOURCE_NOW,
                 source_paths: Sequence[str] = (),
                 **extra) -> Dict:
    """Store measured tables with the command that measured them.

    Args:
        path (str): JSON file to write (folders are created).
        tables (dict): ``name -> {'columns': [str], 'rows': [[cell]],
            'digits': int (optional, floats' decimals, default 2),
            'notes': [str] (optional, printed under the table)}``.
        command (str, optional): The generating command; default: this
            process's own command line (:func:`tool_command`).
        device (str): Device the numbers were measured on.
        load_start (float, optional): 1-min load average when the
            measurement started (``os.getloadavg()[0]``); the end's is
            read now (or given as ``load_end``). Timings under load are
            inflated, so both are kept.
        machine (str, optional): Where it was measured, when that is not
            this process (re-storing an earlier run's results); default
            :func:`machine_description` of ``device``.
        date (str, optional): When it was measured; default now.
        source (dict | None | str): The code the numbers come from
            (:func:`~mmboundary.utils.reproducibility.source_state`):
            :data:`SOURCE_NOW` (default) records this checkout now (None
            outside a git checkout); re-storing an earlier run's results,
            pass the record that run made (None when it made none: the
            block then shows as stale).
        source_paths (Sequence[str]): Inputs besides ``mmboundary/``,
            ``configs/`` and the command's script (e.g. ``tools/train.py``),
            with :data:`SOURCE_NOW`.
        **extra: More JSON-serialisable fields (raw measurements).

    Returns:
        dict: What was written.
    """
    for name, table in tables.items():
        _check_table(name, table)
    end = os.getloadavg()[0] if load_end is None else load_end
    command = command or tool_command()
    if source == SOURCE_NOW:
        source = source_state(_repo_root(), command, source_paths)
    data = dict(
        version=RESULTS_VERSION,
        command=command,
        machine=machine or machine_description(device),
        date=date or datetime.datetime.now(
            datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        load_average=[
            round(end if load_start is None else load_start, 2),
            round(end, 2)
        ],
        source=source,
        tables=tables,
        **extra)
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    return data


def load_results(path: str) -> Dict:
    """Read a file written by :func:`dump_results`, checked."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'results file {path} does not exist; run the command that '
            'writes it (its README block names it)')
    with open(path) as f:
        data = json.load(f)
    if data.get('version') != RESULTS_VERSION:
        raise ValueError(f'{path}: results version {data.get("version")!r},'
                         f' expected {RESULTS_VERSION}; rerun its command')
    for key in ('command', 'machine', 'date', 'tables'):
        if key not in data:
            raise ValueError(f'{path}: missing {key!r}; rerun its command')
    for name, table in data['tables'].items():
        _check_table(name, table)
    return data


def _cell(value, digits: int) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value).replace('|', '\\|')


def render_table(table: Dict) -> str:
    """A results table as a Markdown table (floats with ``digits``
    decimals, ``None`` as ``-``) followed by its notes."""
    digits = table.get('digits', 2)
    lines = [
        '| ' + ' | '.join(table['columns']) + ' |',
        '|' + '---|' * len(table['columns'])
    ]
    for row in table['rows']:
        lines.append('| ' + ' | '.join(_cell(c, digits) for c in row) + ' |')
    text = '\n'.join(lines) + '\n'
    notes = table.get('notes') or []
    if notes:
        text += '\n' + ''.join(f'- {n}\n' for n in notes)
    return text


def render_block(source: str,
                 table: str,
                 data: Dict,
                 root: Optional[str] = None) -> str:
    """The README block of ``data['tables'][table]`` stored in ``source``
    (a path relative to the repository root): a visible stale line when
    the checkout ``root`` (default: this repository) may no longer give
    these numbers (:func:`~mmboundary.utils.reproducibility.stale_note`),
    the table, then the command, machine, date and load average it was
    measured with."""
    if table not in data['tables']:  # before the source check's work
        raise KeyError(f'{source} has no table {table!r}; it has '
                       f'{sorted(data["tables"])}')
    return _render(source, table, data, stale_note(data, root or _repo_root()))


def _render(source: str, table: str, data: Dict, note: Optional[str]) -> str:
    if table not in data['tables']:
        raise KeyError(f'{source} has no table {table!r}; it has '
                       f'{sorted(data["tables"])}')
    load = data.get('load_average') or [None, None]
    load_text = ' / '.join('?' if v is None else f'{v:.1f}' for v in load)
    return (_HEADER.format(source=source, table=table) +
            (f'{note}\n\n' if note else '') +
            render_table(data['tables'][table]) +
            f'\nCommand: `{data["command"]}`  \n'
            f'Machine: {data["machine"]}; {data["date"]}; load average '
            f'{load_text} at the start / end (timings measured under other '
            'processes\' load are inflated).\n' + _FOOTER)


def update_readme(readme: str,
                  check: bool = False,
                  root: Optional[str] = None,
                  strict: bool = False) -> List[str]:
    """Rewrite (or with ``check`` compare) every results block of a README
    from the JSON file it cites.

    Args:
        readme (str): Markdown file.
        check (bool): Only compare; do not write.
        root (str, optional): Where block sources are relative to (the
            repository root by default); also the checkout whose code the
            results are checked against.
        strict (bool): Refuse stale results (see :func:`stale_blocks`):
            their blocks are left as they are and reported, with ``check``
            among the problems, without it in the raised error.

    Returns:
        list[str]: With ``check``, one message per block that differs from
        its source (empty: all equal). Without, the blocks rewritten.

    Raises:
        ValueError: Without ``check``, when a block's source is missing or
            has no such table, or with ``strict`` is stale (after writing
            the other blocks).
    """
    root = root or _repo_root()
    with open(readme) as f:
        text = f.read()
    problems, changed = [], []

    def _sub(match):
        source, table = match.group('source'), match.group('table')
        try:
            data = load_results(osp.join(root, source))
            note = stale_note(data, root)
            new = _render(source, table, data, note)
        except (FileNotFoundError, ValueError, KeyError) as e:
            problems.append(f'{readme}: block {source}#{table}: {e}')
            return match.group(0)
        if strict and note:
            problems.append(f'{readme}: block {source}#{table}: stale '
                            f'results refused (--strict): {note[2:]}')
            return match.group(0)
        if new != match.group(0):
            problems.append(
                f'{readme}: block {source}#{table} differs from {source}; '
                'run python tools/misc/update_readme_tables.py '
                '(never edit a results block by hand)')
            changed.append(f'{source}#{table}')
        return new

    new_text = BLOCK_RE.sub(_sub, text)
    if check:
        return problems
    # blocks whose source loads are written even when another block's
    # source is missing (e.g. results a later run will write); the missing
    # ones are then reported
    if new_text != text:
        with open(readme, 'w') as f:
            f.write(new_text)
    load_errors = [p for p in problems if 'differs from' not in p]
    if load_errors:
        raise ValueError('\n'.join(load_errors))
    return changed


def find_blocks(readme: str) -> List[Dict[str, str]]:
    """``[{'source': ..., 'table': ...}]`` of every results block in a
    README, in order."""
    with open(readme) as f:
        text = f.read()
    return [
        dict(source=m.group('source'), table=m.group('table'))
        for m in BLOCK_RE.finditer(text)
    ]


def stale_blocks(readme: str, root: Optional[str] = None) -> List[str]:
    """``'README: block SOURCE#TABLE: <stale line>'`` of every block whose
    results the checkout ``root`` (default: this repository) may no longer
    reproduce: made from other code (``mmboundary/``, ``configs/`` or the
    generating tool changed since), or with no source recorded. Blocks
    whose source does not load are left to :func:`update_readme`."""
    root = root or _repo_root()
    found = []
    for block in find_blocks(readme):
        try:
            data = load_results(osp.join(root, block['source']))
        except (FileNotFoundError, ValueError):
            continue
        note = stale_note(data, root)
        if note:
            found.append(f"{readme}: block {block['source']}#"
                         f"{block['table']}: {note[2:]}")
    return found


def new_block(source: str, table: str) -> str:
    """An empty block to paste into a README; ``update_readme`` fills it."""
    return _HEADER.format(source=source, table=table) + _FOOTER


def unsourced_tables(readme: str) -> List[str]:
    """Markdown tables of a README that hold numbers from nowhere.

    A table is fine inside a results block, or when the last non-blank line
    above it is a marker ``<!-- paper numbers: ... -->`` or ``<!-- not
    measured: ... -->`` (see the module docstring). Tables inside fenced
    code are not tables.

    Args:
        readme (str): Markdown file.

    Returns:
        list[str]: ``'README:LINE: header'`` of every other table.
    """
    with open(readme) as f:
        text = f.read()
    # blank the results blocks, keeping the line count
    text = BLOCK_RE.sub(lambda m: '\n' * m.group(0).count('\n'), text)
    lines = text.split('\n')
    found, fenced, previous = [], False, ''
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith('```'):
            fenced = not fenced
        is_header = (not fenced and stripped.startswith('|')
                     and i + 1 < len(lines)
                     and _TABLE_RULE_RE.match(lines[i + 1].strip()))
        if is_header and not TABLE_MARKER_RE.match(previous):
            found.append(f'{readme}:{i + 1}: {stripped}')
        if stripped:
            previous = stripped
    return found
