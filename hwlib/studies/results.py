"""What a study reports about its runs: one cost measurement (parameters, multiply-adds, latency),
intervals over seeds, goals with their verdicts, the run description, and the base of the studies'
results (owns its JSON and Summary). Kept apart from :mod:`.common` (training) so that rewording a
report never changes a run's key (:data:`hwlib.run_cache.TRAINING_SOURCES`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..params import measure
from ..publish import write_json
from .latency import latency_per_image

LATENCY_BATCHES = (1, 64)  # batch sizes whose latency per image measure_cost reports


@dataclass(frozen=True)
class Cost:
    """What a model costs: parameters, multiply-adds per image, and inference latency per image."""

    params: int
    macs: int  # multiply-adds per image at the measured input shape
    latency_ms: dict[str, float]  # "batch1", "batch64" -> median ms per image on the measuring device


def measure_cost(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    *,
    device: torch.device,
    repeats: int = 0,
    batches: tuple[int, ...] = LATENCY_BATCHES,
) -> Cost:
    """Params and multiply-adds (torchinfo, FlexConv's grouped conv included) and the median
    latency per image at each batch size on `device` (:func:`hwlib.studies.latency.latency_per_image`:
    warm-up, at least 20 timed runs at batch 1 and 10 at larger batches or `repeats` if more, median;
    each distinct architecture measured once, so two models of one architecture report one number)."""
    m = measure(model, input_shape)
    latency = {
        f"batch{b}": 1e3 * latency_per_image(model, input_shape, batch=b, device=device, repeats=repeats)
        for b in batches
    }
    return Cost(m.params, m.macs, latency)


def t_interval(values: list[float]) -> tuple[float, float]:
    """(mean, half-width) of a 95% Student-t interval over seeds (half-width nan for one value)."""
    n = len(values)
    m = float(np.mean(values))
    if n < 2:
        return m, float("nan")
    t975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
    return m, t975.get(n, 1.96) * float(np.std(values, ddof=1)) / math.sqrt(n)


def settled(mean: float, half: float, bar: float, met: bool) -> bool | None:
    """Whether the interval mean ± half lies wholly on the verdict's side of `bar`: at or above it
    for a met goal, below it for a missed one (None: no interval)."""
    if math.isnan(half):
        return None
    return mean - half >= bar if met else mean + half < bar


def all_settled(parts: list[tuple[bool, float, float]], bar: float) -> tuple[bool, bool | None]:
    """(met, settled) of "every part clears `bar`" from each part's (met, mean, half-width): met when
    every part is; settled when every interval clears the bar (met) or some missed part's interval
    lies wholly below it (missed); None when a part has no interval."""
    met = all(ok for ok, _, _ in parts)
    if any(math.isnan(h) for _, _, h in parts):
        return met, None
    if met:
        return met, all(m - h >= bar for _, m, h in parts)
    return met, any(m + h < bar for ok, m, h in parts if not ok)


@dataclass(frozen=True)
class Goal:
    """One goal of a study, whether this run met it (by the mean over seeds), and the numbers behind
    the verdict. `settled`: whether the 95% interval over seeds lies wholly on the verdict's side of
    the bar (None: no interval, e.g. one seed); an unsettled verdict is printed as such."""

    goal: str
    met: bool
    numbers: str
    settled: bool | None = None

    def as_dict(self) -> dict:
        return {"goal": self.goal, "met": self.met, "settled": self.settled, "numbers": self.numbers}

    @property
    def qualifier(self) -> str:
        """'' for a settled verdict, else what keeps it from being settled."""
        if self.settled is None:
            return " (no interval)"
        return "" if self.settled else " (by the mean; not settled by the 95% interval)"

    @property
    def verdict(self) -> str:
        """'met' / 'MISSED' and its qualifier."""
        return ("met" if self.met else "MISSED") + self.qualifier

    def line(self) -> str:
        return f"[{self.verdict}] {self.goal}: {self.numbers}"


@dataclass
class RunInfo:
    """What every results JSON states about the run that produced it."""

    dataset: str
    profile: str
    split: str
    image_size: int
    device: str
    seeds: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "profile": self.profile,
            "split": self.split,
            "image_size": self.image_size,
            "device": self.device,
            "seeds": self.seeds,
        }


class StudyResult:
    """Base of the studies' results: each owns its JSON (`to_json`) and its goals (`goals`)."""

    def to_json(self) -> dict:
        raise NotImplementedError

    def goals(self) -> list[Goal]:
        raise NotImplementedError

    def headline(self) -> list[str]:
        """The run's key numbers, one Markdown bullet each."""
        raise NotImplementedError

    def size_text(self) -> str:
        """The image size(s) the Summary names."""
        return f"{self.info.image_size} px"

    def summary_markdown(self) -> str:
        """The notebook's Summary: what ran, the key numbers, and the verdict on each goal."""
        i = self.info
        seeds = f"seed {i.seeds[0]}" if len(i.seeds) == 1 else f"seeds {i.seeds}"
        lines = [
            f"**Summary** ({i.dataset}, {i.split} split, profile `{i.profile}`, {self.size_text()}, {seeds}, "
            f"{i.device})",
            "",
            *self.headline(),
            "",
            "Goals:",
            "",
        ]
        lines += [f"- **{g.verdict}**: {g.goal} ({g.numbers})" for g in self.goals()]
        return "\n".join(lines)

    def save(self, path: str | Path) -> Path:
        """Write `to_json()` (sorted keys, one trailing newline)."""
        return write_json(path, self.to_json())
