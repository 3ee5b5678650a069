"""`python -m hwlib.data check PATH`: open a dataset, decode every image, summarise each split.

A dataset that passes never fails later in training for a data reason: every list line parsed,
every file present and decodable, labels covering 0..N-1.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from dataclasses import dataclass, field

from ..progress import progress_bar
from .cache import decode_sample
from .lists import DatasetError, DatasetSpec, Sample, Source, open_dataset

_W: dict = {}


def _init(source: Source) -> None:
    _W["source"] = source


def _try_decode(sample: Sample) -> str | None:
    try:
        decode_sample(_W["source"], sample, 16)
        return None
    except DatasetError as e:
        return str(e)


@dataclass
class CheckReport:
    spec: DatasetSpec
    decoded: int
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = self.spec
        lines = [f"dataset {s.name} ({s.layout} layout): {s.source.location}",
                 f"  {'split':<6} {'images':>8} {'classes':>8} {'per class':>12}  list file"]
        for split, samples in s.splits.items():
            per = Counter(x.label for x in samples)
            lines.append(f"  {split:<6} {len(samples):>8,} {len(per):>8} {min(per.values()):>5}-{max(per.values()):<6}  "
                         f"{s.list_files[split] or split + '/'}")
        lines.append(f"  {s.num_classes} classes; all {self.decoded:,} images decoded")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def check_dataset(path, *, workers: int | None = None) -> CheckReport:
    """Validate a dataset completely; raise :class:`DatasetError` (one line) at the first problem class."""
    spec = open_dataset(path)
    samples = [s for split in spec.splits.values() for s in split]
    unique = list({s.path: s for s in samples}.values())
    missing = [s for s in unique if not spec.source.exists(s.path)]
    if missing:
        first = "; ".join(f"{spec.source.describe(s.path)} ({s.origin})" for s in missing[:3])
        raise DatasetError(f"{len(missing):,} of {len(unique):,} images are missing, first: {first}")
    workers = workers or min(os.cpu_count() or 1, 8)
    bar = progress_bar(total=len(unique), desc=f"checking {spec.name}", unit="img")
    failures: list[str] = []
    if workers > 1 and len(unique) > 256:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(workers, initializer=_init, initargs=(spec.source,)) as pool:
            for err in pool.imap(_try_decode, unique, chunksize=64):
                bar.update(1)
                if err:
                    failures.append(err)
    else:
        _init(spec.source)
        for s in unique:
            err = _try_decode(s)
            bar.update(1)
            if err:
                failures.append(err)
    bar.close()
    if failures:
        more = f" (and {len(failures) - 1:,} more undecodable images)" if len(failures) > 1 else ""
        raise DatasetError(failures[0] + more)
    return CheckReport(spec, len(unique), list(spec.warnings))
