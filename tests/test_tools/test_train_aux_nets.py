# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/misc/train_inverse_net.py and tools/misc/train_edge_net.py: the
shared tool pattern writes where the hook looks."""
import glob
import json
import os.path as osp
from types import SimpleNamespace

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from torch import nn

from tests.conftest import run_tool

IF_CFG = ('configs/inverseform/'
          'inverseform_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py')
SEMEDA_CFG = ('configs/semeda/'
              'semeda_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py')


def _options(root, *extra):
    return ['--cfg-options'] + [
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader')
    ] + list(extra)


def test_train_inverse_net_tool_feeds_the_hook(tmp_path, synthetic_cityscapes):
    out = str(tmp_path / 'cache')
    args = [
        'tools/misc/train_inverse_net.py', IF_CFG, '--out-dir', out,
        '--max-val-images', '2'
    ] + _options(synthetic_cityscapes, 'custom_hooks.0.settings.steps=5',
                 'custom_hooks.0.settings.batch_size=8')
    # 5 steps give a net that fails its self-check: refused in one line
    # with the measured values and the option, the file is kept
    proc = proc_first = run_tool(args, check=False)
    assert proc.returncode == 2
    (line, ) = proc.stderr.strip().splitlines()[-1:]
    assert line.startswith('error: InverseNet ') and \
        'fails its self-check: ' in line
    assert '% of ' in line and '--accept-failed-check' in line
    assert 'inverse_net_checkpoint=' not in proc.stdout
    files = glob.glob(osp.join(out, 'inverse_net_*.pth'))
    assert len(files) == 1
    # accepted: the file found in the cache is used, with a warning
    args.append('--accept-failed-check')
    proc = run_tool(args)
    assert 'already holds' in proc.stdout and 'Used anyway' in proc.stdout
    assert glob.glob(osp.join(out, 'inverse_net_*.pth')) == files
    report = json.load(open(files[0][:-4] + '.json'))
    assert report['settings']['tile_size'] == 32
    assert report['settings']['hidden'] == [256, 64]
    assert report['settings']['steps'] == 5
    assert report['num_val'] == 2
    assert 'frac_identity_below_shift4' in report['val']
    # without --quiet the pretraining shows its progress
    assert 'InverseNet pretraining: 5/5 (100%)' in proc_first.stdout
    assert glob.glob(osp.join(out, 'inverse_net_*.pth')) == files
    # --results pretrains again (here into another folder) and stores the
    # report's tables with the command, for README blocks
    results = str(tmp_path / 'results.json')
    out2 = str(tmp_path / 'cache2')
    proc = run_tool(args[:3] + [out2] + args[4:] +
                    ['--results', results, '--quiet'])
    # --quiet: no progress bar / lines, no loss lines; the result lines stay
    assert 'InverseNet pretraining: ' not in proc.stdout
    assert 'inverse-net step' not in proc.stdout
    assert 'inverse_net_checkpoint=' in proc.stdout
    stored = json.load(open(results))
    assert 'train_inverse_net.py' in stored['command']
    assert '--results' in stored['command']
    rows = dict((r[0], r[1]) for r in stored['tables']['pretraining']['rows'])
    assert rows['tile size T'] == 32 and rows['steps x batch'] == '5 x 8'
    assert rows['parameters'] == 2 * 32 * 32 * 256 + 256 + 256 * 64 + 64 \
        + 64 * 6 + 6
    sep = {r[0]: r[1] for r in stored['tables']['separation']['rows']}
    (written, ) = glob.glob(osp.join(out2, 'inverse_net_*.json'))
    val = json.load(open(written))['val']
    assert sep['fraction d(identity) < d(4 px shift)'] == \
        val['frac_identity_below_shift4']
    assert sep['median d, 8 px shift'] == val['shift_median']['8']

    # The hook of the same config, same data and settings: no pretraining.
    import mmboundary  # noqa: F401
    from mmboundary.engine.hooks import InverseNetPretrainHook
    from mmboundary.models.losses import InverseFormLoss
    cfg = Config.fromfile(IF_CFG)
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS
    datasets = {}
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.data_root = synthetic_cityscapes
        datasets[loader] = DATASETS.build(cfg[loader].dataset)
    model = nn.Module()
    model.loss = InverseFormLoss(
        inverse_net=dict(tile_size=32, hidden=(256, 64), in_pool=1))
    runner = SimpleNamespace(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=SimpleNamespace(dataset=datasets['train_dataloader']),
        _val_loop=SimpleNamespace(
            dataloader=SimpleNamespace(dataset=datasets['val_dataloader'])),
        logger=MMLogger.get_instance('test_train_inverse_net'))
    hook = InverseNetPretrainHook(
        settings=dict(cfg.custom_hooks[0].settings, steps=5, batch_size=8),
        cache_dir=out,
        max_val_images=2,
        accept_failed_check=True)
    hook.before_train(runner)
    assert not hook.pretrained_here and hook.checkpoint == files[0]


def test_train_edge_net_cli_unchanged(tmp_path, synthetic_cityscapes):
    out = str(tmp_path / 'edge')
    args = [
        'tools/misc/train_edge_net.py', SEMEDA_CFG, '--out-dir', out, '--name',
        'edge', '--max-val-images', '1', '--accept-failed-check'
    ] + _options(synthetic_cityscapes, 'custom_hooks.0.settings.max_epochs=1',
                 'custom_hooks.0.settings.crops_per_image=1')
    proc = run_tool(args)
    files = glob.glob(osp.join(out, 'edge_*.pth'))
    assert len(files) == 1
    assert 'edge_net_checkpoint=' in proc.stdout
    report = json.load(open(files[0][:-4] + '.json'))
    assert report['settings']['max_epochs'] == 1
    # its F1 is recomputed independently in test_train_edge_net.py
    assert 'already holds' in run_tool(args).stdout


def test_train_without_checkpoint_or_hook_fails_before_training(
        tmp_path, synthetic_cityscapes):
    work_dir = tmp_path / 'wd'
    proc = run_tool(
        ['tools/train.py', IF_CFG, '--work-dir',
         str(work_dir)] + _options(synthetic_cityscapes, 'custom_hooks=[]'),
        check=False)
    assert proc.returncode != 0
    assert '`inverse_net_checkpoint`' in proc.stderr
    assert "dict(type='InverseNetPretrainHook')" in proc.stderr
    assert 'Iter(train)' not in proc.stdout + proc.stderr
