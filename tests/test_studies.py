"""The study helpers behind notebooks 01 and 02, the README table and the benchmark, on tiny inputs."""
import shutil

import pytest
import torch

from hwlib import bench, report
from hwlib.channel_study import StudyResult, study_goals
from hwlib.config import PROFILES
from hwlib.data import BatchLoader, SplitTensors
from hwlib.data.loader import flip_crop
from hwlib.dense_study import recipes
from hwlib.models import dense4, flex_cnn
from hwlib.paths import REPO_ROOT
from hwlib.train import TrainConfig, fit


def test_flip_crop_gather_equals_flip_pad_slice():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (6, 3, 9, 7), dtype=torch.uint8, generator=g)
    flip = torch.tensor([True, False, True, False, True, False])
    offsets = torch.randint(0, 2 * 3 + 1, (6, 2), generator=g)
    ref = []
    for i in range(6):
        img = x[i].float().flip(-1) if flip[i] else x[i].float()
        padded = torch.nn.functional.pad(img[None], (3, 3, 3, 3), mode="reflect")[0]
        oy, ox = offsets[i].tolist()
        ref.append(padded[:, oy:oy + 9, ox:ox + 7])
    out = flip_crop(x, flip=flip, offsets=offsets, pad=3)
    assert out.dtype == torch.uint8 and torch.equal(out.float(), torch.stack(ref))
    assert torch.equal(flip_crop(x, flip=None, offsets=None, pad=0), x)


def test_loader_with_channels_yields_identities():
    data = SplitTensors(torch.zeros(8, 3, 4, 4, dtype=torch.uint8), torch.zeros(8, dtype=torch.long))
    (x, ids), _ = next(iter(BatchLoader(data, batch_size=4, combo="RB", with_channels=True)))
    assert x.shape == (4, 2, 4, 4) and ids.tolist() == [0, 2]
    with pytest.raises(ValueError):
        BatchLoader(data, batch_size=4, with_channels=True, zero_fill=True)


def test_fit_with_ema_and_channel_identity():
    g = torch.Generator().manual_seed(0)
    data = SplitTensors(torch.randint(0, 256, (16, 3, 24, 24), dtype=torch.uint8, generator=g), torch.arange(16) % 2)
    model = flex_cnn(num_classes=2, image_size=24, channel_ids=3)
    h = fit(model, BatchLoader(data, batch_size=8, combo="random", with_channels=True),
            BatchLoader(data, batch_size=16, with_channels=True),
            config=TrainConfig(epochs=2, optimizer="adamw", schedule="onecycle", ema_decay=0.9, label_smoothing=0.1),
            log=lambda s: None)
    assert len(h) == 2 and all(0 <= r["val_acc"] <= 1 for r in h)


def test_dense4_ablation_switches():
    assert sum(isinstance(m, torch.nn.Conv2d) for m in dense4(num_classes=10, transition=False).modules()) == 3
    for kw in ({"concat": False}, {"transition": False}, {"growth_rate": 128, "init_channels": 128}):
        assert dense4(num_classes=10, **kw)(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_recipes_are_identical_for_both_models_except_the_reports_dense4_settings():
    p = PROFILES["full"]
    d, r = recipes(p, "dense4", 100), recipes(p, "resnet34", 100)
    assert d["strong"] == r["strong"]
    assert (d["seed"].config.lr, d["seed"].batch_size) == (3e-3, 256)
    assert (r["seed"].config.lr, r["seed"].batch_size) == (1e-3, 128)
    assert d["seed"].config.epochs == r["seed"].config.epochs == d["strong"].config.epochs


def test_study_goals_report_numbers():
    res = StudyResult("d", "p", "test")
    res.accuracy = {"flex": {c: 0.5 for c in ("RGB", "RG", "GB", "RB", "R", "G", "B")},
                    "cnn3_zero_fill": {"RGB": 0.6, "RG": 0.2, "GB": 0.2, "RB": 0.2, "R": 0.1, "G": 0.6, "B": 0.1},
                    "experts": {c: 0.51 for c in ("RGB", "RG", "GB", "RB", "R", "G", "B")}}
    goals = {g: (met, n) for g, met, n in study_goals(res)}
    assert [met for met, _ in goals.values()] == [True, False, True, False]
    assert "not on G" in goals["flex beats cnn3_zero_fill on all six partial combinations"][1]


def test_readme_results_table_is_generated_from_results(tmp_path):
    readme = tmp_path / "README.md"
    shutil.copy(REPO_ROOT / "README.md", readme)
    report.update_readme(readme, REPO_ROOT / "results")
    assert readme.read_text() == (REPO_ROOT / "README.md").read_text(), "README table is stale: run the runner with --publish"


def test_bench_pieces_on_tiny_sizes():
    cpu = torch.device("cpu")
    assert bench.flexconv_vs_conv2d(cpu, batch=2, repeats=1)["ratio"] > 0
    assert bench.flexconv_batched_vs_loop(cpu, batch=2, repeats=1)["speedup"] > 0
    assert bench.matmul_peak(cpu, n=64, repeats=1)["flops_per_s"] > 0
    data = SplitTensors(torch.zeros(8, 3, 32, 32, dtype=torch.uint8), torch.zeros(8, dtype=torch.long))
    tp = bench.train_throughput(dense4(num_classes=2, growth_rate=8, init_channels=8), data, device=cpu, batch=4, steps=2)
    assert tp["images_per_s"] > 0 and 0 <= tp["data_stall"] < 1
