"""Channels derived from an RGB photo, so that a channel-agnostic layer can be trained and tested on
more than three channels with data any photo collection has.

Channel 4, L: luminance, ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (uint8, rounded).
Channel 5, E: edge strength, the Sobel gradient magnitude of L divided by 4 (each Sobel kernel's
positive weights sum to 4, so E is the intensity change per pixel) and clipped to 0..255; replicated
borders. Both are computed at the cached size, from the cached pixels, the same for every split.

Limits, stated wherever these channels are used: L and E are functions of R, G and B, so with RGB
present they add no information, only another view of it; they stand in for extra sensors
(near-infrared, depth, multispectral bands) that this project has no photos of. The loader names
them "L" and "E" (:data:`hwlib.data.loader.CHANNEL_LETTERS`).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from .loader import CHANNEL_LETTERS
from .prepare import LoadedData
from .split import SplitTensors

DERIVED_LETTERS = CHANNEL_LETTERS[3:]  # "LE": the channels this module appends, after R, G, B (the loader names them)
LUMA = (0.299, 0.587, 0.114)  # BT.601
_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def derived_channels(images: torch.Tensor, *, batch: int = 1024) -> torch.Tensor:
    """(N, 3, S, S) uint8 RGB -> (N, 2, S, S) uint8: luminance L and edge strength E (see the module)."""
    if images.dim() != 4 or images.shape[1] != 3 or images.dtype != torch.uint8:
        raise ValueError(
            f"derived channels need (N, 3, S, S) uint8 RGB images, not {tuple(images.shape)} {images.dtype}"
        )
    luma = torch.tensor(LUMA).view(1, 3, 1, 1)
    sobel = torch.stack([_SOBEL_X, _SOBEL_X.T]).unsqueeze(1)  # (2, 1, 3, 3): d/dx, d/dy
    out = torch.empty((images.shape[0], 2, *images.shape[2:]), dtype=torch.uint8)
    for i in range(0, len(images), batch):
        rgb = images[i : i + batch].float()  # (b, 3, S, S) in 0..255
        y = (rgb * luma).sum(1, keepdim=True).round()  # (b, 1, S, S)
        g = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), sobel)  # (b, 2, S, S)
        e = g.pow(2).sum(1, keepdim=True).sqrt().div(4)  # (b, 1, S, S)
        out[i : i + batch] = torch.cat([y, e], 1).clamp(0, 255).round().to(torch.uint8)
    return out


def with_derived_channels(data: LoadedData) -> LoadedData:
    """`data` with every split's images (N, 3, S, S) extended to (N, 5, S, S): R, G, B, L, E."""
    splits = {
        name: SplitTensors(torch.cat([s.images, derived_channels(s.images)], 1), s.labels)
        for name, s in data.splits.items()
    }
    return replace(data, splits=splits)


__all__ = ["DERIVED_LETTERS", "LUMA", "derived_channels", "with_derived_channels"]
