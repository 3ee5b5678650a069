"""Wall-clock measurement done right: warm-up, several repeats, median, the device synchronised.

(Inference latency per image, measured once per architecture, is hwlib.studies.costs's.)"""

from __future__ import annotations

import os
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


class MachineLoad:
    """How much of the machine's CPU other processes used while a block ran (Linux: /proc/stat for
    the whole machine, this process's own CPU time from os.times). `others_busy` is 0..1 (share of
    all cores); None where /proc/stat cannot be read. A timing is only meaningful near 0."""

    def __init__(self, *, min_window: float = 0.5) -> None:
        self.others_busy: float | None = None
        # /proc/stat counts in clock ticks (10 ms): a shorter block is padded with an idle wait, during
        # which only other processes can use the CPU, so a few-millisecond timing is judged over >= 0.5 s
        self.min_window = min_window

    @staticmethod
    def _busy_seconds() -> float | None:
        try:
            with open("/proc/stat") as f:
                fields = [float(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_seconds() -> float:
        t = os.times()
        return t.user + t.system

    def __enter__(self) -> MachineLoad:
        self._t0, self._busy0, self._own0 = time.perf_counter(), self._busy_seconds(), self._own_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        short = self.min_window - (time.perf_counter() - self._t0)
        if short > 0:
            time.sleep(short)
        busy1 = self._busy_seconds()
        wall = time.perf_counter() - self._t0
        if self._busy0 is None or busy1 is None or wall <= 0:
            return
        others = (busy1 - self._busy0) - (self._own_seconds() - self._own0)
        self.others_busy = float(min(1.0, max(0.0, others / (wall * (os.cpu_count() or 1)))))
