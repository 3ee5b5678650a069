"""hwlib.studies.channels: goals, exploratory comparisons and JSON of a ChannelStudyResult built by hand
from synthetic per-image correctness (numbers and verdicts, not wording)."""

import json

import numpy as np
import pytest

from hwlib import stats
from hwlib.data import COMBOS
from hwlib.metrics import classification_metrics
from hwlib.stats import Sample
from hwlib.studies import ChannelStudyResult, Cost, RunInfo, RunResult
from hwlib.studies.channels import EQUAL_STEPS, EXPERTS, EXPLORATORY, PARTIAL, VARIANTS

N = 1000  # test images
SEEDS = [0, 1, 2]


def _flip(x: np.ndarray, rng: np.random.Generator, *, wrong: float = 0.0, right: float = 0.0) -> np.ndarray:
    """A copy of x with a share `wrong` of its right answers made wrong and `right` of its wrong ones right."""
    y = x.copy()
    y[x & (rng.random(len(x)) < wrong)] = False
    y[~x & (rng.random(len(x)) < right)] = True
    return y


def make_run(name: str, best_epoch: int, *, epochs: int = 10, seconds: float = 30.0) -> RunResult:
    history = [{"epoch": e, "val_acc": 0.5 if e == best_epoch else 0.1, "train_acc": 0.4} for e in range(1, epochs + 1)]
    metrics = classification_metrics([0, 1], [0, 1], 2)
    return RunResult(name, history, best_epoch, metrics, "test", seconds, np.ones(2, bool), np.zeros(2, int), 40)


def channel_result(seeds: list[int] = SEEDS, *, others_busy: float | None = 0.02) -> ChannelStudyResult:
    """flex (joint) and flex_equal_steps (the same answers) vs hand-made baselines with known outcomes:

    * experts = flex on every combination but GB, where they get 15% more images right: goals
      "experts" and "experts_equal_steps" missed, on GB;
    * replicate and replicate_wide 8 points behind flex everywhere: goal "generated" met;
    * grey_mean = flex with 20% of its right RGB answers wrong: goal "colour" met;
    * cnn3_zero_fill: far behind on five partial combinations, flex with symmetric noise on G: goal
      "zero_fill" not shown;
    * exploratory: template_mixing flex plus noise (not shown; it peaked late on seed 0),
      flex_no_stats 8 points behind flex_equal_steps (shown after Holm).
    """
    res = ChannelStudyResult(RunInfo("synth", "test-profile", "test", 32, "cpu", list(seeds)), train_per_class=40)
    shared = np.random.default_rng(7)
    truth = {c: shared.random(N) < 0.45 for c in COMBOS}  # what every seed of flex roughly gets right
    for s in seeds:
        rng = np.random.default_rng(100 + s)
        base = {c: _flip(truth[c], rng, wrong=0.01, right=0.01) for c in COMBOS}
        rows = {
            "flex": base,
            EQUAL_STEPS: {c: base[c].copy() for c in COMBOS},
            EXPERTS: {c: _flip(base[c], rng, right=0.3) if c == "GB" else base[c].copy() for c in COMBOS},
            "grey_mean": {c: _flip(base[c], rng, wrong=0.2) for c in COMBOS},
            "cnn3_zero_fill": {
                c: base[c].copy()
                if c == "RGB"
                else _flip(base[c], rng, wrong=0.05, right=0.04)
                if c == "G"
                else _flip(base[c], rng, wrong=0.6)
                for c in COMBOS
            },
            "replicate": {c: _flip(base[c], rng, wrong=0.18) for c in COMBOS},
            "replicate_wide": {c: _flip(base[c], rng, wrong=0.18) for c in COMBOS},
            "template_mixing": {c: _flip(base[c], rng, wrong=0.03, right=0.025) for c in COMBOS},
            "flex_no_stats": {c: _flip(base[c], rng, wrong=0.18) for c in COMBOS},
        }
        for model, by in rows.items():
            for c, x in by.items():
                res.correct.setdefault(model, {}).setdefault(c, []).append(x)
    names = [m for m in res.correct if m != EXPERTS]
    res.runs = {
        m: [make_run(m, 10 if m == "template_mixing" and i == 0 else 4) for i in range(len(seeds))] for m in names
    }
    joint = ("flex", "replicate", "replicate_wide", "template_mixing")
    res.schedule = {m: "joint" if m in joint else "rgb" if m == "cnn3_zero_fill" else "equal_steps" for m in names}
    res.schedule[EXPERTS] = "own"
    res.runs.update({f"expert_{c}": [make_run(f"expert_{c}", 9 if c == "R" else 5) for _ in seeds] for c in COMBOS})
    res.costs = {
        m: Cost(1000 * (i + 2), 50_000 * (i + 1), {"batch1": 0.5 + i, "batch64": 0.1}, others_busy)
        for i, m in enumerate(names)
    }
    res.costs[EXPERTS] = Cost(12_345, 40_000, {"batch1": 0.4, "batch64": 0.05}, others_busy)
    res.what = {m: f"what {m}" for m in res.correct}
    res.diversity = {
        "flex_original": {"cosine_across_channels": 0.993, "between_images_share": 0.61, "between_channels_share": 0.1},
        "flex": {"cosine_across_channels": 0.412, "between_images_share": 0.083, "between_channels_share": 0.88},
    }
    return res


@pytest.fixture(scope="module")
def res() -> ChannelStudyResult:
    return channel_result()


def _all_verdicts(goals):
    for g in goals:
        yield g
        yield from g.parts


GOALS = ["experts", "experts_equal_steps", "generated", "colour", "zero_fill"]
OUTCOMES = ["missed", "missed", "met", "met", "not shown"]


def test_goals_outcomes_and_the_part_that_settles_them(res):
    goals = res.goal_map()
    assert list(goals) == GOALS and [g.outcome for g in goals.values()] == OUTCOMES
    assert res.goals() == list(goals.values())
    experts, colour, zero = goals["experts"], goals["colour"], goals["zero_fill"]
    assert experts.settled_by.goal == "GB" and [p.goal for p in experts.parts] == list(COMBOS)
    assert [p.outcome for p in experts.parts if p.goal not in ("GB", "R")] == ["met"] * 5
    r = next(p for p in experts.parts if p.goal == "R")  # expert_R peaked in the last fifth: no verdict on R
    assert r.outcome == "not shown" and "expert_R" in r.reason and r.interval.low >= r.bar
    assert experts.interval.high < -0.01  # missed: the whole interval below the bar
    assert goals["experts_equal_steps"].settled_by.goal == "GB"
    assert [p.goal for p in goals["generated"].parts] == ["replicate", "replicate_wide"]
    assert all(p.interval.low > 0 for p in goals["generated"].parts)
    assert colour.interval.low >= 0.03
    assert [p.goal for p in zero.parts] == list(PARTIAL) and zero.settled_by.goal == "G"
    assert zero.settled_by.interval.low < 0 < zero.settled_by.interval.high


def test_a_model_still_improving_makes_its_comparison_not_shown(res):
    import dataclasses

    late = dataclasses.replace(res, runs={**res.runs, "grey_mean": [make_run("grey_mean", 10) for _ in SEEDS]})
    colour = late.goal_map()["colour"]
    assert colour.outcome == "not shown" and "grey_mean" in colour.reason and colour.interval.low >= 0.03
    assert res.still_improving(EQUAL_STEPS, "grey_mean") == ""


def test_training_images_seen_counts_seven_passes_a_joint_batch(res):
    seen = res.training_images_seen()
    assert seen["flex"] == 7 * 40 * 10 and seen[EQUAL_STEPS] == 40 * 10  # 40 images, 10 epochs
    assert seen[EXPERTS] == 7 * 40 * 10  # seven experts, one pass each


def test_no_met_straddles_its_bar_and_no_missed_reaches_it(res):
    for v in _all_verdicts(res.goals()):
        if v.outcome == "met":
            assert v.interval.low >= v.bar, v.goal
        if v.outcome == "missed" and not v.parts:
            assert v.interval.high < v.bar, v.goal


def test_diff_is_flex_minus_other_unpaired_over_seeds(res):
    iv = res.diff("flex", "grey_mean", "RGB")
    assert iv.estimate == pytest.approx(res.accuracy["flex"]["RGB"] - res.accuracy["grey_mean"]["RGB"])
    assert iv == stats.difference_interval(res.sample("flex", "RGB"), res.sample("grey_mean", "RGB"))
    m7 = res.diff("flex", "replicate", "mean of 7")
    assert m7.estimate == pytest.approx(res.mean_of_seven("flex") - res.mean_of_seven("replicate"))


def test_exploratory_p_values_are_holm_adjusted(res):
    rows = res.exploratory()
    assert [(r["model"], r["other"], r["combo"]) for r in rows] == [
        (model, m, c) for model, others in EXPLORATORY.items() for m in others if m in res.correct
        for c in ("RGB", "mean of 7")
    ]  # fmt: skip
    assert [r["p_holm"] for r in rows] == pytest.approx(stats.holm([r["p"] for r in rows]))
    assert all(r["p_holm"] >= r["p"] for r in rows)
    by = {(r["other"], r["combo"]): r for r in rows}
    assert by[("flex_no_stats", "mean of 7")]["p_holm"] < 0.05 and by[("flex_no_stats", "RGB")]["estimate"] > 0
    assert by[("flex_no_stats", "RGB")]["model"] == EQUAL_STEPS
    assert by[("template_mixing", "RGB")]["p_holm"] > 0.05 and by[("template_mixing", "RGB")]["model"] == "flex"


def test_one_seed_has_no_interval_and_no_verdict():
    one = channel_result([0])
    assert {g.outcome for g in one.goals()} == {"not shown"}
    assert all(np.isnan(r["p_holm"]) for r in one.exploratory())


def test_last_fifth_and_mean_of_seven(res):
    late = res.last_fifth()
    assert late["template_mixing"] and not late["flex"] and not late["grey_mean"]
    assert late["expert_R"] and not late["expert_RGB"]
    assert res.mean_of_seven("flex") == pytest.approx(np.mean([res.accuracy["flex"][c] for c in COMBOS]))


def test_json_round_trips_the_numbers(res, tmp_path):
    d = json.loads(res.save(tmp_path / "r.json").read_text())
    assert d["seeds"] == SEEDS and d["train_per_class"] == 40 and d["combos"] == list(COMBOS)
    assert d["accuracy_by_seed"]["flex"]["RGB"] == pytest.approx(res.accuracy_by_seed["flex"]["RGB"])
    assert d["mean_of_7"]["flex"] == pytest.approx(res.mean_of_seven("flex"))
    assert [g["outcome"] for g in d["goals"]] == OUTCOMES
    assert d["goals"][0]["settled_by"] == "GB"
    assert len(d["exploratory"]) == 4 and d["models"]["experts"]["params"] == 12_345
    assert d["runs"]["template_mixing"][0]["best_epoch"] == 10 and len(d["history"]["flex"]) == 3
    assert d["training_images_seen"] == res.training_images_seen() and set(d["schedule"]) == set(res.schedule)
    from hwlib.studies.runs import unpack_bits

    assert np.array_equal(unpack_bits(d["correct"]["flex"]["GB"][1]), res.correct["flex"]["GB"][1])


def test_every_variant_builds_and_takes_the_channels_it_is_trained_on():
    import torch

    from hwlib.data import channel_indices

    for v in VARIANTS:
        model = v.build(num_classes=3, image_size=32)
        ids = channel_indices("RB")
        x = torch.rand(2, 3 if v.zero_fill else 2, 32, 32)
        out = model(x, torch.tensor(ids)) if v.with_channels else model(x)
        assert out.shape == (2, 3), v.name


def test_replicate_wide_matches_flex_parameters_and_ablations_switch_one_part():
    from hwlib.studies.channels import VARIANT_BY_NAME, count_params

    size = {"num_classes": 10, "image_size": 32}
    flex = count_params(VARIANT_BY_NAME["flex"].build(**size))
    wide = VARIANT_BY_NAME["replicate_wide"].build(**size)
    per_unit = 32 * 2 * 2 + 1 + 10  # one more fc1 unit: its weights from the 32x2x2 map, bias, fc2 weights
    assert abs(count_params(wide) - flex) <= per_unit / 2 and wide.fc1.out_features > 128
    assert count_params(VARIANT_BY_NAME["replicate"].build(**size)) < flex
    for part in ("residual", "context", "stats", "redistribution"):
        layer = VARIANT_BY_NAME[f"flex_no_{part}"].build(**size).first_layer
        assert not getattr(layer, part) and all(getattr(layer, p) for p in ("residual", "context", "stats",
                                                                          "redistribution") if p != part)  # fmt: skip
    assert {v.schedule for v in VARIANTS if v.name in ("flex", "replicate", "replicate_wide", "template_mixing",
                                                          "target_param")} == {"joint"}  # fmt: skip


def test_a_best_epoch_on_a_flat_plateau_is_not_a_rise():
    from hwlib.studies.channels import peaked_late, still_rising

    flat = make_run("flat", 10)
    for h, v in zip(flat.history, (0.30, 0.38, 0.41, 0.42, 0.415, 0.41, 0.418, 0.42, 0.416, 0.425)):
        h["val_acc"] = v
    assert peaked_late(flat)  # the literal rule: best epoch (10) in the last fifth
    # 0.425 - 0.42 (best before the last fifth) is within one standard error at 2,000 images (1.1 points)
    assert not still_rising(flat, val_images=2000)
    assert still_rising(flat, val_images=None)  # without a validation size any gain counts
    flat.history[-1]["val_acc"] = 0.46  # 4 points above: a rise
    assert still_rising(flat, val_images=2000)


def _val_run(name: str, best_val: float, *, epochs: int = 10) -> RunResult:
    history = [{"epoch": e, "val_acc": best_val * e / epochs, "train_acc": 0.4} for e in range(1, epochs + 1)]
    metrics = classification_metrics([0, 1], [0, 1], 2)
    return RunResult(name, history, epochs, metrics, "test", 1.0, np.ones(2, bool), np.zeros(2, int), 40)


def test_doubling_decides_convergence_under_a_decaying_schedule(res):
    import dataclasses

    seeds_val = {"flex": [0.50, 0.52, 0.48], "replicate": [0.40, 0.41, 0.39]}  # seed sd 0.02 and 0.01
    runs = {**res.runs, **{m: [_val_run(m, v) for v in vals] for m, vals in seeds_val.items()}}
    longer = {"flex": _val_run("flex", 0.51, epochs=20), "replicate": _val_run("replicate", 0.45, epochs=20)}
    cos = dataclasses.replace(res, runs=runs, longer=longer, lr_schedule="cosine")
    flex, rep = cos.convergence("flex"), cos.convergence("replicate")
    assert flex.moved == pytest.approx(0.01) and flex.seed_sd == pytest.approx(0.02) and flex.converged
    assert rep.moved == pytest.approx(0.05) and rep.converged is False
    assert cos.unconverged("flex") == "" and "replicate" in cos.unconverged("replicate")
    assert "replicate_wide" in cos.unconverged("replicate_wide")  # not doubled: a cosine run cannot tell
    parts = {p.goal: p for p in cos.goal_map()["generated"].parts}
    assert parts["replicate"].outcome == "not shown" and "replicate" in parts["replicate"].reason
    assert parts["replicate_wide"].outcome == "not shown"
    assert cos.rising()["flex"] is False and cos.rising()["replicate"] is True
    rows = {r["model"]: r for r in cos.to_json()["convergence"]}
    assert rows["replicate"]["longer_epochs"] == 20 and rows["replicate"]["converged"] is False
    assert rows["flex"]["val_best_by_seed"] == pytest.approx(seeds_val["flex"])
    # paired on the first seed: 0.51 - 0.50 and 0.45 - 0.40 (the rule's move is from the seeds' mean)
    assert rows["flex"]["moved_same_seed"] == pytest.approx(0.01)
    assert rows["replicate"]["moved_same_seed"] == pytest.approx(0.05)
    # a constant learning rate without doubling keeps the last-fifth rule (res: every run peaks early)
    assert dataclasses.replace(res, runs=runs).unconverged("replicate_wide") == ""


def test_five_channel_scores_and_their_paired_differences(res):
    import dataclasses

    rng = np.random.default_rng(5)
    rgb = [rng.random(N) < 0.45 for _ in SEEDS]
    beyond = {
        "RGBLE": [_flip(x, rng, right=0.1) for x in rgb],
        "RGB": rgb,
        "L": [_flip(x, rng, wrong=0.3) for x in rgb],
    }
    five = dataclasses.replace(res, beyond={"flex_5ch": beyond})
    rows = {r["combo"]: r for r in five.to_json()["beyond_rgb"]}
    assert [rows[c]["channels"] for c in ("RGBLE", "RGB", "L")] == [5, 3, 1]
    assert rows["RGBLE"]["accuracy_by_seed"] == pytest.approx([float(x.mean()) for x in beyond["RGBLE"]])
    iv = stats.paired_difference_interval(Sample.from_rows(beyond["L"]), Sample.from_rows(rgb))
    assert rows["L"]["minus_rgb"] == pytest.approx(iv.estimate) and rows["L"]["minus_rgb_interval"] == iv.as_list()
    assert rows["RGBLE"]["minus_rgb_interval"][0] > 0 and rows["L"]["minus_rgb_interval"][1] < 0


def test_the_rate_choice_trains_the_first_seeds_experts_and_uses_the_best(make_split):
    from types import SimpleNamespace

    from hwlib.config import ChannelStudySettings
    from hwlib.studies.channels import run_channel_study

    splits = {"train": make_split(96, classes=4, seed=1), "val": make_split(24, classes=4, seed=2),
              "test": make_split(24, classes=4, seed=3)}  # fmt: skip
    data = SimpleNamespace(name="tiny", size=24, num_classes=4, eval_split="test", splits=splits)
    settings = ChannelStudySettings(epochs=1, seeds=1, batch_size=16, lr=1e-3, lr_candidates=(1e-3, 3e-3))
    lines: list[str] = []
    res = run_channel_study(data, settings=settings, profile="t", seeds=[0], run_dir=None, train_per_class=None,
                            variants=(), latency_repeats=0, log=lines.append)  # fmt: skip
    rows = res.lr_choice_rows()
    assert [r["lr"] for r in rows] == [1e-3, 3e-3]
    assert all(sorted(r["val_best_by_combo"]) == sorted(COMBOS) for r in rows)
    best = max(rows, key=lambda r: r["val_best_mean"])  # max: the first of equals, as the study's argmax
    assert res.lr == best["lr"] and [r["chosen"] for r in rows] == [r is best for r in rows]
    assert any(f"peak learning rate {res.lr:g}" in line for line in lines)
    # the trials are kept apart: the experts of the study proper are one run per combination and seed
    assert {n: len(v) for n, v in res.runs.items()} == {f"expert_{c}": 1 for c in COMBOS}
    assert res.to_json()["lr_choice"] == rows
    from hwlib.report import channels as report

    table = report.lr_choice_table(res)
    assert list(table.index) == ["0.001", "0.003"]
    assert list(table["used"]) == ["yes" if r["chosen"] else "" for r in rows]
    assert table.loc[f"{res.lr:g}", "mean of 7"] == f"{best['val_best_mean']:.3f}"


def test_residual_diversity_measures_the_generated_residual_alone():
    import torch

    from hwlib.flexconv import HybridFlexConv2d
    from hwlib.studies.channels import residual_diversity

    torch.manual_seed(0)
    layer = HybridFlexConv2d(4, 3, known_channels=3)
    x = torch.rand(8, 3, 16, 16)
    at_init = residual_diversity(layer, x, [0, 1, 2])  # the residual's last layer starts at zero
    assert at_init["residual_to_static"] == pytest.approx(0.0, abs=1e-12)
    torch.nn.init.normal_(layer.feature2kernel[-1].weight, std=0.5)  # the MLP's zero-initialised last layer
    d = residual_diversity(layer, x, [0, 1, 2])
    assert d["residual_to_static"] > 0 and 0.0 < d["residual_between_images_share"] <= 1.0
    same = residual_diversity(layer, x[:1].expand(8, -1, -1, -1), [0, 1, 2])  # one image eight times
    assert same["residual_between_images_share"] == pytest.approx(0.0, abs=1e-9)
    one = residual_diversity(layer, x[:1], [0, 1, 2])
    assert same["residual_to_static"] == pytest.approx(one["residual_to_static"])


def _budget_result(res, *, sub_converged: bool):
    """res at 10 epochs, whose experts were doubled and still improving, plus a 20-epoch budget with
    flex and the experts on every seed (flex 10 points behind the experts on RG there), doubled to 40
    epochs: converged or not as asked."""
    import dataclasses

    rising = {f"expert_{c}": [_val_run(f"expert_{c}", v) for v in (0.40, 0.41, 0.39)] for c in COMBOS}
    base = dataclasses.replace(
        res,
        runs={**res.runs, **rising, "flex": [_val_run("flex", v) for v in (0.40, 0.41, 0.39)]},
        longer={**{m: _val_run(m, 0.50, epochs=20) for m in rising}, "flex": _val_run("flex", 0.40, epochs=20)},
        lr_schedule="cosine",
        epochs=10,
        at_budget={},
    )
    sub = base.empty_like(epochs=20)
    rng = np.random.default_rng(3)
    for s in range(len(SEEDS)):
        for c in COMBOS:
            flex = res.correct["flex"][c][s]
            sub.correct.setdefault("flex", {}).setdefault(c, []).append(flex)
            expert = _flip(flex, rng, right=0.3) if c == "RG" else flex.copy()
            sub.correct.setdefault(EXPERTS, {}).setdefault(c, []).append(expert)
    sub.schedule = {"flex": "joint", EXPERTS: "own"}
    sub.runs = {m: [_val_run(m, v, epochs=20) for v in (0.50, 0.52, 0.48)] for m in ("flex", *rising)}
    moved = 0.50 if sub_converged else 0.60  # against the seeds' mean 0.50, sd 0.02
    sub.longer = {m: _val_run(m, moved, epochs=40) for m in sub.runs}
    base.at_budget = {20: sub}
    return base


def test_goal_one_is_judged_at_the_first_budget_where_flex_and_the_experts_converged(res):
    from hwlib.report import channels as report

    cur = _budget_result(res, sub_converged=True)
    sub = cur.at_budget[20]
    assert [b.epochs for b in cur.budgets()] == [10, 20] and cur.goal_budget() is sub
    goal = cur.goal_map()["experts"]
    assert goal.outcome == "missed" and goal.settled_by.goal == "RG" and "20 epochs" in goal.goal
    assert goal.settled_by.estimate == pytest.approx(sub.diff("flex", EXPERTS, "RG").estimate)
    assert cur.goal_map()["experts_equal_steps"].parts[0].estimate == pytest.approx(
        res.diff(EQUAL_STEPS, EXPERTS, "RGB").estimate
    )  # the equal-steps row stays at the base budget
    rows = cur.to_json()["budget_curve"]
    assert [r["epochs"] for r in rows] == [10, 20] and [r["goal_judged_here"] for r in rows] == [False, True]
    assert rows[1]["accuracy_by_seed"]["flex"]["RG"] == pytest.approx(sub.accuracy_by_seed["flex"]["RG"])
    assert rows[1]["training_images_seen"]["flex"] == rows[1]["training_images_seen"][EXPERTS]  # equal compute
    assert rows[1]["flex_minus_experts"]["RG"]["interval"] == sub.diff("flex", EXPERTS, "RG").as_list()
    table = report.budget_table(cur)
    assert list(table.index) == [10, 20] and list(table["goal 1 judged here"]) == ["", "yes"]
    assert table.loc[20, "worst combination"].startswith("RG")
    conv = report.convergence_table(cur)
    assert ("expert_RG", 20) in conv.index and conv.loc[("expert_RG", 20), "doubled to (epochs)"] == 40


def test_goal_one_without_a_converged_budget_is_judged_at_the_last_and_not_shown(res):
    cur = _budget_result(res, sub_converged=False)
    assert cur.goal_budget() is cur.at_budget[20]
    goal = cur.goal_map()["experts"]
    assert goal.outcome == "not shown" and any("expert_" in p.reason for p in goal.parts)
    assert cur.to_json()["budget_curve"][1]["unconverged"]


def test_the_budget_curve_trains_its_models_on_every_seed_and_each_run_once(make_split):
    from types import SimpleNamespace

    from hwlib.config import ChannelStudySettings
    from hwlib.studies.channels import VARIANT_BY_NAME, run_channel_study

    splits = {"train": make_split(96, classes=4, seed=1), "val": make_split(24, classes=4, seed=2),
              "test": make_split(24, classes=4, seed=3)}  # fmt: skip
    data = SimpleNamespace(name="tiny", size=24, num_classes=4, eval_split="test", splits=splits)
    settings = ChannelStudySettings(epochs=1, seeds=2, batch_size=32, lr=1e-3, longer_models=("flex", "experts"),
                                    budgets=(1, 2), budget_models=("experts", "flex"))  # fmt: skip
    lines: list[str] = []
    res = run_channel_study(data, settings=settings, profile="t", seeds=[0, 1], run_dir=None, train_per_class=None,
                            variants=(VARIANT_BY_NAME["flex"],), latency_repeats=0, log=lines.append)  # fmt: skip
    sub = res.at_budget[2]
    assert sub.epochs == 2 and {len(r.history) for rs in sub.runs.values() for r in rs} == {2}
    assert {n: len(v) for n, v in sub.runs.items()} == dict.fromkeys(("flex", *(f"expert_{c}" for c in COMBOS)), 2)
    assert {len(r.history) for r in sub.longer.values()} == {4} and set(sub.longer) == set(sub.runs)
    assert len(sub.correct["flex"]["RG"]) == 2 and len(sub.correct[EXPERTS]["RG"]) == 2
    # the base budget's doubling run (2 epochs, seed 0) is the budget's first seed: trained once
    assert res.longer["flex"] is sub.runs["flex"][0]
    trained = 8 * 2 + 8 * 2 + 8  # base (flex + 7 experts) x 2 seeds, budget 2 x 2 seeds less seed 0 reused + 8
    assert res.run_counts["trained"] == trained
