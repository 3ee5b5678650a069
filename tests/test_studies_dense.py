"""Notebook 02's study (hwlib.studies.dense): recipes as each run trains with them, the run plan,
map sizes, costs measured once per architecture, and a tiny end-to-end study."""

import json
from dataclasses import replace

import numpy as np
import pytest

from hwlib.config import PROFILES, RECIPES, DataSettings, DenseStudySettings
from hwlib.studies.costs import Cost
from hwlib.studies.dense import MODELS, plan_runs, resolve_recipe, steps_per_epoch


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


def test_the_plan_trains_every_model_and_seed_at_the_base_budget_and_the_curve_with_its_models():
    s = PROFILES["full"].dense
    plan = plan_runs(s, seeds=[0, 1, 2])
    base = [p for p in plan if p.recipe == "strong" and p.budget_epochs == s.epochs]
    curve = [p for p in plan if p.recipe == "strong" and p.budget_epochs != s.epochs]
    assert len(base) == 3 * (len(s.models) * 3 + len(s.explore_models))  # sizes x (models x seeds + ablations)
    assert {p.seed for p in base if p.model in s.explore_models} == {0}  # the ablations: first seed only
    below = [p for p in curve if p.budget_epochs < s.epochs]
    above = [p for p in curve if p.budget_epochs > s.epochs]
    assert len(below) == 3 * 2 * 3 and len(above) == 3 * len(s.models)  # sizes x budgets x models, one seed
    assert {p.budget_epochs for p in below} == {1, 5} and {p.model for p in below} == {"dense4", *s.baselines}
    assert {p.budget_epochs for p in above} == {20} and {p.model for p in above} == set(s.models)
    assert {p.seed for p in curve} == {0}
    assert len([p for p in plan if p.recipe == "original"]) == len(s.models) * 3  # at 128 px only
    # seed by seed at the base budget, so an interrupted plan holds whole seeds
    assert [(p.model, p.seed) for p in base[:6]] == [(m, 0) for m in s.models] + [("dense4", 1)]
    with pytest.raises(ValueError):
        plan_runs(
            DenseStudySettings(
                epochs=1, seeds=1, batch_size=1, lr=1, dense4_batch_size=1, dense4_lr=1, models=("dense4", "nope")
            ),
            seeds=[0],
        )
    with pytest.raises(ValueError):  # the candidate cannot be its own baseline
        plan_runs(replace(s, baselines=("dense4",)), seeds=[0])


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_plans_each_run_once(name):
    s = PROFILES[name].dense
    plan = plan_runs(s, seeds=list(range(s.seeds)))
    assert len({p.name for p in plan}) == len(plan)  # e.g. the rehearsal's 0.1 and 0.5 of 1 epoch: one run


def test_an_epoch_scale_sizes_a_slower_model_to_the_candidates_budget():
    s = PROFILES["cpu-real"].dense
    plan = plan_runs(s, seeds=[0, 1, 2])
    small = {p.budget_epochs: p.epochs for p in plan if p.model == "resnet34_small"}
    assert small == {1: 1, 5: 4, 10: 7, 20: 14}  # 0.7 of each budget, rounded, at least 1
    assert {p.epochs for p in plan if p.model == "dense4"} == {1, 5, 10, 20}
    assert all(p.epochs == p.budget_epochs for p in plan if p.model in ("resnet34", "plain4", "own4"))


def test_final_conv_map_size():
    from hwlib.dense_models import dense4, resnet34_baseline
    from hwlib.studies.dense import final_conv_map_size

    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=32) == 1
    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=128) == 4
    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=224) == 7
    assert final_conv_map_size(dense4(num_classes=10), image_size=32) == 4
    small = resnet34_baseline(num_classes=10, stem_pool=False)
    assert final_conv_map_size(small, image_size=32) == 2 and final_conv_map_size(small, image_size=224) == 14
    built = resnet34_baseline(num_classes=10)
    assert sum(p.numel() for p in small.parameters()) == sum(p.numel() for p in built.parameters())


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


def _fake_study(times: dict[str, float], val: dict[str, float], maps: dict[str, int], *, slack: float = 0.1):
    """A study result from made-up runs (3 seeds, base budget only) to test the fair-baseline rule."""
    from hwlib.studies.dense import DenseRun, DenseStudyResult
    from hwlib.studies.results import RunInfo

    settings = DenseStudySettings(
        epochs=10, seeds=3, batch_size=64, lr=1e-3, dense4_batch_size=64, dense4_lr=1e-3,
        models=tuple(times), baselines=tuple(m for m in times if m != "dense4"), time_slack=slack,
    )  # fmt: skip
    res = DenseStudyResult(RunInfo("d", "t", "test", 32, "cpu", [0, 1, 2]), settings)
    rng = np.random.default_rng(0)
    for m in times:
        for seed in range(3):
            correct = rng.random(200) < 0.6
            res.runs.append(
                DenseRun(
                    model=m, recipe="strong", image_size=32, train_images=100, budget_epochs=10, epochs=10,
                    steps=20, seed=seed, test_accuracy=float(correct.mean()), best_epoch=10,
                    train_seconds=times[m] * (1 + 0.01 * seed), correct=correct,
                    history=[{"epoch": 10, "val_acc": val[m] + 0.001 * seed}], confusion=np.zeros((2, 2)),
                )
            )  # fmt: skip
    res.final_map = {m: {32: side, 224: 7} for m, side in maps.items()}
    return res


def test_the_fair_baseline_is_the_strongest_on_validation_that_trains_in_no_more_time():
    times = {"dense4": 100.0, "resnet34": 60.0, "resnet34_small": 105.0, "plain4": 80.0}
    maps = {"dense4": 4, "resnet34": 1, "resnet34_small": 2, "plain4": 4}
    # resnet34_small is the strongest, within the 10% slack and not handicapped: chosen
    res = _fake_study(times, {"dense4": 0.7, "resnet34": 0.6, "resnet34_small": 0.65, "plain4": 0.5}, maps)
    choice = res.fair_baseline(32)
    assert choice.model == "resnet34_small" and res.baseline == "resnet34_small"
    rows = {r.model: r for r in choice.rows}
    assert rows["resnet34"].handicapped and not rows["resnet34_small"].handicapped
    assert rows["resnet34_small"].time_ratio == pytest.approx(1.05, abs=0.02) and rows["resnet34_small"].qualifies
    # a stronger handicapped baseline is not passed over for a weaker one: it is chosen, and its verdict not shown
    res = _fake_study(times, {"dense4": 0.7, "resnet34": 0.69, "resnet34_small": 0.6, "plain4": 0.68}, maps)
    assert res.fair_baseline(32).model == "resnet34" and "handicapped" in res.verdict_point(32)[1]
    # too slow (1.5x the candidate's time): does not qualify, however strong
    slow = {**times, "resnet34_small": 150.0}
    res = _fake_study(slow, {"dense4": 0.7, "resnet34": 0.6, "resnet34_small": 0.8, "plain4": 0.5}, maps)
    choice = res.fair_baseline(32)
    assert choice.model == "resnet34" and not {r.model: r for r in choice.rows}["resnet34_small"].qualifies
    # none qualifies: the cheapest is used and the verdict says no baseline trained in the time
    res = _fake_study({"dense4": 100.0, "resnet34_small": 150.0}, {"dense4": 0.7, "resnet34_small": 0.6},
                      {"dense4": 4, "resnet34_small": 2})  # fmt: skip
    assert res.fair_baseline(32).model == "resnet34_small" and "no ResNet34 trained within" in res.verdict_point(32)[1]


def test_a_runs_training_time_is_its_median_epoch_time_times_its_epochs():
    from hwlib.studies.dense import DenseRun

    def run(seconds: list[float]) -> DenseRun:
        hist = [{"epoch": i + 1, "val_acc": 0.5, "seconds": s} for i, s in enumerate(seconds)]
        return DenseRun(
            model="m", recipe="strong", image_size=32, train_images=10, budget_epochs=3, epochs=3, steps=3,
            seed=0, test_accuracy=0.5, best_epoch=3, train_seconds=5.0, correct=np.zeros(4, bool), history=hist,
            confusion=np.zeros((2, 2)),
        )  # fmt: skip

    assert run([10.0, 10.0, 100.0]).epoch_seconds == 30.0  # one epoch slowed by other work does not count
    assert run([]).epoch_seconds == 5.0  # no per-epoch times: the wall time


def test_the_baseline_rule_uses_training_speeds_measured_on_a_quiet_machine_else_the_runs_times():
    from hwlib.studies.costs import TrainSpeed

    times = {"dense4": 100.0, "resnet34": 60.0, "resnet34_small": 105.0}
    vals = {"dense4": 0.7, "resnet34": 0.6, "resnet34_small": 0.65}
    res = _fake_study(times, vals, {"dense4": 4, "resnet34": 1, "resnet34_small": 2})
    assert res.fair_baseline(32).model == "resnet34_small" and "median epoch" in res.time_source
    # measured speeds say the small ResNet34 trains at half Dense4's speed: it no longer qualifies
    res.train_speed = {"dense4": TrainSpeed(100.0, 0.01), "resnet34": TrainSpeed(150.0, 0.02),
                       "resnet34_small": TrainSpeed(50.0, 0.0)}  # fmt: skip
    choice = res.fair_baseline(32)
    assert "quiet machine" in res.time_source and choice.model == "resnet34"
    assert {r.model: r for r in choice.rows}["resnet34_small"].time_ratio == pytest.approx(2.0)
    res.train_speed["resnet34"] = TrainSpeed(150.0, 0.5)  # timed while the machine was busy: not used
    assert not res.speeds_quiet and res.fair_baseline(32).model == "resnet34_small"


def test_training_speed_times_real_training_steps():
    import torch
    from torch import nn

    from hwlib.studies.costs import training_speed

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    before = [p.detach().clone() for p in model.parameters()]
    s = training_speed(model, (3, 8, 8), batch=4, num_classes=2, device=torch.device("cpu"))
    assert s.images_per_s > 0 and (s.others_busy is None or 0 <= s.others_busy <= 1)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # it stepped the optimizer
