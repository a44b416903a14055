# Copyright (c) mmboundary contributors. All rights reserved.
"""Loading a published checkpoint, whose frozen auxiliary nets were dropped
by tools/misc/publish_model.py, says so in one line instead of mmengine's
missing-keys dump (issue 21, item 5); any other missing key is still
reported."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import load_state_dict
from torch import nn

from mmboundary.models.losses import InverseFormLoss, SemedaLoss
from mmboundary.models.utils.frozen import TRAINING_ONLY_MARKER
from mmboundary.testing import import_tool

publish = import_tool('tools/misc/publish_model.py')


class Head(nn.Module):
    """Stands in for an mmseg decode head with a frozen net in a loss."""

    def __init__(self, loss):
        super().__init__()
        self.conv_seg = nn.Conv2d(3, 4, 1)
        self.loss_decode = nn.ModuleList([nn.Identity(), loss])


LOSSES = [
    pytest.param(
        lambda: SemedaLoss(4),
        'edge_net',
        'SemedaLoss',
        'edge net',
        id='semeda'),
    pytest.param(
        lambda: InverseFormLoss(inverse_net=dict(tile_size=16, hidden=(8, 4))),
        'inverse_net',
        'InverseFormLoss',
        'InverseNet',
        id='inverseform'),
]


class Records(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def messages(self, level=logging.DEBUG):
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def logger():
    logger = MMLogger.get_current_instance()
    handler = Records()
    logger.addHandler(handler)
    yield logger, handler
    logger.removeHandler(handler)


def _trained_and_published(make_loss):
    torch.manual_seed(0)
    trained = Head(make_loss())
    full = trained.state_dict()
    published = publish.strip_checkpoint(dict(meta={},
                                              state_dict=full))['state_dict']
    return trained, full, published


def _net_keys(full, name):
    prefix = f'loss_decode.1.{name}.'
    return [
        k for k in full
        if k.startswith(prefix) and not k.endswith(TRAINING_ONLY_MARKER)
    ]


@pytest.mark.parametrize('make_loss,name,owner,what', LOSSES)
def test_published_checkpoint_loads_with_one_line(make_loss, name, owner, what,
                                                  logger):
    mm_logger, records = logger
    _, full, published = _trained_and_published(make_loss)
    dropped = _net_keys(full, name)
    assert dropped and not any(f'.{name}.' in k for k in published)

    torch.manual_seed(1)
    model = Head(make_loss())
    load_state_dict(model, published, strict=False, logger=mm_logger)
    assert torch.equal(model.conv_seg.weight, full['conv_seg.weight'])
    warnings = records.messages(logging.WARNING)
    assert not any('missing keys' in m for m in warnings), warnings
    lines = [m for m in records.messages() if 'dropped from published' in m]
    assert lines == [
        f'{owner}: the checkpoint has no {what} weights '
        f'(loss_decode.1.{name}, {len(dropped)} tensors): frozen auxiliary '
        'nets are training-only and dropped from published checkpoints, as '
        f'intended; the {what} keeps the weights it was built with (only the '
        'training loss uses it).'
    ]
    # torch's strict load accepts it too (the hook empties the list that
    # strict=True checks)
    Head(make_loss()).load_state_dict(published, strict=True)


@pytest.mark.parametrize('make_loss,name,owner,what', LOSSES)
def test_a_partial_drop_is_still_reported(make_loss, name, owner, what,
                                          logger):
    mm_logger, records = logger
    _, full, _ = _trained_and_published(make_loss)
    one = _net_keys(full, name)[0]
    partial = {k: v for k, v in full.items() if k != one}
    load_state_dict(Head(make_loss()), partial, strict=False, logger=mm_logger)
    warnings = records.messages(logging.WARNING)
    assert any('missing keys' in m and one in m for m in warnings), warnings
    assert not any('dropped from published' in m for m in records.messages())
    with pytest.raises(RuntimeError, match='Missing key'):
        Head(make_loss()).load_state_dict(partial, strict=True)


@pytest.mark.parametrize('make_loss,name,owner,what', LOSSES)
def test_other_missing_keys_are_still_reported(make_loss, name, owner, what,
                                               logger):
    mm_logger, records = logger
    _, full, published = _trained_and_published(make_loss)
    del published['conv_seg.weight']
    load_state_dict(
        Head(make_loss()), published, strict=False, logger=mm_logger)
    warnings = [
        m for m in records.messages(logging.WARNING) if 'missing keys' in m
    ]
    assert len(warnings) == 1 and 'conv_seg.weight' in warnings[0]
    assert f'.{name}.' not in warnings[0]
    with pytest.raises(RuntimeError, match='conv_seg.weight'):
        Head(make_loss()).load_state_dict(published, strict=True)


@pytest.mark.parametrize('make_loss,name,owner,what', LOSSES)
def test_a_full_checkpoint_loads_the_frozen_net(make_loss, name, owner, what,
                                                logger):
    mm_logger, records = logger
    trained, full, _ = _trained_and_published(make_loss)
    torch.manual_seed(1)
    model = Head(make_loss())
    load_state_dict(model, full, strict=True, logger=mm_logger)
    for key in _net_keys(full, name):
        assert torch.equal(model.state_dict()[key], full[key])
    assert not any('dropped from published' in m for m in records.messages())
