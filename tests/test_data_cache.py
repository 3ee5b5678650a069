"""hwlib.data.decode and hwlib.data.cache: any image mode to RGB uint8, decoded once, invalidated on change."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from hwlib.data import DatasetError, decode_resize, load_split, open_dataset
from hwlib.data.cache import remove_stale_temporaries
from hwlib.data.decode import decode_chunk, map_chunks

from .conftest import write_huge_png, write_image


# -- decoding and the cache ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["L", "CMYK", "P", "RGBA", "RGB"])
def test_any_image_mode_becomes_rgb(tmp_path, mode):
    p = tmp_path / f"x.{'png' if mode in ('P', 'RGBA') else 'jpg'}"
    write_image(p, seed=0, mode=mode, fmt="PNG" if mode in ("P", "RGBA") else "JPEG")
    arr = decode_resize(p.read_bytes(), 24)
    assert arr.shape == (3, 24, 24) and arr.dtype == np.uint8


def test_cache_same_pixels_as_direct_decode_and_invalidated_on_change(list_dataset, tmp_path):
    cache = tmp_path / "cache"
    spec = open_dataset(list_dataset)
    split = load_split(spec, "train", 20, cache_dir=cache)
    assert split.images.shape == (12, 3, 20, 20) and split.images.dtype == torch.uint8
    for i, s in enumerate(spec.splits["train"]):
        assert np.array_equal(split.images[i].numpy(), decode_resize((list_dataset / s.path).read_bytes(), 20))
    assert split.labels.tolist() == [s.label for s in spec.splits["train"]]
    files = set(cache.glob("*.npy"))
    load_split(spec, "train", 20, cache_dir=cache)
    assert set(cache.glob("*.npy")) == files  # reused
    load_split(spec, "train", 24, cache_dir=cache)  # size changed
    assert len(set(cache.glob("*.npy"))) == len(files) + 2
    write_image(list_dataset / spec.splits["train"][0].path, seed=99)  # a file changed
    again = load_split(open_dataset(list_dataset), "train", 20, cache_dir=cache)
    assert len(set(cache.glob("*.npy"))) == len(files) + 4
    assert not np.array_equal(again.images[0].numpy(), split.images[0].numpy())
    lines = (list_dataset / "train.txt").read_text().splitlines()
    (list_dataset / "train.txt").write_text("\n".join(lines[1:]) + "\n")  # the list changed
    shorter = load_split(open_dataset(list_dataset), "train", 20, cache_dir=cache)
    assert len(shorter) == 11 and len(set(cache.glob("*.npy"))) == len(files) + 6


# -- data problems while building, and what a killed build leaves ----------------------------------
def test_cache_builder_oversized_image_is_one_line_naming_file_and_line(list_dataset, tmp_path):
    write_huge_png(list_dataset / "images" / "c0" / "test_1.JPEG")  # test.txt line 2, 20000 x 20000 px
    spec = open_dataset(list_dataset)
    with pytest.raises(DatasetError) as e:
        load_split(spec, "test", 16, cache_dir=tmp_path / "cache")
    msg = str(e.value)
    assert "\n" not in msg and "test_1.JPEG" in msg and "test.txt:2" in msg and "HWLIB_MAX_PIXELS" in msg
    assert not list((tmp_path / "cache").glob("*.npy"))  # nothing half-built stays
    with pytest.raises(DatasetError) as e:  # the same one line from a pool of decoding processes
        list(map_chunks(decode_chunk, spec.splits["test"], source=spec.source, size=16, workers=2, chunk=1, desc="x"))
    assert str(e.value) == msg


BUILD_FOREVER = """
import sys, time
import hwlib.data.cache as cache
from hwlib.data import open_dataset

def slow(source, samples, size, *, out, desc, workers=None):
    out[0] = 1
    print("building", flush=True)
    time.sleep(600)  # killed here, mid-build

cache.decode_all = slow
cache.load_split(open_dataset(sys.argv[1]), "train", 16, cache_dir=sys.argv[2])
"""


def test_killed_cache_build_leaves_nothing_that_lasts(list_dataset, tmp_path, capsys):
    cache_dir = tmp_path / "cache"
    child = subprocess.Popen(
        [sys.executable, "-c", BUILD_FOREVER, str(list_dataset), str(cache_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "building"
        leftovers = list(cache_dir.glob("*.tmp*.npy"))
        assert len(leftovers) == 1 and f".tmp{child.pid}." in leftovers[0].name
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert leftovers[0].exists()  # a SIGKILLed build cannot clean up after itself
    spec = open_dataset(list_dataset)
    split = load_split(spec, "train", 16, cache_dir=cache_dir)  # the next build removes it and succeeds
    assert split.images.shape == (12, 3, 16, 16) and split.labels.tolist() == [s.label for s in spec.splits["train"]]
    assert not leftovers[0].exists() and not list(cache_dir.glob("*.tmp*.npy"))
    assert sorted(p.name.endswith(".labels.npy") for p in cache_dir.glob("*.npy")) == [False, True]
    note = [ln for ln in capsys.readouterr().out.splitlines() if leftovers[0].name in ln]
    assert len(note) == 1 and str(child.pid) in note[0]


def test_a_running_build_keeps_its_temporaries(tmp_path):
    tmp_path.joinpath(f"x-train-16px-k.tmp{os.getpid()}.npy").write_bytes(b"mine")  # this process: running
    assert remove_stale_temporaries(tmp_path, log=lambda line: None) == []
