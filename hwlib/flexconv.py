"""FlexConv: a convolution whose kernels are generated per input channel from that channel's
own feature map, so one layer takes any number of input channels C.

For every sample b and input channel c the generator maps the single-channel map x[b, c] to a
k x k kernel for each of the `out` output channels:

    f[b, c] = ReLU(extract_conv(x[b, c]))                      # (1, H, W) -> (F_c, H, W)
    w[b, :, c] = feature2kernel(flatten(pool(f[b, c])))        # -> (out, k, k)
    y[b] = conv2d(x[b], w[b], padding='same')                  # (C, H, W) * (out, C, k, k) -> (out, H, W)

Three layers, one per mode (:func:`flex_conv2d` builds the one a mode names):

* :class:`OriginalFlexConv2d` (``mode="original"``) is the original report's layer exactly
  (``flex_channel_CNN``): F_c = 1, no pooling, so ``feature2kernel`` is ``Linear(H*W, k*k*out)`` and
  the layer only takes ``in_size``; kernels pass through ReLU (non-negative) and the output through
  ReLU. Submodule names match the original's, so its state_dict loads unchanged.
* :class:`PooledFlexConv2d` (``mode="pooled"``) is size invariant: each channel is first
  average-pooled to a 2*grid x 2*grid thumbnail, the extractor makes F_c = ``features`` maps of it,
  and those are pooled to ``grid`` x ``grid`` before the Linear, so any H, W works and generating
  the kernels costs the same at every image size (extracting at full resolution cost twice a whole
  Conv2d forward+backward at 128 px on the CPU). Kernels are signed (no ReLU) and divided by C, so
  the output is the *mean* of the per-channel contributions: its scale does not grow with the
  number of channels. A per-output bias is added; no activation (the network applies one).
  Optionally a channel-identity table tells the generator which channel it is looking at.
* :class:`HybridFlexConv2d` (``mode="hybrid"``) is the pooled layer plus a static kernel per known
  channel: the generated part is a residual computed from the channel's content, its identity,
  the set of channels given and the channel's statistics.

All three run the whole batch as one batched matrix product (no Python loop over samples or
channels; :func:`batched_conv`), and a sample's output never depends on the other
samples in the batch. ``channel_ids`` (forward, :meth:`~FlexConvBase.generate_kernels`,
:meth:`~FlexConvBase.trace`) is always the list of ids of the C input channels (e.g. [0, 2] for R
and B; default 0..C-1); ``known_channels`` (constructors) is always the size of the identity table.
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

FlexMode = Literal["original", "pooled", "hybrid"]
MODES: tuple[str, ...] = get_args(FlexMode)
ABLATABLE: tuple[str, ...] = ("residual", "context", "stats", "redistribution")  # HybridFlexConv2d switches


# -- shared pieces ------------------------------------------------------------------------------
def check_flex_input(x: torch.Tensor, who: str) -> None:
    """A (B, C, H, W) batch with C >= 1, or a ValueError naming the layer."""
    if x.dim() != 4:
        raise ValueError(f"{who} expects a 4-D (B, C, H, W) tensor, got shape {tuple(x.shape)}")
    if x.shape[1] < 1:
        raise ValueError(f"{who} needs at least one input channel, got shape {tuple(x.shape)}")


def resolve_channel_ids(channel_ids, c: int, device: torch.device, who: str) -> torch.Tensor:
    """(C,) long tensor of the ids of the C input channels: `channel_ids` (a list or tensor), or
    0..C-1 when it is None. Checks there is one id per channel and none is negative."""
    ids = torch.arange(c, device=device) if channel_ids is None else torch.as_tensor(channel_ids, device=device).long()
    if ids.shape != (c,):
        raise ValueError(f"{who} got {c} channels but {tuple(ids.shape)} channel ids")
    if int(ids.min()) < 0:
        raise ValueError(f"{who} channel ids must be >= 0, got {ids.tolist()}")
    return ids


def batched_conv(x: torch.Tensor, kernels: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Each sample convolved with its own kernels, the whole batch as one batched matrix product.

    x: (B, C, H, W); kernels: (B, out, C, k, k); bias: (out,) or None -> (B, out, H, W), 'same' padding
    (as F.conv2d's: for an even k the extra row and column are padded after).

    The k*k shifted copies of x (im2col) are built by slicing the padded batch, and each sample's
    (out, C*k*k) kernels multiply its own (C*k*k, H*W) columns. Measured once on 2 idle CPU cores
    (fwd+bwd+Adam, B = 64, C = 3, 32 px): the `flex` network's training step took 15 ms against 29 ms
    with the grouped convolution (groups = B) it replaced, whose backward converted memory formats;
    F.unfold was slower on channels_last input. At 128 px the k*k copies cost more: the idle
    `python -m hwlib.bench --quick` of results/bench_cpu_quick.json times the original layer (B = 32,
    128 px) batched at 0.84x the speed of the original per-sample loop on the CPU (its goal 1.1x is
    missed); choosing the grouped convolution above some size is the next step there.
    """
    b, c, h, w = x.shape
    out, k = kernels.shape[1], kernels.shape[-1]
    p = (k - 1) // 2
    xp = F.pad(x.contiguous(), (p, k - 1 - p, p, k - 1 - p))  # (B, C, H+k-1, W+k-1): 'same' padding
    cols = torch.stack([xp[:, :, i : i + h, j : j + w] for i in range(k) for j in range(k)], dim=2)  # (B, C, k*k, H, W)
    cols = cols.reshape(b, c * k * k, h * w)  # (B, C*k*k, H*W), rows in (c, i, j) order as the kernels
    kern = kernels.reshape(b, out, c * k * k)  # (B, out, C*k*k)
    y = torch.bmm(kern, cols) if bias is None else torch.baddbmm(bias.view(1, -1, 1).expand(b, -1, h * w), kern, cols)
    return y.view(b, out, h, w).contiguous(memory_format=torch.channels_last)  # as the network runs


class FlexConvBase(nn.Module):
    """What the three FlexConv layers share: argument checks, forward as one batched product of
    the generated kernels with the image (:func:`batched_conv`), and the :meth:`trace` diagnostic. A
    subclass defines :meth:`channel_features` (each channel's feature maps), :meth:`pool_features` and
    :meth:`generate_kernels`."""

    mode: ClassVar[FlexMode]
    takes_channel_ids: ClassVar[bool] = True  # forward(x, channel_ids): the id of each input channel
    bias: nn.Parameter | None

    def __init__(self, out_channels: int, kernel_size: int):
        super().__init__()
        if out_channels < 1 or kernel_size < 1:
            raise ValueError(
                f"{type(self).__name__} needs out_channels >= 1 and kernel_size >= 1, got {out_channels}, {kernel_size}"
            )
        self.out_channels, self.kernel_size = out_channels, kernel_size

    def check_input(self, x: torch.Tensor) -> None:
        check_flex_input(x, type(self).__name__)

    def channel_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B*C, F_c, h, w): each channel's own feature maps (row b*C + c)."""
        raise NotImplementedError

    def pool_features(self, f: torch.Tensor) -> torch.Tensor | None:
        """(B*C, F_c, h, w) -> (B*C, F_c, g, g), or None where the layer does not pool."""
        raise NotImplementedError

    def generate_kernels(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """(B, C, H, W) -> per-sample kernels (B, out, C, k, k)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """(B, C, H, W) -> (B, out, H, W); channel_ids: the id of each of the C channels (default 0..C-1)."""
        return batched_conv(x, self.generate_kernels(x, channel_ids), self.bias)

    @torch.no_grad()
    def trace(self, x: torch.Tensor, channel_ids=None) -> dict[str, torch.Tensor | None]:
        """Intermediate tensors of one sample (1, C, H, W), for the data-flow figure: input (C, H, W),
        features (C, F_c, h, w), pooled (C, F_c, g, g) or None (original), kernels (out, C, k, k),
        output (out, H, W)."""
        self.check_input(x)
        feats = self.channel_features(x)  # (C, F_c, h, w) for B = 1
        return {
            "input": x[0],
            "features": feats,
            "pooled": self.pool_features(feats),
            "kernels": self.generate_kernels(x, channel_ids)[0],
            "output": self(x, channel_ids)[0],
        }


# -- original -----------------------------------------------------------------------------------
class OriginalFlexConv2d(FlexConvBase):
    """The original report's FlexConv layer (``flex_channel_CNN``), batched; fixed input size.

    Per sample b and channel c (symbols of the module docstring):

        f[b, c] = ReLU(extract_conv(x[b, c]))                  # F_c = 1: (1, H, W)
        w[b, :, c] = ReLU(feature2kernel(flatten(f[b, c])))    # Linear(H*W -> out*k*k)
        y[b] = ReLU(conv2d(x[b], w[b]))                        # no bias

    Args:
        out_channels: ``out``, the number of output maps.
        kernel_size: ``k``, side of the generated kernels ('same' padding, stride 1).
        in_size: (H, W) the layer is built for (``feature2kernel`` has H*W inputs); other sizes are
            an error.

    Channel ids passed to forward are accepted and ignored: the layer treats every channel alike.
    """

    mode = "original"

    def __init__(self, out_channels: int, kernel_size: int = 3, *, in_size: tuple[int, int]):
        super().__init__(out_channels, kernel_size)
        if in_size is None:
            raise ValueError("OriginalFlexConv2d needs in_size=(H, W): its Linear has H*W inputs")
        self.in_size: tuple[int, int] = (int(in_size[0]), int(in_size[1]))
        self.extract_conv = nn.Conv2d(1, 1, kernel_size=3, stride=1, padding="same")
        self.feature2kernel = nn.Linear(self.in_size[0] * self.in_size[1], kernel_size * kernel_size * out_channels)
        self.register_parameter("bias", None)

    def extra_repr(self) -> str:
        return f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, in_size={self.in_size}"

    def check_input(self, x: torch.Tensor) -> None:
        super().check_input(x)
        if tuple(x.shape[-2:]) != self.in_size:
            raise ValueError(
                f"OriginalFlexConv2d was built for {self.in_size[0]}x{self.in_size[1]} input "
                f"(its Linear has H*W inputs), got {x.shape[-2]}x{x.shape[-1]}; use PooledFlexConv2d for any size"
            )

    def channel_features(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        return F.relu(self.extract_conv(x.reshape(b * c, 1, h, w)))  # (B*C, 1, H, W)

    def pool_features(self, f: torch.Tensor) -> None:
        return None

    def generate_kernels(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        self.check_input(x)
        b, c, _, _ = x.shape
        k, out = self.kernel_size, self.out_channels
        f = self.channel_features(x).flatten(1)  # (B*C, H*W)
        kern = F.relu(self.feature2kernel(f))  # (B*C, out*k*k), non-negative
        return kern.view(b, c, out, k, k).transpose(1, 2)  # (B, out, C, k, k)

    def forward(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        return F.relu(super().forward(x, channel_ids))  # (B, out, H, W)


def original_loop_forward(layer: OriginalFlexConv2d, x: torch.Tensor) -> torch.Tensor:
    """The original report's own forward: Python loops over channels, then over samples.

    Kept as the reference that :class:`OriginalFlexConv2d` must equal (tests) and as the baseline of
    the batched-vs-loop benchmark; do not use it for training.
    """
    if not isinstance(layer, OriginalFlexConv2d):
        raise ValueError("original_loop_forward reproduces the original report's layer (OriginalFlexConv2d) only")
    layer.check_input(x)
    b, c, _, _ = x.shape
    k, out = layer.kernel_size, layer.out_channels
    kernels = []
    for i in range(c):
        f = F.relu(layer.extract_conv(x[:, i : i + 1])).view(b, -1)  # (B, H*W)
        kernels.append(F.relu(layer.feature2kernel(f)).view(b, out, 1, k, k))
    stacked = torch.cat(kernels, dim=2)  # (B, out, C, k, k)
    maps = [F.relu(F.conv2d(x[n], stacked[n], padding="same")).unsqueeze(0) for n in range(b)]  # (1, out, H, W)
    return torch.cat(maps, dim=0)  # (B, out, H, W)


# -- pooled and hybrid: any input size ------------------------------------------------------------
class _SizeInvariant(FlexConvBase):
    """The pooled extractor both size-invariant layers share: thumbnail (2g x 2g), 1 -> F_c 3x3 conv
    + ReLU, average pool to g x g; plus the per-output bias."""

    def __init__(self, out_channels: int, kernel_size: int, *, grid: int, features: int):
        super().__init__(out_channels, kernel_size)
        self.grid, self.features = grid, features
        self.pre_pool = nn.AdaptiveAvgPool2d(2 * grid)
        self.extract_conv = nn.Conv2d(1, features, kernel_size=3, stride=1, padding="same")
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def channel_features(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        return F.relu(self.extract_conv(self.pre_pool(x.reshape(b * c, 1, h, w))))  # (B*C, F_c, 2g, 2g)

    def pool_features(self, f: torch.Tensor) -> torch.Tensor:
        return self.pool(f)  # (B*C, F_c, g, g)


class PooledFlexConv2d(_SizeInvariant):
    """FlexConv for any input size; channel-blind, or told each channel's identity.

    Per sample b and channel c with id i (symbols of the module docstring):

        f[b, c] = flatten(pool(ReLU(extract_conv(pre_pool(x[b, c])))))   # F_c * g * g values
        w[b, :, c] = feature2kernel([f[b, c]; e_i]) / C                    # e_i only with a table
        y[b] = conv2d(x[b], w[b]) + bias

    Args:
        out_channels: ``out``, the number of output maps.
        kernel_size: ``k``, side of the generated kernels ('same' padding, stride 1).
        grid: ``g``, side of the grid each channel's features are pooled to (``pre_pool`` makes a
            2g x 2g thumbnail first).
        features: ``F_c``, feature maps the 1-channel ``extract_conv`` makes per channel.
        known_channels: size of the channel-identity table ``channel_embed`` (3 for R, G, B); 0 (the
            default) makes the layer blind to which channels it is given (and permutation invariant).
            With a table, the id of every input channel must be < known_channels.
        embed_dim: ``d``, length of each identity vector ``e_i``.
    """

    mode = "pooled"

    def __init__(
        self,
        out_channels: int,
        kernel_size: int = 3,
        *,
        grid: int = 8,
        features: int = 4,
        known_channels: int = 0,
        embed_dim: int = 8,
    ):
        super().__init__(out_channels, kernel_size, grid=grid, features=features)
        if known_channels < 0:
            raise ValueError(f"PooledFlexConv2d needs known_channels >= 0, got {known_channels}")
        self.known_channels = known_channels
        self.channel_embed = nn.Embedding(known_channels, embed_dim) if known_channels else None
        n_in = features * grid * grid + (embed_dim if known_channels else 0)
        self.feature2kernel = nn.Linear(n_in, kernel_size * kernel_size * out_channels)

    def extra_repr(self) -> str:
        table = f", known_channels={self.known_channels}" if self.known_channels else ""
        return (
            f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, grid={self.grid}, "
            f"features={self.features}{table}"
        )

    def _table_rows(self, channel_ids, c: int, device: torch.device) -> torch.Tensor:
        """(C,) row of each input channel in the identity table; every id must be in the table."""
        ids = resolve_channel_ids(channel_ids, c, device, type(self).__name__)
        n = self.known_channels
        if int(ids.max()) >= n:
            raise ValueError(
                f"PooledFlexConv2d's channel-identity table knows {n} channels (0..{n - 1}); "
                f"got channel ids {ids.tolist()}"
                + ("" if channel_ids is not None else f" (the default for {c} input channels)")
            )
        return ids

    def generate_kernels(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """(B, C, H, W) -> (B, out, C, k, k). channel_ids are used (and checked) only with a table."""
        self.check_input(x)
        b, c, _, _ = x.shape
        k, out = self.kernel_size, self.out_channels
        f = self.pool_features(self.channel_features(x)).flatten(1)  # (B*C, F_c*g*g)
        if self.channel_embed is not None:
            e = self.channel_embed(self._table_rows(channel_ids, c, x.device))  # (C, d)
            f = torch.cat([f, e.repeat(b, 1)], dim=1)  # (B*C, F_c*g*g + d); row b*C + c gets e[c]
        kern = self.feature2kernel(f)  # (B*C, out*k*k)
        kern = kern.view(b, c, out, k, k).transpose(1, 2)  # (B, out, C, k, k)
        return kern / c  # mean over channels: output scale independent of C


class HybridFlexConv2d(_SizeInvariant):
    """FlexConv for any input size and any channels: a static kernel per known channel plus a
    residual generated from the channel's content, identity and statistics.

    Per sample b and present channel c with table row i = min(id(c), K) (K = known_channels; row K
    is one shared "unknown channel" row, so any number of channels still works):

        f[b, c] = flatten(pool(ReLU(extract_conv(pre_pool(x[b, c])))))   # content, F_c * g * g values
        s[b, c] = (mean, std of x[b, c])                                 # channel statistics
        u = mean of e_j over the present channels j                      # which channels are given
        r[b, :, c] = feature2kernel([f[b, c]; e_i; u; s[b, c]])           # MLP: content residual
        w[b, :, c] = W_i + (sum of W_a over absent known a) / |present known| + r[b, :, c] / C
        y[b] = conv2d(x[b], w[b]) + bias

    `u` lets the kernels for R differ between "R alone" and "R with G and B", as seven
    per-combination experts' first layers would.

    The static part (``static``: W_0..W_K) is a K-channel convolution whose absent channels' kernels
    are shared out among the present ones (the same as feeding the image with absent channels
    replaced by the mean of the present ones: the `replicate` baseline). The MLP's last layer starts
    at zero, so training starts from these static kernels and learns how much content should change
    them.

    Args:
        out_channels: ``out``, the number of output maps.
        kernel_size: ``k``, side of the kernels ('same' padding, stride 1).
        known_channels: ``K`` >= 1, channels with their own table row and static kernel (3: R, G, B).
        grid: ``g``, side of the grid each channel's features are pooled to.
        features: ``F_c``, feature maps the 1-channel ``extract_conv`` makes per channel.
        embed_dim: ``d``, length of each identity vector ``e_i`` (``channel_embed``, K + 1 rows).
        hidden: width of the MLP's hidden layer.
        residual: generate ``r`` at all (False: ``w = W_i + share of absent``, static kernels only,
            one plain convolution: the ablation "no generated residual").
        context: give the MLP ``u`` (False: drop it: the kernels cannot tell "R alone" from "R with G").
        stats: give the MLP ``s`` (False: drop the channel's mean and std).
        redistribution: share the absent known channels' static kernels out among the present ones
            (False: ``w = W_i + r / C``, an absent channel's kernel is simply dropped).
    """

    mode = "hybrid"

    def __init__(
        self,
        out_channels: int,
        kernel_size: int = 3,
        *,
        known_channels: int,
        grid: int = 8,
        features: int = 4,
        embed_dim: int = 8,
        hidden: int = 64,
        residual: bool = True,
        context: bool = True,
        stats: bool = True,
        redistribution: bool = True,
    ):
        super().__init__(out_channels, kernel_size, grid=grid, features=features)
        if known_channels < 1:
            raise ValueError(f"HybridFlexConv2d needs known_channels >= 1 (e.g. 3 for R, G, B), got {known_channels}")
        self.known_channels = known_channels
        self.residual, self.context, self.stats, self.redistribution = residual, context, stats, redistribution
        self.static = nn.Parameter(torch.empty(known_channels + 1, out_channels, kernel_size, kernel_size))
        bound = (known_channels * kernel_size * kernel_size) ** -0.5  # a Conv2d's over the known channels
        nn.init.uniform_(self.static, -bound, bound)
        if not residual:  # static kernels only: no extractor, identities or MLP
            del self.pre_pool, self.extract_conv, self.pool
            return
        self.channel_embed = nn.Embedding(known_channels + 1, embed_dim)  # last row: any unknown channel
        n_in = features * grid * grid + embed_dim * (1 + context) + 2 * stats  # [f; e_i; u; s]
        self.feature2kernel = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, kernel_size * kernel_size * out_channels)
        )
        nn.init.zeros_(self.feature2kernel[-1].weight)  # type: ignore[arg-type]  # torch stubs: Module.__getattr__ -> Tensor | Module
        nn.init.zeros_(self.feature2kernel[-1].bias)  # type: ignore[arg-type]  # (as above)

    def extra_repr(self) -> str:
        off = [n for n in ("residual", "context", "stats", "redistribution") if not getattr(self, n)]
        return (
            f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, grid={self.grid}, "
            f"features={self.features}, known_channels={self.known_channels}"
            + (f", without {'/'.join(off)}" if off else "")
        )

    def forward(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """(B, C, H, W) -> (B, out, H, W). Without the residual the kernels are the same for every
        sample, so this is one plain convolution."""
        if self.residual:
            return super().forward(x, channel_ids)
        self.check_input(x)
        rows = resolve_channel_ids(channel_ids, x.shape[1], x.device, type(self).__name__).clamp(
            max=self.known_channels
        )
        return F.conv2d(x, self.static_kernels(rows).transpose(0, 1), self.bias, padding="same")  # (out, C, k, k)

    def generate_kernels(self, x: torch.Tensor, channel_ids=None) -> torch.Tensor:
        """(B, C, H, W) -> (B, out, C, k, k); ids >= known_channels share the "unknown" row."""
        self.check_input(x)
        b, c, h, w = x.shape
        k, out = self.kernel_size, self.out_channels
        rows = resolve_channel_ids(channel_ids, c, x.device, type(self).__name__).clamp(max=self.known_channels)
        static = self.static_kernels(rows).transpose(0, 1).unsqueeze(0)  # (1, out, C, k, k)
        if not self.residual:
            return static.expand(b, -1, -1, -1, -1)  # (B, out, C, k, k)
        e = self.channel_embed(rows)  # (C, d)
        parts = [self.pool_features(self.channel_features(x)).flatten(1), e.repeat(b, 1)]  # (B*C, F_c*g*g), (B*C, d)
        if self.context:
            parts.append(e.mean(0, keepdim=True).expand(b * c, -1))  # (B*C, d): the set of channels given
        if self.stats:
            flat = x.reshape(b * c, h * w)
            parts.append(torch.stack([flat.mean(1), flat.std(1, unbiased=False)], dim=1))  # (B*C, 2)
        kern = self.feature2kernel(torch.cat(parts, dim=1))  # (B*C, out*k*k)
        kern = kern.view(b, c, out, k, k).transpose(1, 2) / c  # (B, out, C, k, k)
        return kern + static

    def static_kernels(self, rows: torch.Tensor) -> torch.Tensor:
        """(C,) table rows -> (C, out, k, k): each present channel's static kernel plus an equal share
        of the absent known channels' kernels. On all known channels that is a plain K-channel
        convolution; on a subset it equals that convolution applied to the image with every absent
        channel replaced by the mean of the present ones, so the layer's output looks alike whichever
        channels are given (unknown channels use their own row and take no share)."""
        static = self.static[rows]  # (C, out, k, k)
        known_present = rows < self.known_channels  # (C,)
        n_known = int(known_present.sum())
        if n_known == 0 or not self.redistribution:
            return static
        present = torch.zeros(self.known_channels, dtype=torch.bool, device=rows.device)  # (K,)
        present[rows[known_present]] = True
        absent = self.static[: self.known_channels][~present].sum(0)  # (out, k, k)
        return static + known_present.float().view(-1, 1, 1, 1) * absent / n_known  # (C, out, k, k)


FlexConv = OriginalFlexConv2d | PooledFlexConv2d | HybridFlexConv2d


def flex_conv2d(
    *,
    mode: FlexMode,
    out_channels: int,
    kernel_size: int = 3,
    in_size: tuple[int, int] | None = None,
    grid: int = 8,
    features: int = 4,
    known_channels: int = 0,
    embed_dim: int = 8,
    hidden: int = 64,
    ablate: tuple[str, ...] = (),
) -> FlexConv:
    """The FlexConv layer of `mode` (see the classes for the arguments). in_size is original mode's
    only (other modes ignore it); grid, features and embed_dim are the pooled and hybrid modes'
    (original mode ignores them), hidden the hybrid mode's; known_channels must be 0 in original mode
    and >= 1 in hybrid mode. ablate: hybrid parts switched off, any of ABLATABLE ("residual",
    "context", "stats", "redistribution")."""
    unknown = set(ablate) - set(ABLATABLE)
    if unknown or (ablate and mode != "hybrid"):
        raise ValueError(f"ablate takes parts of the hybrid layer, {ABLATABLE}; got {ablate!r} in {mode!r} mode")
    if mode == "original":
        if known_channels:
            raise ValueError(
                "a channel-identity table (known_channels) is a pooled/hybrid option; original mode is the "
                "original report's layer as is"
            )
        if in_size is None:
            raise ValueError("flex_conv2d(mode='original') needs in_size=(H, W): its Linear has H*W inputs")
        return OriginalFlexConv2d(out_channels, kernel_size, in_size=in_size)
    if mode == "pooled":
        return PooledFlexConv2d(
            out_channels, kernel_size, grid=grid, features=features, known_channels=known_channels, embed_dim=embed_dim
        )
    if mode == "hybrid":
        return HybridFlexConv2d(
            out_channels,
            kernel_size,
            known_channels=known_channels,
            grid=grid,
            features=features,
            embed_dim=embed_dim,
            hidden=hidden,
            **{part: False for part in ablate},  # noqa: C420 (one keyword per part switched off)
        )
    raise ValueError(f"flex_conv2d mode must be one of {MODES}, got {mode!r}")


@torch.no_grad()
def kernel_diversity(layer: FlexConvBase, images: torch.Tensor, channel_ids=None) -> dict[str, float]:
    """How much the generated kernels differ across channels and across images.

    images: (B, C, H, W). Each (image b, channel c) gets a kernel vector v[b, c] of out*k*k values.
    Returns:
        cosine_across_channels: mean cosine similarity of v[b, c] and v[b, c'] (c != c'); 1.0 means
            every channel gets the same kernels (the layer cannot tell colours apart).
        between_images_share: share of the kernels' total variance that is variation across images
            for the same channel (0 for static kernels, as a Conv2d's).
        between_channels_share: share that is variation of the per-channel mean kernel across channels.
    """
    layer.eval()
    k = layer.generate_kernels(images, channel_ids)  # (B, out, C, k, k)
    b, _, c = k.shape[:3]
    v = k.permute(0, 2, 1, 3, 4).reshape(b, c, -1).double()  # (B, C, out*k*k)
    vn = F.normalize(v, dim=2)
    sim = vn @ vn.transpose(1, 2)  # (B, C, C)
    off_diagonal = ~torch.eye(c, dtype=torch.bool, device=k.device)
    per_channel = v.mean(0)  # (C, D): each channel's mean kernel over images
    grand = v.mean((0, 1))  # (D,)
    total = ((v - grand) ** 2).mean().clamp_min(1e-30)
    return {
        "cosine_across_channels": float(sim[:, off_diagonal].mean()) if c > 1 else 1.0,
        "between_images_share": float(((v - per_channel) ** 2).mean() / total),
        "between_channels_share": float(((per_channel - grand) ** 2).mean() / total),
    }


__all__ = [
    "ABLATABLE",
    "MODES",
    "FlexConv",
    "FlexConvBase",
    "FlexMode",
    "HybridFlexConv2d",
    "OriginalFlexConv2d",
    "PooledFlexConv2d",
    "batched_conv",
    "check_flex_input",
    "flex_conv2d",
    "kernel_diversity",
    "original_loop_forward",
    "resolve_channel_ids",
]
