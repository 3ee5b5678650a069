"""Notebook 03's prose (hwlib.report.params) on study results built without building a model: every
number it prints is in the results JSON, every condition follows the numbers, and the table
carries every claim whole."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import escape

import numpy as np
import pandas as pd
import pytest

from hwlib import params
from hwlib.report import params as report
from hwlib.studies.params import MAP_SIZES, ModelCount, ParamStudyResult
from hwlib.studies.results import RunInfo

D4 = params.Measured(5_375_538, 3_855_550_002)  # Dense4 at the original's setting (50 classes, 128 px)
R34 = params.Measured(21_847_722, 1_196_743_146)  # ResNet34 + the original's head
MACS = {
    "dense4": {64: 961_578_546, 128: D4.macs, 224: 11_819_992_626},
    "resnet34": {64: 299_620_842, 128: R34.macs, 224: 3_663_829_482},
}


def study(
    *,
    checks: list[params.Check] | None = None,
    d4: params.Measured = D4,
    r34: params.Measured = R34,
    macs: dict[str, dict[int, int]] = MACS,
    map_sizes: tuple[int, ...] = MAP_SIZES,
) -> ParamStudyResult:
    channels = np.arange(1, 2049)
    curves, _ = params.params_vs_channels(out_channels=32, channels=channels, map_sizes=map_sizes)
    return ParamStudyResult(
        info=RunInfo(dataset="none", profile="test", split="none", image_size=128, device="cpu"),
        num_classes=50,
        checks=checks if checks is not None else [params.Check("a", 1, 1), params.Check("b", 2, 2)],
        corrections=params.original_corrections(dense4_cost=d4, resnet34_cost=r34),
        printouts=params.original_printouts(dense4_cost=d4, resnet34_cost=r34),
        models={
            "dense4": ModelCount("Dense4", d4.params, macs["dense4"]),
            "resnet34": ModelCount("ResNet34", r34.params, macs["resnet34"]),
        },
        out_channels=32,
        channels=channels,
        layers=params.channel_crossovers(out_channels=32, map_sizes=map_sizes),
        curves=curves,
    )


# -- every number printed is in the results JSON ---------------------------------------------------
# a number on its own (not part of a name such as Dense4, Conv2d or the second 4 of 4x4): thousands
# separators, decimals, a trailing percent sign
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)")


def numbers(text: str) -> list[str]:
    return [m.group(0) for m in NUMBER.finditer(text)]


def _leaves(o, strings: list[str], values: list[float]) -> None:
    if isinstance(o, dict):
        for k, v in o.items():
            strings.append(str(k))
            _leaves(v, strings, values)
    elif isinstance(o, list):
        for v in o:
            _leaves(v, strings, values)
    elif isinstance(o, str):
        strings.append(o)
    elif isinstance(o, (int, float)) and not isinstance(o, bool):
        values.append(float(o))


def unaccounted(text: str, payload: dict) -> list[str]:
    """Numbers in `text` found nowhere in `payload`: quoted text that is in the JSON (a claim as the
    original writes it, a check's name) is taken out first; every other number must be a numeric
    value (or a numeric key, such as an image size) of the JSON, printed to its shown decimals
    (a percentage: the value x 100)."""
    payload = json.loads(json.dumps(payload, default=lambda o: o.tolist()))  # as write_json writes it
    strings: list[str] = []
    values: list[float] = []
    _leaves(payload, strings, values)
    keys = {s for s in strings if s.isdigit()}
    for s in sorted((s for s in strings if len(s) > 3), key=len, reverse=True):
        text = text.replace(s, " ")
    missing = []
    for token in numbers(text):
        plain = token.rstrip("%").replace(",", "")
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        scale = 100.0 if token.endswith("%") else 1.0
        if plain in keys or any(f"{v * scale:.{decimals}f}" == plain for v in values):
            continue
        missing.append(token)
    return missing


def test_the_number_extraction():
    assert numbers("Dense4 has 0.246x ResNet34's, 1,025 and 4x4 maps, 12.5% of Conv2d(3, 32, 3)") == [
        "0.246", "1,025", "4", "12.5%", "3", "32", "3"
    ]  # fmt: skip
    payload = {"ratio": 0.2461, "share": 0.125, "models": {"a": {"64": 7}}, "what": "Conv2d(3, 32, 3) parameters"}
    assert unaccounted("0.25x, 0.246, 12.5%, 64 px, Conv2d(3, 32, 3) parameters", payload) == []
    assert unaccounted("0.247 and 1,234,567 and 13%", payload) == ["0.247", "1,234,567", "13%"]


@pytest.mark.parametrize(
    "res",
    [
        study(),
        study(checks=[params.Check("a", 1, 1), params.Check("b", 2, 3)]),
        study(d4=params.Measured(30_000_000, D4.macs), map_sizes=(8, 2)),
    ],
    ids=["as measured", "a count differs", "other numbers"],
)
def test_every_number_the_prose_prints_is_in_the_results_json(res):
    payload = res.to_json()
    for name, text in (
        ("findings", report.findings_markdown(res)),
        ("summary", report.summary_markdown(res)),
        ("limitations", report.limitations_markdown(res)),
    ):
        assert numbers(text), name
        assert unaccounted(text, payload) == [], name


def test_no_words_about_how_the_project_is_made():
    res = study(checks=[params.Check("a", 1, 1), params.Check("b", 2, 3)])
    text = " ".join(
        [report.findings_markdown(res), report.summary_markdown(res), report.limitations_markdown(res)]
    ).lower()
    for word in ("round", "issue", "fallback", "todo"):
        assert word not in text, word


# -- conditions follow the numbers -----------------------------------------------------------------
def bullets(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- **")]


def test_findings_group_every_claim_by_its_verdict():
    res = study()
    lines = bullets(report.findings_markdown(res))
    assert len(lines) == 6  # the checks, the right, wrong and incomplete claims, compute, crossovers
    assert [len(res.claims_by(v)) for v in ("correct", "wrong", "incomplete")] == [6, 5, 1]
    bullet = {"correct": 1, "wrong": 2, "incomplete": 3}
    for c in res.claims:
        item = f"{c.what} ({c.original})" if c.verdict == "correct" else f"{c.what}: {c.original} -> {c.correct}"
        assert [i for i, line in enumerate(lines) if item in line] == [bullet[c.verdict]], c.what
    no_errors = replace(res, corrections=[c for c in res.corrections if c.verdict != "wrong"])
    assert len(bullets(report.findings_markdown(no_errors))) == 5


def test_findings_name_the_counts_that_differ():
    res = study(checks=[params.Check("a", 1, 1), params.Check("b", 2, 3)])
    first = bullets(report.findings_markdown(res))[0]
    assert numbers(first) == ["1", "2"] and first.rstrip(".").endswith(": b")
    assert numbers(bullets(report.findings_markdown(study()))[0]) == ["2", "2"]


def test_the_compute_comparison_follows_the_ratios():
    res = study()
    assert res.params_ratio < 1 < min(res.macs_ratio.values())
    line = bullets(report.findings_markdown(res))[4]
    assert "0.246x" in line and "3.21x to 3.23x" in line
    assert line.startswith("- **Fewer parameters, more compute**") and "does not measure cost" in line
    # more parameters and more compute: no contrast drawn
    big = study(d4=params.Measured(30_000_000, D4.macs))
    line = bullets(report.findings_markdown(big))[-2]
    assert big.params_ratio > 1 and line.startswith("- **More parameters, more compute**")
    assert "1.373x" in line and "does not measure cost" not in line


def test_the_crossover_line_follows_the_layers():
    line = bullets(report.findings_markdown(study()))[-1]
    for layer in params.channel_crossovers(out_channels=32, map_sizes=MAP_SIZES):
        assert f"from C = {layer.crossover:,}" in line
    assert "H*W + 1" in line and "deep in a network" in line
    single = bullets(report.findings_markdown(study(map_sizes=(8,))))[-1]  # one size: no trend to state
    assert "H*W + 1" in single and "deep in a network" not in single


def test_the_summary_counts():
    text = report.summary_markdown(study())
    assert text.startswith("**Summary**")
    # checks, claims, right, wrong, incomplete; the parameter and multiply-add ratios at the setting
    assert numbers(text) == ["2", "12", "6", "5", "1", "0.246", "3.22", "128", "50", "50", "128"]


# -- the side-by-side table ------------------------------------------------------------------------
def test_original_vs_correct_table_holds_every_claim_whole():
    res = study()
    table = report.original_vs_correct_table(res)
    assert list(table.index) == [c.what for c in res.claims]
    assert list(table.columns) == ["original report", "correct (computed here)", "verdict"]
    for c in res.claims:
        row = table.loc[c.what]
        assert row["original report"] == c.original and row["correct (computed here)"] == c.correct
        assert row["verdict"].split(":")[0] == c.verdict
        assert (row["verdict"] == "correct") == (c.verdict == "correct")
    with pd.option_context("display.max_colwidth", None, "display.width", 200, "display.max_columns", 20):
        plain, html = repr(table), table._repr_html_()
    longest = max((c.why for c in res.claims), key=len)
    assert longest in plain and escape(longest) in html and "..." not in plain
