# Copyright (c) mmboundary contributors. All rights reserved.
"""The InverseForm NYU-Depth-v2 configs are what their names say: method,
HRNet width, batch, schedule, crop, 40 classes, and the NYU data."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from mmboundary.testing._utils import REPO_ROOT

NAME = re.compile(r'^(?P<method>fcn|fcn-bce|inverseform|inverseform-geo)_'
                  r'hr(?P<width>18|48)_(?P<gpus>\d)xb(?P<batch>\d)-'
                  r'(?P<iters>\d+)k_nyuv2-(?P<h>\d+)x(?P<w>\d+)$')
CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT) for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', 'inverseform', '*_nyuv2-*.py')))
WIDTHS = {'18': [18, 36, 72, 144], '48': [48, 96, 192, 384]}
# (BoundaryBCELoss, InverseFormLoss distance) per method
LOSSES = {
    'fcn': None,
    'fcn-bce': ['BoundaryBCELoss'],
    'inverseform': ['BoundaryBCELoss', 'InverseFormLoss/euclidean'],
    'inverseform-geo': ['BoundaryBCELoss', 'InverseFormLoss/geodesic'],
}


def test_table_rows_are_all_there():
    names = [osp.basename(p)[:-3] for p in CONFIGS]
    assert sorted(names) == sorted([
        f'{m}_hr{w}_4xb2-10k_nyuv2-480x640'
        for m, w in (('fcn', 18), ('fcn-bce', 18), ('inverseform', 18),
                     ('inverseform-geo', 18), ('fcn', 48), ('inverseform', 48),
                     ('inverseform-geo', 48))
    ])


@pytest.mark.parametrize('path', CONFIGS)
def test_nyuv2_config_is_what_its_name_says(path):
    spec = NAME.match(osp.basename(path)[:-3]).groupdict()
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    model = cfg.model
    assert model.backbone.extra.stage4.num_channels == tuple(
        WIDTHS[spec['width']])
    assert model.decode_head.in_channels == WIDTHS[spec['width']]
    assert model.decode_head.channels == sum(WIDTHS[spec['width']])
    assert model.decode_head.num_classes == 40
    assert model.pretrained.endswith(f'hrnetv2_w{spec["width"]}')
    crop = (int(spec['h']), int(spec['w']))
    assert model.data_preprocessor.size == crop
    assert cfg.train_dataloader.batch_size == int(spec['batch'])
    assert cfg.train_cfg.max_iters == int(spec['iters']) * 1000
    assert cfg.param_scheduler[0].end == cfg.train_cfg.max_iters
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'test'), ('test_dataloader',
                                                       'test')):
        dataset = cfg[loader].dataset
        assert dataset.type == 'NYUv2SegDataset'
        assert dataset.data_prefix.img_path == f'images/{split}'
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline[-2:] == ['GenerateSobelBoundary', 'PackSegInputs']
    crops = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t.type == 'RandomCrop'
    ]
    assert [c.crop_size for c in crops] == [crop]
    aux = model.get('auxiliary_head')
    if LOSSES[spec['method']] is None:
        assert aux is None and not cfg.get('custom_hooks')
        return
    assert aux.type == 'BoundaryHead'
    assert aux.in_channels == WIDTHS[spec['width']]
    assert aux.channels == sum(WIDTHS[spec['width']])
    losses = [
        loss.type + (f'/{loss.distance}' if 'distance' in loss else '')
        for loss in aux.loss_decode
    ]
    assert losses == LOSSES[spec['method']]
    assert [loss.loss_weight
            for loss in aux.loss_decode] == [0.3] * len(losses)
    hooks = [h.type for h in cfg.get('custom_hooks', [])]
    assert hooks == (['InverseNetPretrainHook'] if len(losses) == 2 else [])
    if spec['method'] == 'inverseform-geo':
        assert aux.loss_decode[1].geodesic_lambda == 0.1
