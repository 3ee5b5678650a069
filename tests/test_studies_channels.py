"""hwlib.studies.channels: goals with intervals over seeds, tables, findings and JSON, on hand-made results."""

import json
import math

import pytest

from hwlib.data import COMBOS
from hwlib.metrics import classification_metrics
from hwlib.studies import ChannelStudyResult, Cost, RunResult
from hwlib.studies.channels import VARIANTS
from hwlib.studies.results import RunInfo, t_interval


def run(best_epoch: int, epochs: int = 10) -> RunResult:
    history = [{"epoch": e, "val_acc": 0.5 if e == best_epoch else 0.1} for e in range(1, epochs + 1)]
    return RunResult("r", history, best_epoch, classification_metrics([0, 1], [0, 1], 2), "test", 1.0)


def channel_result() -> ChannelStudyResult:
    res = ChannelStudyResult(RunInfo("d", "p", "test", 32, "cpu", [0, 1, 2]))
    three = lambda v: [v - 0.01, v, v + 0.01]  # noqa: E731
    res.accuracy_by_seed = {
        "flex": {c: three(0.50) for c in COMBOS},
        "grey_mean": {c: three(0.45) for c in COMBOS},
        "cnn3_zero_fill": {c: three(0.60 if c in ("RGB", "G") else 0.20) for c in COMBOS},
        "experts": {c: three(0.505 if len(c) == 1 else 0.52) for c in COMBOS},
    }
    res.runs = {"flex": [run(10), run(5), run(4)], "grey_mean": [run(3)] * 3, "cnn3_zero_fill": [run(2)] * 3}
    res.costs = {
        "flex": Cost(100, 1000, {"batch1": 0.1}),
        "grey_mean": Cost(40, 400, {"batch1": 0.05}),
        "cnn3_zero_fill": Cost(50, 500, {"batch1": 0.05}),
        "experts": Cost(350, 500, {"batch1": 0.05}),
    }
    res.what = {"flex": "f", "grey_mean": "g", "cnn3_zero_fill": "z", "experts": "e"}
    return res


def test_t_interval_matches_the_textbook():
    m, h = t_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and h == pytest.approx(4.303 * 1.0 / math.sqrt(3))
    assert math.isnan(t_interval([0.4])[1])


def test_goals_use_paired_differences_over_seeds():
    goals = {g.goal.split(":")[0]: g for g in channel_result().goals()}
    assert [g.met for g in goals.values()] == [False, True, False]
    experts = next(g for g in goals.values() if "expert" in g.goal)
    assert "worst RGB: -2.0 points (95% CI ± 0.0)" in experts.numbers  # paired seeds: identical offsets, no spread
    zero = next(g for g in goals.values() if "zero-filled" in g.goal)
    assert "beats it on 5 of 6" in zero.numbers


def test_result_owns_its_json_table_and_findings(tmp_path):
    res = channel_result()
    d = json.loads(res.save(tmp_path / "r.json").read_text())
    assert d["seeds"] == [0, 1, 2] and d["accuracy_by_seed"]["flex"]["RGB"] == [0.49, 0.5, 0.51]
    assert d["accuracy"]["flex"]["RGB"] == pytest.approx(0.5) and len(d["goals"]) == 3
    assert d["runs"]["flex"][0]["best_epoch"] == 10 and len(d["history"]["flex"]) == 3
    table = res.table()
    assert table.loc["flex", "RGB"] == "0.500 ± 0.010" and list(table.columns[:7]) == list(COMBOS)
    findings = res.findings_markdown()
    assert "**Missed**" in findings and "**Met**" in findings
    assert "last fifth of training for 1 of 3 single models (flex)" in findings
    assert "experts are ahead of flex on 7 of 7 combinations" in findings
    assert res.summary_markdown().startswith("**Summary** (d, test split, profile `p`, 32 px, seeds [0, 1, 2]")


def test_every_variant_builds_and_takes_the_channels_it_is_trained_on():
    import torch

    from hwlib.data import channel_indices

    for v in VARIANTS:
        model = v.build(num_classes=3, image_size=32)
        ids = channel_indices("RB")
        x = torch.rand(2, 3 if v.zero_fill else 2, 32, 32)
        out = model(x, torch.tensor(ids)) if v.with_channels else model(x)
        assert out.shape == (2, 3), v.name
