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


def test_every_config_is_in_a_metafile():
    """Each config outside ``_base_`` is a model of some metafile (and no
    model is listed twice), so model-index / ``mim search`` see them all."""
    listed = []
    for metafile in _load('model-index.yml')['Import']:
        listed += [model['Config'] for model in _load(metafile)['Models']]
    assert len(listed) == len(set(listed)), sorted(
        c for c in set(listed) if listed.count(c) > 1)
    configs = sorted(
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py')))
    configs = [c for c in configs if not c.startswith('configs/_base_/')]
    assert len(configs) > 90
    assert sorted(set(configs) - set(listed)) == []


def test_baseline_folder_has_readme_and_metafile():
    meta = _load('configs/baseline/metafile.yml')
    assert [m['Config'] for m in meta['Models']] == [
        'configs/baseline/'
        'fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
    ]
    assert meta['Collections'][0]['README'] == 'configs/baseline/README.md'
