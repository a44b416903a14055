# Copyright (c) mmboundary contributors. All rights reserved.
# tiny_seg.py plus the test-only probe hook (tests/data/probe.py).
_base_ = ['./tiny_seg.py']
custom_imports = dict(
    imports=['mmboundary', 'tests.data.probe'], allow_failed_imports=False)
custom_hooks = [dict(type='TestProbeHook')]
