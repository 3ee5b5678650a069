"""Wall-clock measurement done right: warm-up, several repeats, median, the device synchronised."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from .device import synchronize


def median_seconds(
    fn: Callable[[], object], *, warmup: int = 2, repeats: int = 5, device: torch.device | None = None
) -> float:
    """Median wall time of fn() over `repeats` runs after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@torch.inference_mode()
def inference_latency(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    *,
    batch: int,
    device: torch.device,
    channels=None,
    repeats: int = 5,
) -> float:
    """Median seconds per image of model.eval() on a random (batch, C, H, W) input."""
    model = model.to(device).eval()
    x = torch.rand(batch, *input_shape, device=device)
    args = (x,) if channels is None else (x, torch.as_tensor(channels, device=device))
    return median_seconds(lambda: model(*args), repeats=repeats, device=device) / batch
