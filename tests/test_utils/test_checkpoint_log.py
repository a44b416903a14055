# Copyright (c) mmboundary contributors. All rights reserved.
"""mmengine's "Loads checkpoint by ... backend" line names mmboundary's safe
loader in words (issue 21, item 5: it read "point_safely")."""
import logging

import torch
from mmengine.logging import MMLogger
from mmengine.runner import CheckpointLoader

import mmboundary  # noqa: F401  (registers the loader)
from mmboundary.utils.checkpoint import SAFE_LOADER_LOG_NAME


class Records(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_load_line_reads_as_words(tmp_path):
    path = str(tmp_path / 'x.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}}, path)
    logger = MMLogger.get_current_instance()
    handler = Records()
    logger.addHandler(handler)
    try:
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    finally:
        logger.removeHandler(handler)
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    lines = [m for m in handler.messages if m.startswith('Loads checkpoint')]
    assert lines == [
        f'Loads checkpoint by weights-only local backend from path: {path}'
    ]
    assert SAFE_LOADER_LOG_NAME == 'weights-only local'
    assert 'point_safely' not in ' '.join(handler.messages)
