# Copyright (c) mmboundary contributors. All rights reserved.
"""Every results block of every README equals the stored results it cites
(numbers in docs are written by the tools that measured them; a block of
results made from other code than the checkout's shows its stale line, as
the tool writes it); every method
README shows at least one such block, and none holds a table that is
neither a results block nor marked as paper numbers or not measured."""
import glob
import os.path as osp

import pytest

from mmboundary.testing import import_tool
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.reproducibility import git_root
from mmboundary.utils.results_doc import (find_blocks, unsourced_tables,
                                          update_readme)

readmes = import_tool('tools/misc/update_readme_tables.py').all_readmes()

# configs/baseline is the main job's baseline, not a method: its numbers are
# in the top-level README's main-job block (it holds no table at all).
method_readmes = sorted(
    osp.relpath(p, REPO_ROOT)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'README.md'))
    if osp.basename(osp.dirname(p)) != 'baseline')


def test_baseline_readme_has_no_unsourced_table():
    path = osp.join(REPO_ROOT, 'configs', 'baseline', 'README.md')
    assert unsourced_tables(path) == []


@pytest.mark.parametrize(
    'readme', readmes, ids=[osp.relpath(r, REPO_ROOT) for r in readmes])
def test_readme_blocks_equal_their_sources(readme):
    if git_root(REPO_ROOT) is None:
        pytest.skip('not a git checkout: whether each block is stale (its '
                    'results made from other code) cannot be checked')
    assert update_readme(readme, check=True) == []


def test_every_method_readme_is_checked():
    assert [osp.dirname(r).split('/')[-1] for r in method_readmes] == [
        'asyinst', 'dvis', 'edge_agreement', 'inverseform', 'semeda'
    ]


@pytest.mark.parametrize('readme', method_readmes)
def test_method_readme_has_results_and_no_unsourced_table(readme):
    path = osp.join(REPO_ROOT, readme)
    assert find_blocks(path), (
        f'{readme} shows no results block; store what the method measured '
        'with mmboundary.utils.results_doc.dump_results and show it with '
        'results_doc.new_block(PATH, TABLE)')
    assert unsourced_tables(path) == [], (
        'a table that is neither a results block nor marked '
        '<!-- paper numbers: PAPER, TABLE --> or <!-- not measured: WHAT -->'
        ' (see mmboundary/utils/results_doc.py)')
