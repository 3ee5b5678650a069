"""`python -m hwlib.data check PATH`: open a dataset, decode every image, summarise each split.

A dataset that passes never fails later in training for a data reason: every list line parsed,
every file present and decodable, labels covering 0..N-1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .decode import decode_sample, map_chunks
from .lists import DatasetError, DatasetSpec, Sample, Source, open_dataset

CHECK_SIZE = 16  # decoding at a small size still reads and validates the whole file


def check_chunk(source: Source, size: int, start: int, samples: list[Sample]) -> list[str]:
    """The error lines of the undecodable samples of one chunk (a ChunkFn for map_chunks)."""
    errors = []
    for sample in samples:
        try:
            decode_sample(source, sample, size)
        except DatasetError as e:
            errors.append(str(e))
    return errors


@dataclass
class CheckSummary:
    """A dataset that passed `check`: its layout, how many images were decoded, and its warnings."""

    spec: DatasetSpec
    decoded: int
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = self.spec
        lines = [
            f"dataset {s.name} ({s.layout} layout): {s.source.location}",
            f"  {'split':<6} {'images':>8} {'classes':>8} {'per class':>12}  list file",
        ]
        for split, samples in s.splits.items():
            per = Counter(x.label for x in samples)
            lines.append(
                f"  {split:<6} {len(samples):>8,} {len(per):>8} {min(per.values()):>5}-{max(per.values()):<6}  "
                f"{s.list_files[split] or split + '/'}"
            )
        lines.append(f"  {s.num_classes} classes; all {self.decoded:,} images decoded")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def check_dataset(path, *, workers: int | None = None) -> CheckSummary:
    """Validate a dataset completely; raise :class:`DatasetError` (one line) at the first problem class."""
    spec = open_dataset(path)
    samples = [s for split in spec.splits.values() for s in split]
    unique = list({s.path: s for s in samples}.values())
    missing = [s for s in unique if not spec.source.exists(s.path)]
    if missing:
        first = "; ".join(f"{spec.source.describe(s.path)} ({s.origin})" for s in missing[:3])
        raise DatasetError(f"{len(missing):,} of {len(unique):,} images are missing, first: {first}")
    failures = [
        err
        for errors in map_chunks(
            check_chunk, unique, source=spec.source, size=CHECK_SIZE, workers=workers, desc=f"checking {spec.name}"
        )
        for err in errors
    ]
    if failures:
        more = f" (and {len(failures) - 1:,} more undecodable images)" if len(failures) > 1 else ""
        raise DatasetError(failures[0] + more)
    return CheckSummary(spec, len(unique), list(spec.warnings))
