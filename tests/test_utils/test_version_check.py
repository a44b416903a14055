# Copyright (c) mmboundary contributors. All rights reserved.
import pytest

from mmboundary.utils.version_check import (REQUIREMENTS, StackVersionError,
                                            check_versions,
                                            find_version_problems)

GOOD = {
    'torch': '2.13.0+cpu',
    'mmcv': '2.1.0',
    'mmengine': '0.10.7',
    'mmdet': '3.3.0',
    'mmsegmentation': '1.2.2',
    'cityscapesscripts': '2.3.0',
}


def test_supported_stack_has_no_problem():
    assert find_version_problems(GOOD) == []
    check_versions(GOOD)  # does not raise


def test_installed_environment_is_supported():
    # The environment the suite runs in must itself pass the check.
    assert find_version_problems() == []


def test_out_of_range_mmcv_names_package_range_and_fix():
    stack = dict(GOOD, mmcv='2.2.0')
    with pytest.raises(StackVersionError) as err:
        check_versions(stack)
    msg = str(err.value)
    assert 'mmcv 2.2.0 is installed' in msg
    assert 'mmcv>=2.0.0rc4,<2.2.0' in msg
    assert 'pip install --no-build-isolation mmcv==2.1.0' in msg
    # only the offending package is reported
    assert 'mmdet' not in msg


def test_missing_and_old_packages_are_each_reported():
    stack = dict(GOOD, mmdet=None, mmsegmentation='1.1.0')
    problems = find_version_problems(stack)
    assert len(problems) == 2
    assert problems[0].startswith('mmdet is not installed')
    assert 'pip install mmdet==3.3.0' in problems[0]
    assert problems[1].startswith('mmsegmentation 1.1.0 is installed')


def test_every_requirement_has_a_fix_command():
    assert {r.dist for r in REQUIREMENTS} == set(GOOD)
    assert all('pip install' in r.fix for r in REQUIREMENTS)
