"""hwlib.data.check and `python -m hwlib.data check`: every problem named in one line."""

import os
import subprocess
import sys
from pathlib import Path

from .conftest import write_image


def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hwlib.data", "check", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "HWLIB_PROGRESS": "line"},
    )


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
