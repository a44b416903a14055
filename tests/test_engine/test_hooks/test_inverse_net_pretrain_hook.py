# Copyright (c) mmboundary contributors. All rights reserved.
"""What only InverseNetPretrainHook does: the distance of the losses picks
the net, the boundary target must be in the pipeline, and its report's log
line. The shared mechanism (cache, ranks, resume, verified load) is tested
for both hooks in test_frozen_net_pretrain_hook.py."""
import glob
import json
from types import SimpleNamespace

import pytest

from mmboundary.engine.hooks import InverseNetPretrainHook
from .frozen_net_cases import InverseCase, Toy, count_pretraining, runner_stub

CASE = InverseCase()


@pytest.fixture
def dataset(tmp_path):
    return CASE.dataset(tmp_path)


@pytest.fixture
def calls(monkeypatch):
    return count_pretraining(CASE, monkeypatch)


def _run(tmp_path, dataset, model):
    hook = InverseNetPretrainHook(
        settings=CASE.settings, accept_failed_check=True)
    runner = runner_stub(tmp_path, dataset, model)
    hook.before_train(runner)
    return hook, runner


def test_distance_of_the_losses_picks_the_net(tmp_path, dataset, calls):
    hook, runner = _run(tmp_path, dataset, CASE.model())
    with open(hook.checkpoint[:-4] + '.json') as f:
        report = json.load(f)
    assert report['settings']['distance'] == 'euclidean'
    assert CASE.net(runner.model.loss).num_params == 6
    assert 0 <= report['val']['frac_identity_below_shift4'] <= 1
    # another distance is another net (homography) and cache entry
    hook2, runner2 = _run(tmp_path, dataset,
                          Toy(CASE.loss(distance='geodesic')))
    assert len(calls) == 2 and hook2.checkpoint != hook.checkpoint
    assert CASE.net(runner2.model.loss).num_params == 8
    with open(hook2.checkpoint[:-4] + '.json') as f:
        assert json.load(f)['settings']['distance'] == 'geodesic'
    assert len(glob.glob(str(tmp_path / 'inverse_net' / '*.pth'))) == 2


def test_missing_boundary_target_fails_before_training(tmp_path, dataset,
                                                       calls):
    from mmboundary.datasets.transforms import GenerateSobelBoundary
    from mmboundary.models.heads import BoundaryHead
    with_head = CASE.model()
    with_head.head = BoundaryHead(
        in_channels=4, channels=4, loss_decode=dict(type='BoundaryBCELoss'))
    dataset.pipeline = SimpleNamespace(transforms=[object()])
    with pytest.raises(KeyError, match='GenerateSobelBoundary'):
        _run(tmp_path, dataset, with_head)
    assert calls == []
    dataset.pipeline.transforms.append(GenerateSobelBoundary())
    _run(tmp_path, dataset, with_head)
    assert len(calls) == 1


def test_report_summary():
    val = {
        'frac_identity_below_shift4': 0.25,
        'frac_identity_below_rot10': 0.5,
        'frac_identity_below_zoom1.2': 0.125,
        'median_increasing_0_2_4_8': True
    }
    assert InverseNetPretrainHook().report_summary(dict(val=val)) == (
        'val separation: identity < 4 px shift on 25.0% of tiles, < 10 deg '
        'rotation 50.0%, < 1.2x zoom 12.5%; medians increasing over 0/2/4/8 '
        'px: True')
    assert InverseNetPretrainHook().report_summary({}) == ''
