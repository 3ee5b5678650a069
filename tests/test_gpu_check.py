"""hwlib.gpu_check (`make gpu-check`): without CUDA it stops at once with one line, exit 2, nothing written."""

import os
import subprocess
import sys

import torch

from hwlib import gpu_check
from hwlib.data import load_split, open_dataset
from hwlib.data.prepare import per_class_subset


def test_without_cuda_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "results" / "gpu_check.json"
    assert gpu_check.main(["--out", str(out)]) == gpu_check.NO_CUDA_EXIT == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA" in err and not out.exists() and not out.parent.exists()


def test_cli_without_a_visible_gpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    r = subprocess.run(
        [sys.executable, "-m", "hwlib.gpu_check", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        timeout=120,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and not out.exists()


def test_loader_comparison_logic_on_the_cpu(list_dataset, tmp_path):
    """The loader check's comparison, with the CPU standing in for the GPU (both paths must agree)."""
    spec = open_dataset(list_dataset)
    split = load_split(spec, "train", 16, samples=per_class_subset(spec.splits["train"], 4), cache_dir=tmp_path)
    res = gpu_check.check_loader(split, torch.device("cpu"))
    assert res["ok"] and res["resident"]["equal_batches"] == res["batches"]
