# Copyright (c) mmboundary contributors. All rights reserved.
from .asyinst_data_preprocessor import AsyInstDataPreprocessor

__all__ = ['AsyInstDataPreprocessor']
