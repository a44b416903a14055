# Copyright (c) mmboundary contributors. All rights reserved.
"""What a config's name says is what its built model has (issue 14, item
4): edge filters, p, alpha and mask size of the Edge Agreement configs;
layer weights, ReLU side, PPCE weight and the edge head of the SEMEDA
configs; the backbone depth of all of them."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmboundary.testing._utils import REPO_ROOT

EA_NAME = re.compile(r'^mask-rcnn(?P<m56>-m56)?'
                     r'(?:-ea-(?P<filters>[a-z0-9-]+?)-l(?P<p>\d+)'
                     r'(?:-a(?P<alpha>\d+))?)?(?P<warmup>-warmup)?$')
SEMEDA_WEIGHTS = {
    None: (1.0, 0.5, 0.25),
    'desc': (1.0, 0.5, 0.25),
    'asc': (0.25, 0.5, 1.0),
    '010': (0.0, 1.0, 0.0),
    '100': (1.0, 0.0, 0.0),
}
SEMEDA_NAME = re.compile(r'^semeda(?:-w(?P<w>010|100|asc|desc))?'
                         r'(?P<relu>-relu)?$')
PPCE_NAME = re.compile(r'^ppce-edge-w(?P<w>\d+)$')
BACKBONE = re.compile(r'^r(?P<depth>\d+)')


def _configs(*patterns):
    paths = []
    for pattern in patterns:
        paths += glob.glob(osp.join(REPO_ROOT, pattern))
    return sorted(osp.relpath(p, REPO_ROOT) for p in paths)


EA_CONFIGS = _configs('configs/edge_agreement/*.py',
                      'projects/edge_loss_warmup/configs/*.py')
SEMEDA_CONFIGS = _configs('configs/semeda/*.py')


def _parts(path):
    method, backbone = osp.basename(path)[:-3].split('_')[:2]
    return method, int(BACKBONE.match(backbone).group('depth'))


def test_every_config_name_is_understood():
    assert len(EA_CONFIGS) >= 15 and len(SEMEDA_CONFIGS) >= 15
    for path in EA_CONFIGS:
        assert EA_NAME.match(_parts(path)[0]), path
    for path in SEMEDA_CONFIGS:
        method = _parts(path)[0]
        assert (SEMEDA_NAME.match(method) or PPCE_NAME.match(method)
                or method in ('ubernet-edge', 'deeplabv3', 'fcn')), path


@pytest.mark.parametrize('path', EA_CONFIGS)
def test_edge_agreement_config_is_what_its_name_says(path):
    method, depth = _parts(path)
    spec = EA_NAME.match(method).groupdict()
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    init_default_scope('mmdet')
    assert cfg.model.backbone.depth == depth
    head = MODELS.build(cfg.model.roi_head.mask_head)
    if spec['filters'] is None:
        assert type(head).__name__ == 'FCNMaskHead'
    else:
        assert type(head).__name__ == 'EdgeAgreementMaskHead'
        loss, = head.loss_edge
        assert loss.filters == tuple(spec['filters'].split('-'))
        assert loss.p == float(spec['p'])
        alpha = 1 / int(spec['alpha']) if spec['alpha'] else 1.0
        assert loss.loss_weight == pytest.approx(alpha)
    # mask size: the head's output for the RoI extractor's features, and
    # the size of the targets it is trained against
    size = 56 if spec['m56'] else 28
    roi = cfg.model.roi_head.mask_roi_extractor.roi_layer.output_size
    with torch.no_grad():
        out = head.eval()(torch.zeros(1, head.in_channels, roi, roi))
    assert tuple(out.shape[-2:]) == (size, size)
    assert cfg.model.train_cfg.rcnn.mask_size == size
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    assert ('LossWeightWarmupHook' in hooks) == bool(spec['warmup'])


def _semeda_losses(head):
    return [m for m in head.modules() if type(m).__name__ == 'SemedaLoss']


@pytest.mark.parametrize('path', SEMEDA_CONFIGS)
def test_semeda_config_is_what_its_name_says(path):
    method, depth = _parts(path)
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    init_default_scope('mmseg')
    assert cfg.model.backbone.depth == depth
    head = MODELS.build(cfg.model.decode_head)
    losses = _semeda_losses(head)
    aux = cfg.model.get('auxiliary_head') or []
    aux = aux if isinstance(aux, list) else [aux]
    aux_types = [a['type'] for a in aux]
    semeda, ppce = SEMEDA_NAME.match(method), PPCE_NAME.match(method)
    if semeda:
        loss, = losses
        assert loss.mode == 'embedding'
        assert loss.layer_weights == SEMEDA_WEIGHTS[semeda.group('w')]
        assert loss.before_relu is (semeda.group('relu') is None)
    elif ppce:
        loss, = losses
        assert loss.mode == 'edge_ce'
        assert loss.loss_weight == float(ppce.group('w'))
    else:
        assert losses == []
    assert ('UbernetEdgeHead' in aux_types) == (method == 'ubernet-edge')
