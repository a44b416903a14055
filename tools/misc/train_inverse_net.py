# Copyright (c) mmboundary contributors. All rights reserved.
"""Pretrain InverseForm's InverseNet on a config's training boundaries
(InverseForm Sec. 3.4).

Reads a segmentation config: the datasets come from ``train_dataloader`` /
``val_dataloader``; the net and distance settings from the
``InverseFormLoss`` entry of any head's ``loss_decode`` (auxiliary heads
included); the recipe settings (steps, transformation ranges, ...) from the
``InverseNetPretrainHook`` entry of ``custom_hooks`` (or a top-level
``inverse_net_pretrain=dict(...)``), exactly as the hook does. Writes
``<out-dir>/<name>_<key[:12]>-<sha256[:8]>.pth`` and a ``.json`` report next
to it (settings, training loss, the validation separation: fraction of
tiles where d(identity) < d(4 px shift), d(10 deg rotation), d(1.2x zoom),
and the median distance over shifts). With the default ``--out-dir`` (the
hook's ``cache_dir``) a training run of the config then reuses the file.
A net whose separation fails its self-check (median distance not strictly
increasing over 0, 2, 4, 8 px shifts, or identity below a 4 px shift on
fewer than 85 % of the tiles) is refused (exit status 2, the file is kept)
unless ``--accept-failed-check`` is given; ``--quiet`` hides the progress
bar.

Example::

    CFG=configs/inverseform
    python tools/misc/train_inverse_net.py \
        $CFG/inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py
    # or, for any config:
    #   --cfg-options \
    #   model.auxiliary_head.loss_decode.1.inverse_net_checkpoint=PTH
"""
from mmboundary.engine.hooks import InverseNetPretrainHook
from mmboundary.engine.pretraining import (inverse_net_settings_from_config,
                                           pretrain_tool_main)
from mmboundary.utils.cli import run_cli


def report_tables(report: dict, wall_s: float) -> dict:
    """The report as two results tables: the pretraining run (net size,
    data, steps, losses, times) and the validation separation (the issue's
    targets: identity below a 4 px shift on >= 90 % of the tiles, median
    distance strictly increasing over shifts of 0, 2, 4, 8 px)."""
    cfg = report['settings']
    run = dict(
        columns=['quantity', 'value'],
        rows=[
            ['distance / family', cfg['distance']],
            ['tile size T', cfg['tile_size']],
            ['hidden widths', ' x '.join(str(h) for h in cfg['hidden'])],
            ['parameters', report['num_parameters']],
            ['training label maps', report['num_train']],
            ['tile pool', report['pool_tiles']],
            ['steps x batch', f"{report['steps']} x {cfg['batch_size']}"],
            ['training loss, first step', report['first_train_loss']],
            ['training loss, last tenth', report['final_train_loss']],
            ['pretraining time (s)', report['seconds']],
            ['whole tool, wall (s)', round(wall_s, 1)],
        ],
        digits=4)
    tables = dict(pretraining=run)
    val = report.get('val')
    if val:
        shift = val['shift_median']
        tables['separation'] = dict(
            columns=['measure on val boundary tiles', 'value', 'target'],
            rows=[
                ['tiles', val['num_tiles'], '-'],
                [
                    'fraction d(identity) < d(4 px shift)',
                    val['frac_identity_below_shift4'], '>= 0.90'
                ],
                [
                    'fraction d(identity) < d(10 deg rotation)',
                    val['frac_identity_below_rot10'], '-'
                ],
                [
                    'fraction d(identity) < d(1.2x zoom)',
                    val['frac_identity_below_zoom1.2'], '-'
                ],
                *[[f'median d, {k} px shift', shift[k], '-']
                  for k in ('0', '1', '2', '4', '8')],
                [
                    'median strictly increasing over 0, 2, 4, 8 px',
                    str(val['median_increasing_0_2_4_8']), 'True'
                ],
            ],
            digits=4)
    return tables


def main(argv=None):
    pretrain_tool_main(
        'Pretrain the InverseForm InverseNet.',
        InverseNetPretrainHook,
        inverse_net_settings_from_config,
        'inverse_net_checkpoint',
        argv,
        report_tables=report_tables)


if __name__ == '__main__':
    run_cli(main)
