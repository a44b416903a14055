# Copyright (c) mmboundary contributors. All rights reserved.
from .boundary_ap_metric import BoundaryAPMetric
from .boundary_metric import BOUNDARY_METRICS, BoundaryMetric

__all__ = ['BoundaryMetric', 'BOUNDARY_METRICS', 'BoundaryAPMetric']
