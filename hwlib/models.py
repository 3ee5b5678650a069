"""The original report's networks, as keyword-only factories.

* :func:`flex_cnn` - the original report's ``Question1_CNN``: FlexConv(16) -> pool -> conv 16->32 ->
  pool -> conv 32->32 -> pool -> fc 128 -> fc classes.
* :func:`cnn3` - the same network with a plain Conv2d(C, 16, 3, 'same') in place of FlexConv: the
  3-layer CNN baseline (three conv layers), fixed to C input channels.
* :func:`dense4` - the original report's 4-conv DenseNet, module for module as its ``print(model)``.
* :func:`resnet34_baseline` - torchvision ResNet34 from scratch, with the original report's head or a plain one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet34

from .channel_layers import AdaptiveFirst, channel_adaptive
from .flexconv import FlexMode, flex_conv2d

ResNetHead = Literal["original", "plain"]


def check_images(x: torch.Tensor, *, who: str, in_channels: int | None) -> None:
    """Fail fast, with a message, on input a model cannot take (instead of a shape error deep inside).

    in_channels: the channel count the model requires (None: any number)."""
    if x.dim() != 4:
        raise ValueError(f"{who} expects a 4-D (B, C, H, W) batch, got shape {tuple(x.shape)}")
    if x.shape[1] < 1:
        raise ValueError(f"{who} needs at least one input channel, got shape {tuple(x.shape)}")
    if in_channels is not None and x.shape[1] != in_channels:
        raise ValueError(
            f"{who} was built for {in_channels} input channels, got {x.shape[1]}; give it all {in_channels} "
            "(absent ones zero-filled: select_channels(..., zero_fill=True)) or use flex_cnn"
        )


def small_cnn_map_size(image_size: int) -> int:
    """Side of the last map of flex_cnn / cnn3: three (2x2 max-pool) with two valid 3x3 convs between."""
    s = image_size // 2
    s = (s - 2) // 2
    s = (s - 2) // 2
    if s < 1:
        raise ValueError(f"image_size {image_size} is too small for the 3-layer network (needs >= 22 px)")
    return s


class SmallCNN(nn.Module):
    """Shared body of :func:`flex_cnn` and :func:`cnn3` (the original report's ``Question1_CNN``).

    The first layer is given (a FlexConv layer named ``flex_layer``, a Conv2d named ``conv0`` or a
    channel-adaptive layer named ``first``: the names keep the state_dict keys; read it as
    :attr:`first_layer`); the rest is the original's: max-pool 2,
    conv1 (16 -> 32, 3x3 valid), conv2 (32 -> 32, 3x3 valid), fc1 (32*s*s -> 128), fc2 (-> classes),
    ReLU after each. With ``adaptive_head`` the last map is average-pooled to the s x s the network
    was built for, so any input size works (s = 14 at 128 px, the original's 32*14*14 = 6272).
    """

    def __init__(
        self,
        first: nn.Module,
        *,
        first_name: str,
        first_out: int,
        num_classes: int,
        image_size: int,
        adaptive_head: bool,
    ):
        super().__init__()
        self.first_name = first_name
        self.add_module(first_name, first)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv1 = nn.Conv2d(first_out, 32, kernel_size=3)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=3)
        s = small_cnn_map_size(image_size)
        self.head_pool: nn.Module = nn.AdaptiveAvgPool2d(s) if adaptive_head else nn.Identity()
        self.fc1 = nn.Linear(32 * s * s, 128)
        self.fc2 = nn.Linear(128, num_classes)

    @property
    def first_layer(self) -> nn.Module:
        """The first layer (``flex_layer``, ``conv0`` or ``first``, whichever this network has)."""
        return getattr(self, self.first_name)

    @property
    def fixed_in_channels(self) -> int | None:
        """The channel count the input must have: a plain Conv2d first layer's in_channels; None
        when the first layer takes any number of channels."""
        first = self.first_layer
        return first.in_channels if isinstance(first, nn.Conv2d) else None

    def forward(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """x: (B, C, H, W); channel_ids: for a first layer that takes them (FlexConv, channel-adaptive),
        the id of each input channel (e.g. [0, 2] for R and B), default 0..C-1; a Conv2d ignores them."""
        first = self.first_layer
        check_images(x, who=type(self).__name__ + f"({self.first_name})", in_channels=self.fixed_in_channels)
        x = first(x, channel_ids) if getattr(first, "takes_channel_ids", False) else first(x)  # (B, 16, S, S)
        x = self.pool(F.relu(x))  # (B, 16, S/2, S/2)
        x = self.pool(F.relu(self.conv1(x)))  # (B, 32, ., .)
        x = self.pool(F.relu(self.conv2(x)))  # (B, 32, s', s')
        x = self.head_pool(x).flatten(1)  # (B, 32*s*s)
        return self.fc2(F.relu(self.fc1(x)))  # (B, classes)


def flex_cnn(
    *,
    num_classes: int = 50,
    image_size: int = 128,
    mode: FlexMode = "pooled",
    out_channels: int = 16,
    grid: int = 8,
    features: int = 4,
    known_channels: int = 0,
) -> SmallCNN:
    """The original report's FlexConv network. ``mode="original"`` with image_size=128 is its Question1_CNN
    exactly (state_dict keys included) and takes only image_size inputs; ``mode="pooled"`` and
    ``mode="hybrid"`` take any channel count and any size >= 22 px; ``known_channels=3`` adds the R, G, B
    identity table (hybrid mode needs it; original mode takes none)."""
    layer = flex_conv2d(
        mode=mode,
        out_channels=out_channels,
        kernel_size=3,
        in_size=(image_size, image_size) if mode == "original" else None,
        grid=grid,
        features=features,
        known_channels=known_channels,
    )
    return SmallCNN(
        layer,
        first_name="flex_layer",
        first_out=out_channels,
        num_classes=num_classes,
        image_size=image_size,
        adaptive_head=mode != "original",
    )


def cnn3(*, num_classes: int = 50, image_size: int = 128, in_channels: int = 3, out_channels: int = 16) -> SmallCNN:
    """The 3-layer CNN baseline: Conv2d(in_channels, 16, 3, 'same') in place of FlexConv, then the
    original's body. Fixed to ``in_channels`` (zero-fill missing channels, or train one per combination)."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding="same")
    return SmallCNN(
        conv,
        first_name="conv0",
        first_out=out_channels,
        num_classes=num_classes,
        image_size=image_size,
        adaptive_head=True,
    )


def adaptive_cnn(
    *,
    first: AdaptiveFirst,
    num_classes: int = 50,
    image_size: int = 128,
    known_channels: int = 3,
    out_channels: int = 16,
) -> SmallCNN:
    """The 3-layer network with a channel-adaptive first layer (hwlib.channel_layers: grey_mean,
    replicate, zero_fill_rescale, depthwise, slice_param, template_mixing, hypernet) in place of FlexConv."""
    layer = channel_adaptive(first, out_channels=out_channels, known_channels=known_channels)
    return SmallCNN(
        layer,
        first_name="first",
        first_out=out_channels,
        num_classes=num_classes,
        image_size=image_size,
        adaptive_head=True,
    )


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


def resnet34_baseline(*, num_classes: int = 50, head: ResNetHead = "original") -> nn.Module:
    """torchvision ResNet34, randomly initialised (no pretrained weights).

    head="original": the original report's model, the 1000-way fc kept, then ReLU and Linear(1000, num_classes)
    (21,847,722 parameters at 50 classes). head="plain": fc replaced by Linear(512, num_classes)
    (21,310,322).
    """
    net = resnet34(weights=None)
    if head == "original":
        return nn.Sequential(
            OrderedDict([("backbone", net), ("act", nn.ReLU()), ("classifier", nn.Linear(1000, num_classes))])
        )
    if head == "plain":
        net.fc = nn.Linear(net.fc.in_features, num_classes)
        return net
    raise ValueError(f"head must be 'original' or 'plain', got {head!r}")
