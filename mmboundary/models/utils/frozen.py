# Copyright (c) mmboundary contributors. All rights reserved.
"""A container for frozen auxiliary networks (SEMEDA's edge net,
InverseForm's inverse net).

Such a network is pretrained, then used only to compute a training loss. The
contract, enforced here once for every method:

* its parameters have ``requires_grad=False``, so the segmentor's optimizer
  never updates them and DDP never all-reduces their gradients (DDP only
  registers reducer hooks on parameters that require grad);
* it always stays in eval mode, whatever ``model.train()`` says;
* its weights come from a verified checkpoint (the owner loads them);
* its state-dict entries are marked *training-only*: next to them the
  container writes an empty marker tensor under ``<prefix>training_only``, so
  ``tools/misc/publish_model.py`` can drop the whole sub-tree from published
  checkpoints without knowing the model.
"""
import warnings
from typing import Dict, List, Mapping, Optional

import torch
from torch import nn

#: Name of the marker entry written next to a frozen net's weights.
TRAINING_ONLY_MARKER = 'training_only'


class FrozenAuxNet(nn.Module):
    """Wrap a network so it is frozen, always in eval mode and marked
    training-only in checkpoints.

    Args:
        net (nn.Module): The auxiliary network. Its parameters are frozen in
            place.

    Example:
        >>> frozen = FrozenAuxNet(nn.Conv2d(3, 2, 3))
        >>> sorted(frozen.state_dict())
        ['net.bias', 'net.weight', 'training_only']
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        for param in self.net.parameters():
            param.requires_grad_(False)
        super().train(False)
        # A CPU copy of verified weights, to undo a later re-initialisation
        # (e.g. a layer-wide init_cfg of the owning head); not a state entry.
        self._reference: Optional[Dict[str, torch.Tensor]] = None

    def load_verified(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load a verified state dict (strict) and remember it."""
        self.net.load_state_dict(state, strict=True)
        self._reference = {
            k: v.detach().cpu().clone()
            for k, v in state.items()
        }

    def check_weights(self, no_weights_msg: str, owner: str,
                      source: str) -> None:
        """Refuse unloaded weights; restore weights changed after loading.

        Args:
            no_weights_msg (str): RuntimeError message when the net's
                ``pretrained`` buffer is 0 (nothing was loaded).
            owner (str): Who checks, for the warning (e.g. 'SemedaLoss').
            source (str): Where the weights came from, for the warning.
        """
        flag = getattr(self.net, 'pretrained', None)
        if flag is not None and not bool(flag):
            raise RuntimeError(no_weights_msg)
        if self._reference is None:
            return
        state = self.net.state_dict()
        changed = [
            k for k, v in self._reference.items()
            if not torch.equal(state[k].cpu(), v)
        ]
        if changed:
            warnings.warn(f'{owner}: frozen-net weights changed after '
                          f'loading {source} ({changed}); restoring them.')
            self.net.load_state_dict(self._reference, strict=True)

    def train(self, mode: bool = True) -> 'FrozenAuxNet':
        """Ignore ``mode``: a frozen net is always in eval mode."""
        return super().train(False)

    def forward(self, *args, **kwargs):
        """Run the wrapped network."""
        return self.net(*args, **kwargs)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + TRAINING_ONLY_MARKER] = torch.zeros(0)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        # The marker carries no data: accept it, never require it.
        state_dict.pop(prefix + TRAINING_ONLY_MARKER, None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)


def training_only_prefixes(state_dict: Mapping) -> List[str]:
    """State-dict prefixes of every frozen auxiliary net in ``state_dict``.

    Args:
        state_dict (Mapping): A model state dict, e.g. ``ckpt['state_dict']``.

    Returns:
        list[str]: Prefixes such as ``'decode_head.loss_decode.1.edge_net.'``;
        every key starting with one of them is training-only.
    """
    suffix = TRAINING_ONLY_MARKER
    return sorted(key[:-len(suffix)] for key in state_dict
                  if key == suffix or key.endswith('.' + suffix))


def _note_published_drop(module: nn.Module, state_dict, prefix: str, *args):
    """Pre-load hook: remember ``prefix`` when the checkpoint has no entry
    at all under it (the whole frozen net was dropped on publishing)."""
    absent = not any(key.startswith(prefix) for key in state_dict)
    module._published_drop_prefix = prefix if absent else None


def _accept_published_drop(module: nn.Module, incompatible_keys) -> None:
    """Post-load hook: take the dropped net's keys out of the missing keys
    (mmengine would dump them as a warning; torch's ``strict=True`` would
    raise) and say in one line why they are absent."""
    prefix = getattr(module, '_published_drop_prefix', None)
    module._published_drop_prefix = None
    if prefix is None:
        return
    missing = incompatible_keys.missing_keys
    dropped = [key for key in missing if key.startswith(prefix)]
    if not dropped:
        return
    missing[:] = [key for key in missing if not key.startswith(prefix)]
    from mmengine.logging import print_log
    print_log(
        f'{module._published_drop_owner}: the checkpoint has no '
        f'{module._published_drop_what} weights ({prefix[:-1]}, '
        f'{len(dropped)} tensors): frozen auxiliary nets are training-only '
        'and dropped from published checkpoints, as intended; the '
        f'{module._published_drop_what} keeps the weights it was built with '
        '(only the training loss uses it).',
        logger='current')


def accept_published_drop(frozen: FrozenAuxNet, owner: str,
                          what: str) -> FrozenAuxNet:
    """Let a checkpoint without ``frozen``'s weights load quietly.

    ``tools/misc/publish_model.py`` drops every frozen net (it is only used
    by a training loss), so a published checkpoint lacks all of its keys.
    Loading one (``tools/test.py``, ``load_from``) then logs one line saying
    so instead of mmengine's missing-keys dump. A checkpoint that has *some*
    of the net's keys but not all is still reported as usual.

    Args:
        frozen (FrozenAuxNet): The frozen net, already a submodule of its
            owner.
        owner (str): Who owns it, for the message (e.g. 'SemedaLoss').
        what (str): What it is, for the message (e.g. 'edge net').

    Returns:
        FrozenAuxNet: ``frozen``, with the two load hooks registered.
    """
    frozen._published_drop_owner = owner
    frozen._published_drop_what = what
    frozen._published_drop_prefix = None
    frozen._register_load_state_dict_pre_hook(
        _note_published_drop, with_module=True)
    frozen.register_load_state_dict_post_hook(_accept_published_drop)
    return frozen
