"""The parameter study (notebook 03): every parameter count the original report states, in closed
form and measured with torchinfo (:mod:`hwlib.params`); the original's arithmetic and printouts
against the correct values; Dense4's and ResNet34's parameters and multiply-adds per image at
several sizes; and where a FlexConv layer has fewer parameters than a standard convolution.

Everything here is exact arithmetic on random weights: no data, no training, no seeds, so the
result is the same under every profile. Its prose is :mod:`hwlib.report.params`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..original import ORIGINAL_DENSE
from ..params import (
    ChannelCrossover,
    Check,
    ClaimVerdict,
    Measured,
    OriginalClaim,
    channel_crossovers,
    conv_label,
    count_checks,
    measure,
    original_corrections,
    original_printouts,
    params_vs_channels,
)
from ..stats import Verdict
from .dense import MODELS
from .results import RunInfo, StudyResult

SIZES = (64, 128, 224)  # px: multiply-adds per image at each
MAP_SIZES = (4, 8, 16, 32)  # original-mode FlexConv's square maps in the params-vs-channels comparison
OUT_CHANNELS = 32  # of the compared layers
COMPARED = ("dense4", "resnet34")  # candidate, baseline (:data:`hwlib.studies.MODELS`): the original's claims' models
VERDICTS: tuple[ClaimVerdict, ...] = ("correct", "wrong", "incomplete")


def default_channels() -> np.ndarray:
    """The input channel counts of the params-vs-channels curves: 1 to 2048, log-spaced."""
    return np.unique(np.logspace(0, 11, 400, base=2).astype(int))


@dataclass(frozen=True)
class ModelCount:
    """One model's parameters and multiply-adds per image at each image size."""

    label: str
    params: int
    macs: dict[int, int]  # image size (px) -> multiply-adds per image

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "params": self.params,
            "macs_per_image": {str(s): v for s, v in self.macs.items()},
        }


@dataclass
class ParamStudyResult(StudyResult):
    """Notebook 03's numbers: count checks, the original's claims with computed verdicts, the two
    models' costs, and the params-vs-channels curves with their crossovers."""

    info: RunInfo
    num_classes: int
    checks: list[Check]
    corrections: list[OriginalClaim]  # the original's arithmetic
    printouts: list[OriginalClaim]  # the original's torchinfo printouts
    models: dict[str, ModelCount]  # candidate first, then the baseline
    out_channels: int
    channels: np.ndarray  # input channel counts of the curves
    layers: list[ChannelCrossover]  # FlexConv layers compared with Conv2d(C, out_channels, 3)
    curves: dict[str, np.ndarray] = field(default_factory=dict)  # name -> parameters at each C

    # -- access --------------------------------------------------------------------------------------

    @property
    def candidate(self) -> str:
        return next(iter(self.models))

    @property
    def baseline(self) -> str:
        return list(self.models)[1]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(self.models[self.candidate].macs)

    @property
    def claims(self) -> list[OriginalClaim]:
        return self.corrections + self.printouts

    @property
    def matching(self) -> int:
        """How many closed-form counts equal torchinfo's."""
        return sum(c.match for c in self.checks)

    @property
    def all_match(self) -> bool:
        return self.matching == len(self.checks)

    def claims_by(self, verdict: ClaimVerdict) -> list[OriginalClaim]:
        return [c for c in self.claims if c.verdict == verdict]

    @property
    def params_ratio(self) -> float:
        """Candidate / baseline parameters."""
        return self.models[self.candidate].params / self.models[self.baseline].params

    @property
    def macs_ratio(self) -> dict[int, float]:
        """Image size -> candidate / baseline multiply-adds per image."""
        a, b = self.models[self.candidate].macs, self.models[self.baseline].macs
        return {s: a[s] / b[s] for s in a}

    @property
    def conv_label(self) -> str:
        return conv_label(self.out_channels)

    @property
    def crossovers(self) -> dict[str, int]:
        """FlexConv layer name -> the smallest C at which Conv2d(C, out_channels, 3) is larger."""
        return {layer.name: layer.crossover for layer in self.layers}

    def goals(self) -> list[Verdict]:
        """None: every number here is exact (no seeds, no test set), so nothing is decided by an
        interval; the checks' `match` and the claims' verdicts are the outcomes."""
        return []

    # -- JSON ----------------------------------------------------------------------------------------

    def to_json(self) -> dict:
        claims = {v: len(self.claims_by(v)) for v in VERDICTS}
        return {
            **self.info.as_dict(),
            "num_classes": self.num_classes,
            "checks": [c.as_dict() for c in self.checks],
            "check_counts": {"match": self.matching, "total": len(self.checks)},
            "corrections": [c.as_dict() for c in self.corrections],
            "original_printouts": [c.as_dict() for c in self.printouts],
            "claim_counts": {**claims, "total": len(self.claims)},
            "models": {m: c.as_dict() for m, c in self.models.items()},
            "comparison": {
                "candidate": self.candidate,
                "baseline": self.baseline,
                "params_ratio": self.params_ratio,
                "macs_ratio": {str(s): r for s, r in self.macs_ratio.items()},
            },
            "crossover_channels": {
                "out_channels": self.out_channels,
                "conv": self.conv_label,
                "channels": {"min": int(self.channels.min()), "max": int(self.channels.max())},
                "layers": {layer.name: layer.as_dict() for layer in self.layers},
            },
        }


def run_param_study(
    *,
    profile: str,
    sizes: tuple[int, ...] = SIZES,
    out_channels: int = OUT_CHANNELS,
    map_sizes: tuple[int, ...] = MAP_SIZES,
    channels: ArrayLike | None = None,
) -> ParamStudyResult:
    """Count, measure and compare (CPU, torchinfo, about 10 s): :func:`hwlib.params.count_checks`,
    the original's claims, Dense4's and ResNet34's (:data:`COMPARED`) parameters and multiply-adds
    per image at each of `sizes` (at the original's class count), and the params-vs-channels curves
    of `out_channels` layers at `channels` (default :func:`default_channels`) and `map_sizes`."""
    o = ORIGINAL_DENSE
    measured: dict[str, dict[int, Measured]] = {}
    for m in COMPARED:
        measured[m] = {s: measure(MODELS[m].build(o.num_classes), (3, s, s)) for s in sorted({*sizes, o.image_size})}
    candidate, baseline = (measured[m][o.image_size] for m in COMPARED)
    costs = {m: ModelCount(MODELS[m].label, measured[m][o.image_size].params,
                           {s: measured[m][s].macs for s in sizes}) for m in COMPARED}  # fmt: skip
    ch = default_channels() if channels is None else np.asarray(channels)
    curves, _ = params_vs_channels(out_channels=out_channels, channels=ch, map_sizes=map_sizes)
    return ParamStudyResult(
        info=RunInfo(dataset="none", profile=profile, split="none", image_size=o.image_size, device="cpu"),
        num_classes=o.num_classes,
        checks=count_checks(),
        corrections=original_corrections(dense4_cost=candidate, resnet34_cost=baseline),
        printouts=original_printouts(dense4_cost=candidate, resnet34_cost=baseline),
        models=costs,
        out_channels=out_channels,
        channels=ch,
        layers=channel_crossovers(out_channels=out_channels, map_sizes=map_sizes),
        curves=curves,
    )


__all__ = ["COMPARED", "MAP_SIZES", "SIZES", "ModelCount", "ParamStudyResult", "default_channels", "run_param_study"]
