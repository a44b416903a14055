# Copyright (c) mmboundary contributors. All rights reserved.
"""Check that the installed OpenMMLab stack is one mmboundary supports.

The check reads installed distribution metadata only (it imports nothing
heavy), so it runs first in ``import mmboundary`` and turns a confusing
failure deep inside mmdet or mmseg into an error that names the package, the
supported range and the command that fixes it.
"""
import os
from importlib import metadata
from typing import Dict, List, NamedTuple, Optional

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

_MMCV_FIX = ("pip install 'setuptools>=77,<81' ninja && "
             'pip install --no-build-isolation mmcv==2.1.0')


class Requirement(NamedTuple):
    """One supported dependency.

    Attributes:
        dist (str): Distribution name on PyPI.
        spec (str): Supported version range (PEP 440 specifier).
        fix (str): Shell command that installs a supported version.
    """
    dist: str
    spec: str
    fix: str


#: The supported stack. Keep in sync with ``requirements/mminstall.txt``.
REQUIREMENTS: List[Requirement] = [
    Requirement(
        'torch', '>=2.0.0,<3.0.0',
        "pip install torch==2.13.0  (or set MMB_TORCH='torch==X.Y.Z' "
        'and re-run `make env`)'),
    Requirement('mmcv', '>=2.0.0rc4,<2.2.0', _MMCV_FIX),
    Requirement('mmengine', '>=0.10.0,<1.0.0', 'pip install mmengine==0.10.7'),
    Requirement('mmdet', '>=3.3.0,<3.4.0', 'pip install mmdet==3.3.0'),
    Requirement('mmsegmentation', '>=1.2.2,<1.3.0',
                'pip install mmsegmentation==1.2.2 ftfy regex'),
    Requirement('cityscapesscripts', '>=2.2.0,<3.0.0',
                'pip install cityscapesscripts==2.3.0'),
]


class StackVersionError(ImportError):
    """Raised when an installed dependency is missing or out of range."""


def _installed_version(dist: str) -> Optional[str]:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    if dist == 'mmcv' and os.environ.get('MMB_MMCV_LITE', '') == '1':
        # tools/analysis_tools/gpu_check.py on a machine without a build of
        # mmcv's ops: mmcv-lite plus its shim for the ops it measures
        try:
            return metadata.version('mmcv-lite')
        except metadata.PackageNotFoundError:
            pass
    return None


def find_version_problems(
        installed: Optional[Dict[str, Optional[str]]] = None) -> List[str]:
    """List the unsupported or missing packages.

    Args:
        installed (dict, optional): Maps distribution name to its installed
            version (``None`` = not installed). Defaults to reading the
            metadata of the current environment.

    Returns:
        list[str]: One message per problem; empty when the stack is fine.
    """
    problems = []
    for req in REQUIREMENTS:
        if installed is None:
            found = _installed_version(req.dist)
        else:
            found = installed.get(req.dist)
        if found is None:
            problems.append(f'{req.dist} is not installed; mmboundary needs '
                            f'{req.dist}{req.spec}. Fix: {req.fix}')
            continue
        try:
            # Local version labels such as '+cpu' do not affect the range.
            ok = Version(found.split('+')[0]) in SpecifierSet(
                req.spec, prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            problems.append(f'{req.dist} {found} is installed but mmboundary '
                            f'needs {req.dist}{req.spec}. Fix: {req.fix}')
    return problems


def check_versions(
        installed: Optional[Dict[str, Optional[str]]] = None) -> None:
    """Raise :class:`StackVersionError` if the stack is not supported.

    Args:
        installed (dict, optional): See :func:`find_version_problems`.

    Raises:
        StackVersionError: Names every offending package, its supported
            range and the command that fixes it.
    """
    problems = find_version_problems(installed)
    if problems:
        raise StackVersionError(
            'mmboundary found an unsupported software stack:\n  - ' +
            '\n  - '.join(problems) +
            '\nOr rebuild the project environment with `make env`.')
