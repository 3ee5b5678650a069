"""Decoding images, one at a time or many in a process pool.

:func:`decode_resize` turns image bytes into a (3, S, S) uint8 array; :func:`decode_sample` does it
for one dataset sample and names the file and list line when it cannot; :func:`map_chunks` runs a
function over chunks of samples in a process pool (each worker opens the dataset's source once), in
order, with one progress bar. The cache (building uint8 arrays) and `check` (validating every
image) both use it.

Pixel limit: an image with more than :data:`MAX_PIXELS` pixels (89,478,485, Pillow's own
threshold, about 9,459 x 9,459; a decompression bomb or a mistaken scan) is refused as a data
problem, one line naming the file and list line, instead of being decoded. The environment variable
``HWLIB_MAX_PIXELS`` sets another limit (a whole number of pixels; 0 turns the limit off).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import os
import re
import warnings
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import torch
from PIL import Image

from ..progress import progress_bar
from .lists import DatasetError, Sample, Source

DECODER_VERSION = "1"  # bump when decode_resize changes its pixels (it is part of the cache key)

MAX_PIXELS = 89_478_485  # Pillow's default MAX_IMAGE_PIXELS; HWLIB_MAX_PIXELS overrides it
MAX_PIXELS_ENV = "HWLIB_MAX_PIXELS"

T = TypeVar("T")
ChunkFn = Callable[[Source, int, int, list[Sample]], T]  # (source, size, start, samples) -> result


class ImageTooLarge(ValueError):
    """An image over the pixel limit (:func:`max_pixels`): `pixels` it has (0: unknown), `limit`."""

    def __init__(self, pixels: int, limit: int):
        super().__init__(f"{pixels:,} pixels, over the limit of {limit:,}")
        self.pixels, self.limit = pixels, limit


def max_pixels() -> int:
    """The pixel limit: $HWLIB_MAX_PIXELS when set (0: no limit), else :data:`MAX_PIXELS`."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "").replace(",", "")
    if not raw:
        return MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        raise DatasetError(
            f"{MAX_PIXELS_ENV}={os.environ[MAX_PIXELS_ENV]!r}: expected a whole number of pixels "
            f"(default {MAX_PIXELS:,}; 0: no limit)"
        ) from None
    return max(0, value)


def _bomb_pixels(e: BaseException) -> int:
    """The pixel count in Pillow's DecompressionBomb message, 0 if it has none."""
    m = re.search(r"\((\d+) pixels\)", str(e))
    return int(m.group(1)) if m else 0


@contextlib.contextmanager
def open_image(data: bytes, *, limit: int | None = None) -> Iterator[Image.Image]:
    """`Image.open` on bytes with the pixel limit applied (see the module docstring): an image over it
    raises :class:`ImageTooLarge` before its pixels are decoded, whether Pillow warns
    (DecompressionBombWarning) or refuses (DecompressionBombError). Any other error is Pillow's own."""
    limit = max_pixels() if limit is None else limit
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit or None  # Pillow warns above it and raises above twice it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                opened = Image.open(io.BytesIO(data))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
                raise ImageTooLarge(_bomb_pixels(e), limit) from None
            with opened:
                pixels = opened.size[0] * opened.size[1]
                if limit and pixels > limit:
                    raise ImageTooLarge(pixels, limit)
                yield opened
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def decode_resize(data: bytes, size: int) -> np.ndarray:
    """JPEG/PNG/... bytes -> (3, size, size) uint8 RGB.

    Greyscale, CMYK, palette and RGBA images become RGB (alpha dropped). The image is resized to
    size x size (aspect not kept, as the original report's `transforms.Resize((128, 128))`) with
    bilinear antialiasing; JPEGs are first decoded at the smallest power-of-two scale >= the target
    (`Image.draft`), which is what makes decoding fast. An image over the pixel limit raises
    :class:`ImageTooLarge` (see :func:`open_image`).
    """
    with open_image(data) as opened:
        opened.draft("RGB", (size, size))
        img: Image.Image = opened
        if img.mode == "P" or img.mode == "LA":
            img = img.convert("RGBA")
        img = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)  # (S, S, 3)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))  # (3, S, S)


def decode_sample(source: Source, sample: Sample, size: int) -> np.ndarray:
    """Decode one sample or raise :class:`DatasetError` naming its file and list line."""
    where = f"{source.describe(sample.path)} ({sample.origin})"
    try:
        data = source.read_bytes(sample.path)
    except (FileNotFoundError, KeyError):
        raise DatasetError(f"{where}: image file is missing") from None
    except Exception as e:  # permissions, a directory, a corrupt zip member (zlib.error, BadZipFile, ...)
        raise DatasetError(f"{where}: image file cannot be read ({_one_line(e)})") from None
    try:
        return decode_resize(data, size)
    except ImageTooLarge as e:
        raise DatasetError(
            f"{where}: image too large ({e}); set {MAX_PIXELS_ENV} to a higher limit (0: none) if it is meant"
        ) from None
    except DatasetError:
        raise
    except Exception as e:  # whatever Pillow raises on a bad file (OSError, SyntaxError, ValueError, ...)
        raise DatasetError(f"{where}: image cannot be decoded ({_one_line(e)})") from None


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__


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
    try:
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
    finally:  # also when a sample fails: the bar ends before the error's one line
        bar.close()


def decode_all(
    source: Source, samples: list[Sample], size: int, *, out: np.ndarray, desc: str, workers: int | None = None
) -> None:
    """Decode `samples` into `out` (N, 3, size, size) with a process pool and a progress bar."""
    for start, arr in map_chunks(decode_chunk, samples, source=source, size=size, workers=workers, desc=desc):
        out[start : start + len(arr)] = arr


__all__ = [
    "DECODER_VERSION",
    "MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "ImageTooLarge",
    "decode_all",
    "decode_chunk",
    "decode_resize",
    "decode_sample",
    "map_chunks",
    "max_pixels",
    "open_image",
]
