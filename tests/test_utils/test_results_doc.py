# Copyright (c) mmboundary contributors. All rights reserved.
import json
import shutil
import subprocess

import pytest

from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils import reproducibility as rp
from mmboundary.utils import results_doc as rd


def _write(tmp_path, tables, command='python tools/x.py --a 1'):
    path = tmp_path / 'res' / 'r.json'
    rd.dump_results(str(path), tables, command=command, load_start=1.25)
    return path


def test_dump_and_render_exact(tmp_path):
    tables = dict(
        speed=dict(
            columns=['size', 'ratio', 'n'],
            rows=[['1x512x1024', 12.3456, 3], ['a|b', None, 0]],
            digits=1,
            notes=['pairs equal']))
    path = _write(tmp_path, tables)
    data = json.loads(path.read_text())
    assert data['version'] == 1
    assert data['command'] == 'python tools/x.py --a 1'
    assert data['load_average'][0] == 1.25
    assert data['tables'] == tables
    assert rd.render_table(
        data['tables']['speed']) == ('| size | ratio | n |\n'
                                     '|---|---|---|\n'
                                     '| 1x512x1024 | 12.3 | 3 |\n'
                                     '| a\\|b | - | 0 |\n'
                                     '\n- pairs equal\n')
    block = rd.render_block('res/r.json', 'speed', data)
    assert block.startswith('<!-- results: res/r.json#speed (written by ')
    assert block.endswith('<!-- results end -->')
    assert '`python tools/x.py --a 1`' in block


def test_default_digits_and_command(tmp_path):
    table = dict(columns=['v'], rows=[[0.125], [2.0]])
    assert rd.render_table(table).splitlines()[2:] == ['| 0.12 |', '| 2.00 |']
    cmd = rd.tool_command(
        [rd._repo_root() + '/tools/misc/run_main_job.py', '--rows', 'A B'])
    assert cmd == "python tools/misc/run_main_job.py --rows 'A B'"


def test_update_and_check_readme(tmp_path):
    tables = dict(t=dict(columns=['a'], rows=[[1.5]]))
    _write(tmp_path, tables)
    readme = tmp_path / 'README.md'
    readme.write_text('# X\n\n' + rd.new_block('res/r.json', 't') +
                      '\n\ntext 7\n')
    assert rd.find_blocks(
        str(readme)) == [dict(source='res/r.json', table='t')]
    # an empty block differs from its source
    problems = rd.update_readme(str(readme), check=True, root=str(tmp_path))
    assert len(problems) == 1 and 'differs from res/r.json' in problems[0]
    changed = rd.update_readme(str(readme), root=str(tmp_path))
    assert changed == ['res/r.json#t']
    text = readme.read_text()
    assert '| 1.50 |' in text and text.endswith('\n\ntext 7\n')
    assert rd.update_readme(str(readme), check=True, root=str(tmp_path)) == []
    # a number edited by hand inside the block is caught
    readme.write_text(text.replace('| 1.50 |', '| 1.60 |'))
    assert rd.update_readme(str(readme), check=True, root=str(tmp_path))
    # so is a changed source under an unchanged block
    readme.write_text(text)
    _write(tmp_path, dict(t=dict(columns=['a'], rows=[[1.6]])))
    assert rd.update_readme(str(readme), check=True, root=str(tmp_path))


def test_bad_results(tmp_path):
    with pytest.raises(ValueError, match="row 0 has 1 cells.*2 columns"):
        rd.dump_results(
            str(tmp_path / 'x.json'),
            dict(t=dict(columns=['a', 'b'], rows=[[1]])))
    with pytest.raises(ValueError, match="'columns' and 'rows'"):
        rd.dump_results(str(tmp_path / 'x.json'), dict(t=dict(columns=[])))
    readme = tmp_path / 'README.md'
    readme.write_text(rd.new_block('missing.json', 't'))
    problems = rd.update_readme(str(readme), check=True, root=str(tmp_path))
    assert 'missing.json does not exist' in problems[0]
    with pytest.raises(ValueError, match='missing.json'):
        rd.update_readme(str(readme), root=str(tmp_path))
    _write(tmp_path, dict(u=dict(columns=['a'], rows=[])))
    readme.write_text(rd.new_block('res/r.json', 't'))
    problems = rd.update_readme(str(readme), check=True, root=str(tmp_path))
    assert "has no table 't'" in problems[0]


def test_unsourced_tables(tmp_path):
    _write(tmp_path, dict(t=dict(columns=['a'], rows=[[1.5]])))
    readme = tmp_path / 'README.md'
    parts = [
        '# X',  # 1
        '',
        '| typed | by hand |',  # 3: no marker
        '| --- | --- |',
        '| 1.0 | 2.0 |',
        '',
        '<!-- paper numbers: Chen et al. 2020, Table 1 -->',
        '',
        '| paper | mIoU |',  # 9: marked (a blank line in between is fine)
        '|---|---|',
        '| a | 66.6 |',
        'Text between.',
        '| after | text |',  # 13: the marker is not the line above
        '|:---:|---:|',
        '<!-- not measured: configs -->',
        '| config | what |',  # 16: marked
        '|---|---|',
        '```',
        '| in | code |',  # 19: fenced, not a table
        '|---|---|',
        '```',
        '<!-- not measured: -->',
        '| empty | reason |',  # 23: a marker must give a reason
        '|---|---|',
        '<!-- paper numbers: x -->',
        '| not | a table |',  # 26: no rule below, so not a header
        '',
        rd.new_block('res/r.json', 't'),
        '| last | one |',  # the block's own table is not counted
        '|---|---|',
    ]
    readme.write_text('\n'.join(parts) + '\n')
    rd.update_readme(str(readme), root=str(tmp_path))
    text = readme.read_text()
    assert '| 1.50 |' in text  # the block now holds a table
    found = rd.unsourced_tables(str(readme))
    block_lines = rd.render_block(
        'res/r.json', 't', rd.load_results(str(tmp_path / 'res' / 'r.json')),
        str(tmp_path)).count('\n')
    # the filled block adds its lines before the last table
    assert found == [
        f'{readme}:3: | typed | by hand |',
        f'{readme}:13: | after | text |',
        f'{readme}:23: | empty | reason |',
        f'{readme}:{29 + block_lines}: | last | one |',
    ]


def test_a_missing_source_does_not_block_the_others(tmp_path):
    _write(tmp_path, dict(t=dict(columns=['a'], rows=[[2.25]])))
    readme = tmp_path / 'README.md'
    readme.write_text(
        rd.new_block('later.json', 'x') + '\n' +
        rd.new_block('res/r.json', 't'))
    with pytest.raises(ValueError, match='later.json does not exist'):
        rd.update_readme(str(readme), root=str(tmp_path))
    text = readme.read_text()
    assert '| 2.25 |' in text
    assert text.startswith(rd.new_block('later.json', 'x') + '\n')


@pytest.mark.parametrize('key', ['command', 'machine', 'date', 'tables'])
def test_load_results_requires_every_key(tmp_path, key):
    """Issue 20 item 7: stored results without the command that made them
    (or the machine, date, tables) are refused, naming the key."""
    path = _write(tmp_path, dict(t=dict(columns=['a'], rows=[[1]])))
    assert rd.load_results(str(path))['command'] == 'python tools/x.py --a 1'
    data = json.loads(path.read_text())
    del data[key]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"missing '{key}'; rerun"):
        rd.load_results(str(path))


# ------------------------------------------------- source record (issue 24)
def _git(root, *args):
    return subprocess.run(['git', '-C', str(root), *args],
                          check=True,
                          capture_output=True,
                          text=True).stdout.strip()


def test_dump_results_records_the_checkout():
    if rp.git_root(REPO_ROOT) is None:
        pytest.skip('not a git checkout: no commit to record')
    data = rd.dump_results(
        '/dev/null',
        dict(t=dict(columns=['a'], rows=[])),
        command='python tools/misc/update_readme_tables.py --check',
        source_paths=['tools/train.py'])
    assert data['source']['commit'] == _git(REPO_ROOT, 'rev-parse', 'HEAD')
    assert list(data['source']['inputs']) == [
        'mmboundary', 'configs', 'tools/misc/update_readme_tables.py',
        'tools/train.py'
    ]
    assert data['source']['inputs']['configs'] == rp.fingerprint(
        REPO_ROOT, 'configs')
    # re-storing an earlier run's results keeps that run's record
    data = rd.dump_results(
        '/dev/null', dict(t=dict(columns=['a'], rows=[])), source=None)
    assert data['source'] is None


@pytest.fixture
def repo(tmp_path):
    if shutil.which('git') is None:
        pytest.skip('git is not installed')
    _git(tmp_path, 'init', '-q')
    _git(tmp_path, 'config', 'user.email', 't@t')
    _git(tmp_path, 'config', 'user.name', 't')
    (tmp_path / 'mmboundary').mkdir()
    (tmp_path / 'mmboundary' / 'm.py').write_text('X = 1\n')
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'x.py').write_text('print(1)\n')
    _git(tmp_path, 'add', '-A')
    _git(tmp_path, 'commit', '-q', '-m', 'one')
    return tmp_path


def test_stale_blocks_are_marked_and_refused_with_strict(repo):
    source = rp.source_state(str(repo), 'python tools/x.py --a 1')
    path = repo / 'res' / 'r.json'
    rd.dump_results(
        str(path),
        dict(t=dict(columns=['a'], rows=[[1.5]])),
        command='python tools/x.py --a 1',
        source=source)
    readme = repo / 'README.md'
    readme.write_text(rd.new_block('res/r.json', 't') + '\n')
    root = str(repo)
    assert rd.update_readme(str(readme), root=root) == ['res/r.json#t']
    fresh = readme.read_text()
    assert 'Stale' not in fresh and '| 1.50 |' in fresh
    assert rd.update_readme(str(readme), check=True, root=root) == []
    assert rd.stale_blocks(str(readme), root) == []
    # the code changes: the block no longer equals what the tool writes
    (repo / 'mmboundary' / 'm.py').write_text('X = 2\n')
    problems = rd.update_readme(str(readme), check=True, root=root)
    assert len(problems) == 1 and 'differs from res/r.json' in problems[0]
    note = (f'> **Stale**: made at commit {source["commit"][:12]}; '
            '`mmboundary` changed since, so the current code may give other '
            'numbers; rerun `python tools/x.py --a 1`.')
    assert rd.stale_blocks(
        str(readme), root) == [f'{readme}: block res/r.json#t: {note[2:]}']
    # --strict refuses it and leaves the block as it was
    problems = rd.update_readme(
        str(readme), check=True, root=root, strict=True)
    assert any('stale results refused (--strict)' in p for p in problems)
    with pytest.raises(ValueError, match='stale results refused'):
        rd.update_readme(str(readme), root=root, strict=True)
    assert readme.read_text() == fresh
    # without it, the block shows the stale line above its table, and that
    # is what the check expects from then on
    assert rd.update_readme(str(readme), root=root) == ['res/r.json#t']
    marked = readme.read_text()
    assert marked == fresh.replace(
        '(written by tools/misc/update_readme_tables.py; do not edit) -->\n',
        '(written by tools/misc/update_readme_tables.py; do not edit) -->\n' +
        note + '\n\n')
    assert rd.update_readme(str(readme), check=True, root=root) == []
    assert rd.render_block('res/r.json', 't', rd.load_results(str(path)),
                           root) in marked
    # the code back as measured: fresh again
    (repo / 'mmboundary' / 'm.py').write_text('X = 1\n')
    assert rd.update_readme(str(readme), root=root) == ['res/r.json#t']
    assert readme.read_text() == fresh


def test_results_without_a_source_are_stale(repo):
    rd.dump_results(
        str(repo / 'r.json'),
        dict(t=dict(columns=['a'], rows=[[2.0]])),
        command='python tools/x.py',
        source=None)
    readme = repo / 'README.md'
    readme.write_text(rd.new_block('r.json', 't'))
    rd.update_readme(str(readme), root=str(repo))
    assert ('-->\n> **Stale**: no source commit is recorded with these '
            'numbers') in readme.read_text()
    with pytest.raises(ValueError, match='r.json#t: stale results refused'):
        rd.update_readme(str(readme), root=str(repo), strict=True)
