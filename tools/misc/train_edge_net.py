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
(:func:`mmboundary.engine.pretraining.pretrain_tool_main`). A net whose
clean-GT validation F1 is below 0.5 fails its self-check and is refused
(exit status 2, the file is kept) unless ``--accept-failed-check`` is given;
``--quiet`` hides the progress bar.

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
import json
import os
import os.path as osp
import sys

from mmboundary.engine.hooks import EdgeNetPretrainHook
from mmboundary.engine.pretraining import (edge_net_settings_from_config,
                                           pretrain_tool_main)
from mmboundary.utils.cli import run_cli, strict_parser
from mmboundary.utils.results_doc import dump_results


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
    parser = strict_parser(add_help=False)
    parser.add_argument('--out-json')
    known, rest = parser.parse_known_args(sys.argv[1:] if argv is
                                          None else argv)
    load_start = os.getloadavg()[0]
    path = pretrain_tool_main('Pretrain the SEMEDA semantic edge net.',
                              EdgeNetPretrainHook,
                              edge_net_settings_from_config,
                              'edge_net_checkpoint', rest)
    if known.out_json:
        with open(path[:-len('.pth')] + '.json') as f:
            report = json.load(f)
        dump_results(
            known.out_json,
            dict(pretrain=report_table(report, path)),
            load_start=load_start)
        print(f'stored in {known.out_json}')


if __name__ == '__main__':
    run_cli(main)
