"""hwlib.studies: recipes, goals, summaries and results JSON on hand-made results (no training)."""

import pytest

from hwlib.config import PROFILES
from hwlib.metrics import classification_metrics
from hwlib.studies import Cost, DenseStudyResult, RunResult, SweepPoint, recipes
from hwlib.studies.results import RunInfo


def test_recipes_are_identical_for_both_models_except_the_original_dense4_settings():
    p = PROFILES["full"]
    d = recipes(p.dense, image_size=p.data.image_size, model="dense4", steps_per_epoch=100)
    r = recipes(p.dense, image_size=p.data.image_size, model="resnet34", steps_per_epoch=100)
    assert d["strong"] == r["strong"]
    assert (d["original"].config.lr, d["original"].batch_size) == (3e-3, 256)
    assert (r["original"].config.lr, r["original"].batch_size) == (1e-3, 128)
    assert d["original"].config.epochs == r["original"].config.epochs == d["strong"].config.epochs


def run(acc: float, seed: int) -> RunResult:
    m = classification_metrics([0, 1, 1, 0], [0, 1, 1 if acc > 0.6 else 0, 0], 2)
    return RunResult(f"r{seed}", [{"epoch": 1, "val_acc": acc, "images_per_s": 10.0}], 1, m, "test", 1.0)


def point(size: int, recipe: str, accs: dict[str, list[float]], *, epochs: int = 3, best: int = 3) -> SweepPoint:
    """A hand-made sweep point: per model one run per seed with the given test accuracy (100 images)."""
    import numpy as np

    y = np.arange(100) % 10
    p = SweepPoint(image_size=size, recipe=recipe, epochs=epochs, train_images=100)
    for m, vals in accs.items():
        e = 2 * epochs if m == "resnet34_2x" else epochs
        hist = [{"epoch": i, "val_acc": 0.1 * i, "images_per_s": 50.0} for i in range(1, e + 1)]
        preds = [np.where(np.arange(100) < round(a * 100), y, (y + 1) % 10) for a in vals]
        p.runs[m] = [
            RunResult(f"{m}{s}", hist, best, classification_metrics(y, pred, 10), "test", 1.0)
            for s, pred in enumerate(preds)
        ]
        p.epochs_by_model[m] = e
        p.macs[m] = 300 if m == "dense4" else 100
    return p


def test_dense_goals_and_ratio():
    res = DenseStudyResult(RunInfo("d", "p", "test", 32, "cpu", [0, 1]))
    res.runs = {"original": {"dense4": [run(1, 0), run(1, 1)], "resnet34": [run(0, 0), run(0, 1)]}}
    res.sweep = [point(32, "original", {"dense4": [1.0, 1.0], "resnet34": [0.75, 0.75]})]
    res.costs = {"dense4": Cost(10, 300, {"batch1": 1.0}), "resnet34": Cost(40, 100, {"batch1": 1.0})}
    assert res.ratio("original") == pytest.approx(1.0 / 0.75)
    goals = res.goals()
    assert [g.met for g in goals] == [True] and "1.333" in goals[0].numbers
    assert "0.25x ResNet34's parameters but 3.00x its multiply-adds" in res.summary_markdown()


def test_sweep_goals_intervals_baselines_and_json():
    res = DenseStudyResult(RunInfo("d", "p", "test", 32, "cpu", [0, 1, 2]))
    res.sweep = [
        point(32, "strong", {"dense4": [0.50, 0.52, 0.54], "resnet34": [0.40, 0.40, 0.40],
                             "resnet34_plain": [0.41, 0.39, 0.40]}),
        point(64, "strong", {"dense4": [0.44, 0.45, 0.46], "resnet34": [0.50, 0.50, 0.50], "resnet34_2x": [0.55]}),
    ]  # fmt: skip
    res.runs = {"strong": {m: res.sweep[0].runs[m] for m in ("dense4", "resnet34")}}
    goals = {g.goal: g for g in res.goals()}
    g32 = goals["32 px, strong recipe: Dense4 >= 0.90 x ResNet34 test accuracy"]
    assert g32.met and g32.settled and "ratio 1.300" in g32.numbers and "(above 1.00)" in g32.numbers
    g64 = goals["64 px, strong recipe: Dense4 >= 0.90 x ResNet34 test accuracy"]
    assert g64.met and not g64.settled and "ratio 0.900" in g64.numbers and "(across 0.90)" in g64.numbers
    g2x = goals["64 px, strong recipe: Dense4 (3 epochs) >= 0.90 x ResNet34 trained 6 epochs"]
    assert not g2x.met and "ratio 0.800" in g2x.numbers and "(the 1 seed both ran)" in g2x.numbers
    assert not goals["aim: Dense4 >= 1.00 x ResNet34 at every size (strong recipe)"].met
    text = res.findings_markdown()
    assert "the ratio is 1.300 at 32 px and 0.900 at 64 px" in text and "This is not a size trend" in text
    assert "**At equal training compute** (64 px, strong recipe" in text
    assert (
        "the plain head (Linear(512, classes)) 0.400 ± 0.010" in text
        and "not distinguishable from the seed noise" in text
    )
    assert "6 epochs give 0.550 (1 seed; best epoch 3 of 6), +0.050 over 3 epochs (same seed)" in text
    assert "ResNet34 spends 0.67x Dense4's training multiply-adds" in text  # 2 x 100 vs 300 per image
    series = res.ratio_series()
    assert series["strong recipe vs ResNet34"][32] == pytest.approx([1.25, 1.3, 1.35])
    assert series["strong recipe, Dense4 3 / ResNet34 6 epochs"][64] == pytest.approx([0.44 / 0.55])  # same seed
    curves = res.compute_curves()
    macs, val = curves["64 px"]["resnet34_2x"]
    assert macs[-1] == pytest.approx(3 * 100 * 100 * 6) and val.shape == (1, 6)
    table = res.sweep_table()
    assert table.loc[(64, "strong", "resnet34_2x"), "epochs"] == 6
    assert table.loc[(32, "strong", "resnet34"), "95% CI of ratio"].startswith("[")
    entry = res.sweep[1].to_json()
    assert entry["image_size"] == 64 and entry["dense4"] == [0.44, 0.45, 0.46] and entry["resnet34_2x"] == [0.55]
    assert entry["epochs_by_model"]["resnet34_2x"] == 6 and entry["ratio"]["resnet34_2x"] == pytest.approx(0.8)


# -- notebook 02's report: tables, class-level results, Findings and Limitations ------------------
def dense_result(accs: dict[str, dict[str, list[float]]], *, epochs: int = 3, best: int = 3) -> DenseStudyResult:
    """A hand-made study: 10 classes, 100 test images, accuracies as given (recipe -> model -> per seed)."""
    import numpy as np

    from hwlib.data.prepare import DataFacts

    seeds = list(range(len(next(iter(next(iter(accs.values())).values())))))
    res = DenseStudyResult(RunInfo("toy", "p", "test", 32, "cpu (test)", seeds))
    res.data = DataFacts(
        name="toy",
        layout="lists",
        num_classes=10,
        class_names=[f"n{i}" for i in range(10)],
        class_names_from="classes.txt",
        used={"train": 100, "val": 50, "test": 100},
        available={"train": 400, "val": 50, "test": 100},
        image_size=32,
        photo_size="224x224 px",
    )
    y = np.arange(100) % 10
    res.labels = y
    for rec, models in accs.items():
        res.runs[rec], res.predictions[rec] = {}, {}
        for m, vals in models.items():
            runs = []
            for seed, a in enumerate(vals):
                p = np.where(np.arange(100) < round(a * 100), y, (y + 1) % 10)
                hist = [{"epoch": e, "val_acc": 0.1 * e, "images_per_s": 50.0} for e in range(1, epochs + 1)]
                runs.append(RunResult(f"{m}{seed}", hist, best, classification_metrics(y, p, 10), "test", 1.0))
                if seed == 0:
                    res.predictions[rec][m] = p
            res.runs[rec][m] = runs
        res.sweep.append(point(32, rec, models, epochs=epochs, best=best))
    res.costs = {"dense4": Cost(25, 300, {"batch1": 1.0, "batch64": 0.5}), "resnet34": Cost(100, 100, {"batch1": 2.0})}
    res.train_images_per_s = {"dense4": 120.0, "resnet34": 100.0}
    res.final_map = {"resnet34": {32: 1, 224: 7}, "dense4": {32: 4, 224: 28}}
    return res


def test_findings_state_this_runs_numbers_and_verdicts():
    res = dense_result(
        {
            "original": {"dense4": [0.50, 0.54], "resnet34": [0.40, 0.42]},
            "strong": {"dense4": [0.40, 0.40], "resnet34": [0.50, 0.50]},
        },
    )
    text = res.findings_markdown()
    # ratio of means 0.52 / 0.41; seed by seed 0.50/0.40 = 1.25 and 0.54/0.42 = 1.286
    assert "Dense4 0.520 ± 0.028, ResNet34 0.410 ± 0.014" in text and f"ratio {0.52 / 0.41:.3f}" in text
    assert "the 0.90 requirement and the 1.00 aim are both met" in text
    assert "per-seed ratios' 95% interval [1.041, 1.495] lies above 1.00" in text
    assert "32 px, strong recipe**: Dense4 0.400 ± 0.000, ResNet34 0.500 ± 0.000" in text
    assert "the 0.90 requirement is missed by 0.100" in text
    assert "the strong recipe lowers dense4 by 0.120 and raises resnet34 by 0.090" in text
    assert "0.25x ResNet34's parameters (25 vs 100) but 3.00x its multiply-adds" in text
    assert '"fewer parameters" is not "cheaper"' in text
    assert "training 120 vs 100 images/s" in text and "trains 1.20x as fast" in text
    assert "Still improving**: in every recipe" in text
    # per class of the better strong model (resnet34): its first 50 test images right, i.e. 5 of 10 per class
    assert "**Per class** (resnet34, strong recipe, seed 0; chance 0.100): every class at 0.50." in text
    assert "0.53 / 0.45 = 1.18" in text and "the same direction" in text


def test_findings_wording_follows_the_outcome():
    res = dense_result({"original": {"dense4": [0.45], "resnet34": [0.5]}}, best=2)
    text = res.findings_markdown()
    assert "one seed: no interval, so the verdict is not settled" in text
    assert "the 0.90 requirement is met, the 1.00 aim is not" in text
    assert "Still improving" not in text
    assert "Best epochs** (original recipe, of 3): dense4 2 and resnet34 2." in text
    assert "the opposite direction" in text


def test_limitations_name_data_size_epochs_seeds_machine_and_resnet_map():
    res = dense_result({"original": {"dense4": [0.5, 0.5], "resnet34": [0.4, 0.4]}})
    text = res.limitations_markdown()
    assert "toy, 10 classes (names: classes.txt); images used: train 100 of 400, val 50 of 50" in text
    assert "(25% of the training images; the same images at every size)" in text
    assert "32x32 px images resized from stored images of 224x224 px" in text
    assert "3 epochs per run (the original report: 10); the best validation epoch is in the last fifth of " in text
    assert "in 4 of 4 runs, so most runs were still improving" in text
    assert "**Seeds**: 2 per recipe and model (0, 1)" in text and "**Machine**: cpu (test)" in text
    assert "chance is 1/10 = 0.100 and the best mean test accuracy here is 0.500" in text
    assert "leaves layer4 a map of 1x1 at 32 px, against 7x7 at the 224 px" in text
    assert "Dense4's last map is 4x4" in text and "does not reach the sizes where ResNet34 is not handicapped" in text
    assert "No other four-layer design was trained" in text
    assert "this run differs in data, classes, image size, epochs and runs per model" in text


def test_report_tables_print_integers_as_integers_and_the_original_numbers():
    res = dense_result({"original": {"dense4": [0.5], "resnet34": [0.4]}})
    cost = res.cost_table()
    assert str(cost["params"].dtype) == "int64" and cost.loc["dense4", "params"] == 25
    assert "25" in cost.to_string() and "25.0" not in cost.to_string()
    cmp = res.original_comparison()
    assert cmp.loc["Dense4 test accuracy", "original report"] == "0.530"
    assert cmp.loc["ResNet34 best val accuracy", "original report"] == "0.477"
    assert cmp.loc["ResNet34 params", "original report"] == "21,847,722"
    assert cmp.loc["Dense4 multiply-adds / image", "original report"] == "3.86 G at 128 px"
    assert cmp.loc["classes", "this run"] == "10" and cmp.loc["classes", "same setting?"] == "no"
    assert cmp.loc["Dense4 test accuracy", "this run"] == "0.500"
    table = res.metrics_table()
    assert table.loc[("original", "dense4"), "test accuracy"] == "0.500"
    assert table.loc[("original", "dense4"), "best epoch (of 3)"] == "3"


def test_showcase_per_class_and_misclassified():
    res = dense_result({"strong": {"dense4": [0.55], "resnet34": [0.3]}})
    assert res.showcase() == ("strong", "dense4")
    acc = res.per_class_accuracy("strong", "dense4")
    assert acc.shape == (10,) and acc[0] == 0.6 and acc[9] == 0.5  # 55 right: indices 0..54
    wrong = res.misclassified("strong", "dense4", k=12)
    assert wrong[:3] == [(60, 0, 1), (61, 1, 2), (62, 2, 3)]  # one per true class first, in label order
    assert len(wrong) == 12 and wrong[10] == (70, 0, 1)
    assert all(res.labels[i] == t and res.predictions["strong"]["dense4"][i] == p != t for i, t, p in wrong)


def test_planned_recipes_table_shows_what_runs(tmp_path, monkeypatch):
    from hwlib.data import load_dataset
    from hwlib.studies.dense import planned_recipes, recipe_table

    from .conftest import make_list_dataset

    monkeypatch.setenv("HWLIB_CACHE", str(tmp_path / "cache"))
    data = load_dataset(make_list_dataset(tmp_path / "ds", per_split={"train": 40, "val": 2, "test": 2}), size=16)
    s = PROFILES["cpu"].dense  # batch 64: 120 training images -> 2 steps per epoch, 5 epochs
    planned = planned_recipes(data, settings=s)
    table = recipe_table(planned, train_images=len(data.splits["train"]))
    ema = planned["strong"]["dense4"].config.ema_decay
    assert ema == pytest.approx(0.9) and table.loc[("strong", "resnet34"), "EMA decay"] == "0.9000"
    assert table.loc[("original", "dense4"), "EMA decay"] == "none"
    assert table.loc[("strong", "dense4"), "steps / epoch"] == 2 and table.loc[("strong", "dense4"), "epochs"] == 5
    assert planned["strong"]["dense4"] == planned["strong"]["resnet34"]


def test_final_conv_map_size():
    from hwlib.models import dense4, resnet34_baseline
    from hwlib.studies.dense import final_conv_map_size

    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=32) == 1
    assert final_conv_map_size(resnet34_baseline(num_classes=10), image_size=224) == 7
    assert final_conv_map_size(dense4(num_classes=10), image_size=32) == 4


# -- latency: warm-up, enough repeats, one number per architecture ---------------------------------
def test_measure_cost_repeats_and_measures_each_architecture_once():
    import torch
    from torch import nn

    from hwlib.studies import measure_cost
    from hwlib.studies.latency import WARMUP, clear_cache

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
    b, calls_b = counted(4)  # same architecture, other weights: measured once, the same number reused
    cost_b = measure_cost(b, (3, 8, 8), device=cpu)
    assert cost_b.latency_ms == cost_a.latency_ms and calls_b == [1]
    c, calls_c = counted(5)  # another architecture is measured
    measure_cost(c, (3, 8, 8), device=cpu, batches=(1,))
    assert len(calls_c) > WARMUP + 20
    clear_cache()


def test_a_tiny_dense_study_keeps_predictions_facts_and_map_sizes(tmp_path, monkeypatch):
    """End to end on 24 training images at 16 px, one epoch, strong recipe (EMA) only: the kept
    predictions are the evaluated model's, the result carries the data facts and class names, and
    the sweep point holds both ResNet34 checks (plain head, twice the epochs)."""
    import json

    import numpy as np

    import hwlib.studies.dense as dense_module
    from hwlib.config import DataSettings, DenseStudySettings
    from hwlib.data import load_dataset
    from hwlib.metrics import accuracy
    from hwlib.params import measure
    from hwlib.studies import run_dense_study

    from .conftest import make_list_dataset

    monkeypatch.setenv("HWLIB_CACHE", str(tmp_path / "cache"))
    # latency has its own test; here only the counts are needed
    monkeypatch.setattr(
        dense_module, "measure_cost", lambda model, shape, **_: Cost(*vars(measure(model, shape)).values(), {})
    )
    root = make_list_dataset(tmp_path / "ds", per_split={"train": 8, "val": 2, "test": 4})
    (root / "classes.txt").write_text("c0 cat\nc1 dog\nc2 fox\n")
    source = load_dataset(root, size=8)
    settings = DenseStudySettings(
        epochs=1, seeds=1, batch_size=24, lr=1e-3, dense4_batch_size=24, dense4_lr=1e-3, sizes=(16,), original_sizes=()
    )
    every = DataSettings(image_size=8, train_per_class=None, eval_per_class=None)
    datasets = dense_module.load_sweep_data(source, settings=settings, data=every)
    data = datasets[16]
    assert list(datasets) == [16] and data.size == 16 and len(data.splits["train"]) == len(source.splits["train"])
    res = run_dense_study(datasets, settings=settings, profile="t", seeds=[0], run_dir=None)
    assert list(res.runs) == ["strong"] and len(res.sweep) == 1
    p = res.sweep[0]
    assert set(p.runs) == {"dense4", "resnet34", "resnet34_plain", "resnet34_2x"}
    assert p.epochs_by_model["resnet34_2x"] == 2 and len(p.runs["resnet34_2x"][0].history) == 2
    assert p.macs["dense4"] > p.macs["resnet34"] > 0
    for m, runs in res.runs["strong"].items():
        assert accuracy(res.labels, res.predictions["strong"][m]) == pytest.approx(runs[0].test.accuracy)
    assert np.array_equal(res.labels, data.splits["test"].labels.numpy())
    assert res.class_names == ["cat", "dog", "fox"] and res.data.used == {"train": 24, "val": 6, "test": 12}
    assert res.final_map == {"dense4": {16: 2}, "resnet34": {16: 1, 224: 7}}
    d = json.loads(res.save(tmp_path / "r.json").read_text())
    assert d["class_names"] == ["cat", "dog", "fox"] and d["final_conv_map"]["resnet34"] == {"16": 1, "224": 7}
    assert d["sweep"][0]["image_size"] == 16 and len(d["sweep"][0]["resnet34_2x"]) == 1
    assert "Limitations" not in res.limitations_markdown() and "16x16 px images" in res.limitations_markdown()
