# Copyright (c) mmboundary contributors. All rights reserved.
"""The model index and every metafile point at files that exist."""
import glob
import os.path as osp

import yaml

from mmboundary.testing._utils import REPO_ROOT


def _load(path):
    with open(osp.join(REPO_ROOT, path)) as f:
        return yaml.safe_load(f)


def test_model_index_imports_every_metafile():
    imports = _load('model-index.yml')['Import']
    found = sorted(
        osp.relpath(p, REPO_ROOT) for p in glob.glob(
            osp.join(REPO_ROOT, 'configs', '*', 'metafile.yml')))
    assert found and sorted(imports) == found


def test_metafile_entries_exist():
    for metafile in _load('model-index.yml')['Import']:
        meta = _load(metafile)
        folder = osp.dirname(metafile)
        assert osp.isfile(osp.join(REPO_ROOT, folder, 'README.md'))
        for collection in meta.get('Collections', []):
            assert osp.isfile(osp.join(REPO_ROOT, collection['README']))
        assert meta['Models'], metafile
        for model in meta['Models']:
            assert osp.isfile(osp.join(REPO_ROOT, model['Config'])), \
                f"{metafile}: {model['Config']} does not exist"
