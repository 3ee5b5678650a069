"""FlexConv2d: a convolution whose kernels are generated per input channel from that channel's
own feature map, so one layer takes any number of input channels C.

For every sample b and input channel c the generator maps the single-channel map x[b, c] to a
k x k kernel for each of the `out_channels` outputs:

    f[b, c] = ReLU(extract_conv(x[b, c]))                      # (1, H, W) -> (F_c, H, W)
    w[b, :, c] = feature2kernel(flatten(pool(f[b, c])))        # -> (out, k, k)
    y[b] = conv2d(x[b], w[b], padding='same')                  # (C, H, W) * (out, C, k, k) -> (out, H, W)

Two modes:

* ``mode="original"`` is the original report's layer exactly (``flex_channel_CNN``): F_c = 1, no pooling, so
  ``feature2kernel`` is ``Linear(H*W, k*k*out)`` and the layer only takes ``in_size``; kernels
  pass through ReLU (non-negative) and the output through ReLU. Submodule names match the
  original's, so its state_dict loads unchanged.
* ``mode="pooled"`` (default) is size invariant: each channel is first average-pooled to a
  2*grid x 2*grid thumbnail, the extractor makes F_c = ``features`` maps of it, and those are
  pooled to ``grid`` x ``grid`` before the Linear, so any H, W works and generating the kernels
  costs the same at every image size (extracting at full resolution cost twice a whole Conv2d
  forward+backward at 128 px on the CPU). Kernels are
  signed (no ReLU) and divided by C, so the output is the *mean* of the per-channel
  contributions: its scale does not grow with the number of channels. A per-output bias is
  added; no activation (the network applies one).

Both modes run the whole batch as one grouped convolution (groups = B, no Python loop over
samples or channels), and a sample's output never depends on the other samples in the batch.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

FlexMode = Literal["original", "pooled"]
MODES: tuple[str, ...] = get_args(FlexMode)


class FlexConv2d(nn.Module):
    """Channel-agnostic convolution with per-sample, per-channel generated kernels.

    Args:
        out_channels: number of output maps (``out`` above).
        kernel_size: side ``k`` of the generated kernels ('same' padding, stride 1).
        mode: "original" (the original report's layer) or "pooled" (any input size).
        in_size: (H, W) the original layer is built for (its Linear has H*W inputs); required for
            original mode, ignored by pooled mode.
        grid: pooled mode: side of the grid each channel's features are pooled to.
        features: pooled mode: feature maps ``F_c`` the 1-channel extractor makes per channel.
        channel_ids: pooled mode: size of the channel-identity table (3 for R, G, B; more for other
            sensors); 0 makes the layer blind to which channels it is given. With a table, a learned
            ``embed_dim``-vector per channel identity joins that channel's features at the input of
            ``feature2kernel``, so the generator can also learn a fixed kernel per known channel.
    """

    def __init__(
        self,
        out_channels: int,
        kernel_size: int = 3,
        *,
        mode: FlexMode = "pooled",
        in_size: tuple[int, int] | None = None,
        grid: int = 8,
        features: int = 4,
        channel_ids: int = 0,
        embed_dim: int = 8,
    ):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"FlexConv2d mode must be one of {MODES}, got {mode!r}")
        if out_channels < 1 or kernel_size < 1:
            raise ValueError(
                f"FlexConv2d needs out_channels >= 1 and kernel_size >= 1, got {out_channels}, {kernel_size}"
            )
        self.out_channels, self.kernel_size, self.mode = out_channels, kernel_size, mode
        kk_out = kernel_size * kernel_size * out_channels
        if mode == "original":
            if in_size is None:
                raise ValueError("FlexConv2d(mode='original') needs in_size=(H, W): its Linear has H*W inputs")
            self.in_size: tuple[int, int] | None = (int(in_size[0]), int(in_size[1]))
            self.extract_conv = nn.Conv2d(1, 1, kernel_size=3, stride=1, padding="same")
            self.feature2kernel = nn.Linear(self.in_size[0] * self.in_size[1], kk_out)
            self.pool: nn.Module = nn.Identity()
            self.pre_pool = nn.Identity()
            self.register_parameter("bias", None)
            if channel_ids:
                raise ValueError(
                    "channel identity (channel_ids) is a pooled-mode option; original mode is the original report's "
                    "layer as is"
                )
            self.channel_embed = None
        else:
            self.in_size, self.grid, self.features = None, grid, features
            self.pre_pool: nn.Module = nn.AdaptiveAvgPool2d(2 * grid)
            self.extract_conv = nn.Conv2d(1, features, kernel_size=3, stride=1, padding="same")
            self.pool = nn.AdaptiveAvgPool2d(grid)
            self.channel_embed = nn.Embedding(channel_ids, embed_dim) if channel_ids else None
            self.feature2kernel = nn.Linear(features * grid * grid + (embed_dim if channel_ids else 0), kk_out)
            self.bias = nn.Parameter(torch.zeros(out_channels))

    def extra_repr(self) -> str:
        size = f", in_size={self.in_size}" if self.in_size else f", grid={self.grid}, features={self.features}"
        if self.channel_embed is not None:
            size += f", channel_ids={self.channel_embed.num_embeddings}"
        return f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, mode={self.mode!r}{size}"

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise ValueError(f"FlexConv2d expects a 4-D (B, C, H, W) tensor, got shape {tuple(x.shape)}")
        if x.shape[1] < 1:
            raise ValueError(f"FlexConv2d needs at least one input channel, got shape {tuple(x.shape)}")
        if self.in_size is not None and tuple(x.shape[-2:]) != self.in_size:
            raise ValueError(
                f"FlexConv2d(mode='original') was built for {self.in_size[0]}x{self.in_size[1]} input "
                f"(its Linear has H*W inputs), got {x.shape[-2]}x{x.shape[-1]}; use mode='pooled' for any size"
            )

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        """Each channel on its own: ReLU(extract_conv(channel map)), after the pooled mode's thumbnail."""
        b, c, h, w = x.shape
        return F.relu(self.extract_conv(self.pre_pool(x.reshape(b * c, 1, h, w))))

    def _identity(self, channels, c: int, device: torch.device) -> torch.Tensor:
        """(C, embed_dim) embeddings of the given channel indices (default 0..C-1)."""
        ids = torch.arange(c, device=device) if channels is None else torch.as_tensor(channels, device=device).long()
        n = self.channel_embed.num_embeddings
        if ids.shape != (c,):
            raise ValueError(f"FlexConv2d got {c} channels but {tuple(ids.shape)} channel indices")
        if int(ids.max()) >= n or int(ids.min()) < 0:
            raise ValueError(
                f"FlexConv2d's channel-identity table knows {n} channels (0..{n - 1}); "
                f"got channel indices {ids.tolist()}"
                + ("" if channels is not None else f" (the default for {c} input channels)")
            )
        return self.channel_embed(ids)

    def generate_kernels(self, x: torch.Tensor, channels=None) -> torch.Tensor:
        """(B, C, H, W) -> per-sample kernels (B, out, C, k, k). `channels`: the identity (index in
        the channel table) of each of the C inputs, e.g. [0, 2] for R and B; default 0..C-1."""
        self._check_input(x)
        b, c, h, w = x.shape
        k, out = self.kernel_size, self.out_channels
        f = self._features(x)  # (B*C, 1, H, W) original | (B*C, F_c, 2g, 2g) pooled
        f = self.pool(f).flatten(1)  # (B*C, H*W) original | (B*C, F_c*grid*grid) pooled
        if self.channel_embed is not None:
            e = self._identity(channels, c, x.device)  # (C, d)
            f = torch.cat([f, e.repeat(b, 1)], dim=1)  # (B*C, F + d); row b*C + c gets e[c]
        kern = self.feature2kernel(f)  # (B*C, out*k*k)
        if self.mode == "original":
            kern = F.relu(kern)
        kern = kern.view(b, c, out, k, k).transpose(1, 2)  # (B, out, C, k, k)
        if self.mode == "pooled":
            kern = kern / c  # mean over channels: output scale independent of C
        return kern

    @torch.no_grad()
    def trace(self, x: torch.Tensor, channels=None) -> dict[str, torch.Tensor]:
        """Intermediate tensors of one sample (1, C, H, W), for the data-flow figure:
        features (C, 1, H, W) original | (C, F_c, 2g, 2g) pooled, pooled (C, F_c, g, g) or None, kernels
        (out, C, k, k), output (out, H, W)."""
        self._check_input(x)
        feats = self._features(x)
        pooled = None if self.mode == "original" else self.pool(feats)
        return {
            "input": x[0],
            "features": feats,
            "pooled": pooled,
            "kernels": self.generate_kernels(x, channels)[0],
            "output": self(x, channels)[0],
        }

    def forward(self, x: torch.Tensor, channels=None) -> torch.Tensor:
        kern = self.generate_kernels(x, channels)  # (B, out, C, k, k)
        b, c, h, w = x.shape
        weight = kern.reshape(b * self.out_channels, c, self.kernel_size, self.kernel_size)
        # channels_last: oneDNN's grouped convolution is 1.6x faster so on the CPU (measured, B=32, 128 px)
        y = F.conv2d(
            x.reshape(1, b * c, h, w).contiguous(memory_format=torch.channels_last),
            weight.contiguous(memory_format=torch.channels_last),
            bias=None if self.bias is None else self.bias.repeat(b),
            padding="same",
            groups=b,
        )  # (1, B*out, H, W)
        y = y.reshape(b, self.out_channels, h, w)
        return F.relu(y) if self.mode == "original" else y


def original_loop_forward(layer: FlexConv2d, x: torch.Tensor) -> torch.Tensor:
    """The original report's own forward: Python loops over channels, then over samples.

    Kept as the reference that original mode must equal (tests) and as the baseline of the
    batched-vs-loop benchmark; do not use it for training.
    """
    if layer.mode != "original":
        raise ValueError("original_loop_forward reproduces the original report's layer (mode='original') only")
    layer._check_input(x)
    b, c, _, _ = x.shape
    k, out = layer.kernel_size, layer.out_channels
    kernels = []
    for i in range(c):
        f = F.relu(layer.extract_conv(x[:, i : i + 1])).view(b, -1)
        kernels.append(F.relu(layer.feature2kernel(f)).view(b, out, 1, k, k))
    stacked = torch.cat(kernels, dim=2)  # (B, out, C, k, k)
    maps = [F.relu(F.conv2d(x[n], stacked[n], padding="same")).unsqueeze(0) for n in range(b)]
    return torch.cat(maps, dim=0)
