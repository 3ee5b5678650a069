"""Wall-clock measurement done right: warm-up, several repeats, median, the device synchronised.

(Inference latency per image, measured once per architecture, is hwlib.studies.latency's.)"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

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
