"""Shared fixtures: small real-format datasets written to tmp folders, and the shared real data."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from hwlib.data.split import SplitTensors
from hwlib.paths import REPO_ROOT

SHARED_DATA = Path(os.environ.get("HWLIB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def write_image(
    path: Path, *, seed: int, mode: str = "RGB", size: tuple[int, int] = (40, 30), fmt: str = "JPEG"
) -> None:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt)


def make_list_dataset(
    root: Path, *, classes: int = 3, per_split: dict | None = None, newline: str = "\n", val_name: str = "val.txt"
) -> Path:
    """A dataset in the course's list layout with random JPEGs."""
    per_split = per_split or {"train": 4, "val": 2, "test": 2}
    for split, n in per_split.items():
        lines = []
        for label in range(classes):
            for i in range(n):
                rel = f"images/c{label}/{split}_{i}.JPEG"
                write_image(root / rel, seed=zlib.crc32(rel.encode()))
                lines.append(f"{rel} {label}")
        name = val_name if split == "val" else f"{split}.txt"
        (root / name).write_text(newline.join(lines) + newline, newline="")
    return root


@pytest.fixture
def list_dataset(tmp_path: Path) -> Path:
    return make_list_dataset(tmp_path / "ds")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not present at {SHARED_DATA} (a fresh clone has no ../shared/data)")
    return SHARED_DATA


def random_split(n: int = 24, *, classes: int = 3, size: int = 24, seed: int = 0) -> SplitTensors:
    """A decoded split of random uint8 images (n, 3, size, size), labels 0, 1, ..., classes-1 repeating."""
    g = torch.Generator().manual_seed(seed)
    return SplitTensors(
        torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g), torch.arange(n) % classes
    )


@pytest.fixture
def make_split():
    """The shared random-split factory: make_split(n, classes=..., size=...)."""
    return random_split


def write_huge_png(path: Path, *, width: int = 20_000, height: int = 20_000) -> Path:
    """A valid 1-bit greyscale PNG of width x height pixels (400 megapixels by default: over Pillow's
    and hwlib's pixel limit) written row by row: about 60 KB on disk, never a full image in memory."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    z = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte 0, then the 1-bit pixels
    block = 1000  # rows compressed at a time
    idat = b"".join(z.compress(row * min(block, height - i)) for i in range(0, height, block)) + z.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )
    return path
