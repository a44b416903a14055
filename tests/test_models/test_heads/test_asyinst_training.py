# Copyright (c) mmboundary contributors. All rights reserved.
"""The compact AsyInst config trains from boxes and depth, then predicts
masks that beat an empty prediction."""
import glob
import json
import os.path as osp

from tests.conftest import run_tool

CONFIG = ('configs/asyinst/'
          'asyinst_r18-fpn_1xb2-200iter_synthetic-cityscapes-128x256.py')
ITERS = 80


def test_compact_asyinst_trains_and_beats_empty_masks(synthetic_cityscapes,
                                                      tmp_path):
    root = synthetic_cityscapes
    # evaluate on the (4) training images: a smoke test of the whole path
    # (boxes + depth -> affinities -> losses -> masks), not of generalisation
    ann = osp.join(root, 'annotations',
                   'instancesonly_filtered_gtFine_train.json')
    work_dir = str(tmp_path / 'work')
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'val_dataloader.dataset.ann_file=' + ann,
        'val_dataloader.dataset.data_prefix.img=leftImg8bit/train/',
        f'val_evaluator.ann_file={ann}', f'train_cfg.max_iters={ITERS}',
        f'train_cfg.val_interval={ITERS}',
        f'default_hooks.checkpoint.interval={ITERS}',
        'custom_hooks.0.warmup_iters=20', 'randomness.seed=0'
    ]
    run_tool([
        'tools/train.py', CONFIG, '--work-dir', work_dir, '--cfg-options',
        *options
    ],
             timeout=900)
    log = open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]).read()
    # both affinity terms were trained, with their warmed-up weights
    assert 'loss_mask_pairwise' in log and 'loss_mask_depth' in log
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    records = [json.loads(line) for line in open(scalars[0])]
    train = [r for r in records if 'loss_mask_depth' in r]
    assert train and all(r['loss_mask_depth'] > 0 for r in train)
    val = [r for r in records if 'coco/segm_mAP' in r][-1]
    # an empty prediction scores 0 mask AP and 0 Boundary AP
    assert val['coco/segm_mAP_50'] > 0.0
    assert val['coco/segm_mAP'] > 0.0
    assert 'coco/boundary_mAP' in val
