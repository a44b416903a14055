# Copyright (c) mmboundary contributors. All rights reserved.
"""Random states in checkpoints, so that ``--resume`` continues a run
exactly as if it had never stopped."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmboundary.registry import HOOKS

#: Key of the saved states in the checkpoint.
RANDOM_STATE_KEY = 'mmboundary_random_state'


def get_random_state() -> dict:
    """The Python, numpy and torch (CPU, and CUDA if in use) random
    states of this process."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Restore what :func:`get_random_state` returned."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state['numpy']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreAfterSkip:
    """Wraps the train loop's data iterator while it skips the ``n``
    batches a resumed run already trained on: loading them draws random
    numbers (transforms run in this process when ``num_workers=0``), which
    the uninterrupted run drew before the checkpoint. After the last skipped
    batch the saved states are set again and the loop gets its iterator
    back."""

    def __init__(self, loop, n: int, state: dict) -> None:
        self.loop, self.iterator = loop, loop.dataloader_iterator
        self.n, self.state = n, state

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self.iterator)
        self.n -= 1
        if self.n <= 0:
            set_random_state(self.state)
            self.loop.dataloader_iterator = self.iterator
        return batch


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the Python, numpy and torch random states of the main process
    with every checkpoint, and continue from them on ``--resume``.

    mmengine re-seeds a resumed run with the configured seed, so whatever
    is drawn after resuming (dropout masks, RoI sampling, data augmentation
    in the main process) differs from the uninterrupted run. With this hook
    a resumed iteration-based run draws exactly the numbers the
    uninterrupted one drew: the states are restored when the checkpoint is
    loaded and again once the train loop has skipped the batches already
    trained on. Dataloader workers are seeded by mmengine from the seed and
    the worker id and replay the skipped batches, so they stay in step by
    themselves.

    ``tools/train.py`` adds this hook to every run (see
    :func:`mmboundary.utils.launch.add_random_state_hook`). The states are
    tensors, arrays and tuples, which the weights-only loader accepts. A
    checkpoint without them resumes as in mmengine, with a warning.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._resumed: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the random states in ``checkpoint``."""
        checkpoint[RANDOM_STATE_KEY] = get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the random states saved in ``checkpoint`` when resuming
        (``load_from`` alone only initialises weights: nothing to do)."""
        if not getattr(runner, '_resume', False):
            return
        state = checkpoint.get(RANDOM_STATE_KEY)
        if state is None:
            runner.logger.warning(
                'RandomStateHook: the checkpoint has no random states (it '
                'was written without this hook); the resumed run draws '
                'other random numbers than an uninterrupted one would.')
            return
        set_random_state(state)
        self._resumed = state

    def before_train(self, runner) -> None:
        """Restore the states again after the resumed loop's skip."""
        if self._resumed is None:
            return
        loop = runner.train_loop
        skip = getattr(loop, '_iter', 0)
        if skip > 0 and hasattr(loop, 'dataloader_iterator'):
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, skip, self._resumed)
        else:
            set_random_state(self._resumed)
        self._resumed = None
