# Copyright (c) mmboundary contributors. All rights reserved.
"""The main job: one benchmark comparing every method under one protocol.

``tools/misc/run_main_job.py`` is its command line. One module per concern,
imports running downwards (nothing else in the package imports this one):

- :mod:`.rows`: the rows (:data:`ROWS`), tasks (:data:`TASKS`), the
  AsyInst ablation's rows and the tables one command runs (``TABLES``,
  with their protocols);
- :mod:`.protocol`: what a table's rows share, checked before training,
  and how a row's config is resolved;
- :mod:`.data`, :mod:`.process`, :mod:`.start`: the dataset, the child
  ``tools/train.py``/``tools/test.py`` runs and the cached shared start;
- :mod:`.runner`: every row at every seed, then the run's report;
- :mod:`.stats`: mean, sample std and paired Student-t intervals, the
  seeds a target half-width needs, the verdict against a paper's
  direction and the convergence of a validation curve;
- :mod:`.power`: the power plan of a stored run (``--plan``);
- :mod:`.trivial`: the trivial predictor rows;
- :mod:`.report`: tables, ``results.{md,json}``, README block, publishing;
- :mod:`.figures`: boundary overlays, boundary-metric bars and the
  baselines' validation curves.
"""
from .protocol import (check_rows, config_differences, load_config,
                       protocol_of, resolve_config)
from .rows import ROWS, TASKS, Row, baseline_of, select_rows, task_rows
from .runner import run_job
from .stats import mean_std, paired_difference

__all__ = [
    'ROWS', 'TASKS', 'Row', 'baseline_of', 'select_rows', 'task_rows',
    'check_rows', 'config_differences', 'load_config', 'protocol_of',
    'resolve_config', 'run_job', 'mean_std', 'paired_difference'
]
