# Copyright (c) mmboundary contributors. All rights reserved.
"""SEMEDA's semantic edge network g_phi (the net definition).

Chen, Dapogny and Cord, "SEMEDA: Enhancing segmentation precision with
semantic edge aware loss", Pattern Recognition 2020 (Sec. 3.2, Algorithm 1).

* :class:`SemanticEdgeNet` maps a C-channel mask to a 2-class edge map with
  L = 3 convolutions C -> 16 -> 32 -> 2 (ReLU, ReLU, softmax) and exposes the
  embeddings psi^1..psi^3 before and after their activation (eq. 6 matches
  them).
* :func:`one_hot_masks` builds its input from labels.
* :func:`edge_target`, the in-loss (torch) version of the 8-neighbour edge
  target E* (Sec. 3.3), lives in :mod:`mmboundary.utils.label_boundary`.

The pretraining loop (Algorithm 1, first loop), its settings, checkpoint
writing and verified loading are in
:mod:`mmboundary.models.pretraining.edge_net`.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmboundary.utils.label_boundary import edge_target


class EdgeNetOutput(NamedTuple):
    """What :meth:`SemanticEdgeNet.forward` returns.

    Attributes:
        pre_act (tuple[Tensor]): psi^1, psi^2, psi^3 before their activation,
            shapes (N, 16, H, W), (N, 32, H, W), (N, 2, H, W); psi^3 is the
            edge logits.
        post_act (tuple[Tensor]): the same after the activation: ReLU(psi^1),
            ReLU(psi^2) and softmax(psi^3) (the last layer has no ReLU; its
            activation is the softmax, Sec. 3.2).
        probs (Tensor | None): (N, 2, H, W) edge probabilities
            E-hat = softmax(psi^3), channel 1 is "edge"; None when the
            forward stopped before the last layer.
    """
    pre_act: Tuple[torch.Tensor, ...]
    post_act: Tuple[torch.Tensor, ...]
    probs: Optional[torch.Tensor]


class SemanticEdgeNet(nn.Module):
    """The semantic edge network g_phi of SEMEDA (Sec. 3.2, eq. 2).

    (N, C, H, W) class probabilities -> (N, 2, H, W) edge probabilities, with
    three ``kernel_size`` convolutions C -> 16 -> 32 -> 2, ReLU after the
    first two and a softmax at the end. Spatial size is kept: each conv pads
    ``kernel_size // 2`` pixels with ``padding_mode`` ('replicate' by default,
    so the image border looks like a continuation of the mask and is not an
    edge, as for the 8-neighbour target where outside pixels do not count).

    Args:
        num_classes (int): C, the number of semantic classes of the masks.
        channels (Sequence[int]): Widths of the two hidden layers.
            Defaults to (16, 32) as in the paper.
        kernel_size (int): Odd kernel size of every conv. Defaults to 3.
        padding_mode (str): Padding of every conv. Defaults to 'replicate'.

    Example:
        >>> net = SemanticEdgeNet(num_classes=19)
        >>> out = net(torch.rand(2, 19, 32, 48).softmax(dim=1))
        >>> [tuple(t.shape) for t in out.pre_act]
        [(2, 16, 32, 48), (2, 32, 32, 48), (2, 2, 32, 48)]
    """

    def __init__(self,
                 num_classes: int,
                 channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3,
                 padding_mode: str = 'replicate') -> None:
        super().__init__()
        if int(num_classes) < 2:
            raise ValueError('SemanticEdgeNet: num_classes must be >= 2, got '
                             f'{num_classes}.')
        if kernel_size % 2 != 1 or kernel_size < 1:
            raise ValueError('SemanticEdgeNet: kernel_size must be a positive '
                             f'odd number, got {kernel_size}.')
        if len(channels) != 2:
            raise ValueError('SemanticEdgeNet: channels must give the two '
                             f'hidden widths (L = 3 layers), got {channels}.')
        self.num_classes = int(num_classes)
        self.channels = tuple(int(c) for c in channels)
        self.kernel_size = int(kernel_size)
        self.padding_mode = padding_mode
        widths = (self.num_classes, *self.channels, 2)
        self.convs = nn.ModuleList(
            nn.Conv2d(
                widths[i],
                widths[i + 1],
                self.kernel_size,
                padding=self.kernel_size // 2,
                padding_mode=padding_mode) for i in range(3))
        # 1 once real weights were loaded or pretrained; lives inside the
        # training-only sub-tree, so it is dropped with the weights.
        self.register_buffer('pretrained', torch.zeros((), dtype=torch.uint8))

    @property
    def receptive_radius(self) -> int:
        """Pixels an output depends on, on each side: L * (k // 2)."""
        return len(self.convs) * (self.kernel_size // 2)

    def forward(self,
                masks: torch.Tensor,
                num_layers: Optional[int] = None) -> EdgeNetOutput:
        """Run g_phi and keep every embedding.

        Args:
            masks (Tensor): (N, C, H, W) class probabilities (softmax of a
                segmentor's logits, or a one-hot GT mask).
            num_layers (int, optional): Stop after this many layers (1..3);
                the loss uses it to skip layers whose weight is 0. None runs
                all three.

        Returns:
            EdgeNetOutput: psi^1..psi^k before and after their activation
            (k = ``num_layers``) and the (N, 2, H, W) edge probabilities
            (None unless all three layers ran).
        """
        if masks.dim() != 4 or masks.shape[1] != self.num_classes:
            raise ValueError(
                'SemanticEdgeNet expects (N, C, H, W) masks with C = '
                f'num_classes = {self.num_classes}, got shape '
                f'{tuple(masks.shape)}.')
        depth = len(self.convs) if num_layers is None else int(num_layers)
        if not 1 <= depth <= len(self.convs):
            raise ValueError(f'num_layers must be in [1, {len(self.convs)}],'
                             f' got {num_layers}.')
        pre, post = [], []
        # NHWC runs these narrow convs 1.5-2x faster on CPU (oneDNN); the
        # gradient reaching the caller stays NCHW (softmax's backward).
        x = masks.contiguous(memory_format=torch.channels_last)
        for i, conv in enumerate(self.convs[:depth]):
            x = conv(x)
            pre.append(x)
            if i < len(self.convs) - 1:
                x = F.relu(x)
                post.append(x)
        probs = None
        if depth == len(self.convs):
            probs = pre[-1].softmax(dim=1)
            post.append(probs)
        return EdgeNetOutput(tuple(pre), tuple(post), probs)


def one_hot_masks(label: torch.Tensor,
                  num_classes: int,
                  ignore_index: int = 255,
                  ignore_fill: Optional[float] = None) -> torch.Tensor:
    """One-hot encode labels; ignore pixels get ``ignore_fill`` everywhere.

    Args:
        label (Tensor): (N, H, W) integer labels.
        num_classes (int): C.
        ignore_index (int): Ignored label. Defaults to 255.
        ignore_fill (float, optional): Value of every channel at ignore
            pixels; None means 1 / C (the uniform distribution).

    Returns:
        Tensor: (N, C, H, W) float masks.
    """
    lab = label.long()
    ignore = lab == ignore_index
    bad = (~ignore) & ((lab < 0) | (lab >= num_classes))
    if bool(bad.any()):
        raise ValueError(
            f'Labels must lie in [0, {num_classes}) or equal ignore_index='
            f'{ignore_index}; found {int(lab[bad][0])}. Check num_classes.')
    onehot = F.one_hot(lab.masked_fill(ignore, 0), num_classes)
    onehot = onehot.permute(0, 3, 1, 2).float()
    fill = 1.0 / num_classes if ignore_fill is None else float(ignore_fill)
    return onehot.masked_fill(ignore.unsqueeze(1), fill)


__all__: List[str] = [
    'SemanticEdgeNet', 'EdgeNetOutput', 'edge_target', 'one_hot_masks'
]
