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
and does not pretrain again. The command-line pattern is shared with
``tools/misc/train_inverse_net.py``
(:func:`mmboundary.engine.hooks.pretrain_tool_main`).

Example::

    python tools/misc/train_edge_net.py \
        configs/semeda/semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py
    # the hook of that config now loads it; or, for any config:
    #   --cfg-options model.decode_head.loss_decode.1.edge_net_checkpoint=PTH

``--out-json PATH`` also stores the report's validation table with
:func:`mmboundary.utils.results_doc.dump_results` (``configs/semeda/README.md``
shows ``configs/semeda/results/edge_net_pretrain.json``, written with the
compact config); it is read from the net's ``.json`` report, so a net found
in the cache is stored without pretraining again.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmboundary.engine.hooks.frozen_net_pretrain_hook import (
    hook_entry, pretrain_tool_main)


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


def pretrain_settings(cfg) -> dict:
    """Settings from the config (hook entry or ``edge_net_pretrain``) with
    ``num_classes`` / ``ignore_index`` / ``kernel_size`` from the loss."""
    settings = dict(cfg.get('edge_net_pretrain', {}) or {})
    settings = dict(
        hook_entry(cfg, 'EdgeNetPretrainHook').get('settings', {}) or {},
        **settings)
    loss, head = _semeda_loss_cfg(cfg)
    if loss is not None:
        settings['num_classes'] = loss['num_classes']
        settings['ignore_index'] = loss.get('ignore_index', 255)
        settings['kernel_size'] = loss.get('kernel_size', 3)
    elif 'num_classes' not in settings:
        settings['num_classes'] = head['num_classes']
    return settings


def report_table(report: dict, checkpoint: str) -> dict:
    """The stored table of a pretraining report: validation edge
    precision / recall / F1 and counts on clean and on noisy input."""
    settings = report['settings']
    rows = []
    for key, label in (('val_clean', 'clean one-hot GT'),
                       ('val_noisy', 'noisy softmax input')):
        if key not in report:
            raise KeyError(f'report of {checkpoint} has no {key!r} (the '
                           'config has no val_dataloader); nothing to store')
        v = report[key]
        rows.append([
            label, v['precision'], v['recall'], v['f1'], v['tp'], v['fp'],
            v['fn']
        ])
    return dict(
        columns=['val input', 'precision', 'recall', 'F1', 'TP', 'FP', 'FN'],
        rows=rows,
        digits=4,
        notes=[
            f'net {osp.basename(checkpoint)}: {report["steps"]} steps '
            f'({settings["max_epochs"]} epochs) on {report["num_train"]} '
            f'training maps in {report["seconds"]} s, noise_std '
            f'{settings["noise_std"]}, logit_scale {settings["logit_scale"]}'
            f'; {report["num_val"]} val maps',
            'exact 8-neighbour edges, no tolerance, P(edge) > 0.5; pixels '
            'within the receptive radius of an ignore pixel excluded'
        ])


def main(argv=None):
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument('--out-json')
    known, rest = parser.parse_known_args(sys.argv[1:] if argv is
                                          None else argv)
    load_start = os.getloadavg()[0]
    path = pretrain_tool_main('Pretrain the SEMEDA semantic edge net.',
                              'EdgeNetPretrainHook', pretrain_settings,
                              'edge_net_checkpoint', rest)
    if known.out_json:
        from mmboundary.utils.results_doc import dump_results
        with open(path[:-len('.pth')] + '.json') as f:
            report = json.load(f)
        dump_results(
            known.out_json,
            dict(pretrain=report_table(report, path)),
            load_start=load_start)
        print(f'stored in {known.out_json}')


if __name__ == '__main__':
    main()
