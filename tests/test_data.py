import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from hwlib.data import (COMBOS, BatchLoader, DatasetError, SplitTensors, SyntheticSpec, channel_indices, decode_resize,
                        generate, load_split, open_dataset, parse_list, sample_combo, select_channels)
from hwlib.data.check import check_dataset

from .conftest import make_list_dataset, write_image


def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwlib.data", "check", str(path)], capture_output=True, text=True,
                          env={**os.environ, "HWLIB_PROGRESS": "line"})


# -- list parsing ------------------------------------------------------------------------------
def test_parse_list_crlf_lf_bom_blank_lines_and_spaces():
    text = "\ufeffimages/a 1.JPEG 0\r\n  images/b.JPEG   2  \r\n\r\nimages/c.JPEG 1\n\n\n"
    samples = parse_list(text, "train.txt")
    assert [(s.path, s.label) for s in samples] == [("images/a 1.JPEG", 0), ("images/b.JPEG", 2), ("images/c.JPEG", 1)]
    assert samples[1].origin == "train.txt:2"


@pytest.mark.parametrize("line,message", [
    ("images/a.JPEG", "train.txt:2: expected"),
    ("images/a.JPEG x", "train.txt:2: label 'x' is not an integer"),
    ("/etc/passwd 0", "train.txt:2: absolute path"),
    ("../outside.JPEG 0", "train.txt:2: path '../outside.JPEG' escapes"),
    ("images/../../x.JPEG 0", "escapes"),
])
def test_parse_list_rejects_bad_lines_naming_file_and_line(line, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        parse_list(f"images/ok.JPEG 0\n{line}\n", "train.txt")


# -- layouts -----------------------------------------------------------------------------------
def test_open_folder_and_validation_txt(tmp_path):
    root = make_list_dataset(tmp_path / "ds", val_name="validation.txt", newline="\r\n")
    spec = open_dataset(root)
    assert spec.counts() == {"train": 12, "val": 6, "test": 6}
    assert spec.num_classes == 3 and spec.list_files["val"] == "validation.txt"


@pytest.mark.parametrize("top_folder", [True, False])
def test_open_zip_with_or_without_top_folder(tmp_path, top_folder):
    root = make_list_dataset(tmp_path / "ds")
    zpath = tmp_path / "images.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in root.rglob("*"):
            if p.is_file():
                zf.write(p, ("course/" if top_folder else "") + p.relative_to(root).as_posix())
    spec = open_dataset(zpath)
    assert spec.counts() == {"train": 12, "val": 6, "test": 6}
    split = load_split(spec, "val", 16, cache_dir=tmp_path / "cache")
    direct = decode_resize((root / spec.splits["val"][0].path).read_bytes(), 16)
    assert np.array_equal(split.images[0].numpy(), direct)
    assert check_dataset(zpath, workers=1).decoded == 24


def test_zip_member_escaping_root_is_rejected(tmp_path):
    zpath = tmp_path / "bad.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("train.txt", "a.jpg 0\n")
        zf.writestr("../evil.jpg", b"x")
    with pytest.raises(DatasetError, match="escapes the archive root"):
        open_dataset(zpath)


def test_imagefolder_layout(tmp_path):
    for split, n in (("train", 3), ("val", 2)):
        for cls in ("cat", "dog"):
            for i in range(n):
                write_image(tmp_path / "if" / split / cls / f"{i}.png", seed=i, fmt="PNG")
    spec = open_dataset(tmp_path / "if")
    assert spec.layout == "imagefolder" and spec.class_names == ["cat", "dog"]
    assert spec.counts() == {"train": 6, "val": 4}


def test_labels_must_cover_range_and_splits_must_not_be_empty(tmp_path):
    root = make_list_dataset(tmp_path / "ds")
    text = (root / "train.txt").read_text().replace(" 1\n", " 3\n")
    (root / "train.txt").write_text(text)
    (root / "val.txt").write_text((root / "val.txt").read_text().replace(" 1\n", " 3\n"))
    (root / "test.txt").write_text((root / "test.txt").read_text().replace(" 1\n", " 3\n"))
    with pytest.raises(DatasetError, match=r"train.txt: labels must cover 0..3; missing from every split: 1"):
        open_dataset(root)
    (root / "val.txt").write_text("\r\n\r\n")
    with pytest.raises(DatasetError, match="val split is empty"):
        open_dataset(root)


def test_leakage_and_classes_without_training_images_are_warned(tmp_path):
    root = make_list_dataset(tmp_path / "ds")
    first_train = (root / "train.txt").read_text().splitlines()[0]
    with open(root / "test.txt", "a") as f:
        f.write(first_train + "\n")
    val = (root / "val.txt").read_text().splitlines()
    (root / "val.txt").write_text("\n".join(val + [val[0].rsplit(" ", 1)[0] + " 3"]) + "\n")
    spec = open_dataset(root)
    assert any(w.startswith("leakage:") for w in spec.warnings)
    assert any("classes with no training images: 3" in w for w in spec.warnings)


# -- the check CLI -------------------------------------------------------------------------------
def test_check_cli_good_dataset(list_dataset):
    r = run_check(list_dataset)
    assert r.returncode == 0, r.stderr
    assert "train" in r.stdout and "all 24 images decoded" in r.stdout


def test_check_cli_missing_images(list_dataset):
    for p in sorted((list_dataset / "images" / "c1").glob("train_*"))[:3]:
        p.unlink()
    r = run_check(list_dataset)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "3 of 24 images are missing" in r.stderr and "train.txt:5" in r.stderr


def test_check_cli_truncated_image(list_dataset):
    p = list_dataset / "images" / "c2" / "test_1.JPEG"
    write_image(p, seed=1, size=(300, 300))
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3])
    r = run_check(list_dataset)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "test_1.JPEG" in r.stderr and "test.txt:6" in r.stderr and "cannot be decoded" in r.stderr


def test_check_cli_bad_label_line(list_dataset):
    with open(list_dataset / "val.txt", "a") as f:
        f.write("images/c0/val_0.JPEG zero\n")
    r = run_check(list_dataset)
    assert r.returncode == 1 and "val.txt:7: label 'zero' is not an integer" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_cli_not_a_dataset(tmp_path):
    r = run_check(tmp_path / "nowhere")
    assert r.returncode == 1 and "no such dataset" in r.stderr


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


# -- channels and loaders ------------------------------------------------------------------------
def test_subset_and_zero_fill_views_agree_on_present_channels():
    x = torch.rand(4, 3, 8, 8) + 0.1
    for combo in COMBOS:
        idx = channel_indices(combo)
        sub = select_channels(x, combo, zero_fill=False)
        zf = select_channels(x, combo, zero_fill=True)
        assert sub.shape[1] == len(combo) and zf.shape[1] == 3
        torch.testing.assert_close(zf[:, idx], sub)
        absent = [i for i in range(3) if i not in idx]
        assert (zf[:, absent] == 0).all()
    with pytest.raises(ValueError):
        channel_indices("BR")


def test_random_channel_subsets_cover_all_seven():
    g = torch.Generator().manual_seed(0)
    assert {sample_combo(g) for _ in range(300)} == set(COMBOS)


def test_loader_order_depends_only_on_seed_and_epoch():
    data = SplitTensors(torch.arange(20 * 3 * 2 * 2, dtype=torch.uint8).view(20, 3, 2, 2), torch.arange(20))
    a = BatchLoader(data, batch_size=6, shuffle=True, seed=3)
    b = BatchLoader(data, batch_size=6, shuffle=True, seed=3)
    a.set_epoch(2)
    b.set_epoch(2)
    assert [y.tolist() for _, y in a] == [y.tolist() for _, y in b]
    assert sorted(sum((y.tolist() for _, y in a), [])) == list(range(20))
    assert len(a) == 4


# -- the embedded dataset ------------------------------------------------------------------------
def test_generated_dataset_is_deterministic_and_valid(tmp_path):
    spec = SyntheticSpec(num_classes=10, train_per_class=2, val_per_class=1, test_per_class=1, size=32)
    a, b = generate(tmp_path / "a", spec), generate(tmp_path / "b", spec)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    report = check_dataset(a, workers=1)
    assert report.spec.num_classes == 10 and report.decoded == 40
    img = np.asarray(Image.open(a / report.spec.splits["train"][0].path))
    assert img.shape == (32, 32, 3)
