"""Notebook 02's verdict logic (hwlib.studies.dense) and report (hwlib.report.dense) on a study
result built by hand: the verdict is taken only where the baseline has converged, its outcome follows
its interval, and every number the Summary and Findings print is in the results JSON."""

import json
import re

import numpy as np
import pytest

from hwlib.config import DenseStudySettings
from hwlib.data.prepare import DataFacts
from hwlib.publish import _no_nan
from hwlib.report import dense as report
from hwlib.studies.costs import Cost
from hwlib.studies.dense import DenseRun, DenseStudyResult, Point
from hwlib.studies.results import RunInfo

N = 1000  # test images


def study(acc: dict[tuple[str, int], list[float]], *, seeds=3) -> DenseStudyResult:
    """A DenseStudyResult whose runs have the given accuracy per (model, epochs) and seed."""
    rng = np.random.default_rng(0)
    settings = DenseStudySettings(
        epochs=5,
        seeds=seeds,
        batch_size=64,
        lr=1e-3,
        dense4_batch_size=64,
        dense4_lr=1e-3,
        sizes=(32,),
        original_sizes=(),
    )
    res = DenseStudyResult(RunInfo("toy", "test", "test", 32, "cpu", list(range(seeds))), settings)
    res.data = DataFacts(
        name="toy",
        layout="lists",
        num_classes=10,
        class_names=[str(i) for i in range(10)],
        class_names_from="indices",
        used={"train": 3000},
        available={"train": 3000, "test": N},
        image_size=32,
        photo_size="64x64 px",
    )
    res.labels = np.zeros(N, dtype=np.int64)
    for (model, epochs), per_seed in acc.items():
        for seed, a in enumerate(per_seed[:seeds]):
            correct = np.zeros(N, dtype=bool)
            correct[rng.permutation(N)[: round(a * N)]] = True
            res.runs.append(
                DenseRun(
                    model=model,
                    recipe="strong",
                    image_size=32,
                    train_images=3000,
                    budget_epochs=epochs,
                    epochs=epochs,
                    steps=epochs * 47,
                    seed=seed,
                    test_accuracy=correct.mean(),
                    best_epoch=epochs,
                    train_seconds=1.0,
                    correct=correct,
                    history=[{"epoch": epochs, "val_acc": a}],
                    confusion=np.eye(10),
                )
            )
    for m, (params, macs) in {"dense4": (5_000_000, 240_000_000), "resnet34": (21_000_000, 75_000_000)}.items():
        res.costs[m] = Cost(params, macs, {"batch1": 1.0}, 0.5)
        res.macs[m], res.final_map[m], res.convs[m] = {32: macs}, {32: 4, 224: 7}, 4
    return res


CONVERGED = {
    ("dense4", 5): [0.50, 0.52, 0.51],
    ("resnet34", 5): [0.50, 0.53, 0.51],
    ("dense4", 10): [0.50, 0.52, 0.51],
    ("resnet34", 10): [0.51, 0.53, 0.50],
}
RISING = {
    ("dense4", 5): [0.40, 0.41, 0.40],
    ("resnet34", 5): [0.30, 0.31, 0.30],
    ("dense4", 10): [0.50, 0.51, 0.50],
    ("resnet34", 10): [0.45, 0.46, 0.45],
}


def test_a_converged_baseline_gives_a_verdict_at_the_shorter_budget():
    res = study(CONVERGED)
    p, reason = res.verdict_point(32)
    assert p == Point(32, "strong", 5) and reason == ""
    g = res.goals()[0]
    assert g.outcome in ("met", "not shown")  # ratio ~1.0, bar 0.9: met unless the interval reaches below
    v = res.verdict()
    assert v["steps"] == 5 * 47 and v["baseline"] == "resnet34"
    assert v["interval"][0] <= v["ratio"] <= v["interval"][1]
    if g.outcome == "met":
        assert v["interval"][0] >= 0.9


def test_a_baseline_still_rising_at_the_longest_budget_is_not_shown():
    res = study(RISING)
    p, reason = res.verdict_point(32)
    assert p == Point(32, "strong", 10) and "not converged" in reason  # the longer run, flagged
    assert res.goals()[0].outcome == "not shown" and res.verdict()["outcome"] == "not shown"
    c = res.convergence(Point(32, "strong", 5), "resnet34")
    assert c.converged is False and c.moved == pytest.approx(0.15, abs=0.01)


def test_a_handicapped_baseline_is_not_a_verdict():
    res = study(CONVERGED)
    res.final_map["resnet34"][32] = 1  # torchvision's ResNet34 at 32 px: a 1x1 last stage
    p, reason = res.verdict_point(32)
    assert p == Point(32, "strong", 5) and "handicapped" in reason
    assert res.goals()[0].outcome == "not shown"


def test_one_seed_is_never_a_verdict():
    assert study(CONVERGED, seeds=1).goals()[0].outcome == "not shown"


def numbers_in(text: str) -> list[str]:
    pattern = r"(?<![\w.,])[+-]?\d[\d,]*\.\d+|(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d{2,})(?![\w.,]\d|\w)"
    return re.findall(pattern, text)


@pytest.mark.parametrize("acc", [CONVERGED, RISING], ids=["converged", "rising"])
def test_every_number_in_the_summary_and_findings_is_in_the_results_json(acc):
    assert_numbers_in_json(study(acc))


def cpu_real_shaped(*, small_strong: bool) -> DenseStudyResult:
    """A made-up result with the cpu-real profile's whole plan: seven models, the budget curve, the
    doubled budget on one seed, the ablations, and made-up training speeds."""
    from hwlib.config import PROFILES
    from hwlib.studies.costs import TrainSpeed
    from hwlib.studies.dense import plan_runs

    s = PROFILES["cpu-real"].dense
    rng = np.random.default_rng(1)
    res = DenseStudyResult(RunInfo("toy", "cpu-real", "test", 32, "cpu", [0, 1, 2]), s)
    res.data = DataFacts(
        name="toy", layout="lists", num_classes=10, class_names=[str(i) for i in range(10)],
        class_names_from="indices", used={"train": 9469}, available={"train": 9469, "test": N}, image_size=32,
        photo_size="64x64 px",
    )  # fmt: skip
    res.labels = np.zeros(N, dtype=np.int64)
    res.all_train_images = True
    base = {"dense4": 0.73, "resnet34": 0.68, "resnet34_small": 0.78 if small_strong else 0.6, "plain4": 0.7,
            "own4": 0.72, "own4_no_se": 0.71, "own4_last_head": 0.7}  # fmt: skip
    speed = {"dense4": 76, "resnet34": 116, "resnet34_small": 52, "plain4": 102, "own4": 209, "own4_no_se": 220,
             "own4_last_head": 209}  # fmt: skip
    for p in plan_runs(s, seeds=[0, 1, 2]):
        a = base[p.model] * min(1.0, 0.6 + 0.04 * p.epochs) + 0.005 * p.seed
        correct = np.zeros(N, dtype=bool)
        correct[rng.permutation(N)[: round(a * N)]] = True
        res.runs.append(
            DenseRun(
                model=p.model, recipe=p.recipe, image_size=32, train_images=9469, budget_epochs=p.budget_epochs,
                epochs=p.epochs, steps=p.epochs * 148, seed=p.seed, test_accuracy=correct.mean(), best_epoch=p.epochs,
                train_seconds=p.epochs * 148 * 64 / speed[p.model], correct=correct,
                history=[{"epoch": p.epochs, "val_acc": a}], confusion=np.eye(10),
            )
        )  # fmt: skip
    for m in res.all_models:
        res.costs[m] = Cost(1_000_000 + len(m), 100_000_000 + 7 * len(m), {"batch1": 1.0}, 0.5)
        res.macs[m], res.final_map[m], res.convs[m] = {32: res.costs[m].macs}, {32: 4, 224: 7}, 4
        res.train_speed[m] = TrainSpeed(float(speed[m]), 0.01)
    res.final_map["resnet34"] = {32: 1, 224: 7}
    res.final_map["resnet34_small"] = {32: 2, 224: 14}
    return res


@pytest.mark.parametrize("small_strong", [True, False], ids=["small-resnet-chosen", "built-resnet-chosen"])
def test_the_cpu_real_plan_reports_only_json_numbers_and_finds_every_model_it_indexes(small_strong):
    res = cpu_real_shaped(small_strong=small_strong)
    assert res.baseline == ("resnet34_small" if small_strong else "resnet34")
    assert_numbers_in_json(res)
    v = res.verdict()
    assert v["baseline"] == res.baseline and v["epochs"] >= res.settings.epochs
    for table in (report.runs_table, report.recipe_table, report.convergence_table, report.baseline_table,
                  report.model_table):  # fmt: skip
        assert len(table(res)) > 0
    assert {e["model"] for e in res.budget_curve()} <= set(res.models)  # the ablations are not on the curve
    curve = {(e["model"], e["budget_epochs"]) for e in res.budget_curve()}
    assert {(m, b) for m in ("dense4", *res.settings.baselines) for b in (1, 5, 10, 20)} <= curve
    assert [g.goal.split(":")[0] for g in res.goals()][1:] and len(res.goals()) == 3


def assert_numbers_in_json(res: DenseStudyResult) -> None:
    """Every number the Summary and Findings print is in the results JSON (or a stated ratio of two)."""
    j = _no_nan(res.to_json())
    flat: list[float] = []

    def walk(o):
        if isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        elif isinstance(o, (int, float)) and not isinstance(o, bool):
            flat.append(float(o))

    walk(j)
    from hwlib.original import COURSE_BATCH, COURSE_EPOCHS, COURSE_TRAIN_IMAGES, REFERENCES

    quoted = [COURSE_EPOCHS * -(-COURSE_TRAIN_IMAGES // COURSE_BATCH), 50, 128, 224, 256]
    quoted += [r.ratio for r in REFERENCES]
    derived = []  # ratios of JSON numbers the text prints (params, multiply-adds, time per epoch), per-class counts
    m = j["models"]
    for x in m.values():
        for y in m.values():
            derived.append(x["params"] / y["params"])
            derived.append(x["macs_per_image"]["32"] / y["macs_per_image"]["32"])
            if x["train_seconds_per_epoch"] and y["train_seconds_per_epoch"]:
                derived.append(x["train_seconds_per_epoch"] / y["train_seconds_per_epoch"])
    derived.append(j["runs"][0]["train_images"] / j["data"]["num_classes"])
    for g in j["goals"]:  # differences are printed in points, bars and allowed shares also as percentages
        derived += [100 * g["bar"], 100 * g.get("time_share_allowed", 0)]
        if g["bar"] == 0:
            derived += [100 * x for x in (g["estimate"], *g["interval"]) if x is not None]
    for c in j["baseline_choice"]:
        derived += [100 * r["val_mean"] for r in c["candidates"]]
    for c in j["convergence"]:
        derived += [100 * c["moved"], 100 * (c["seed_sd"] or 0)]
    pool = flat + quoted + derived
    text = report.summary_markdown(res) + "\n" + report.findings_markdown(res)
    for num in numbers_in(text):
        value = float(num.replace(",", "").replace("+", ""))
        digits = len(num.split(".")[1]) if "." in num else 0
        tol = 0.5 * 10**-digits + 1e-9
        assert any(abs(abs(value) - abs(x)) <= tol for x in pool), f"{num} is not in the results JSON"
    json.dumps(j)  # serialisable
