"""Decode and resize every image once into a uint8 array on disk, memory-mapped afterwards.

One cache file per (dataset, split, size, sample list): `<cache_dir>/<name>-<split>-<size>px-<key>.npy`
holding (N, 3, S, S) uint8, plus a `.labels.npy` beside it. The key hashes the sample list, the
size, the decoder version and every file's (size, mtime) stamp, so a changed list, size or image
file builds a new cache. A 63,325-image split at 128 px is ~3.1 GB: it is written straight into a
memory-mapped file, never held in RAM.

A build writes `<final name>.tmp<pid>.npy` (and `<...>.labels.tmp<pid>.npy`) and renames them into
place when done, so a cache file is either whole or absent. A build that is killed (SIGKILL, power
loss) cannot remove its temporaries; the next build in the same folder removes every temporary
whose process is no longer running (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import torch

from ..paths import REPO_ROOT
from ..run_lock import pid_running
from .decode import DECODER_VERSION, decode_all
from .lists import DatasetSpec, Sample
from .split import SplitTensors


def default_cache_dir() -> Path:
    """`$HWLIB_CACHE`, else `data/cache` in the repository (git-ignored)."""
    return Path(os.environ.get("HWLIB_CACHE", REPO_ROOT / "data" / "cache"))


def cache_key(spec: DatasetSpec, split: str, samples: list[Sample], size: int) -> str:
    """16 hex digits over the decoder version, the source, the size and every sample's path, label
    and file (size, mtime) stamp."""
    h = hashlib.sha1(f"{DECODER_VERSION}|{spec.source.location.resolve()}|{spec.source.prefix}|{size}".encode())
    for s in samples:
        try:
            stamp = spec.source.stamp(s.path)
        except (FileNotFoundError, KeyError):
            stamp = (-1, -1)
        h.update(f"{s.path}\t{s.label}\t{stamp[0]}\t{stamp[1]}\n".encode())
    return h.hexdigest()[:16]


TEMP_PATTERN = re.compile(r"\.tmp(\d+)\.npy$")  # what a build writes before renaming: <name>.tmp<pid>.npy


def remove_stale_temporaries(cache_dir: Path, *, log=print) -> list[Path]:
    """Delete the temporaries of builds whose process is gone (killed mid-build); a note per file."""
    removed = []
    for tmp in sorted(Path(cache_dir).glob("*.tmp*.npy")):
        m = TEMP_PATTERN.search(tmp.name)
        if m is None or int(m.group(1)) == os.getpid() or pid_running(int(m.group(1))):
            continue
        try:
            size = tmp.stat().st_size
            tmp.unlink()
        except FileNotFoundError:  # another build removed it first
            continue
        removed.append(tmp)
        log(f"note: removed {tmp.name} ({size / 2**20:,.1f} MiB), left by a killed cache build (pid {m.group(1)})")
    return removed


def load_split(
    spec: DatasetSpec, split: str, size: int, *, samples: list[Sample] | None = None, cache_dir: Path | None = None
) -> SplitTensors:
    """The cached uint8 tensor of a split at `size` px, building it once (with a progress bar)."""
    samples = spec.splits[split] if samples is None else samples
    cache_dir = Path(cache_dir or default_cache_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = cache_key(spec, split, samples, size)
    img_path = cache_dir / f"{spec.name}-{split}-{size}px-{key}.npy"
    lab_path = img_path.with_suffix(".labels.npy")
    if not (img_path.exists() and lab_path.exists()):
        remove_stale_temporaries(cache_dir)
        tmp = img_path.with_suffix(f".tmp{os.getpid()}.npy")
        lab_tmp = lab_path.with_suffix(f".tmp{os.getpid()}.npy")  # <key>.labels.tmp<pid>.npy
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(samples), 3, size, size))
        try:
            decode_all(spec.source, samples, size, out=arr, desc=f"caching {spec.name}/{split} at {size}px")
            arr.flush()
            del arr
            np.save(lab_tmp, np.asarray([s.label for s in samples], dtype=np.int64))
            os.replace(lab_tmp, lab_path)
            os.replace(tmp, img_path)
        finally:
            for t in (tmp, lab_tmp):
                if t.exists():
                    t.unlink()
    # Copy-on-write memmap: pages load on demand, and torch gets a writable array (no warning).
    images = np.load(img_path, mmap_mode="c")
    labels = np.load(lab_path)
    return SplitTensors(torch.from_numpy(images), torch.from_numpy(labels))
