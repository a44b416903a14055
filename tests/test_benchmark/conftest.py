# Copyright (c) mmboundary contributors. All rights reserved.
"""A 4-image synthetic Cityscapes dataset for the benchmark's tests (one per
test module: some tests change its files)."""
import pytest

from mmboundary.testing import import_tool


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    pytest.importorskip('cityscapesscripts')
    root = str(tmp_path_factory.mktemp('main_job') / 'cs')
    import_tool(
        'tools/dataset_converters/generate_synthetic_cityscapes.py').generate(
            root,
            seed=2,
            num_train=2,
            num_val=2,
            height=128,
            width=256,
            verbose=False)
    import_tool('tools/dataset_converters/cityscapes.py').convert(
        root, verbose=False)
    return root
