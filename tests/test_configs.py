# Copyright (c) mmboundary contributors. All rights reserved.
"""Build the model and every pipeline of every shipped config."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import MODELS, init_default_scope

from mmboundary.testing._utils import REPO_ROOT


def _config_paths():
    patterns = ['configs/**/*.py', 'projects/*/configs/**/*.py']
    paths = set()
    for pattern in patterns:
        paths.update(glob.glob(osp.join(REPO_ROOT, pattern), recursive=True))
    return sorted(
        osp.relpath(p, REPO_ROOT) for p in paths
        if '_base_' not in p.split(osp.sep))


CONFIGS = _config_paths()


def test_configs_were_found():
    assert len(CONFIGS) >= 1, 'no config found under configs/ or projects/'


def _pipelines(cfg):
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) is None:
            continue
        dataset = cfg[loader]['dataset']
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']  # RepeatDataset & co.
        if 'datasets' in dataset:
            for sub in dataset['datasets']:
                yield loader, sub['pipeline']
        else:
            yield loader, dataset['pipeline']


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds(path):
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    imports = cfg.get('custom_imports', {}).get('imports', [])
    assert 'mmboundary' in imports, f'{path} lacks custom_imports'
    assert cfg.custom_imports.get('allow_failed_imports', False) is False
    scope = cfg.get('default_scope')
    assert scope in ('mmseg', 'mmdet'), f'{path}: default_scope {scope!r}'
    init_default_scope(scope)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
    found = 0
    for _, pipeline in _pipelines(cfg):
        Compose(pipeline)
        found += 1
    assert found >= 2, f'{path}: expected train and test pipelines'
