# Copyright (c) mmboundary contributors. All rights reserved.
# The compact SEMEDA config with its edge-net pretraining hook, a loss-weight
# warm-up on the SEMEDA loss and the test-only kill hook (tests/data/kill.py)
# for the kill-and-resume test; sizes are cut down with --cfg-options there.
_base_ = [
    '../../../configs/semeda/'
    'semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'
]
custom_imports = dict(
    imports=['mmboundary', 'tests.data.kill'], allow_failed_imports=False)
custom_hooks = [
    # cache in the work dir (the config's shared cache is left alone)
    dict(
        type='EdgeNetPretrainHook',
        settings=dict(
            max_epochs=1, crops_per_image=1, crop_size=(32, 32), batch_size=2),
        max_val_images=1,
        accept_failed_check=True),  # 1 epoch: need not pass its self-check
    dict(
        type='LossWeightWarmupHook',
        loss_paths=['decode_head.loss_decode.1'],
        warmup_iters=3),
    dict(type='TestKillAfterCheckpointHook', kill_after=None),
]
