# Copyright (c) mmboundary contributors. All rights reserved.
"""check_dict / check_sequence of mmboundary.utils.validation."""
import pytest
from mmengine.config import ConfigDict

from mmboundary.utils.validation import check_dict, check_sequence


def test_check_dict():
    cfg = ConfigDict(type='X')
    assert check_dict(cfg, 'head', 'Owner') is cfg
    assert check_dict(None, 'head', 'Owner', optional=True) is None
    inits = [dict(type='Xavier'), dict(type='Constant', val=0)]
    assert check_dict(inits, 'init_cfg', 'Owner', list_ok=True) is inits
    with pytest.raises(
            TypeError,
            match=r'Owner: `head` must be a dict, '
            r"got None \(NoneType\)"):
        check_dict(None, 'head', 'Owner')
    with pytest.raises(TypeError, match='a dict or a list of dicts or None'):
        check_dict([dict(), 'Xavier'],
                   'init_cfg',
                   'Owner',
                   optional=True,
                   list_ok=True)
    with pytest.raises(TypeError, match='`init_cfg` must be a dict, got'):
        check_dict([dict()], 'init_cfg', 'Owner')


def test_check_sequence():
    assert check_sequence((1, 2), 'clip', 'Owner', 2) == [1, 2]
    assert check_sequence([], 'clip', 'Owner') == []
    assert check_sequence([3], 'clip', 'Owner', min_length=1) == [3]
    with pytest.raises(TypeError, match='`clip` must be a list or tuple'):
        check_sequence('ab', 'clip', 'Owner')
    with pytest.raises(
            ValueError, match=r'`clip` needs 2 entries, got '
            r'\(1, 2, 3\)'):
        check_sequence((1, 2, 3), 'clip', 'Owner', 2)
    with pytest.raises(ValueError, match='`clip` needs at least 1 entries'):
        check_sequence((), 'clip', 'Owner', min_length=1)
    with pytest.raises(ValueError, match='needs 2 entries'):
        check_sequence((1, ), 'clip', 'Owner', 2, min_length=1)


def test_check_loss_name():
    from mmboundary.utils.validation import check_loss_name
    assert check_loss_name('loss_x', 'Owner') == 'loss_x'
    with pytest.raises(
            ValueError,
            match=r"Owner: `loss_name` must start "
            r"with 'loss_'.*got 'x_loss'"):
        check_loss_name('x_loss', 'Owner')
    with pytest.raises(ValueError, match='must start with'):
        check_loss_name('loss', 'Owner')  # the underscore is required
    with pytest.raises(TypeError, match='loss_name'):
        check_loss_name(5, 'Owner')
