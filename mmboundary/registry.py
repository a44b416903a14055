# Copyright (c) mmboundary contributors. All rights reserved.
"""Where mmboundary registers its modules.

mmboundary follows the *plug into the host* pattern of mmdet/mmseg
``projects/``: there is no ``mmboundary`` scope. Configs inherit ``mmseg::``
or ``mmdet::`` bases unchanged and add::

    custom_imports = dict(imports=['mmboundary'], allow_failed_imports=False)

Generic modules (losses, transforms, hooks, metrics) are registered **once**,
in mmengine's root registries. mmseg's and mmdet's registries are children of
those roots, and :meth:`mmengine.registry.Registry.get` walks up the parent
chain when a name is not found locally, so the same class resolves from the
``mmseg`` and from the ``mmdet`` scope without prefix.

Modules that only make sense for one host (an mmdet mask head, an mmseg
decode head) are registered in that host's registry, exported here as
``MMDET_MODELS`` / ``MMSEG_MODELS``; likewise mmseg datasets
(``MMSEG_DATASETS``).
"""
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import HOOKS, METRICS, MODELS, TRANSFORMS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import MODELS as MMSEG_MODELS

__all__ = [
    'MODELS', 'TRANSFORMS', 'HOOKS', 'METRICS', 'MMDET_MODELS', 'MMSEG_MODELS',
    'MMSEG_DATASETS'
]
