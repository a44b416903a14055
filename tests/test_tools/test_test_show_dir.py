# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/test.py --show-dir: its help says where a relative folder goes, and
for an mmseg config that is where the painted images land (issue 21, item
5: the help said "under the work dir", mmseg writes to the current
directory)."""
import glob
import os.path as osp

import pytest

from mmboundary.testing import import_tool
from mmboundary.testing._utils import REPO_ROOT
from ..conftest import TINY_SEG_CFG, data_root_options, run_tool


def test_help_names_both_hosts(capsys):
    with pytest.raises(SystemExit):
        import_tool('tools/test.py').parse_args(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert 'current directory for mmseg configs' in text
    assert 'DIR/vis_data/vis_image' in text
    assert 'WORK_DIR/TIMESTAMP for mmdet configs' in text


def test_relative_show_dir_of_an_mmseg_config_is_under_the_cwd(
        tiny_seg_run, tiny_seg_root, tmp_path):
    cwd = tmp_path / 'elsewhere'
    cwd.mkdir()
    work_dir = tmp_path / 'work'
    run_tool([
        osp.join(REPO_ROOT, 'tools', 'test.py'), TINY_SEG_CFG,
        osp.join(tiny_seg_run, 'iter_4.pth'), '--work-dir',
        str(work_dir), '--show-dir', 'painted', '--cfg-options',
        *data_root_options(tiny_seg_root)
    ],
             cwd=str(cwd))
    # two val images, painted where the help says
    painted = glob.glob(
        str(cwd / 'painted' / 'vis_data' / 'vis_image' / '*.png'))
    assert len(painted) == 2
    assert not glob.glob(str(work_dir / '**' / 'painted'), recursive=True)
