"""hwlib.data.check and `python -m hwlib.data check`: every problem named in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwlib.data import decode as decode_module
from hwlib.data.check import check_dataset
from hwlib.data.lists import DatasetError, open_dataset
from hwlib.data.prepare import load_dataset

from .conftest import write_huge_png, write_image


def run_check(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hwlib.data", "check", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "HWLIB_PROGRESS": "line", **env},
    )


def one_line_naming(stderr: str, *names: str) -> bool:
    """stderr is exactly one line, no traceback, and it names every one of `names`."""
    return stderr.count("\n") == 1 and "Traceback" not in stderr and all(n in stderr for n in names)


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


# -- images over the pixel limit, and any other Pillow error ---------------------------------------
def test_check_cli_oversized_image_is_one_line_naming_file_and_line(list_dataset):
    write_huge_png(list_dataset / "images" / "c1" / "val_1.JPEG")  # val.txt line 4, 20000 x 20000 px
    r = run_check(list_dataset)
    assert r.returncode == 1
    assert one_line_naming(r.stderr, "val_1.JPEG", "val.txt:4", "HWLIB_MAX_PIXELS"), r.stderr


def test_check_cli_pixel_limit_is_a_setting(list_dataset):
    r = run_check(list_dataset, HWLIB_MAX_PIXELS="1000")  # every image is 40 x 30 = 1200 px
    assert r.returncode == 1
    assert one_line_naming(r.stderr, ".JPEG", "train.txt:1"), r.stderr
    assert run_check(list_dataset, HWLIB_MAX_PIXELS="1200").returncode == 0


def test_any_other_pillow_error_is_one_line(list_dataset, monkeypatch):
    real = decode_module.decode_resize
    with open(list_dataset / "images" / "c2" / "train_3.JPEG", "ab") as f:
        f.write(b"ODD")  # still a JPEG; marks the one file whose decoding fails below

    def odd(data: bytes, size: int):  # what an unusual Pillow plugin failure looks like (not an OSError)
        if data.endswith(b"ODD"):
            raise IndexError("tile extends beyond the image\nsecond line")
        return real(data, size)

    monkeypatch.setattr(decode_module, "decode_resize", odd)
    with pytest.raises(DatasetError) as e:
        check_dataset(list_dataset, workers=1)
    assert "\n" not in str(e.value) and "train_3.JPEG" in str(e.value) and "train.txt:12" in str(e.value)


# -- a class with no images in a split -----------------------------------------------------------
def _drop_class(list_file: Path, label: int) -> None:
    keep = [ln for ln in list_file.read_text().splitlines() if not ln.endswith(f" {label}")]
    list_file.write_text("\n".join(keep) + "\n")


def test_lists_class_missing_from_val_is_a_warning_in_check_and_load(list_dataset, capsys, tmp_path, monkeypatch):
    _drop_class(list_dataset / "val.txt", 2)
    r = run_check(list_dataset)
    assert r.returncode == 0, r.stderr
    warned = [ln for ln in r.stdout.splitlines() if ln.startswith("warning:")]
    assert len(warned) == 1 and "class 2" in warned[0] and "val" in warned[0]
    monkeypatch.setenv("HWLIB_CACHE", str(tmp_path / "cache"))
    load_dataset(list_dataset, size=16)
    assert any(ln.startswith("warning:") and "class 2" in ln for ln in capsys.readouterr().out.splitlines())


def test_lists_class_missing_from_train_is_an_error(list_dataset):
    _drop_class(list_dataset / "train.txt", 1)
    r = run_check(list_dataset)
    assert r.returncode == 1 and one_line_naming(r.stderr, "train.txt", "class 1"), r.stderr


def _imagefolder(root: Path) -> Path:
    for split, n in (("train", 2), ("val", 1)):
        for cls in ("ant", "bee", "cat"):
            for i in range(n):
                write_image(root / split / cls / f"{i}.jpg", seed=i)
    return root


def test_imagefolder_empty_class_folder_in_val_is_a_warning(tmp_path):
    root = _imagefolder(tmp_path / "ds")
    for f in (root / "val" / "bee").iterdir():
        f.unlink()  # val/bee/ is now an empty folder
    spec = open_dataset(root)
    assert [w for w in spec.warnings if "bee" in w and "val" in w]
    r = run_check(root)
    assert r.returncode == 0 and "warning:" in r.stdout and "bee" in r.stdout


def test_imagefolder_empty_class_folder_in_train_is_an_error(tmp_path):
    root = _imagefolder(tmp_path / "ds")
    (root / "train" / "dog").mkdir()
    r = run_check(root)
    assert r.returncode == 1 and one_line_naming(r.stderr, "dog"), r.stderr
