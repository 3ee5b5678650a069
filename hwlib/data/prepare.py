"""One call from a DATA setting to decoded tensors: what notebooks and the runner use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..paths import DATA_DIR, display_path, resolve_repo_path
from .cache import load_split
from .lists import DatasetSpec, Sample, open_dataset
from .split import SplitTensors
from .synthetic import SyntheticSpec, generate


def resolve_data(data: str | Path | None) -> Path:
    """DATA as given by a user: empty -> the embedded generated dataset (generated on first use
    under data/); a relative path is taken from the repository root."""
    if not data:
        spec = SyntheticSpec()
        return generate(DATA_DIR / spec.name, spec)
    return resolve_repo_path(data)


def per_class_subset(samples: list[Sample], limit: int | None) -> list[Sample]:
    """The first `limit` samples of each class, in list order (deterministic); all when None."""
    if limit is None:
        return list(samples)
    taken: dict[int, int] = {}
    out = []
    for s in samples:
        if taken.get(s.label, 0) < limit:
            taken[s.label] = taken.get(s.label, 0) + 1
            out.append(s)
    return out


@dataclass
class LoadedData:
    """A dataset decoded at one size, restricted per the profile."""

    spec: DatasetSpec
    path: Path
    size: int
    splits: dict[str, SplitTensors] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    @property
    def eval_split(self) -> str:
        """The split final numbers are reported on: test when the dataset has one."""
        return "test" if "test" in self.splits else "val"

    def summary(self) -> str:
        counts = ", ".join(f"{k} {len(v):,}" for k, v in self.splits.items())
        full = ", ".join(f"{k} {v:,}" for k, v in self.spec.counts().items())
        return (
            f"dataset {self.name} ({self.spec.layout} layout) at {display_path(self.path)}\n"
            f"  {self.num_classes} classes, images used: {counts} (of {full}), {self.size} px"
        )


def load_dataset(
    data: str | Path | None, *, size: int, train_per_class: int | None = None, eval_per_class: int | None = None
) -> LoadedData:
    """Open DATA (see :func:`resolve_data`), subset per class, and load every split at `size` px."""
    path = resolve_data(data)
    spec = open_dataset(path)
    loaded = LoadedData(spec, path, size)
    for split, samples in spec.splits.items():
        limit = train_per_class if split == "train" else eval_per_class
        loaded.splits[split] = load_split(spec, split, size, samples=per_class_subset(samples, limit))
    return loaded
