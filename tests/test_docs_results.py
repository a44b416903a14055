# Copyright (c) mmboundary contributors. All rights reserved.
"""Every results block of every README equals the stored results it cites
(numbers in docs are written by the tools that measured them)."""
import os.path as osp

import pytest

from mmboundary.testing import import_tool
from mmboundary.testing._utils import REPO_ROOT
from mmboundary.utils.results_doc import update_readme

readmes = import_tool('tools/misc/update_readme_tables.py').all_readmes()


@pytest.mark.parametrize(
    'readme', readmes, ids=[osp.relpath(r, REPO_ROOT) for r in readmes])
def test_readme_blocks_equal_their_sources(readme):
    assert update_readme(readme, check=True) == []
