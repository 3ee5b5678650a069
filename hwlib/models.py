"""The channel study's networks (notebook 01), as keyword-only factories; notebook 02's are
:mod:`hwlib.dense_models`'s.

* :func:`flex_cnn` - the original report's ``Question1_CNN``: FlexConv(16) -> pool -> conv 16->32 ->
  pool -> conv 32->32 -> pool -> fc 128 -> fc classes.
* :func:`cnn3` - the same network with a plain Conv2d(C, 16, 3, 'same') in place of FlexConv: the
  3-layer CNN baseline (three conv layers), fixed to C input channels.
* :func:`adaptive_cnn` - the same network with a channel-adaptive first layer (:mod:`hwlib.channel_layers`).
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .channel_layers import AdaptiveFirst, channel_adaptive
from .flexconv import FlexMode, flex_conv2d, resolve_channel_ids
from .image_checks import check_images


def small_cnn_map_size(image_size: int) -> int:
    """Side of the last map of flex_cnn / cnn3: three (2x2 max-pool) with two valid 3x3 convs between."""
    s = image_size // 2
    s = (s - 2) // 2
    s = (s - 2) // 2
    if s < 1:
        raise ValueError(f"image_size {image_size} is too small for the 3-layer network (needs >= 22 px)")
    return s


class SubsetAffine(nn.Module):
    """A scale and shift per channel subset (Reza et al., arXiv 2310.03986; slimmable networks'
    private normalisation): y = x * scale[s] + shift[s] per output map, s the subset of the known
    channels present (a bitmask of their ids: R = 1, G = 2, B = 4, RGB = 7; ids >= known_channels are
    not counted). Starts at scale 1, shift 0: the identity.

    Args:
        known_channels: ``K``, channels with a bit (2^K rows).
        width: maps the scale and shift apply to.
    """

    def __init__(self, *, known_channels: int, width: int):
        super().__init__()
        if known_channels < 1:
            raise ValueError(f"SubsetAffine needs known_channels >= 1, got {known_channels}")
        self.known_channels = known_channels
        self.scale = nn.Parameter(torch.ones(2**known_channels, width))
        self.shift = nn.Parameter(torch.zeros(2**known_channels, width))
        for p in (self.scale, self.shift):  # a norm layer's affine: hwlib.train never decays it
            p.no_weight_decay = True  # type: ignore[attr-defined]  # a flag on the Parameter object

    def row(self, channel_ids, c: int, device: torch.device) -> torch.Tensor:
        """() long: the subset's row, from the ids of the C input channels (default 0..C-1)."""
        ids = resolve_channel_ids(channel_ids, c, device, type(self).__name__)
        known = ids[ids < self.known_channels]
        return (2 ** known.unique()).sum()

    def forward(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """x: (N, width, H, W); rows: (N,) each sample's subset row -> (N, width, H, W)."""
        scale, shift = self.scale[rows].to(x.dtype), self.shift[rows].to(x.dtype)  # (N, width) each
        return x * scale[:, :, None, None] + shift[:, :, None, None]


class SmallCNN(nn.Module):
    """Shared body of :func:`flex_cnn` and :func:`cnn3` (the original report's ``Question1_CNN``).

    The first layer is given (a FlexConv layer named ``flex_layer``, a Conv2d named ``conv0`` or a
    channel-adaptive layer named ``first``: the names keep the state_dict keys; read it as
    :attr:`first_layer`); the rest is the original's: max-pool 2,
    conv1 (16 -> 32, 3x3 valid), conv2 (32 -> 32, 3x3 valid), fc1 (32*s*s -> hidden, the original's
    128), fc2 (-> classes), ReLU after each. With ``adaptive_head`` the last map is average-pooled
    to the s x s the network was built for, so any input size works (s = 14 at 128 px, the
    original's 32*14*14 = 6272).
    ``subset_affine`` = K > 0 adds a :class:`SubsetAffine` after the first layer and after conv1 (before
    their ReLU), told the subset by the channel ids.
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
        subset_affine: int = 0,
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
        self.affine0 = SubsetAffine(known_channels=subset_affine, width=first_out) if subset_affine else None
        self.affine1 = SubsetAffine(known_channels=subset_affine, width=32) if subset_affine else None

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

    takes_views: ClassVar[bool] = True  # forward also takes a joint batch's views (hwlib.train.forward)

    def forward(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """x: (B, C, H, W); channel_ids: for a first layer that takes them (FlexConv, channel-adaptive),
        the id of each input channel (e.g. [0, 2] for R and B), default 0..C-1; a Conv2d ignores them.
        x may also be a joint batch's views (a tuple, :class:`hwlib.data.loader.Views`): then
        :meth:`forward_views`, so that a compiled model (torch.compile) runs it compiled too."""
        if isinstance(x, tuple):
            return self.forward_views(x)
        return self.body(*self.stem(x, channel_ids))

    def forward_views(self, views) -> torch.Tensor:
        """The logits of every view of a joint batch, concatenated in order (V*B, classes): each view
        (a tensor, or (tensor, channel ids)) through the first layer on its own, then the rest of the
        network once over all of them. No later layer mixes samples, so this equals running the
        views one by one, at one body call instead of V (with :func:`hwlib.flexconv.batched_conv`'s
        change, the joint step of `flex` went from 149 to 87 ms, batch 64 at 32 px, measured once on 2
        idle CPU cores; `python -m hwlib.bench` times the joint step)."""
        maps, rows = zip(*(self.stem(*v) if isinstance(v, tuple) else self.stem(v) for v in views), strict=True)
        return self.body(torch.cat(maps), None if self.affine1 is None else torch.cat(rows))

    def stem(self, x: torch.Tensor, channel_ids=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, C, H, W) -> (B, 16, S/2, S/2): the first layer (with its subset scale and shift), its
        ReLU and max-pool; and each sample's subset row (B,) where the network has SubsetAffine, else None."""
        first = self.first_layer
        check_images(x, who=type(self).__name__ + f"({self.first_name})", in_channels=self.fixed_in_channels)
        h = first(x, channel_ids) if getattr(first, "takes_channel_ids", False) else first(x)  # (B, 16, S, S)
        rows = None
        if self.affine0 is not None:
            rows = self.affine0.row(channel_ids, x.shape[1], x.device).expand(len(x))  # (B,)
            h = self.affine0(h, rows)
        return F.relu(self.pool(h)), rows  # (B, 16, S/2, S/2); ReLU after the pool: the same values, on 4x fewer

    def body(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 16, S/2, S/2) -> (B, classes) logits: everything after the first layer's pool; rows:
        each sample's subset row where the network has SubsetAffine."""
        x = self.conv1(x)  # (B, 32, ., .)
        if self.affine1 is not None:
            x = self.affine1(x, rows)
        x = F.relu(self.pool(x))
        x = F.relu(self.pool(self.conv2(x)))  # (B, 32, s', s')
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
    subset_affine: bool = False,
) -> SmallCNN:
    """The original report's FlexConv network. ``mode="original"`` with image_size=128 is its Question1_CNN
    exactly (state_dict keys included) and takes only image_size inputs; ``mode="pooled"`` and
    ``mode="hybrid"`` take any channel count and any size >= 22 px; ``known_channels=3`` adds the R, G, B
    identity table (hybrid mode needs it; original mode takes none). ablate: hybrid parts switched
    off (:data:`hwlib.flexconv.ABLATABLE`); subset_affine: a scale and shift per subset of the
    known channels after the first layer and conv1 (:class:`SubsetAffine`; needs known_channels)."""
    if subset_affine and not known_channels:
        raise ValueError("subset_affine needs known_channels >= 1 (the subsets are of the known channels)")
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
        subset_affine=known_channels if subset_affine else 0,
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
