"""The channel study's networks (notebook 01), as keyword-only factories; notebook 02's are
:mod:`hwlib.dense_models`'s.

* :func:`flex_cnn` - the original report's ``Question1_CNN``: FlexConv(16) -> pool -> conv 16->32 ->
  pool -> conv 32->32 -> pool -> fc 128 -> fc classes.
* :func:`cnn3` - the same network with a plain Conv2d(C, 16, 3, 'same') in place of FlexConv: the
  3-layer CNN baseline (three conv layers), fixed to C input channels.
* :func:`adaptive_cnn` - the same network with a channel-adaptive first layer (:mod:`hwlib.channel_layers`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .channel_layers import AdaptiveFirst, channel_adaptive
from .flexconv import FlexMode, flex_conv2d
from .image_checks import check_images


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
    conv1 (16 -> 32, 3x3 valid), conv2 (32 -> 32, 3x3 valid), fc1 (32*s*s -> hidden, the original's
    128), fc2 (-> classes), ReLU after each. With ``adaptive_head`` the last map is average-pooled
    to the s x s the network was built for, so any input size works (s = 14 at 128 px, the
    original's 32*14*14 = 6272).
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
        hidden: int = 128,
    ):
        super().__init__()
        self.first_name = first_name
        self.add_module(first_name, first)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv1 = nn.Conv2d(first_out, 32, kernel_size=3)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=3)
        s = small_cnn_map_size(image_size)
        self.head_pool: nn.Module = nn.AdaptiveAvgPool2d(s) if adaptive_head else nn.Identity()
        self.fc1 = nn.Linear(32 * s * s, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

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
    ablate: tuple[str, ...] = (),
) -> SmallCNN:
    """The original report's FlexConv network. ``mode="original"`` with image_size=128 is its Question1_CNN
    exactly (state_dict keys included) and takes only image_size inputs; ``mode="pooled"`` and
    ``mode="hybrid"`` take any channel count and any size >= 22 px; ``known_channels=3`` adds the R, G, B
    identity table (hybrid mode needs it; original mode takes none). ablate: hybrid parts switched
    off (:data:`hwlib.flexconv.ABLATABLE`)."""
    layer = flex_conv2d(
        mode=mode,
        out_channels=out_channels,
        kernel_size=3,
        in_size=(image_size, image_size) if mode == "original" else None,
        grid=grid,
        features=features,
        known_channels=known_channels,
        ablate=ablate,
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
    hidden: int = 128,
) -> SmallCNN:
    """The 3-layer network with a channel-adaptive first layer (hwlib.channel_layers: grey_mean,
    replicate, zero_fill_rescale, depthwise, slice_param, template_mixing, hypernet, target_param)
    in place of FlexConv; hidden: width of fc1 (the original's 128; wider to match another model's
    parameter count)."""
    layer = channel_adaptive(first, out_channels=out_channels, known_channels=known_channels)
    return SmallCNN(
        layer,
        first_name="first",
        first_out=out_channels,
        num_classes=num_classes,
        image_size=image_size,
        adaptive_head=True,
        hidden=hidden,
    )
