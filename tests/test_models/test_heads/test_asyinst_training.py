# Copyright (c) mmboundary contributors. All rights reserved.
"""The compact AsyInst model trains from boxes and depth (pipeline ->
preprocessor -> affinities -> losses) and predicts masks that beat an empty
prediction on the images it was fitted to."""
import copy
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmboundary.registry import MMDET_MODELS
from mmboundary.testing._utils import REPO_ROOT

CONFIG = ('configs/asyinst/'
          'asyinst_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py')
ITERS = 60


def _dataset(cfg, root, train):
    from mmdet.registry import DATASETS
    ds = copy.deepcopy(cfg.val_dataloader.dataset if not train else cfg.
                       train_dataloader.dataset)
    ds.data_root = root
    if not train:  # the training images, with their instance masks
        ds.ann_file = 'annotations/instancesonly_filtered_gtFine_train.json'
        ds.data_prefix = dict(img='leftImg8bit/train/')
    return DATASETS.build(ds)


def test_compact_asyinst_fits_two_images(synthetic_cityscapes):
    cfg = Config.fromfile(osp.join(REPO_ROOT, CONFIG))
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MMDET_MODELS.build(cfg.model)
    model.init_weights()
    train_set = _dataset(cfg, synthetic_cityscapes, True)
    test_set = _dataset(cfg, synthetic_cityscapes, False)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    seen = {'loss_mask_pairwise': 0.0, 'loss_mask_depth': 0.0}
    model.train()
    for _ in range(ITERS):
        batch = pseudo_collate([train_set[0], train_set[1]])
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        loss, logs = model.parse_losses(losses)
        assert torch.isfinite(loss)
        for key in seen:
            seen[key] = max(seen[key], logs[key].item())
        optim.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10)
        optim.step()
    # both affinity terms took part (the depth term needs the depth that
    # LoadCityscapesDepth + ResizeFlipDepth carried through the pipeline)
    assert seen['loss_mask_pairwise'] > 0 and seen['loss_mask_depth'] > 0

    model.eval()
    model.bbox_head.test_cfg.score_thr = 0.0
    best = []
    with torch.no_grad():
        for i in (0, 1):
            sample = test_set[i]
            data = model.data_preprocessor(pseudo_collate([sample]), False)
            pred = model(**data, mode='predict')[0].pred_instances
            assert 'depth_pairwise_masks' not in pred  # no depth at test
            masks = pred.masks.bool().flatten(1)
            gts = torch.from_numpy(
                sample['data_samples'].gt_instances.masks.masks).bool()
            for gt in gts.flatten(1):
                inter = (masks & gt).sum(1).float()
                union = (masks | gt).sum(1).float().clamp(min=1)
                best.append((inter / union).max().item() if len(masks) else 0.)
    # an empty prediction has IoU 0 with every instance
    assert len(best) > 0 and np.mean(best) > 0.0
