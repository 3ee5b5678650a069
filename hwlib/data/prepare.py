"""One call from a DATA setting to decoded tensors: what notebooks and the runner use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..paths import DATA_DIR, display_path, resolve_repo_path
from .cache import load_split
from .decode import open_image
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


@dataclass(frozen=True)
class DataFacts:
    """What a report says about the data a run used (see :meth:`LoadedData.facts`)."""

    name: str
    layout: str
    num_classes: int
    class_names: list[str]
    class_names_from: str
    used: dict[str, int]  # split -> images used by this run
    available: dict[str, int]  # split -> images in the dataset
    image_size: int  # px, what the models see
    photo_size: str  # the stored images' size, e.g. "224x224 px" or "from 180x120 to 500x375 px"

    def as_dict(self) -> dict:
        return asdict(self)


def photo_size_text(sizes: list[tuple[int, int]]) -> str:
    """'224x224 px' when all (width, height) are equal, else 'from WxH to WxH px (median WxH)' by area."""
    if not sizes:
        return "unknown"
    if len(set(sizes)) == 1:
        return f"{sizes[0][0]}x{sizes[0][1]} px"
    by_area = sorted(sizes, key=lambda wh: (wh[0] * wh[1], wh))
    lo, mid, hi = by_area[0], by_area[len(by_area) // 2], by_area[-1]
    return f"from {lo[0]}x{lo[1]} to {hi[0]}x{hi[1]} px (median {mid[0]}x{mid[1]})"


def stored_image_sizes(spec: DatasetSpec, samples: list[Sample], *, limit: int = 32) -> list[tuple[int, int]]:
    """(width, height) of up to `limit` images spread over `samples`, read from their headers
    (nothing decoded); unreadable files are skipped (the cache reports them)."""
    if not samples:
        return []
    step = max(1, len(samples) // limit)
    sizes = []
    for s in samples[::step][:limit]:
        try:
            with open_image(spec.source.read_bytes(s.path)) as im:
                sizes.append(im.size)
        except Exception:  # missing, undecodable or over the pixel limit: the cache names it
            continue
    return sizes


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
    def class_names(self) -> list[str]:
        """One name per label (from classes.txt, folders, the course's wnids, or 'class <i>')."""
        return self.spec.class_names

    def facts(self) -> DataFacts:
        """Name, classes, images used vs available, model input size vs the stored images' size."""
        return DataFacts(
            name=self.name,
            layout=self.spec.layout,
            num_classes=self.num_classes,
            class_names=list(self.class_names),
            class_names_from=self.spec.class_names_from,
            used={k: len(v) for k, v in self.splits.items()},
            available=self.spec.counts(),
            image_size=self.size,
            photo_size=photo_size_text(stored_image_sizes(self.spec, self.spec.splits["train"])),
        )

    @property
    def eval_split(self) -> str:
        """The split final numbers are reported on: test when the dataset has one."""
        return "test" if "test" in self.splits else "val"

    def summary(self) -> str:
        counts = ", ".join(f"{k} {len(v):,}" for k, v in self.splits.items())
        full = ", ".join(f"{k} {v:,}" for k, v in self.spec.counts().items())
        return (
            f"dataset {self.name} ({self.spec.layout} layout) at {display_path(self.path)}\n"
            f"  {self.num_classes} classes (names: {self.spec.class_names_from}), images loaded: {counts} "
            f"(of {full}), {self.size} px"
        )


_shown: set[tuple[str, str]] = set()


def show_warnings(spec: DatasetSpec, *, out=print) -> None:
    """Print each of the dataset's warnings (a class with no images in a split, leakage) once per
    process, as 'warning: ...' lines on stdout (a notebook loads a dataset once per size)."""
    for w in spec.warnings:
        key = (str(spec.source.location), w)
        if key not in _shown:
            _shown.add(key)
            out(f"warning: {w}")


def load_dataset(
    data: str | Path | None, *, size: int, train_per_class: int | None = None, eval_per_class: int | None = None
) -> LoadedData:
    """Open DATA (see :func:`resolve_data`), subset per class, and load every split at `size` px."""
    path = resolve_data(data)
    spec = open_dataset(path)
    show_warnings(spec)
    loaded = LoadedData(spec, path, size)
    for split, samples in spec.splits.items():
        limit = train_per_class if split == "train" else eval_per_class
        loaded.splits[split] = load_split(spec, split, size, samples=per_class_subset(samples, limit))
    return loaded
