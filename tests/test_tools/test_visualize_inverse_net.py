# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/analysis_tools/visualize_inverse_net.py: draws the separation the
pretraining report measures, with the same distances."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmboundary.engine.pretraining import inverse_net_settings_from_config
from mmboundary.models.pretraining.inverse_net import (evaluate_inverse_net,
                                                       pretrain_inverse_net,
                                                       save_inverse_net)
from mmboundary.testing import import_tool
from tests.test_tools.test_train_aux_nets import IF_CFG, _options

MAX_VAL = '2'


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory, synthetic_cityscapes):
    """A briefly pretrained compact InverseNet and the labels it saw."""
    tool = import_tool('tools/analysis_tools/visualize_inverse_net.py')
    cfg = Config.fromfile(IF_CFG)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.data_root = synthetic_cityscapes
    settings = dict(inverse_net_settings_from_config(cfg), steps=20)
    labels = tool.load_val_labels(cfg, int(MAX_VAL))
    net, report = pretrain_inverse_net(
        lambda i: labels[i], len(labels), settings, val_labels=labels)
    out = str(tmp_path_factory.mktemp('inverse_net'))
    path, _ = save_inverse_net(net, report, out, 'inverse_net')
    return tool, path, net, settings, labels, synthetic_cityscapes


def test_picture_and_report_agree(pretrained, tmp_path):
    tool, path, net, settings, labels, root = pretrained
    out = str(tmp_path / 'separation.png')
    d = tool.main([
        IF_CFG, '--checkpoint', path, '--out', out, '--max-val-images',
        MAX_VAL, '--num-examples', '2'
    ] + _options(root))
    img = cv2.imread(out)
    assert img is not None and img.shape[0] > 200 and img.shape[1] > 600
    # the same tiles and distances as the pretraining report's test
    report = evaluate_inverse_net(net, labels, settings)
    assert list(d) == [
        'identity', 'shift 1 px', 'shift 2 px', 'shift 4 px', 'shift 8 px',
        'rotation 10 deg', 'zoom 1.2x'
    ]
    assert all(v.shape == (report['num_tiles'], ) for v in d.values())
    for k in (1, 2, 4, 8):  # torch's median: the lower middle value
        assert float(torch.from_numpy(d[f'shift {k} px']).median()) == \
            report['shift_median'][str(k)]
    assert float(np.mean(d['identity'] < d['shift 4 px'])) == pytest.approx(
        report['frac_identity_below_shift4'])
    assert float(np.mean(d['identity'] < d['zoom 1.2x'])) == pytest.approx(
        report['frac_identity_below_zoom1.2'])


def test_bad_arguments(pretrained, tmp_path, capsys):
    tool, path, _, _, _, root = pretrained
    with pytest.raises(SystemExit):
        tool.main([
            IF_CFG, '--checkpoint', path, '--out', 'x.png', '--num-examples',
            '0'
        ])
    assert '--num-examples must be >= 1' in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match='inverse_net_checkpoint'):
        tool.main([
            IF_CFG, '--checkpoint',
            str(tmp_path / 'none.pth'), '--out',
            str(tmp_path / 'a.png')
        ] + _options(root))
    # a checkpoint for another tile size is refused, naming both values
    with pytest.raises(ValueError, match='tile_size=32.*tile_size=16'):
        tool.main(
            [IF_CFG, '--checkpoint', path, '--out',
             str(tmp_path / 'a.png')] + _options(
                 root, 'model.auxiliary_head.loss_decode.1.inverse_net.'
                 'tile_size=16'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        tool.main([
            IF_CFG, '--checkpoint', path, '--out',
            str(tmp_path / 'no' / 'a.png')
        ] + _options(root))
