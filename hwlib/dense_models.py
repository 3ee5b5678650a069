"""Notebook 02's networks, as keyword-only factories.

* :func:`dense4` - the original report's 4-conv DenseNet, module for module as its ``print(model)``.
* :func:`resnet34_baseline` - torchvision ResNet34 from scratch, with the original report's head or a plain
  one, as built or for small images (``stem_pool=False``: no stem max-pool, so every stage works on maps
  twice as wide: at 32 px the last stage sees 2x2 maps instead of 1x1).
* ``dense4(concat=False)`` is the plain 4-conv network of the same widths (no DenseNet concatenation).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet34

from .image_checks import check_images

ResNetHead = Literal["original", "plain"]


class DenseLayer(nn.Module):
    """One DenseNet layer as the original report has it: a single 3x3 conv (k = growth_rate filters)
    + BN + ReLU, concatenated to its input (not torchvision's 1x1-3x3 bottleneck)."""

    def __init__(self, in_channels: int, growth_rate: int, *, concat: bool = True):
        super().__init__()
        self.concat = concat
        self.conv = nn.Conv2d(in_channels, growth_rate, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(growth_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn(self.conv(x)))  # (B, k, H, W)
        return torch.cat([x, out], 1) if self.concat else out  # (B, C + k, H, W) | (B, k, H, W)


class Transition(nn.Module):
    """1x1 conv halving the channels + BN + ReLU + 2x2 average pool (DenseNet transition)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(F.relu(self.bn(self.conv(x))))  # (B, C_out, H/2, W/2)


class Dense4(nn.Module):
    """The original report's 4-conv DenseNet.

    conv1 7x7/2 (3 -> k0) + BN + ReLU + max-pool 3/2, then two dense blocks of one
    :class:`DenseLayer` each with a :class:`Transition` between, BN + ReLU, global average pool, fc.
    Four Conv2d modules in all. Args: ``growth_rate`` (k in the DenseNet paper: filters each
    dense layer adds), ``init_channels`` (k0: conv1's filters), ``concat`` (DenseNet concatenation;
    False keeps only the dense layer's output) and ``transition`` (False drops the 1x1 conv + pool
    between the blocks; then three conv layers remain), the last two for the ablation.
    """

    def __init__(
        self,
        *,
        num_classes: int = 50,
        growth_rate: int = 512,
        init_channels: int = 512,
        in_channels: int = 3,
        concat: bool = True,
        transition: bool = True,
    ):
        super().__init__()
        c = init_channels
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=7, stride=2, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.features = nn.ModuleList()
        self.features.append(nn.Sequential(DenseLayer(c, growth_rate, concat=concat)))
        c = c + growth_rate if concat else growth_rate
        if transition:
            self.features.append(Transition(c, c // 2))
            c //= 2
        self.features.append(nn.Sequential(DenseLayer(c, growth_rate, concat=concat)))
        c = c + growth_rate if concat else growth_rate
        self.bn2 = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, who="Dense4", in_channels=self.conv1.in_channels)
        out = self.pool1(F.relu(self.bn1(self.conv1(x))))  # (B, 512, S/4, S/4)
        for layer in self.features:
            out = layer(out)  # (B, 1024, S/4) -> (B, 512, S/8) -> (B, 1024, S/8)
        out = F.adaptive_avg_pool2d(F.relu(self.bn2(out)), 1).flatten(1)  # (B, 1024)
        return self.fc(out)


def dense4(
    *,
    num_classes: int = 50,
    growth_rate: int = 512,
    init_channels: int = 512,
    concat: bool = True,
    transition: bool = True,
) -> Dense4:
    """The original report's Dense4: 5,375,538 parameters at 50 classes with the defaults."""
    return Dense4(
        num_classes=num_classes,
        growth_rate=growth_rate,
        init_channels=init_channels,
        concat=concat,
        transition=transition,
    )


def resnet34_baseline(*, num_classes: int = 50, head: ResNetHead = "original", stem_pool: bool = True) -> nn.Module:
    """torchvision ResNet34, randomly initialised (no pretrained weights).

    head="original": the original report's model, the 1000-way fc kept, then ReLU and Linear(1000, num_classes)
    (21,847,722 parameters at 50 classes). head="plain": fc replaced by Linear(512, num_classes)
    (21,310,322). stem_pool=False replaces the stem's 3x3/2 max-pool by the identity (no parameters
    change): the network then downsamples 16x instead of 32x, so at 32 px layer4 works on 2x2 maps
    (at 224 px on 14x14) at about 4x the multiply-adds.
    """
    net = resnet34(weights=None)
    if not stem_pool:
        net.maxpool = nn.Identity()
    if head == "original":
        return nn.Sequential(
            OrderedDict([("backbone", net), ("act", nn.ReLU()), ("classifier", nn.Linear(1000, num_classes))])
        )
    if head == "plain":
        net.fc = nn.Linear(net.fc.in_features, num_classes)
        return net
    raise ValueError(f"head must be 'original' or 'plain', got {head!r}")
