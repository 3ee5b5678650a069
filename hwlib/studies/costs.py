"""What a model costs: parameters and multiply-adds (torchinfo, :func:`hwlib.params.measure`) and
inference latency per image (timed with :func:`hwlib.timing.median_seconds`), with how busy the
rest of the machine was while it was timed (:class:`hwlib.timing.MachineLoad`).

As evaluation runs it: eval mode, channels_last, the device's autocast (bf16 on CUDA, float32 on the
CPU). Each distinct architecture is timed once per process and the number reused: two trained
copies of one architecture cost the same per image, so they report one number, not two noisy draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..device import autocast_for
from ..params import measure
from ..timing import MachineLoad, median_seconds

LATENCY_BATCHES = (1, 64)  # batch sizes whose latency per image measure_cost reports
WARMUP = 3
MIN_REPEATS = {1: 20}  # batch -> at least this many timed runs; other batch sizes: DEFAULT_MIN_REPEATS
DEFAULT_MIN_REPEATS = 10

_CACHE: dict[tuple, tuple[float, float | None]] = {}


@dataclass(frozen=True)
class Cost:
    """Parameters, multiply-adds per image, median latency per image, and the share of the machine's
    CPU other processes used while the latency was timed (None: not measurable here)."""

    params: int
    macs: int  # multiply-adds per image at the measured input shape
    latency_ms: dict[str, float]  # "batch1", "batch64" -> median ms per image on the measuring device
    others_busy: float | None = None  # 0..1, the worst over the timed batch sizes


def architecture_key(model: nn.Module, input_shape: tuple[int, ...], *, batch: int, device: torch.device) -> tuple:
    """What latency depends on: the module tree (its repr), every parameter's and buffer's name,
    shape, dtype and strides, the input shape, the batch size, the device and its thread count."""
    tensors = tuple(
        (n, tuple(t.shape), str(t.dtype), t.stride()) for n, t in (*model.named_parameters(), *model.named_buffers())
    )
    return (repr(model), tensors, tuple(input_shape), batch, str(device), torch.get_num_threads())


def min_repeats(batch: int, requested: int = 0) -> int:
    """Timed runs at `batch`: at least 20 at batch 1, 10 otherwise, or `requested` if more."""
    return max(requested, MIN_REPEATS.get(batch, DEFAULT_MIN_REPEATS))


def latency_per_image(
    model: nn.Module, input_shape: tuple[int, ...], *, batch: int, device: torch.device, repeats: int = 0
) -> tuple[float, float | None]:
    """(median seconds per image, share of the CPU other processes used meanwhile) of `model` in
    eval mode on a random (batch, *input_shape) input; timed once per architecture."""
    model.to(device=device, memory_format=torch.channels_last).eval()  # type: ignore[call-overload]  # torch stubs: no overload with both
    key = architecture_key(model, input_shape, batch=batch, device=device)
    if key not in _CACHE:
        x = torch.rand(batch, *input_shape, device=device).contiguous(memory_format=torch.channels_last)

        @torch.inference_mode()
        def forward() -> None:
            with autocast_for(device):
                model(x)

        with MachineLoad() as load:
            seconds = median_seconds(forward, warmup=WARMUP, repeats=min_repeats(batch, repeats), device=device)
        _CACHE[key] = (seconds / batch, load.others_busy)
    return _CACHE[key]


@dataclass(frozen=True)
class TrainSpeed:
    """Training throughput: images per second of fwd+bwd+AdamW steps, and the share of the CPU
    other processes used while it was timed (None: not measurable here)."""

    images_per_s: float
    others_busy: float | None


TRAIN_WARMUP = 2


def training_speed(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    *,
    batch: int,
    num_classes: int,
    device: torch.device,
    repeats: int = 6,
) -> TrainSpeed:
    """Median training throughput of `model`: forward, cross-entropy on random labels, backward and an
    AdamW step on a random (batch, *input_shape) batch, channels_last, in train mode, under the
    device's autocast (as :func:`hwlib.train.fit` trains); `TRAIN_WARMUP` untimed then
    `repeats` timed steps. It changes `model`'s weights: pass a fresh copy."""
    model.to(device=device, memory_format=torch.channels_last).train()  # type: ignore[call-overload]  # torch stubs: no overload with both
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.rand(batch, *input_shape, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, num_classes, (batch,), device=device)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast_for(device):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    with MachineLoad() as load:
        seconds = median_seconds(step, warmup=TRAIN_WARMUP, repeats=repeats, device=device)
    return TrainSpeed(batch / seconds, load.others_busy)


def clear_cache() -> None:
    """Forget every measured latency (tests; a process that changes thread counts)."""
    _CACHE.clear()


def measure_cost(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    *,
    device: torch.device,
    repeats: int = 0,
    batches: tuple[int, ...] = LATENCY_BATCHES,
) -> Cost:
    """Params and multiply-adds (torchinfo, FlexConv's per-image convolution included) and the median latency
    per image at each batch size in `batches` on `device` (none: parameters and multiply-adds only)."""
    m = measure(model, input_shape)
    latency, busy = {}, []
    for b in batches:
        seconds, others = latency_per_image(model, input_shape, batch=b, device=device, repeats=repeats)
        latency[f"batch{b}"] = 1e3 * seconds
        busy.append(others)
    known = [x for x in busy if x is not None]
    return Cost(m.params, m.macs, latency, max(known) if known else None)


__all__ = [
    "LATENCY_BATCHES",
    "Cost",
    "TrainSpeed",
    "architecture_key",
    "clear_cache",
    "latency_per_image",
    "measure_cost",
    "min_repeats",
    "training_speed",
]
