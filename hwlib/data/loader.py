"""From cached uint8 tensors to float batches: channel selection, flips, shuffling.

Batches are sliced straight out of the cached (N, 3, S, S) uint8 tensor, so an epoch costs no
decoding. Pixels are scaled to [0, 1] exactly as the original report did (`image.float() / 255`).
Channel combinations are named by the letters they keep ("RGB", "RG", "GB", "RB", "R", "G", "B")
and given to the model either as a real subset (C = 1, 2 or 3 channels, for FlexConv) or
zero-filled to 3 channels (for naive models that need a fixed C).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .split import SplitTensors

COMBOS: tuple[str, ...] = ("RGB", "RG", "GB", "RB", "R", "G", "B")
_INDEX = {"R": 0, "G": 1, "B": 2}


def channel_indices(combo: str) -> list[int]:
    """ "RB" -> [0, 2]. Letters must be distinct, in R, G, B order."""
    if not combo or any(ch not in _INDEX for ch in combo) or len(set(combo)) != len(combo):
        raise ValueError(f"channel combination {combo!r} must be a non-empty subset of 'RGB'")
    idx = [_INDEX[ch] for ch in combo]
    if idx != sorted(idx):
        raise ValueError(f"channel combination {combo!r} must list its channels in R, G, B order")
    return idx


def select_channels(x: torch.Tensor, combo: str, *, zero_fill: bool) -> torch.Tensor:
    """(B, 3, H, W) -> (B, len(combo), H, W), or (B, 3, H, W) with absent channels set to 0."""
    idx = channel_indices(combo)
    if not zero_fill:
        return x[:, idx]
    mask = torch.zeros(3, dtype=x.dtype, device=x.device)
    mask[idx] = 1
    return x * mask.view(1, 3, 1, 1)


def sample_combo(generator: torch.Generator) -> str:
    """Channel-subset training: draw how many channels (1, 2, 3 equally likely), then which."""
    k = int(torch.randint(1, 4, (1,), generator=generator))
    choices = [c for c in COMBOS if len(c) == k]
    return choices[int(torch.randint(len(choices), (1,), generator=generator))]


def _reflect(i: torch.Tensor, n: int) -> torch.Tensor:
    """Index i in [-n+1, 2n-2] mapped into [0, n-1] as reflect padding does (no edge repeat)."""
    i = i.abs()
    return torch.where(i >= n, 2 * (n - 1) - i, i)


def flip_crop(x: torch.Tensor, *, flip: torch.Tensor | None, offsets: torch.Tensor | None, pad: int) -> torch.Tensor:
    """(B, C, H, W) -> same shape, any dtype, in one gather: sample b is mirrored left-right where
    flip[b], then reflect-padded by `pad` and cropped at offsets[b] = (dy, dx) in [0, 2*pad].
    Equal, pixel for pixel, to flipping, padding with F.pad(mode="reflect") and slicing."""
    b, _, h, w = x.shape
    rows = torch.arange(h).expand(b, h)
    cols = torch.arange(w).expand(b, w)
    if offsets is not None:
        rows = _reflect(rows + offsets[:, :1] - pad, h)
        cols = _reflect(cols + offsets[:, 1:] - pad, w)
    if flip is not None:
        cols = torch.where(flip[:, None], w - 1 - cols, cols)
    index = (rows[:, :, None] * w + cols[:, None, :]).view(b, 1, h * w)  # (B, 1, H*W) into each flat map
    return torch.gather(x.reshape(b, x.shape[1], h * w), 2, index.expand(-1, x.shape[1], -1)).view(x.shape)


class BatchLoader:
    """Iterates (x, y) batches over a :class:`SplitTensors`.

    Args:
        data: the cached split.
        batch_size: images per batch.
        shuffle: reshuffle every epoch; the order depends only on (seed, epoch), so a resumed run
            sees the same batches as an uninterrupted one (call :meth:`set_epoch`).
        combo: channel combination fed to the model, or "random" for a new combination per batch.
        zero_fill: give 3 channels with absent ones zeroed, instead of the subset.
        flip: random horizontal flips (augmentation).
        crop_pad: random crops: pad each image by this many pixels (reflect) and crop back at a
            random offset (augmentation; 0 = off).
        with_channels: yield ((x, channel_indices), y) so a model with a channel-identity table
            knows which channels it was given (the indices are shared by the whole batch).
    """

    def __init__(
        self,
        data: SplitTensors,
        *,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        combo: str = "RGB",
        zero_fill: bool = False,
        flip: bool = False,
        drop_last: bool = False,
        with_channels: bool = False,
        crop_pad: int = 0,
    ):
        if combo != "random":
            channel_indices(combo)
        if with_channels and zero_fill:
            raise ValueError("with_channels gives the present channels' identities; it needs zero_fill=False")
        self.data, self.batch_size, self.shuffle, self.seed = data, batch_size, shuffle, seed
        self.combo, self.zero_fill, self.flip, self.drop_last = combo, zero_fill, flip, drop_last
        self.with_channels, self.crop_pad = with_channels, crop_pad
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor | tuple[torch.Tensor, torch.Tensor], torch.Tensor]]:
        n = len(self.data)
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if self.shuffle:
                idx, _ = idx.sort()  # sequential reads from the memory-mapped cache
            x = self.data.images[idx]  # (B, 3, H, W) uint8
            y = self.data.labels[idx]
            flip = torch.rand(len(idx), generator=g) < 0.5 if self.flip else None
            offsets = torch.randint(0, 2 * self.crop_pad + 1, (len(idx), 2), generator=g) if self.crop_pad else None
            if flip is not None or offsets is not None:
                x = flip_crop(x, flip=flip, offsets=offsets, pad=self.crop_pad)  # on uint8: 4x less to move
            x = x.float().div_(255.0)  # (B, 3, H, W) in [0, 1]
            combo = sample_combo(g) if self.combo == "random" else self.combo
            x = select_channels(x, combo, zero_fill=self.zero_fill)
            if self.with_channels:
                yield (x, torch.tensor(channel_indices(combo))), y
            else:
                yield x, y
