# Copyright (c) mmboundary contributors. All rights reserved.
import torch
from torch import nn

from mmboundary.models.utils import FrozenAuxNet, training_only_prefixes


def _model():
    model = nn.Module()
    model.head = nn.Conv2d(2, 2, 1)
    model.aux = FrozenAuxNet(
        nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)))
    return model


def test_frozen_params_and_eval_mode():
    model = _model()
    model.train()
    assert not model.aux.training and not model.aux.net[1].training
    assert all(not p.requires_grad for p in model.aux.parameters())
    assert all(p.requires_grad for p in model.head.parameters())


def test_gradient_flows_through_but_not_into_frozen_net():
    model = _model()
    x = torch.rand(1, 2, 4, 4, requires_grad=True)
    model.aux(model.head(x)).sum().backward()
    assert x.grad is not None and model.head.weight.grad is not None
    assert all(p.grad is None for p in model.aux.parameters())


def test_marker_and_round_trip():
    model = _model()
    sd = model.state_dict()
    assert 'aux.training_only' in sd
    assert training_only_prefixes(sd) == ['aux.']
    other = _model()
    result = other.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(other.aux.net[0].weight, model.aux.net[0].weight)
