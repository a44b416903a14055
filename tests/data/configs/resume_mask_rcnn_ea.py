# Copyright (c) mmboundary contributors. All rights reserved.
# The compact Edge Agreement Mask R-CNN with a warm-up of its edge loss and
# the test-only kill hook (tests/data/kill.py) for the kill-and-resume test;
# sizes are cut down with --cfg-options there.
_base_ = [
    '../../../configs/edge_agreement/mask-rcnn-ea-sobel-l2_r18-fpn_'
    '1xb2-120iter_synthetic-cityscapes-128x256.py'
]
custom_imports = dict(
    imports=['mmboundary', 'tests.data.kill'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['roi_head.mask_head.loss_edge.0'],
        warmup_iters=3),
    dict(type='TestKillAfterCheckpointHook', kill_after=None),
]
