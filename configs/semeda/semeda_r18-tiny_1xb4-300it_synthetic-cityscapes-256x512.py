# Compact SEMEDA on the synthetic Cityscapes data: the baseline FCN on a
# tiny ResNet-18 (configs/baseline, plus boundary metrics), trained from
# scratch on CPU, with the SEMEDA loss (lambda = (1, 0.5, 0.25) before ReLU)
# added to the decode head. The edge net is pretrained by EdgeNetPretrainHook
# on the training GT before the first iteration; the cache folder is shared
# by all runs of this config, so seeds after the first reuse it.
_base_ = './fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'

# The baseline's own loss_decode entry, then SEMEDA.
model = dict(
    decode_head=dict(loss_decode=[
        _base_.model.decode_head.loss_decode,
        dict(
            type='SemedaLoss',
            num_classes=_base_.num_classes,
            edge_net_checkpoint=None,
            layer_weights=(1.0, 0.5, 0.25),
            before_relu=True,
            distance='l1',
            # eq. 6 sums |psi| over 16 + 32 + 2 channels: with the pretrained
            # net it is ~60 for a random prediction vs ~3 for the CE, so the
            # global weight keeps SEMEDA below the CE (see README).
            loss_weight=0.02)
    ]))
custom_hooks = [
    dict(
        type='EdgeNetPretrainHook',
        cache_dir='work_dirs/semeda_edge_net',
        settings=dict(
            noise_std=1.0,
            logit_scale=(3.0, 10.0),
            max_epochs=15,
            crops_per_image=4,
            crop_size=(128, 128),
            batch_size=8))
]
