"""Decoding images, one at a time or many in a process pool.

:func:`decode_resize` turns image bytes into a (3, S, S) uint8 array; :func:`decode_sample` does it
for one dataset sample and names the file and list line when it cannot; :func:`map_chunks` runs a
function over chunks of samples in a process pool (each worker opens the dataset's source once), in
order, with one progress bar. The cache (building uint8 arrays) and `check` (validating every
image) both use it.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..progress import progress_bar
from .lists import DatasetError, Sample, Source

DECODER_VERSION = "1"  # bump when decode_resize changes its pixels (it is part of the cache key)

T = TypeVar("T")
ChunkFn = Callable[[Source, int, int, list[Sample]], T]  # (source, size, start, samples) -> result


def decode_resize(data: bytes, size: int) -> np.ndarray:
    """JPEG/PNG/... bytes -> (3, size, size) uint8 RGB.

    Greyscale, CMYK, palette and RGBA images become RGB (alpha dropped). The image is resized to
    size x size (aspect not kept, as the original report's `transforms.Resize((128, 128))`) with
    bilinear antialiasing; JPEGs are first decoded at the smallest power-of-two scale >= the target
    (`Image.draft`), which is what makes decoding fast.
    """
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (size, size))
        if img.mode == "P" or img.mode == "LA":
            img = img.convert("RGBA")
        img = img.convert("RGB").resize((size, size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)  # (S, S, 3)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))  # (3, S, S)


def decode_sample(source: Source, sample: Sample, size: int) -> np.ndarray:
    """Decode one sample or raise :class:`DatasetError` naming its file and list line."""
    where = f"{source.describe(sample.path)} ({sample.origin})"
    try:
        data = source.read_bytes(sample.path)
    except (FileNotFoundError, KeyError):
        raise DatasetError(f"{where}: image file is missing") from None
    try:
        return decode_resize(data, size)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DatasetError(f"{where}: image cannot be decoded ({type(e).__name__}: {e})") from None


def decode_chunk(source: Source, size: int, start: int, samples: list[Sample]) -> tuple[int, np.ndarray]:
    """(start, (n, 3, size, size) uint8) for a chunk of samples: a :data:`ChunkFn` for :func:`map_chunks`."""
    return start, np.stack([decode_sample(source, s, size) for s in samples])


# Worker side of the pool: each worker process holds its own Source (zip handles are per process).
_worker: dict = {}


def _init_worker(source: Source, size: int, *, pool: bool = True) -> None:
    if pool:  # a pool worker: one thread each; never in the calling process, which goes on to train
        torch.set_num_threads(1)
    _worker["source"], _worker["size"] = source, size


def _run_chunk(job: tuple[ChunkFn, int, list[Sample]]):
    fn, start, chunk = job
    return fn(_worker["source"], _worker["size"], start, chunk)


def map_chunks(
    fn: ChunkFn[T],
    samples: list[Sample],
    *,
    source: Source,
    size: int,
    workers: int | None = None,
    chunk: int = 64,
    desc: str,
) -> Iterator[T]:
    """Yield fn(source, size, start, samples[start:start+chunk]) for every chunk, in order, from a
    process pool or in this process for a single chunk or worker; one progress bar. `fn` must be a
    module-level function (it is sent to the workers)."""
    workers = workers or min(os.cpu_count() or 1, 8)
    jobs = [(fn, i, samples[i : i + chunk]) for i in range(0, len(samples), chunk)]
    bar = progress_bar(total=len(samples), desc=desc, unit="img")
    if workers <= 1 or len(jobs) <= 1:
        _init_worker(source, size, pool=False)
        results: Iterator = map(_run_chunk, jobs)
        for job, result in zip(jobs, results):
            bar.update(len(job[2]))
            yield result
    else:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(source, size)) as pool:
            for job, result in zip(jobs, pool.imap(_run_chunk, jobs)):
                bar.update(len(job[2]))
                yield result
    bar.close()


def decode_all(
    source: Source, samples: list[Sample], size: int, *, out: np.ndarray, desc: str, workers: int | None = None
) -> None:
    """Decode `samples` into `out` (N, 3, size, size) with a process pool and a progress bar."""
    for start, arr in map_chunks(decode_chunk, samples, source=source, size=size, workers=workers, desc=desc):
        out[start : start + len(arr)] = arr


__all__ = ["DECODER_VERSION", "decode_all", "decode_chunk", "decode_resize", "decode_sample", "map_chunks"]
