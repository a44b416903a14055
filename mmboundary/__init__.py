# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary: boundary-aware losses, transforms, hooks and metrics for
mmsegmentation 1.x and mmdetection 3.x.

Importing the package checks the installed stack and registers every module
(see :mod:`mmboundary.registry`), which is what
``custom_imports = dict(imports=['mmboundary'])`` relies on.
"""
from .utils.version_check import check_versions
from .version import __version__, version_info

check_versions()

# Imported for registration and for the safe checkpoint loader.
from . import datasets, engine, evaluation, models, utils  # noqa: E402,F401

__all__ = ['__version__', 'version_info', 'check_versions']
