# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/misc/publish_model.py."""
import hashlib
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from ..conftest import TINY_SEG_CFG, run_tool


def _predict(ckpt_path):
    cfg = Config.fromfile(TINY_SEG_CFG)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, ckpt_path, map_location='cpu', strict=True)
    model.eval()
    torch.manual_seed(0)
    inputs = torch.rand(2, 3, 32, 64)
    with torch.no_grad():
        return model(inputs, mode='tensor')


def test_publish_strips_state_hashes_name_and_keeps_predictions(
        tiny_seg_run, tmp_path):
    src = osp.join(tiny_seg_run, 'iter_4.pth')
    out = str(tmp_path / 'zoo' / 'tiny.v1_model.pth')
    proc = run_tool(['tools/misc/publish_model.py', src, out])
    final = proc.stdout.strip().splitlines()[-1]

    with open(final, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    # stem via splitext: the dot inside the name is kept
    assert final == str(tmp_path / 'zoo' / f'tiny.v1_model-{sha[:8]}.pth')

    published = torch.load(final, map_location='cpu', weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta']['iter'] == 4
    assert torch.equal(_predict(src), _predict(final))


def test_publish_drops_training_only_subtrees(tmp_path):
    from mmboundary.models.utils import FrozenAuxNet
    model = torch.nn.Module()
    model.head = torch.nn.Conv2d(2, 2, 1)
    model.loss = torch.nn.Module()
    model.loss.edge_net = FrozenAuxNet(torch.nn.Conv2d(2, 3, 3))
    src = str(tmp_path / 'train.pth')
    torch.save({
        'meta': {},
        'state_dict': model.state_dict(),
        'optimizer': {}
    }, src)

    final = run_tool(
        ['tools/misc/publish_model.py', src,
         str(tmp_path / 'pub.pth')]).stdout.split()[-1]
    keys = set(torch.load(final, weights_only=True)['state_dict'])
    assert keys == {'head.weight', 'head.bias'}

    kept = run_tool([
        'tools/misc/publish_model.py', src,
        str(tmp_path / 'full.pth'), '--keep-training-only'
    ]).stdout.split()[-1]
    keys = set(torch.load(kept, weights_only=True)['state_dict'])
    assert 'loss.edge_net.net.weight' in keys
