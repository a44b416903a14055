# Copyright (c) mmboundary contributors. All rights reserved.
from .dvis import DVIS

__all__ = ['DVIS']
