# Copyright (c) mmboundary contributors. All rights reserved.
"""Configs carry their own ``custom_imports``, so the hosts' own
``tools/train.py`` (shipped in ``<pkg>/.mim/tools``) trains them too."""
import glob
import os.path as osp

import mmdet
import mmseg
import pytest

from ..conftest import run_tool

SEG_CFG = 'configs/baseline/' \
    'fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
# The example project's config: the compact Edge Agreement Mask R-CNN plus
# LossWeightWarmupHook (which resolves its loss path in before_train).
DET_CFG = 'projects/edge_loss_warmup/configs/mask-rcnn-ea-sobel-l2-warmup_' \
    'r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py'


def _dataloader_options(root):
    root = root.rstrip('/') + '/'
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ]


@pytest.mark.parametrize('host,cfg', [(mmseg, SEG_CFG), (mmdet, DET_CFG)])
def test_host_train_tool_runs_mmboundary_config(host, cfg,
                                                synthetic_cityscapes,
                                                tmp_path):
    tool = osp.join(osp.dirname(host.__file__), '.mim', 'tools', 'train.py')
    work_dir = str(tmp_path / 'work')
    options = _dataloader_options(synthetic_cityscapes) + [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'train_dataloader.batch_size=1', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1'
    ]
    if host is mmdet:
        ann = osp.join(synthetic_cityscapes, 'annotations',
                       'instancesonly_filtered_gtFine_val.json')
        options += [
            f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}'
        ]
    run_tool([tool, cfg, '--work-dir', work_dir, '--cfg-options', *options],
             timeout=900)
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert logs and 'Iter(train) [2/2]' in open(logs[0]).read()
    if host is mmdet:
        # the edge loss and its warm-up (60 iterations from 0) in the
        # host's own log: factor t / 60 at t = 0, 1, so no edge loss first
        lines = {
            i:
            [line for line in open(logs[0])
             if f'Iter(train) [{i}/2]' in line][0]
            for i in (1, 2)
        }
        assert 'warmup_factor: 0.0000' in lines[1]
        assert 'loss_mask_edge: 0.0000' in lines[1]
        assert f'warmup_factor: {1 / 60:.4f}' in lines[2]
        assert 'loss_mask_edge: ' in lines[2]
