"""hwlib.bench on tiny sizes: every measurement runs and gives a sane number; the JSON it writes
renders as the README's speed table."""

import json

import pytest
import torch

from hwlib import bench, publish
from hwlib.dense_models import dense4
from hwlib.paths import REPO_ROOT


def test_bench_pieces_on_tiny_sizes(make_split):
    cpu = torch.device("cpu")
    assert bench.flexconv_vs_conv2d(cpu, batch=2, repeats=1)["ratio"] > 0
    assert bench.flexconv_batched_vs_loop(cpu, batch=2, repeats=1)["speedup"] > 0
    assert bench.matmul_peak(cpu, n=64, repeats=1)["flops_per_s"] > 0
    assert bench.hybrid_vs_conv2d(cpu, batch=2, repeats=1)["ratio"] > 0
    joint = bench.joint_vs_separate(cpu, batch=4, repeats=1)
    assert joint["views"] == 7 and joint["ratio"] == pytest.approx(joint["joint_s"] / joint["separate_s"])
    data = make_split(8, classes=2, size=32)
    tp = bench.train_throughput(
        dense4(num_classes=2, growth_rate=8, init_channels=8), data, device=cpu, batch=4, steps=2
    )
    assert tp["images_per_s"] > 0 and 0 <= tp["data_stall"] < 1
    assert tp["loader"] == "cpu" and tp["compiled"] is False  # eager on the CPU, as fit by default


def test_run_reports_the_data_stall_not_the_retired_decode_ratio(monkeypatch, make_split):
    """run() assembled with its measurements stubbed: the keys the README table reads, and no
    cached-vs-decode ratio."""
    calls = []

    def fake_throughput(model, split, *, device, batch, steps, compile_model):
        calls.append(compile_model)
        return {"images_per_s": 10.0, "data_stall": 0.01, "batch": batch, "steps": steps, "loader": "cpu"}

    monkeypatch.setattr(bench, "flexconv_batched_vs_loop", lambda d, **k: {"speedup": 1.5})
    monkeypatch.setattr(bench, "flexconv_vs_conv2d", lambda d, **k: {"ratio": 0.9})
    monkeypatch.setattr(bench, "hybrid_vs_conv2d", lambda d, **k: {"ratio": 2.5})
    monkeypatch.setattr(bench, "joint_vs_separate", lambda d, **k: {"ratio": 0.8})
    monkeypatch.setattr(bench, "matmul_peak", lambda d, **k: {"flops_per_s": 1e11, "n": 8, "dtype": "float32"})
    monkeypatch.setattr(bench, "load_split", lambda *a, **k: make_split(4))
    monkeypatch.setattr(bench, "train_throughput", fake_throughput)
    monkeypatch.setattr(bench, "measure", lambda model, shape: type("M", (), {"macs": 1_000_000})())
    res = bench.run(quick=True, data=None)
    assert "loader_cached_vs_decode" not in res and calls == [False, False]
    assert set(res["data_stall"]) == set(res["train_mfu"]) == {"dense4", "resnet34"}
    table = publish.bench_table(res)
    assert "data stall Dense4 / ResNet34 (cpu loader) | 1.0% / 1.0%" in table and "decode" not in table
    assert "| 2.50x |" in table and "| 0.80x |" in table  # the hybrid layer and the joint step


def test_speed_table_renders_the_committed_json_and_a_gpu_run():
    committed = json.loads((REPO_ROOT / "results" / publish.BENCH_JSON).read_text())
    committed.pop("loader_cached_vs_decode", None)  # retired: a new run no longer writes it
    assert "(float32 matmul peak)" in publish.bench_table(committed)
    gpu = {
        **committed,
        "device": "cuda (NVIDIA H200, bf16 autocast)",
        "matmul_peak": {"dtype": "bfloat16", "flops_per_s": 7e14, "n": 8192},
        "train": {m: {"loader": "device-resident"} for m in ("dense4", "resnet34")},
    }
    table = publish.bench_table(gpu)
    assert "(bfloat16 matmul peak)" in table and "(device-resident loader)" in table


def test_main_writes_its_json_through_the_one_results_writer(monkeypatch, tmp_path):
    res = {"device": "cpu", "quick": True, "torch": torch.__version__, "train_mfu": {"resnet34": 0.5, "dense4": 0.25}}
    monkeypatch.setattr(bench, "run", lambda *, quick, data: {**res, "quick": quick})
    out = tmp_path / "sub" / publish.BENCH_JSON
    assert bench.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    written = json.loads(text)
    busy = written.pop("others_busy")  # how busy the rest of the machine was while it ran
    assert busy is None or 0 <= busy <= 1
    assert written == {**res, "schema_version": publish.SCHEMA_VERSION}
    again = publish.write_json(tmp_path / "again.json", {**res, "others_busy": busy})
    assert text == again.read_text()  # sorted keys, one newline
