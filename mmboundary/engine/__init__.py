# Copyright (c) mmboundary contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .pretraining import *  # noqa: F401,F403
