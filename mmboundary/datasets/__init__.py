# Copyright (c) mmboundary contributors. All rights reserved.
from .nyuv2_seg import NYUv2SegDataset  # noqa: F401
from .transforms import *  # noqa: F401,F403
