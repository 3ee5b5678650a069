"""hwlib.report.channels: structure, numbers and verdicts of notebook 01's prose and tables (not its
wording), on the hand-made ChannelStudyResult of test_studies_channels."""

import json
import re

import pytest

from hwlib.data import COMBOS
from hwlib.data.prepare import DataFacts
from hwlib.report import channels as report
from hwlib.stats import interval_text

from .test_studies_channels import channel_result

MEAN_SD = re.compile(r"^\d\.\d{3} ± \d\.\d{3} \(\d+ seeds\)$")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+\.\d+)(?!\w|\.\d)")  # decimals and 1,234-style counts
INTERNAL = re.compile(r"\b(round|rounds|issue|issues|previous round)\b", re.IGNORECASE)
FACTS = DataFacts(
    name="synth",
    layout="generated",
    num_classes=10,
    class_names=[f"c{i}" for i in range(10)],
    class_names_from="generated",
    used={"train": 400, "val": 100, "test": 1000},
    available={"train": 4000, "val": 500, "test": 1000},
    image_size=32,
    photo_size="32x32 px",
)


@pytest.fixture(scope="module")
def res():
    return channel_result()


@pytest.fixture(scope="module")
def one_seed():
    return channel_result([0], others_busy=0.4)


def _json_numbers(o) -> list[float]:
    if isinstance(o, bool) or o is None:
        return []
    if isinstance(o, (int, float)):
        return [float(o)]
    if isinstance(o, dict):
        return [x for v in o.values() for x in _json_numbers(v)]
    if isinstance(o, list):
        return [x for v in o for x in _json_numbers(v)]
    return []


def _unexplained(text: str, res) -> list[str]:
    """Numbers printed in `text` that are no value of to_json(), at the printed digits (as is, or in points)."""
    values = _json_numbers(json.loads(json.dumps(res.to_json(), default=str)))
    out = []
    for m in NUMBER.finditer(text):
        s = m.group(0)
        if text[max(0, m.start() - 2) : m.start()].strip() == "<":  # "< 0.001"
            continue
        digits = len(s.split(".")[1]) if "." in s else 0
        x = abs(float(s.replace(",", "")))
        tol = 0.5 * 10**-digits + 1e-9
        if not any(abs(abs(v) - x) <= tol or abs(abs(100 * v) - x) <= tol for v in values):
            out.append(s)
    return out


def test_accuracy_table_cells_are_mean_sd_over_seeds(res):
    t = report.accuracy_table(res)
    assert list(t.columns) == [*COMBOS, "mean of 7", "what"] and list(t.index) == list(res.correct)
    cells = t[[*COMBOS, "mean of 7"]].to_numpy().ravel()
    assert all(MEAN_SD.match(c) for c in cells), cells[:3]
    assert t.loc["flex", "RGB"].startswith(f"{res.accuracy['flex']['RGB']:.3f} ± ")
    assert t.loc["flex", "mean of 7"].startswith(f"{res.mean_of_seven('flex'):.3f} ± ")


def test_summary_answers_with_the_budget_and_the_limit_in_five_lines(res):
    text = report.summary_markdown(res)
    head = text.splitlines()[:5]
    assert head[0].startswith("**Summary**")
    top = "\n".join(head)
    outcomes = [g.outcome for g in res.goals()]
    assert re.findall(r"goal \d \*\*(met|missed|not shown)\*\*", top) == outcomes
    assert "GB" in top  # the combination that settles goal 1
    assert "10 epochs" in top and "40 training images per class" in top and "3 seeds" in top
    assert "limit" in top.lower()


def test_goal_lines_name_what_settles_them_and_agree_with_the_verdicts(res):
    lines = report.goal_lines(res).splitlines()
    heads = [line for line in lines if line.startswith("- ")]
    assert [re.match(r"- \*\*(.+?)\*\*", h).group(1) for h in heads] == [g.outcome for g in res.goals()]
    assert "GB" in heads[0] and "-17.5" in heads[0]
    assert len(lines) == 5 + 7 + 7 + 2 + 6  # a line per goal, one per part of the goals over parts


def test_exploratory_table_is_labelled_and_uses_holm_p(res):
    t = report.exploratory_table(res)
    assert "exploratory" in t.index.name.lower() and "holm" in t.index.name.lower()
    assert list(t.index) == ["flex - template_mixing", "flex_equal_steps - flex_no_stats"]
    assert [c.split(":")[0] for c in t.columns] == ["RGB", "RGB", "mean of 7", "mean of 7", "schedule"]
    rows = {(r["other"], r["combo"]): r for r in res.exploratory()}
    p = rows[("template_mixing", "RGB")]["p_holm"]
    assert t.loc["flex - template_mixing", "RGB: p (Holm)"] == f"{p:.3f}"
    assert re.fullmatch(
        r"[+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\] points",
        t.loc["flex_equal_steps - flex_no_stats", "mean of 7: difference [unadjusted 95%]"],
    )


def test_printed_numbers_come_from_the_result(res, one_seed):
    for r in (res, one_seed):
        for text in (report.summary_markdown(r), report.findings_markdown(r), report.goal_lines(r)):
            assert not _unexplained(text, r), _unexplained(text, r)


def test_findings_state_computed_conditions(res):
    text = report.findings_markdown(res)
    assert "ahead in flex_equal_steps vs flex_no_stats" in text and "template_mixing (" not in text  # Holm-shown only
    assert "for 1 of 8 single models and 1 of 7 experts" in text and "Still improving" in text
    assert "1 of 7 combinations (GB)" in text


def test_no_claim_without_an_interval_on_one_seed(one_seed):
    text = report.summary_markdown(one_seed) + report.findings_markdown(one_seed)
    assert {g.outcome for g in one_seed.goals()} == {"not shown"}
    assert "ahead in" not in text and "straddles" not in text


def test_no_internal_words(res, one_seed):
    for r in (res, one_seed):
        texts = [
            report.summary_markdown(r),
            report.findings_markdown(r),
            report.goal_lines(r),
            report.limitations_markdown(r, data=FACTS),
            report.cost_note(r),
            report.original_comparison(r).to_string(),
            report.exploratory_table(r).to_string(),
        ]
        for text in texts:
            assert not INTERNAL.search(text), INTERNAL.search(text)


def test_latency_only_from_a_quiet_machine(res, one_seed):
    quiet, busy = report.cost_table(res), report.cost_table(one_seed)
    assert "latency ms/img, batch 64" in quiet.columns and quiet.loc["flex", "params"] == 2000
    assert not [c for c in busy.columns if "latency" in c]
    assert "not measured on an idle machine" in report.cost_note(one_seed)
    assert "40%" in report.cost_note(one_seed)


def test_limitations_state_the_data_and_the_seeds(res):
    text = report.limitations_markdown(res, data=FACTS)
    assert text.startswith("**Limitations**")
    assert "10 classes" in text and "train 400" in text and "train 4,000" in text and "1,000 test images" in text


def test_original_comparison_places_the_originals_numbers(res):
    from hwlib.original import ORIGINAL_FLEX

    t = report.original_comparison(res)
    assert list(t["this run's model"]) == ["flex_original", "flex", "cnn3_zero_fill"]
    assert t["original report: best val acc, RGB"].tolist()[::2] == [
        ORIGINAL_FLEX.flex_val_best,
        ORIGINAL_FLEX.cnn3_val_best,
    ]


def test_run_log_writes_every_line_and_prints_nothing(tmp_path, capsys):
    from hwlib.progress import RunLog

    log = RunLog(tmp_path / "runs.log")
    log("flex-seed0: loaded (finished)")
    log("2 training runs: 1 trained, 0 resumed, 1 loaded")
    assert (tmp_path / "runs.log").read_text().splitlines() == [
        "flex-seed0: loaded (finished)",
        "2 training runs: 1 trained, 0 resumed, 1 loaded",
    ]
    assert capsys.readouterr().out == ""


@pytest.fixture(scope="module")
def doubled():
    """The hand-made result trained on a cosine schedule, with a doubling check and a five-channel model."""
    import dataclasses

    import numpy as np

    from .test_studies_channels import SEEDS, N, _flip, _val_run

    base = channel_result()
    runs = {**base.runs, "flex": [_val_run("flex", v) for v in (0.50, 0.52, 0.48)]}
    runs["expert_RGB"] = [_val_run("expert_RGB", v) for v in (0.40, 0.41, 0.39)]
    longer = {"flex": _val_run("flex", 0.51, epochs=20), "expert_RGB": _val_run("expert_RGB", 0.45, epochs=20)}
    rng = np.random.default_rng(5)
    rgb = [rng.random(N) < 0.45 for _ in SEEDS]
    beyond = {c: [_flip(x, rng, right=0.05 * i) for x in rgb] for i, c in enumerate(("RGB", "RGBLE", "LE", "L", "E"))}
    res = dataclasses.replace(
        base, runs=runs, longer=longer, lr_schedule="cosine", lr=1e-3, beyond={"flex_5ch": beyond}
    )
    res.correct["flex_5ch"] = {c: list(rgb) for c in COMBOS}
    res.schedule["flex_5ch"] = "equal_steps"
    return res


def test_doubling_and_five_channel_findings_print_only_result_numbers(doubled):
    text = report.findings_markdown(doubled)
    assert "flex +1.0 (sd 2.0: converged)" in text and "expert_RGB +5.0 (sd 1.0: still improving)" in text
    assert "cosine" in report.summary_markdown(doubled) and "Beyond three channels (flex_5ch" in text
    for t in (text, report.summary_markdown(doubled), report.goal_lines(doubled)):
        assert not _unexplained(t, doubled), _unexplained(t, doubled)
    conv = report.convergence_table(doubled)
    assert list(conv.index.get_level_values("model")) == ["flex", "expert_RGB"]
    assert list(conv["converged (moved <= seed sd)"]) == ["yes", "no"]
    paired = [c for c in conv.columns if "alone" in c]
    assert len(paired) == 1 and conv[paired[0]].str.strip().str.startswith("+").all()
    beyond = report.beyond_table(doubled)
    assert list(beyond.index.get_level_values(1)) == ["RGB", "RGBLE", "LE", "L", "E"]
    rgb_goal = next(p for p in doubled.goal_map()["experts"].parts if p.goal == "RGB")
    assert rgb_goal.outcome == "not shown" and "expert_RGB" in rgb_goal.reason


def test_goal_one_budget_curve_prose_prints_only_result_numbers(res):
    from .test_studies_channels import _budget_result

    cur = _budget_result(res, sub_converged=True)
    sub = cur.at_budget[20]
    summary, findings = report.summary_markdown(cur), report.findings_markdown(cur)
    limits = report.limitations_markdown(cur, data=FACTS)
    for t in (summary, findings, report.goal_lines(cur)):
        assert not _unexplained(t, cur), _unexplained(t, cur)
    curve = next(line for line in findings.splitlines() if line.startswith("- Budget curve"))
    for r in (cur, sub):
        assert interval_text(r.diff("flex", "experts", "mean of 7"), points=True) in curve
    assert "judged at 20 epochs" in curve
    assert f"flex mean of seven {sub.mean_of_seven('flex'):.3f}" in summary
    assert any(line.startswith("- At 20 epochs") and "expert_RG" in line for line in findings.splitlines())
    assert "10, 20 epochs" in limits


def test_without_a_converged_budget_the_curve_says_goal_one_stays_not_shown(res):
    from .test_studies_channels import _budget_result

    findings = report.findings_markdown(_budget_result(res, sub_converged=False))
    curve = next(line for line in findings.splitlines() if line.startswith("- Budget curve"))
    assert "converged at none of them" in curve and "not shown" in curve


def test_aid_line_gives_each_aid_minus_flex_and_its_lowest_combination_against_the_experts():
    import numpy as np

    res = channel_result()
    rng = np.random.default_rng(3)
    res.correct["flex_subset_affine"] = {
        c: [x ^ (rng.random(len(x)) < 0.05) for x in res.correct["flex"][c]] for c in COMBOS
    }
    (line,) = report._joint_aid_lines(res)
    assert interval_text(res.diff("flex_subset_affine", "flex", report.MEAN7), points=True) in line
    worst = min(COMBOS, key=lambda c: res.diff("flex_subset_affine", "experts", c).estimate)
    assert f"{worst} {interval_text(res.diff('flex_subset_affine', 'experts', worst), points=True)}" in line
    assert "flex_distill" not in line  # an aid not trained is not named
    assert report._joint_aid_lines(channel_result()) == []


def test_zero_fill_choice_line_lists_the_kept_epochs():
    res = channel_result()
    (line,) = report._zero_fill_choice_lines(res)
    assert str([r.best_epoch for r in res.runs["cnn3_zero_fill"]]) in line
