"""The input check every network of hwlib runs first: a clear message instead of a shape error deep inside."""

from __future__ import annotations

import torch


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


__all__ = ["check_images"]
