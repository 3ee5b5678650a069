"""The project's own four-conv-layer network for notebook 02 (`own4`): cheaper than Dense4 per
epoch, for the question "how close can four conv layers get for half the training time?".

Design, each part from published evidence and chosen for reasons that hold on any photos:

* Four 3x3 conv + BN + ReLU stages, the first at full resolution, each of the first three followed
  by a 2x2 max-pool (VGG's plain stack; airbench's CIFAR-10 nets are the same shape). Dense4 spends
  most of its multiply-adds on one 512 -> 512 conv at S/4; here the widths grow as the maps shrink,
  so every stage costs about the same and the whole net about half of Dense4's.
* Optional squeeze-and-excitation (Hu et al., CVPR 2018) after every stage: a per-channel gate from
  the globally pooled map, a few thousand parameters, no extra conv layer (its two linear maps act
  on a vector).
* A multi-scale head (``head="all"``): the globally pooled outputs of all four stages concatenated
  before the classifier, so earlier, finer features reach the classifier directly: the feature
  reuse the original report credits to DenseNet's concatenation, at the cost of a wider fc only.

Every Conv2d is counted by notebook 02 (:func:`hwlib.studies.dense.conv_layers`): four.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .image_checks import check_images

Own4Head = Literal["last", "all"]


class SqueezeExcite(nn.Module):
    """SE gate (Hu et al. 2018): x * sigmoid(W2 relu(W1 avgpool(x))), reduction r."""

    def __init__(self, channels: int, *, reduction: int = 8):
        super().__init__()
        hidden = max(8, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))  # (B, C)
        return x * g[:, :, None, None]  # (B, C, H, W)


class Own4(nn.Module):
    """Four conv stages of widths ``widths`` (w1..w4), SE optional, a last-stage or multi-scale head.

    Shapes for an S x S input: stage i works at S / 2^(i-1) (S, S/2, S/4, S/8) with w_i channels;
    the head pools each stage to (B, w_i) and classifies their concatenation (``head="all"``) or the
    last one only (``head="last"``).
    """

    def __init__(
        self,
        *,
        num_classes: int = 50,
        in_channels: int = 3,
        widths: tuple[int, int, int, int] = (64, 128, 256, 512),
        se: bool = True,
        head: Own4Head = "all",
    ):
        super().__init__()
        if head not in ("last", "all"):
            raise ValueError(f"head must be 'last' or 'all', got {head!r}")
        self.head = head
        self.in_channels = in_channels
        chans = (in_channels, *widths)
        self.convs = nn.ModuleList(
            nn.Conv2d(chans[i], chans[i + 1], kernel_size=3, padding=1, bias=False) for i in range(4)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(w) for w in widths)
        self.ses = nn.ModuleList(SqueezeExcite(w) if se else nn.Identity() for w in widths)
        self.fc = nn.Linear(sum(widths) if head == "all" else widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, who="Own4", in_channels=self.in_channels)
        pooled = []
        for i, (conv, bn, se) in enumerate(zip(self.convs, self.bns, self.ses)):
            x = se(F.relu(bn(conv(x))))  # (B, w_i, S / 2^i, S / 2^i)
            pooled.append(x.mean((2, 3)))  # (B, w_i)
            if i < 3:
                x = F.max_pool2d(x, 2)
        feats = torch.cat(pooled, 1) if self.head == "all" else pooled[-1]  # (B, sum w) | (B, w4)
        return self.fc(feats)


def own4(
    *,
    num_classes: int = 50,
    widths: tuple[int, int, int, int] = (64, 128, 256, 512),
    se: bool = True,
    head: Own4Head = "all",
) -> Own4:
    """The project's four-conv network (see the module docstring)."""
    return Own4(num_classes=num_classes, widths=widths, se=se, head=head)


__all__ = ["Own4", "Own4Head", "SqueezeExcite", "own4"]
