"""hwlib.studies: recipes, goals, summaries and results JSON on hand-made results (no training)."""

import pytest

from hwlib.config import PROFILES
from hwlib.metrics import classification_metrics
from hwlib.studies import Cost, DenseStudyResult, RunResult, recipes
from hwlib.studies.common import RunInfo


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


def test_dense_goals_and_ratio():
    res = DenseStudyResult(RunInfo("d", "p", "test", 32, "cpu", [0, 1]))
    res.runs = {"original": {"dense4": [run(1, 0), run(1, 1)], "resnet34": [run(0, 0), run(0, 1)]}}
    res.costs = {"dense4": Cost(10, 300, {"batch1": 1.0}), "resnet34": Cost(40, 100, {"batch1": 1.0})}
    assert res.ratio("original") == pytest.approx(1.0 / 0.75)
    goals = res.goals()
    assert [g.met for g in goals] == [True] and "1.333" in goals[0].numbers
    assert "0.25x ResNet34's parameters but 3.00x its multiply-adds" in res.summary_markdown()


# -- notebook 02's report: tables, class-level results, Findings and Limitations ------------------
def dense_result(
    accs: dict[str, dict[str, list[float]]], *, epochs: int = 3, best: int = 3, ablation: dict[str, float] | None = None
) -> DenseStudyResult:
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
    res.costs = {"dense4": Cost(25, 300, {"batch1": 1.0, "batch64": 0.5}), "resnet34": Cost(100, 100, {"batch1": 2.0})}
    res.train_images_per_s = {"dense4": 120.0, "resnet34": 100.0}
    res.final_map = {"resnet34": {32: 1, 224: 7}, "dense4": {32: 4, 224: 28}}
    for name, a in (ablation or {}).items():
        res.ablation[name] = {"what": name, "test_acc": a, "macro_f1": a, "params": 10, "macs": 20, "best_epoch": 2,
                              "convs": 4}  # fmt: skip
    return res


def test_findings_state_this_runs_numbers_and_verdicts():
    res = dense_result(
        {
            "original": {"dense4": [0.50, 0.54], "resnet34": [0.40, 0.42]},
            "strong": {"dense4": [0.40, 0.40], "resnet34": [0.50, 0.50]},
        },
        ablation={"k512": 0.50, "k256": 0.52, "k128": 0.30},
    )
    text = res.findings_markdown()
    # ratio of means 0.52 / 0.41; seed by seed 0.50/0.40 = 1.25 and 0.54/0.42 = 1.286
    assert "Dense4 0.520 ± 0.020, ResNet34 0.410 ± 0.010" in text and f"= {0.52 / 0.41:.3f}" in text
    assert "seed by seed 1.268 ± 0.018, at least 0.90 in 2 of 2 seeds" in text
    assert "the 0.90 requirement and the 1.00 aim are both met" in text
    assert "strong recipe**: Dense4 0.400 ± 0.000, ResNet34 0.500 ± 0.000" in text
    assert "the 0.90 requirement is missed" in text
    assert "the strong recipe lowers dense4 by 0.120 and raises resnet34 by 0.090" in text
    assert "0.25x ResNet34's parameters (25 vs 100) but 3.00x its multiply-adds" in text
    assert '"fewer parameters" is not "cheaper"' in text
    assert "training 120 vs 100 images/s" in text and "trains 1.20x as fast" in text
    assert "Still improving**: in every recipe" in text
    # spread: largest max-min over seeds is dense4 original (0.04); k128 (-0.20) exceeds it, k256 (+0.02) does not
    assert "seed spread of the main runs is 0.040 (largest max - min over seeds: dense4, original recipe)" in text
    assert "Beyond it: k128 (-0.200)" in text and "Within it, so not effects: k256" in text
    # per class of the better strong model (resnet34): its first 50 test images right, i.e. 5 of 10 per class
    assert "**Per class** (resnet34, strong recipe, seed 0; chance 0.100): every class at 0.50." in text
    assert "0.53 / 0.45 = 1.18" in text and "the same direction" in text


def test_findings_wording_follows_the_outcome():
    res = dense_result({"original": {"dense4": [0.45], "resnet34": [0.5]}}, best=2, ablation={"k512": 0.5, "k128": 0.1})
    text = res.findings_markdown()
    assert "one seed (0), so no spread" in text and "±" not in text.split("\n")[0]
    assert "the 0.90 requirement is met, the 1.00 aim is not" in text
    assert "Still improving" not in text
    assert "Best epochs** (original recipe, of 3): dense4 2 and resnet34 2." in text
    assert "seed-to-seed spread is unknown" in text
    assert "the opposite direction" in text


def test_limitations_name_data_size_epochs_seeds_machine_and_resnet_map():
    res = dense_result({"original": {"dense4": [0.5, 0.5], "resnet34": [0.4, 0.4]}})
    text = res.limitations_markdown()
    assert "toy, 10 classes (names: classes.txt); images used: train 100 of 400, val 50 of 50" in text
    assert "(25% of the training images)" in text and "32x32 px images resized from stored images of 224x224 px" in text
    assert "3 epochs per run (the original report: 10); every run was still improving" in text
    assert "**Seeds**: 2 per recipe and model (0, 1)" in text and "**Machine**: cpu (test)" in text
    assert "chance is 1/10 = 0.100 and the best mean test accuracy here is 0.500" in text
    assert "shrinks a 32 px image to a 1x1 map at layer4, against 7x7 at the 224 px" in text
    assert "Dense4's last map is 4x4" in text and "handicaps ResNet34" in text
    assert "this run differs in data, classes, image size, epochs and runs per model" in text


def test_report_tables_print_integers_as_integers_and_the_original_numbers():
    res = dense_result({"original": {"dense4": [0.5], "resnet34": [0.4]}}, ablation={"k512": 0.5, "k128": 0.3})
    cost = res.cost_table()
    assert str(cost["params"].dtype) == "int64" and cost.loc["dense4", "params"] == 25
    assert "25" in cost.to_string() and "25.0" not in cost.to_string()
    abl = res.ablation_table()
    assert str(abl["params"].dtype) == "int64" and str(abl["conv layers"].dtype) == "int64"
    assert abl.loc["k128", "minus k512"] == "-0.200" and abl.loc["k128", "beyond seed spread"] == "unknown"
    cmp = res.original_comparison()
    assert cmp.loc["Dense4 test accuracy", "original report"] == "0.530"
    assert cmp.loc["ResNet34 best val accuracy", "original report"] == "0.477"
    assert cmp.loc["ResNet34 params", "original report"] == "21,847,722"
    assert cmp.loc["Dense4 multiply-adds / image", "original report"] == "3.86 G at 128 px"
    assert cmp.loc["classes", "this run"] == "10" and cmp.loc["classes", "same setting?"] == "no"
    assert cmp.loc["Dense4 test accuracy", "this run"] == "0.500 ± 0.000"
    table = res.metrics_table()
    assert table.loc[("original", "dense4"), "test accuracy"] == "0.500 ± 0.000"
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
    """End to end on 24 training images at 16 px, one epoch, strong recipe (EMA): the kept predictions
    are the evaluated model's, and the result carries the data facts and class names."""
    import json

    import numpy as np

    import hwlib.studies.dense as dense_module
    from hwlib.config import DenseStudySettings
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
    data = load_dataset(root, size=16)
    settings = DenseStudySettings(epochs=1, seeds=1, batch_size=24, lr=1e-3, dense4_batch_size=24, dense4_lr=1e-3)
    res = run_dense_study(
        data, settings=settings, profile="t", seeds=[0], run_dir=None, recipe_names=("strong",), ablation=False
    )
    for m, runs in res.runs["strong"].items():
        assert accuracy(res.labels, res.predictions["strong"][m]) == pytest.approx(runs[0].test.accuracy)
    assert np.array_equal(res.labels, data.splits["test"].labels.numpy())
    assert res.class_names == ["cat", "dog", "fox"] and res.data.used == {"train": 24, "val": 6, "test": 12}
    assert res.final_map == {"dense4": {16: 2}, "resnet34": {16: 1, 224: 7}}
    d = json.loads(res.save(tmp_path / "r.json").read_text())
    assert d["class_names"] == ["cat", "dog", "fox"] and d["final_conv_map"]["resnet34"] == {"16": 1, "224": 7}
    assert "Limitations" not in res.limitations_markdown() and "16x16 px images" in res.limitations_markdown()
