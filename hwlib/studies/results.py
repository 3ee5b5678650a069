"""The base of the studies' results: what every results JSON states about the run that produced
it (:class:`RunInfo`), and :class:`StudyResult`, which owns its JSON (`to_json`), its goals (typed
:class:`hwlib.stats.Verdict` objects) and how it is saved (through :func:`hwlib.publish.write_json`,
the one writer). Results hold numbers; the prose about them is in :mod:`hwlib.report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..publish import write_json
from ..stats import Verdict


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
        return asdict(self)


class StudyResult:
    """Base of the studies' results: each owns its JSON and its goals."""

    info: RunInfo

    def to_json(self) -> dict:
        raise NotImplementedError

    def goals(self) -> list[Verdict]:
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        """Write `to_json()` through the one results writer."""
        return write_json(path, self.to_json())


__all__ = ["RunInfo", "StudyResult"]
