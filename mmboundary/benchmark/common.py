# Copyright (c) mmboundary contributors. All rights reserved.
"""What every module of the benchmark shares: the repository root, the
job's log line and names made from row names.

The benchmark runs from a checkout: it trains the configs under
``configs/`` with ``tools/train.py`` and publishes to ``docs/``.
"""
import os
import os.path as osp
import re

#: The repository root (configs, tools and docs are found under it).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def log(msg: str) -> None:
    """Print one ``[main job] ...`` line (flushed: rows run in threads)."""
    print(f'[main job] {msg}', flush=True)


def slug(name: str) -> str:
    """``'FCN + SEMEDA'`` -> ``'fcn_semeda'`` (folder names)."""
    return re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_').lower()


def link_prefix(folder: str) -> str:
    """Relative path from ``folder`` to the repository root, with '/'."""
    return osp.relpath(REPO_ROOT, folder).replace(os.sep, '/') + '/'


def rel(path: str) -> str:
    """``path`` relative to the repository root when inside it."""
    rel_path = osp.relpath(path, REPO_ROOT)
    return path if rel_path.startswith('..') else rel_path
