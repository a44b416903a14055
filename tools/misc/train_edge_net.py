# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretrain SEMEDA's semantic edge net (paper Algorithm 1, first loop).

Reads a segmentation config: the training / validation datasets come from
``train_dataloader`` / ``val_dataloader``, the class count, ignore index and
kernel size from the ``SemedaLoss`` in ``model.decode_head.loss_decode``, and
the pretraining settings (noise level, epochs, ...) from the
``EdgeNetPretrainHook`` entry of ``custom_hooks`` (or a top-level
``edge_net_pretrain=dict(...)``), exactly as the hook does. Writes
``<out-dir>/<name>_<key[:12]>-<sha256[:8]>.pth`` (key: the hook's cache key
of settings and data, sha256: of the file) and a ``.json`` next to it with
the settings and the validation edge precision / recall / F1. With the
default ``--out-dir`` (the hook's ``cache_dir``) the hook then finds the net
and does not pretrain again.

Example::

    python tools/misc/train_edge_net.py \
        configs/semeda/semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py
    # the hook of that config now loads it; or, for any config:
    #   --cfg-options model.decode_head.loss_decode.1.edge_net_checkpoint=PTH
"""
import argparse
import glob
import json
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope


def parse_args():
    parser = argparse.ArgumentParser(
        description='Pretrain the SEMEDA semantic edge net.')
    parser.add_argument('config', help='segmentation config file')
    parser.add_argument(
        '--out-dir',
        help='output folder (default: the hook\'s cache_dir, else '
        'work_dirs/edge_net)')
    parser.add_argument(
        '--name', help='file stem (default: the hook\'s, semantic_edge_net)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='pretrain even if the output folder already holds the net')
    parser.add_argument(
        '--device', default='cpu', help='torch device (default: cpu)')
    parser.add_argument(
        '--max-val-images',
        type=int,
        help='validation maps used for the F1 report (<= 0: all; default: '
        'the hook\'s, 100)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as for tools/train.py')
    return parser.parse_args()


def _semeda_loss_cfg(cfg):
    decode_head = cfg.model.get('decode_head', {})
    if isinstance(decode_head, (list, tuple)):
        decode_head = decode_head[-1]
    losses = decode_head.get('loss_decode', [])
    if isinstance(losses, dict):
        losses = [losses]
    for loss in losses:
        if loss.get('type') in ('SemedaLoss', 'mmboundary.SemedaLoss'):
            return loss, decode_head
    return None, decode_head


def hook_cfg(cfg) -> dict:
    """The config's EdgeNetPretrainHook entry, or {}."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == 'EdgeNetPretrainHook':
            return dict(hook)
    return {}


def pretrain_settings(cfg) -> dict:
    """Settings from the config (hook entry or ``edge_net_pretrain``) with
    ``num_classes`` / ``ignore_index`` / ``kernel_size`` from the loss."""
    settings = dict(cfg.get('edge_net_pretrain', {}) or {})
    settings = dict(hook_cfg(cfg).get('settings', {}) or {}, **settings)
    loss, head = _semeda_loss_cfg(cfg)
    if loss is not None:
        settings['num_classes'] = loss['num_classes']
        settings['ignore_index'] = loss.get('ignore_index', 255)
        settings['kernel_size'] = loss.get('kernel_size', 3)
    elif 'num_classes' not in settings:
        settings['num_classes'] = head['num_classes']
    return settings


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import DATASETS

    import mmboundary  # noqa: F401  (registers the modules)
    from mmboundary.engine.hooks.edge_net_pretrain_hook import (
        EdgeNetPretrainHook, pretrain_edge_net_from_datasets)

    settings = pretrain_settings(cfg)
    hook = hook_cfg(cfg)
    max_val = hook.get('max_val_images', 100)
    if args.max_val_images is not None:
        max_val = args.max_val_images if args.max_val_images > 0 else None
    train_dataset = DATASETS.build(cfg.train_dataloader.dataset)
    val_dataset = None
    if cfg.get('val_dataloader'):
        val_dataset = DATASETS.build(cfg.val_dataloader.dataset)
    # The hook's cache naming, so that the hook finds what this writes.
    namer = EdgeNetPretrainHook(
        cache_dir=args.out_dir or hook.get('cache_dir')
        or 'work_dirs/edge_net',
        name=args.name or hook.get('name', 'semantic_edge_net'),
        max_val_images=max_val)
    prefix = namer.cache_prefix(settings, train_dataset, val_dataset)
    found = sorted(glob.glob(prefix + '-*.pth'))
    if found and not args.force:
        print(f'{found[-1]} already holds this edge net (same settings and '
              'data); use --force to pretrain again.')
        return
    path, json_path, report = pretrain_edge_net_from_datasets(
        train_dataset,
        val_dataset,
        settings,
        osp.dirname(prefix),
        osp.basename(prefix),
        max_val,
        device=args.device,
        log=print)
    summary = {k: report[k] for k in ('val_clean', 'val_noisy') if k in report}
    print(json.dumps(summary, indent=2))
    print(f'checkpoint: {path}\nreport: {json_path}')
    print(f'use it with edge_net_checkpoint={osp.relpath(path)!r}')


if __name__ == '__main__':
    main()
