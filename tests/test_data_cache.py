"""hwlib.data.decode and hwlib.data.cache: any image mode to RGB uint8, decoded once, invalidated on change."""

import numpy as np
import pytest
import torch

from hwlib.data import decode_resize, load_split, open_dataset

from .conftest import write_image


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
