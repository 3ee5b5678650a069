"""Inference latency per image, measured so that one architecture gives one number.

As evaluation runs it: eval mode, channels_last, the device's autocast (bf16 on CUDA, float32 on
the CPU). Warm-up, then at least MIN_REPEATS timed forward passes (more while the time budget
lasts), median.
Each distinct architecture is measured once per process and the number reused: two trained copies
of one architecture (e.g. `flex` and `flex_rgb_only`) cost the same per image, so they must report
the same latency instead of two noisy draws.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from ..device import autocast_for, synchronize

WARMUP = 3
MIN_REPEATS = {1: 20}  # batch -> at least this many timed runs; other batch sizes: DEFAULT_MIN_REPEATS
DEFAULT_MIN_REPEATS = 10
BUDGET_S = 0.5  # keep repeating (up to MAX_REPEATS) while the timed runs took less than this
MAX_REPEATS = 200

_CACHE: dict[tuple, float] = {}


def architecture_key(model: nn.Module, input_shape: tuple[int, ...], *, batch: int, device: torch.device) -> tuple:
    """What latency depends on: the module tree (its repr), every parameter's and buffer's name,
    shape, dtype and strides (memory format), the input shape, the batch size, the device and its
    thread count. Trained weights are not in it."""
    tensors = tuple(
        (n, tuple(t.shape), str(t.dtype), t.stride()) for n, t in (*model.named_parameters(), *model.named_buffers())
    )
    return (repr(model), tensors, tuple(input_shape), batch, str(device), torch.get_num_threads())


def min_repeats(batch: int, requested: int = 0) -> int:
    """The number of timed runs at `batch`: at least 20 at batch 1, 10 otherwise, or `requested` if more."""
    return max(requested, MIN_REPEATS.get(batch, DEFAULT_MIN_REPEATS))


@torch.inference_mode()
def _measure(
    model: nn.Module, input_shape: tuple[int, ...], *, batch: int, device: torch.device, repeats: int
) -> float:
    x = torch.rand(batch, *input_shape, device=device)
    if x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast_for(device):
        for _ in range(WARMUP):
            model(x)
        synchronize(device)
        times: list[float] = []
        while len(times) < repeats or (sum(times) < BUDGET_S and len(times) < MAX_REPEATS):
            t0 = time.perf_counter()
            model(x)
            synchronize(device)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) / batch


def latency_per_image(
    model: nn.Module, input_shape: tuple[int, ...], *, batch: int, device: torch.device, repeats: int = 0
) -> float:
    """Median seconds per image of `model` in eval mode on a random (batch, *input_shape) input,
    measured once per architecture (see :func:`architecture_key`) and reused afterwards. The model
    is moved to `device` in channels_last (as training leaves it) and set to eval mode."""
    model.to(device=device, memory_format=torch.channels_last).eval()
    key = architecture_key(model, input_shape, batch=batch, device=device)
    if key not in _CACHE:
        _CACHE[key] = _measure(model, input_shape, batch=batch, device=device, repeats=min_repeats(batch, repeats))
    return _CACHE[key]


def clear_cache() -> None:
    """Forget every measured latency (tests; a process that changes thread counts)."""
    _CACHE.clear()


__all__ = ["architecture_key", "clear_cache", "latency_per_image", "min_repeats"]
