"""From cached uint8 tensors to float batches: channel selection, flips, shuffling.

Batches are sliced straight out of the cached (N, 3, S, S) uint8 tensor, so an epoch costs no
decoding. On CUDA a split that fits in device memory is copied there once and batches are gathered
there; otherwise uint8 batches are gathered on the CPU into pinned memory and copied one batch
ahead. Either way flips, crops, float conversion and channel selection run on the device, and the
pixels are the same as on the CPU. Pixels are scaled to [0, 1] exactly as the original report did
(`image.float() / 255`). Channel combinations are named by the letters they keep ("RGB", "RG",
"GB", "RB", "R", "G", "B") and given to the model either as a real subset (C = 1, 2 or 3 channels,
for FlexConv) or zero-filled to 3 channels (for naive models that need a fixed C).

A split may hold more than three channels (e.g. the derived channels of
:mod:`hwlib.data.derived`: R, G, B, then L and E): :data:`CHANNEL_LETTERS` names channel i by its
i-th letter, so "RGBL" keeps the first four and "LE" the last two, and `combo=RANDOM` draws from
every subset of the split's channels.

`combo=ALL` ("all") gives every batch as all seven combinations at once: x is a :class:`Views` of
seven inputs (one per combination, in COMBOS order) and y the labels repeated seven times, so
one forward over the views and one loss over 7B predictions train every combination on every
batch (joint training, as slimmable networks do), and accuracy on such a loader is the mean of
the seven combinations' accuracies.
"""

from __future__ import annotations

import copy
import itertools
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from .split import SplitTensors

COMBOS: tuple[str, ...] = ("RGB", "RG", "GB", "RB", "R", "G", "B")
RANDOM = "random"  # a loader's combo: one combination drawn per batch (how many channels, then which)
ALL = "all"  # a loader's combo: every batch as all seven combinations (joint training; mean-of-seven eval)
CHANNEL_LETTERS = "RGBLE"  # channel i's letter: R, G, B, then hwlib.data.derived's luminance L and edges E
_INDEX = {ch: i for i, ch in enumerate(CHANNEL_LETTERS)}


def channel_indices(combo: str) -> list[int]:
    """ "RB" -> [0, 2], "RGBE" -> [0, 1, 2, 4]. Letters must be distinct, in CHANNEL_LETTERS order."""
    if not combo or any(ch not in _INDEX for ch in combo) or len(set(combo)) != len(combo):
        raise ValueError(f"channel combination {combo!r} must be a non-empty subset of {CHANNEL_LETTERS!r}")
    idx = [_INDEX[ch] for ch in combo]
    if idx != sorted(idx):
        raise ValueError(f"channel combination {combo!r} must list its channels in {CHANNEL_LETTERS} order")
    return idx


def combos_of(channels: int) -> tuple[str, ...]:
    """Every non-empty subset of the first `channels` channels, largest first: COMBOS for 3."""
    if channels == 3:
        return COMBOS
    if not 1 <= channels <= len(CHANNEL_LETTERS):
        raise ValueError(f"{channels} channels: between 1 and {len(CHANNEL_LETTERS)} are named")
    letters = CHANNEL_LETTERS[:channels]
    return tuple("".join(c) for k in range(channels, 0, -1) for c in itertools.combinations(letters, k))


def select_channels(x: torch.Tensor, combo: str, *, zero_fill: bool) -> torch.Tensor:
    """(B, C, H, W) -> (B, len(combo), H, W), or (B, C, H, W) with absent channels set to 0."""
    idx = channel_indices(combo)
    if idx[-1] >= x.shape[1]:
        raise ValueError(f"channel combination {combo!r} needs {idx[-1] + 1} channels; the images have {x.shape[1]}")
    if not zero_fill:
        return x[:, idx]
    mask = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    mask[idx] = 1
    return x * mask.view(1, -1, 1, 1)


def sample_combo(generator: torch.Generator, channels: int = 3) -> str:
    """Channel-subset training: draw how many channels (1 .. `channels` equally likely), then which
    (ChannelViT's hierarchical sampling)."""
    k = int(torch.randint(1, channels + 1, (1,), generator=generator))
    choices = [c for c in combos_of(channels) if len(c) == k]
    return choices[int(torch.randint(len(choices), (1,), generator=generator))]


class Views(tuple):
    """The seven inputs of one joint batch (COMBOS order): each a (B, C, H, W) tensor, or a
    (tensor, channel ids) pair for a model told which channels it gets. :func:`hwlib.train.forward`
    runs the model on each and concatenates the logits (7B, classes), matching the loader's
    labels repeated seven times."""


def _reflect(i: torch.Tensor, n: int) -> torch.Tensor:
    """Index i in [-n+1, 2n-2] mapped into [0, n-1] as reflect padding does (no edge repeat)."""
    i = i.abs()
    return torch.where(i >= n, 2 * (n - 1) - i, i)


def flip_crop(x: torch.Tensor, *, flip: torch.Tensor | None, offsets: torch.Tensor | None, pad: int) -> torch.Tensor:
    """(B, C, H, W) -> same shape, any dtype and device, in one gather: sample b is mirrored left-right
    where flip[b], then reflect-padded by `pad` and cropped at offsets[b] = (dy, dx) in [0, 2*pad].
    Equal, pixel for pixel, to flipping, padding with F.pad(mode="reflect") and slicing. `flip` and
    `offsets` live on x's device."""
    b, _, h, w = x.shape
    rows = torch.arange(h, device=x.device).expand(b, h)  # (B, H)
    cols = torch.arange(w, device=x.device).expand(b, w)  # (B, W)
    if offsets is not None:
        rows = _reflect(rows + offsets[:, :1] - pad, h)
        cols = _reflect(cols + offsets[:, 1:] - pad, w)
    if flip is not None:
        cols = torch.where(flip[:, None], w - 1 - cols, cols)
    index = (rows[:, :, None] * w + cols[:, None, :]).view(b, 1, h * w)  # (B, 1, H*W) into each flat map
    return torch.gather(x.reshape(b, x.shape[1], h * w), 2, index.expand(-1, x.shape[1], -1)).view(x.shape)


# -- where a split's pixels live ---------------------------------------------------------------------

RESIDENT_MARGIN = 0.25  # fraction of device memory left free for the model when placing a split there
RESIDENT_MIN_FREE = 2 * 2**30  # and never less than this many bytes
COPY_CHUNK = 4096  # images per host-to-device copy when placing a split (no split-sized staging buffer)

_RESIDENT: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}


def fits_on_device(nbytes: int, device: torch.device) -> bool:
    """Whether `nbytes` fit in the free memory of a CUDA device with a margin for training (False on CPU)."""
    if device.type != "cuda":
        return False
    free, total = torch.cuda.mem_get_info(device)
    return nbytes <= free - max(RESIDENT_MIN_FREE, RESIDENT_MARGIN * total)


def resident_split(data: SplitTensors, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 3, S, S) uint8, labels (N,)) of `data` on `device`, copied there once per split and
    device and shared by every loader over that split (freed with the split). On the CPU this is the
    split itself: the memory-mapped cache stays a memory map, nothing is read into RAM."""
    if device.type == "cpu":
        return data.images, data.labels
    key = (id(data.images), str(device))
    hit = _RESIDENT.get(key)
    if hit is None:
        images = torch.empty(data.images.shape, dtype=data.images.dtype, device=device)  # (N, 3, S, S) uint8
        for i in range(0, len(images), COPY_CHUNK):
            images[i : i + COPY_CHUNK].copy_(data.images[i : i + COPY_CHUNK])
        hit = (images, data.labels.to(device))
        _RESIDENT[key] = hit
        weakref.finalize(data.images, _RESIDENT.pop, key, None)
    return hit


@dataclass
class _EpochPlan:
    """One epoch's random draws, per batch, made in the same order as ever: indices (sorted within a
    shuffled batch), flips, crop offsets, channel combination."""

    idx: list[torch.Tensor]  # (B,) int64 each, on the CPU
    flips: list[torch.Tensor | None]  # (B,) bool
    offsets: list[torch.Tensor | None]  # (B, 2) int64
    combos: list[str]


def _to(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A small CPU tensor on `device`: pinned and copied without blocking on CUDA; itself on the CPU."""
    if device.type == "cpu":
        return t
    return t.pin_memory().to(device, non_blocking=True)


class BatchLoader:
    """Iterates (x, y) batches over a :class:`SplitTensors`.

    Args:
        data: the cached split.
        batch_size: images per batch.
        shuffle: reshuffle every epoch; the order depends only on (seed, epoch), so a resumed run
            sees the same batches as an uninterrupted one (call :meth:`set_epoch`).
        combo: channel combination fed to the model, RANDOM ("random") for a new combination per
            batch, or ALL ("all") for all seven per batch (x a :class:`Views`, y repeated 7 times).
        zero_fill: give 3 channels with absent ones zeroed, instead of the subset.
        flip: random horizontal flips (augmentation).
        crop_pad: random crops: pad each image by this many pixels (reflect) and crop back at a
            random offset (augmentation; 0 = off).
        with_channels: yield ((x, channel_indices), y) so a model with a channel-identity table
            knows which channels it was given (the indices are shared by the whole batch).
        device: where batches are made and yielded (None: the CPU, until :func:`hwlib.train.fit` or
            :func:`hwlib.train.predict` hands the loader its training device with :meth:`for_device`).
        resident: True: gather from a copy of the whole uint8 split on `device` (made once, shared);
            False: gather uint8 batches on the CPU (into pinned memory on CUDA) and copy them
            without blocking, one batch ahead; None (default): resident on CUDA when the split fits
            in free device memory with a margin, else streaming. Flips, crops, float conversion and
            channel selection run on `device` either way; both paths give the same pixels.
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
        device: torch.device | str | None = None,
        resident: bool | None = None,
    ):
        if combo not in (RANDOM, ALL):
            channel_indices(combo)
        if with_channels and zero_fill:
            raise ValueError("with_channels gives the present channels' identities; it needs zero_fill=False")
        self.data, self.batch_size, self.shuffle, self.seed = data, batch_size, shuffle, seed
        self.combo, self.zero_fill, self.flip, self.drop_last = combo, zero_fill, flip, drop_last
        self.with_channels, self.crop_pad = with_channels, crop_pad
        self.device = torch.device(device) if device is not None else None
        self.resident = resident
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def for_device(self, device: torch.device) -> BatchLoader:
        """This loader if its device was given, else a shallow copy that makes its batches on `device`."""
        if self.device is not None:
            return self
        moved = copy.copy(self)
        moved.device = torch.device(device)
        return moved

    @property
    def target(self) -> torch.device:
        """The device batches are made on."""
        return self.device or torch.device("cpu")

    def uses_resident(self) -> bool:
        """Whether iteration gathers from the split on the device (see `resident`)."""
        if self.resident is not None:
            return self.resident
        dev = self.target
        if dev.type != "cuda":
            return False
        images = self.data.images
        return (id(images), str(dev)) in _RESIDENT or fits_on_device(images.numel() * images.element_size(), dev)

    def __len__(self) -> int:
        n = len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def plan(self) -> _EpochPlan:
        """This epoch's draws from its generator (seed, epoch), in the order the loader has always made them."""
        n = len(self.data)
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        plan = _EpochPlan([], [], [], [])
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if self.shuffle:
                idx, _ = idx.sort()  # sequential reads from the memory-mapped cache
            plan.idx.append(idx)
            plan.flips.append(torch.rand(len(idx), generator=g) < 0.5 if self.flip else None)
            plan.offsets.append(
                torch.randint(0, 2 * self.crop_pad + 1, (len(idx), 2), generator=g) if self.crop_pad else None
            )
            plan.combos.append(sample_combo(g, self.data.images.shape[1]) if self.combo == RANDOM else self.combo)
        return plan

    def _channel_ids(self, combo: str, cache: dict[str, torch.Tensor]) -> torch.Tensor:
        if combo not in cache:
            cache[combo] = _to(torch.tensor(channel_indices(combo)), self.target)
        return cache[combo]

    def _gather_host(self, idx: torch.Tensor, stream: torch.cuda.Stream | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, S, S) uint8 and (B,) labels gathered on the CPU; on CUDA into pinned memory and copied
        to the device on `stream` without blocking."""
        dev, images, labels = self.target, self.data.images, self.data.labels
        pin = stream is not None
        x = torch.empty((len(idx), *images.shape[1:]), dtype=images.dtype, pin_memory=pin)  # (B, 3, S, S)
        y = torch.empty(len(idx), dtype=labels.dtype, pin_memory=pin)  # (B,)
        torch.index_select(images, 0, idx, out=x)
        torch.index_select(labels, 0, idx, out=y)
        if stream is None:
            return x.to(dev), y.to(dev)
        with torch.cuda.stream(stream):
            return x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)

    def _finish(self, x: torch.Tensor, flip: torch.Tensor | None, offsets: torch.Tensor | None, combo: str | None):
        """(B, 3, S, S) uint8 on the device -> (B, C, S, S) float in [0, 1], flipped, cropped, channels
        picked (combo None: all three kept)."""
        if flip is not None or offsets is not None:
            x = flip_crop(x, flip=flip, offsets=offsets, pad=self.crop_pad)  # on uint8: 4x less to move
        x = x.float().div_(255.0)  # (B, 3, H, W) in [0, 1]
        return x if combo is None else select_channels(x, combo, zero_fill=self.zero_fill)

    def __iter__(self) -> Iterator[tuple[torch.Tensor | tuple[torch.Tensor, torch.Tensor], torch.Tensor]]:
        plan, dev = self.plan(), self.target
        sizes = [len(i) for i in plan.idx]
        if not sizes:
            return
        flips, offsets = plan.flips, plan.offsets
        if dev.type != "cpu":  # the epoch's flips and offsets go to the device in one copy each; batches are views
            if self.flip:
                flips = list(_to(torch.cat(plan.flips), dev).split(sizes))  # type: ignore[arg-type]  # no None when self.flip
            if self.crop_pad:
                offsets = list(_to(torch.cat(plan.offsets), dev).split(sizes))  # type: ignore[arg-type]  # no None when self.crop_pad
        stream = None
        if self.uses_resident():
            images, labels = resident_split(self.data, dev)
            idx = _to(torch.cat(plan.idx), dev).split(sizes)

            def fetch(b: int) -> tuple[torch.Tensor, torch.Tensor]:
                return images.index_select(0, idx[b]), labels.index_select(0, idx[b])  # (B, 3, S, S), (B,)
        else:
            stream = torch.cuda.Stream(dev) if dev.type == "cuda" else None  # copies overlap the training step

            def fetch(b: int) -> tuple[torch.Tensor, torch.Tensor]:
                return self._gather_host(plan.idx[b], stream)

        ids: dict[str, torch.Tensor] = {}
        nxt = fetch(0)
        for b in range(len(sizes)):
            x, y = nxt
            if stream is not None:  # batch b's copy must land before it is used; its memory now belongs to main
                main = torch.cuda.current_stream(dev)
                main.wait_stream(stream)
                x.record_stream(main)
                y.record_stream(main)
            nxt = fetch(b + 1) if b + 1 < len(sizes) else None  # type: ignore[assignment]  # None only after the last batch  # one batch ahead
            if plan.combos[b] == ALL:  # the flips and crops of batch b, shared by its seven views
                x = self._finish(x, flips[b], offsets[b], None)  # (B, 3, H, W)
                views = Views(self._view(select_channels(x, c, zero_fill=self.zero_fill), c, ids) for c in COMBOS)
                yield views, y.repeat(len(COMBOS))  # 7 inputs, (7B,) labels
                continue
            x = self._finish(x, flips[b], offsets[b], plan.combos[b])
            yield self._view(x, plan.combos[b], ids), y

    def _view(self, x: torch.Tensor, combo: str, ids: dict[str, torch.Tensor]):
        """A model's input for `combo`: x, or (x, channel ids) when the model is told its channels."""
        return (x, self._channel_ids(combo, ids)) if self.with_channels else x
