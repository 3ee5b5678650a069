"""Rules a machine can check on everything the project publishes (results/*.json, the committed
notebooks, the README): no verdict that its own interval contradicts, no words about how the project
is developed, no table cell cut short, no interval paired across architectures."""

import json
import re

import numpy as np
import pytest

from hwlib import stats
from hwlib.paths import REPO_ROOT
from hwlib.stats import Sample

RESULTS = sorted((REPO_ROOT / "results").glob("0*.json"))
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("0*.ipynb"))
INTERNAL = re.compile(
    r"\b(this|previous|next|last|earlier) round\b|\bround \d|\bissue \d+|\bissue's\b|\bissues? \d", re.IGNORECASE
)
TRUNCATED = re.compile(r"\w\.\.\.(\s|<|\"|$)")  # pandas cuts long cells to "abc..."


def goals_in(obj):
    """Every goal object (and every part of one) anywhere in a results JSON."""
    if isinstance(obj, dict):
        if {"outcome", "interval", "bar", "direction"} <= set(obj):
            yield obj
        for v in obj.values():
            yield from goals_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from goals_in(v)


def check_goal(g: dict) -> None:
    low, high = g["interval"]
    if g["outcome"] == "met":
        assert low is not None and (low >= g["bar"] if g["direction"] == ">=" else high <= g["bar"]), g["goal"]
    elif g["outcome"] == "missed":
        assert low is not None and (high < g["bar"] if g["direction"] == ">=" else low > g["bar"]), g["goal"]
    else:
        assert g["outcome"] == "not shown"
        straddles = low is None or low <= g["bar"] <= high
        assert straddles or g.get("reason") or g.get("parts"), g["goal"]
    if g.get("parts"):
        outs = [p["outcome"] for p in g["parts"]]
        want = "missed" if "missed" in outs else "met" if all(o == "met" for o in outs) else "not shown"
        assert g["outcome"] == want or g.get("reason"), g["goal"]


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_no_published_verdict_contradicts_its_interval(path):
    goals = list(goals_in(json.loads(path.read_text())))
    if path.name.startswith(("01", "02")):
        assert goals, f"{path.name} states no goal in the {{goal, outcome, interval, bar, direction}} form"
    for g in goals:
        check_goal(g)


def test_the_rule_catches_a_met_that_straddles():
    with pytest.raises(AssertionError):
        check_goal({"goal": "g", "outcome": "met", "interval": [0.85, 0.95], "bar": 0.9, "direction": ">="})
    check_goal({"goal": "g", "outcome": "not shown", "interval": [0.85, 0.95], "bar": 0.9, "direction": ">="})


def published_texts():
    for nb in NOTEBOOKS:
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            yield f"{nb.name} cell {i} source", "".join(cell["source"])
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", ""))
                data = out.get("data", {})
                for kind in ("text/plain", "text/markdown", "text/html"):
                    text += "".join(data.get(kind, ""))
                yield f"{nb.name} cell {i} output", text
    yield "README.md", (REPO_ROOT / "README.md").read_text()
    for path in RESULTS:
        yield path.name, path.read_text()


def test_no_words_about_how_the_project_is_developed():
    hits = [(where, m.group(0)) for where, text in published_texts() for m in INTERNAL.finditer(text)]
    assert not hits, hits[:5]


def test_no_table_cell_is_cut_short():
    hits = []
    for nb in NOTEBOOKS:
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                for kind in ("text/plain", "text/html"):
                    text = "".join(data.get(kind, ""))
                    if "<table" in text or kind == "text/plain" and "  " in text:
                        hits += [(nb.name, i, m.group(0)) for m in TRUNCATED.finditer(text)]
                        if re.search(r"\[\d+ rows x \d+ columns\]", text) and "..." in text:
                            hits.append((nb.name, i, "columns elided"))
    assert not hits, hits[:5]


def test_no_interval_pairs_seeds_across_architectures():
    """Seeds of two architectures share nothing: reordering one model's seeds must not change a
    difference or ratio interval (a paired interval would change)."""
    rng = np.random.default_rng(0)
    a = Sample(rng.random((4, 500)) < np.array([[0.50], [0.56], [0.47], [0.53]]))
    b = Sample(rng.random((4, 500)) < np.array([[0.40], [0.46], [0.43], [0.41]]))
    shuffled = Sample(a.correct[[2, 0, 3, 1]])
    for f in (stats.difference_interval, stats.ratio_interval):
        one, two = f(a, b), f(shuffled, b)
        assert one.low == pytest.approx(two.low) and one.high == pytest.approx(two.high)
