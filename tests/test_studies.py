"""hwlib.studies: recipes, goals, summaries and results JSON on hand-made results (no training)."""

import json

import pytest

from hwlib.config import PROFILES
from hwlib.data import COMBOS
from hwlib.metrics import classification_metrics
from hwlib.studies import ChannelStudyResult, Cost, DenseStudyResult, RunResult, recipes
from hwlib.studies.common import RunInfo


def test_recipes_are_identical_for_both_models_except_the_original_dense4_settings():
    p = PROFILES["full"]
    d = recipes(p.dense, image_size=p.data.image_size, model="dense4", steps_per_epoch=100)
    r = recipes(p.dense, image_size=p.data.image_size, model="resnet34", steps_per_epoch=100)
    assert d["strong"] == r["strong"]
    assert (d["original"].config.lr, d["original"].batch_size) == (3e-3, 256)
    assert (r["original"].config.lr, r["original"].batch_size) == (1e-3, 128)
    assert d["original"].config.epochs == r["original"].config.epochs == d["strong"].config.epochs


def channel_result() -> ChannelStudyResult:
    res = ChannelStudyResult(RunInfo("d", "p", "test", 32, "cpu", [0]))
    res.accuracy = {
        "flex": dict.fromkeys(COMBOS, 0.5),
        "cnn3_zero_fill": {"RGB": 0.6, "RG": 0.2, "GB": 0.2, "RB": 0.2, "R": 0.1, "G": 0.6, "B": 0.1},
        "experts": dict.fromkeys(COMBOS, 0.51),
    }
    res.costs = {
        "flex": Cost(100, 1000, {"batch1": 0.1}),
        "cnn3_zero_fill": Cost(50, 500, {"batch1": 0.05}),
        "experts": Cost(350, 500, {}),
    }
    return res


def test_channel_goals_report_numbers():
    goals = {g.goal: g for g in channel_result().goals()}
    assert [g.met for g in goals.values()] == [True, False, True, False]
    assert "not on G" in goals["flex beats cnn3_zero_fill on all six partial combinations"].numbers


def test_channel_result_owns_its_json_and_summary(tmp_path):
    res = channel_result()
    path = res.save(tmp_path / "r.json")
    d = json.loads(path.read_text())
    assert d["accuracy"]["flex"]["RGB"] == 0.5 and d["params"] == {"flex": 100, "cnn3_zero_fill": 50, "experts": 350}
    assert d["seeds"] == [0] and d["dataset"] == "d" and len(d["goals"]) == 4
    assert "experts" not in d["latency_ms_per_image"]
    summary = res.summary_markdown()
    assert summary.startswith("**Summary** (d, test split, profile `p`, 32 px, seed 0") and "0.500" in summary
    assert summary.count("**MISSED**") == 2 and summary.count("**met**") == 2


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
