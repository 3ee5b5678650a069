"""Notebook 02's study (hwlib.studies.dense): recipes as each run trains with them, the run plan,
map sizes, costs measured once per architecture, and a tiny end-to-end study."""

import json

import numpy as np
import pytest

from hwlib.config import PROFILES, RECIPES, DataSettings, DenseStudySettings
from hwlib.studies.costs import Cost
from hwlib.studies.dense import MODELS, PlannedRun, plan_runs, resolve_recipe, steps_per_epoch


def test_the_strong_recipe_is_the_same_for_both_models_and_sized_to_each_run():
    s = PROFILES["cpu-real"].dense
    short, long = (
        {
            m: resolve_recipe(
                RECIPES["strong"], model=MODELS[m], settings=s, image_size=32, train_images=3000, epochs=e
            )
            for m in MODELS
        }
        for e in (3, 6)
    )
    assert short["dense4"] == short["resnet34"] and long["dense4"] == long["resnet34"]
    steps = steps_per_epoch(3000, s.batch_size)
    assert steps == 47 and short["dense4"].config.ema_decay == pytest.approx(1 - 10 / (3 * steps))
    assert long["dense4"].config.ema_decay == pytest.approx(1 - 10 / (6 * steps))  # its own budget, not the base's
    assert short["dense4"].crop_pad == 4 and short["dense4"].flip and short["dense4"].config.schedule == "onecycle"


def test_the_original_recipe_gives_dense4_its_own_lr_and_batch():
    s = PROFILES["full"].dense
    r = {
        m: resolve_recipe(RECIPES["original"], model=MODELS[m], settings=s, image_size=128, train_images=100, epochs=2)
        for m in MODELS
    }
    assert (r["dense4"].config.lr, r["dense4"].batch_size) == (3e-3, 256)
    assert (r["resnet34"].config.lr, r["resnet34"].batch_size) == (1e-3, 128)
    assert r["dense4"].config.schedule == "constant" and r["dense4"].config.ema_decay == 0 and not r["dense4"].flip


def test_the_plan_trains_every_budget_model_and_seed_strong_first():
    s = PROFILES["full"].dense
    plan = plan_runs(s, seeds=[0, 1, 2])
    assert len(plan) == 3 * (2 * 2 * 3) + 2 * 3  # 3 sizes x 2 budgets x 2 models x 3 seeds, original at 128 px
    assert plan[0] == PlannedRun(model="dense4", recipe="strong", image_size=32, epochs=10, seed=0)
    assert {p.epochs for p in plan if p.recipe == "strong"} == {10, 20}
    assert len({p.name for p in plan}) == len(plan)
    with pytest.raises(ValueError):
        plan_runs(
            DenseStudySettings(
                epochs=1, seeds=1, batch_size=1, lr=1, dense4_batch_size=1, dense4_lr=1, models=("dense4", "nope")
            ),
            seeds=[0],
        )


def test_final_conv_map_size():
    from hwlib.dense_models import dense4, resnet34_baseline
    from hwlib.studies.dense import final_conv_map_size

    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=32) == 1
    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=128) == 4
    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=224) == 7
    assert final_conv_map_size(dense4(num_classes=10), image_size=32) == 4


def test_measure_cost_repeats_and_measures_each_architecture_once():
    import torch
    from torch import nn

    from hwlib.studies.costs import WARMUP, clear_cache, measure_cost

    def counted(width: int) -> tuple[nn.Module, list[int]]:
        calls: list[int] = []
        model = nn.Sequential(nn.Conv2d(3, width, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 2))
        model.register_forward_hook(lambda _m, args, _o: calls.append(args[0].shape[0]))
        return model, calls

    clear_cache()
    cpu = torch.device("cpu")
    a, calls_a = counted(4)
    cost_a = measure_cost(a, (3, 8, 8), device=cpu)
    timed = calls_a[1:]  # the first forward is torchinfo's
    assert timed.count(1) >= WARMUP + 20 and timed.count(64) >= WARMUP + 10
    assert cost_a.others_busy is None or 0 <= cost_a.others_busy <= 1
    b, calls_b = counted(4)  # same architecture, other weights: measured once, the same number reused
    cost_b = measure_cost(b, (3, 8, 8), device=cpu)
    assert cost_b.latency_ms == cost_a.latency_ms and calls_b == [1]
    c, calls_c = counted(5)  # another architecture is measured
    measure_cost(c, (3, 8, 8), device=cpu, batches=(1,))
    assert len(calls_c) > WARMUP + 20
    clear_cache()


def test_a_tiny_dense_study_end_to_end(tmp_path, monkeypatch):
    """24 training images at 16 px, strong recipe at 1 and 2 epochs: every planned run is in the
    result, predictions are the evaluated runs', and the JSON carries the interface's keys."""
    import hwlib.studies.dense as dense_module
    from hwlib.data import load_dataset
    from hwlib.params import measure
    from hwlib.studies.dense import Point, run_dense_study

    from .conftest import make_list_dataset

    monkeypatch.setenv("HWLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        dense_module, "measure_cost", lambda model, shape, **_: Cost(*vars(measure(model, shape)).values(), {})
    )
    root = make_list_dataset(tmp_path / "ds", per_split={"train": 8, "val": 2, "test": 4})
    source = load_dataset(root, size=8)
    settings = DenseStudySettings(
        epochs=1, seeds=2, batch_size=24, lr=1e-3, dense4_batch_size=24, dense4_lr=1e-3, sizes=(16,), original_sizes=()
    )
    every = DataSettings(image_size=8, train_per_class=None, eval_per_class=None)
    datasets = dense_module.load_sweep_data(source, settings=settings, data=every)
    res = run_dense_study(
        datasets,
        settings=settings,
        data_settings=every,
        profile="t",
        seeds=[0, 1],
        run_dir=None,
        log=lambda _line: None,
    )
    assert len(res.runs) == 2 * 2 * 2 and res.run_counts == {"trained": 8, "resumed": 0, "loaded": 0}
    p = Point(16, "strong", 1)
    first = res.runs_at(p, "dense4")[0]
    assert np.array_equal(res.predictions[("strong", 1, "dense4")] == res.labels, first.correct)
    assert res.final_map["resnet34"] == {16: 1, 224: 7} and res.convs == {"dense4": 4, "resnet34": 36}
    d = json.loads(res.save(tmp_path / "r.json").read_text())
    assert {"runs", "verdict", "budget_curve", "goals", "models", "schema_version"} <= set(d)
    assert set(d["runs"][0]) >= {
        "model",
        "recipe",
        "image_size",
        "train_images",
        "epochs",
        "steps",
        "seed",
        "test_accuracy",
        "best_epoch",
        "train_seconds",
    }
    assert d["verdict"]["outcome"] in ("met", "missed", "not shown") and set(d["models"]) == {"dense4", "resnet34"}
    assert [e["steps"] for e in d["budget_curve"] if e["model"] == "dense4"] == [1, 2]
