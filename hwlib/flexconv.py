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

FlexMode = Literal["original", "pooled", "hybrid"]
MODES: tuple[str, ...] = get_args(FlexMode)


class FlexConv2d(nn.Module):
    """Channel-agnostic convolution with per-sample, per-channel generated kernels.

    Args:
        out_channels: number of output maps (``out`` above).
        kernel_size: side ``k`` of the generated kernels ('same' padding, stride 1).
        mode: "original" (the original report's layer), "pooled" (any input size, channel-blind
            unless `channel_ids`) or "hybrid" (any size; a static kernel per known channel plus a
            residual generated from the channel's content, identity and statistics).
        in_size: (H, W) the original layer is built for (its Linear has H*W inputs); required for
            original mode, ignored by pooled mode.
        grid: pooled mode: side of the grid each channel's features are pooled to.
        features: pooled mode: feature maps ``F_c`` the 1-channel extractor makes per channel.
        channel_ids: pooled mode: size of the channel-identity table (3 for R, G, B; more for other
            sensors); 0 makes the layer blind to which channels it is given. With a table, a learned
            ``embed_dim``-vector per channel identity joins that channel's features at the input of
            ``feature2kernel``, so the generator can also learn a fixed kernel per known channel.
            Hybrid mode needs a table; a channel index >= channel_ids uses one shared "unknown
            channel" row, so any number of channels still works.
        hidden: hybrid mode: width of the generator's hidden layer.

    Hybrid mode, per sample b and present channel c with identity i = id(c):

        s[b, c] = (mean, std of x[b, c])                                      # channel statistics
        u = mean of e_j over the present channels j                           # which channels are given
        r[b, :, c] = MLP([flatten(pool(f[b, c])); e_i; u; s[b, c]])            # content residual
        w[b, :, c] = W_i + (sum of W_a over absent known a) / |present known| + r[b, :, c] / C

    `u` lets the kernels for R differ between "R alone" and "R with G and B", as seven
    per-combination experts' first layers would.

    The static part is a 3-channel convolution whose absent channels' kernels are shared out among
    the present ones (the same as feeding the image with absent channels replaced by the mean of the
    present ones: the `replicate` baseline). The MLP's last layer starts at zero, so training starts
    from these static kernels and learns how much content should change them.
    """

    takes_channel_ids = True  # forward(x, channels): the identity of each input channel (optional)

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
        hidden: int = 64,
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
            self.bias = nn.Parameter(torch.zeros(out_channels))
            n_in = features * grid * grid
            if mode == "pooled":
                self.channel_embed = nn.Embedding(channel_ids, embed_dim) if channel_ids else None
                self.feature2kernel = nn.Linear(n_in + (embed_dim if channel_ids else 0), kk_out)
            else:
                if channel_ids < 1:
                    raise ValueError("FlexConv2d(mode='hybrid') needs channel_ids >= 1 (e.g. 3 for R, G, B)")
                self.known = channel_ids
                self.channel_embed = nn.Embedding(channel_ids + 1, embed_dim)  # last row: any unknown channel
                self.static = nn.Parameter(torch.empty(channel_ids + 1, out_channels, kernel_size, kernel_size))
                bound = (channel_ids * kernel_size * kernel_size) ** -0.5  # a Conv2d's over the known channels
                nn.init.uniform_(self.static, -bound, bound)
                self.feature2kernel = nn.Sequential(
                    nn.Linear(n_in + 2 * embed_dim + 2, hidden), nn.ReLU(), nn.Linear(hidden, kk_out)
                )
                nn.init.zeros_(self.feature2kernel[-1].weight)
                nn.init.zeros_(self.feature2kernel[-1].bias)

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

    def _channel_ids(self, channels, c: int, device: torch.device) -> torch.Tensor:
        """(C,) row of each input channel in the identity table (default 0..C-1); hybrid mode maps
        every index beyond the known channels to the shared "unknown" row."""
        ids = torch.arange(c, device=device) if channels is None else torch.as_tensor(channels, device=device).long()
        if ids.shape != (c,):
            raise ValueError(f"FlexConv2d got {c} channels but {tuple(ids.shape)} channel indices")
        if self.mode == "hybrid":
            if int(ids.min()) < 0:
                raise ValueError(f"FlexConv2d channel indices must be >= 0, got {ids.tolist()}")
            return ids.clamp(max=self.known)
        n = self.channel_embed.num_embeddings
        if int(ids.max()) >= n or int(ids.min()) < 0:
            raise ValueError(
                f"FlexConv2d's channel-identity table knows {n} channels (0..{n - 1}); "
                f"got channel indices {ids.tolist()}"
                + ("" if channels is not None else f" (the default for {c} input channels)")
            )
        return ids

    def generate_kernels(self, x: torch.Tensor, channels=None) -> torch.Tensor:
        """(B, C, H, W) -> per-sample kernels (B, out, C, k, k). `channels`: the identity (index in
        the channel table) of each of the C inputs, e.g. [0, 2] for R and B; default 0..C-1."""
        self._check_input(x)
        b, c, h, w = x.shape
        k, out = self.kernel_size, self.out_channels
        f = self._features(x)  # (B*C, 1, H, W) original | (B*C, F_c, 2g, 2g) pooled
        f = self.pool(f).flatten(1)  # (B*C, H*W) original | (B*C, F_c*grid*grid) pooled
        ids = self._channel_ids(channels, c, x.device) if self.channel_embed is not None else None
        if ids is not None:
            e = self.channel_embed(ids)  # (C, d)
            f = torch.cat([f, e.repeat(b, 1)], dim=1)  # (B*C, F + d); row b*C + c gets e[c]
        if self.mode == "hybrid":
            flat = x.reshape(b * c, h * w)
            stats = torch.stack([flat.mean(1), flat.std(1, unbiased=False)], dim=1)  # (B*C, 2)
            context = e.mean(0, keepdim=True).expand(b * c, -1)  # (B*C, d): the set of channels given
            f = torch.cat([f, context, stats], dim=1)  # (B*C, F + 2d + 2)
        kern = self.feature2kernel(f)  # (B*C, out*k*k)
        if self.mode == "original":
            kern = F.relu(kern)
        kern = kern.view(b, c, out, k, k).transpose(1, 2)  # (B, out, C, k, k)
        if self.mode != "original":
            kern = kern / c  # mean over channels: output scale independent of C
        if self.mode == "hybrid":
            kern = kern + self._static_kernels(ids).transpose(0, 1).unsqueeze(0)  # + (1, out, C, k, k)
        return kern

    def _static_kernels(self, ids: torch.Tensor) -> torch.Tensor:
        """(C, out, k, k): each present channel's static kernel plus an equal share of the absent known
        channels' kernels. On RGB that is a plain 3-channel convolution; on a subset it equals that
        convolution applied to the image with every absent channel replaced by the mean of the present
        ones, so the layer's output looks alike whichever channels are given (unknown channels use
        their own row and take no share)."""
        static = self.static[ids]  # (C, out, k, k)
        known_present = ids < self.known
        n_known = int(known_present.sum())
        if n_known == 0:
            return static
        present = torch.zeros(self.known, dtype=torch.bool, device=ids.device)
        present[ids[known_present]] = True
        absent = self.static[: self.known][~present].sum(0)  # (out, k, k)
        return static + known_present.float().view(-1, 1, 1, 1) * absent / n_known

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


@torch.no_grad()
def kernel_diversity(layer: FlexConv2d, images: torch.Tensor, channels=None) -> dict[str, float]:
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
    k = layer.generate_kernels(images, channels)  # (B, out, C, k, k)
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
