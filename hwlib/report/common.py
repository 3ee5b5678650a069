"""Wording every report shares: a verdict as a line, the Summary's header, and the notation note.

A verdict line reads `**met**: <goal>: <estimate> [<low>, <high>] (bar <bar>)`, with the part that
settles a goal over several parts, or the reason a goal is not shown. Intervals are 95% and cover
seed and test-set noise (:mod:`hwlib.stats`); "±" is only ever a standard deviation over seeds.
"""

from __future__ import annotations

from ..stats import Interval, Verdict, interval_text
from ..studies.results import RunInfo

NOTATION = (
    "Notation: mean ± sd (n seeds) is the spread over seeds (sample sd); [low, high] is a 95% interval "
    "that covers both seed noise and test-set sampling; differences are in points (1 point = 0.01 accuracy)."
)


def value_text(iv: Interval, *, points: bool) -> str:
    """An estimate with its interval, in points (signed) or as a plain number."""
    return interval_text(iv, points=points)


def bar_text(bar: float, *, points: bool, direction: str) -> str:
    return f"bar {direction} {100 * bar:+.1f} points" if points else f"bar {direction} {bar:.2f}"


def verdict_line(v: Verdict, *, points: bool) -> str:
    """One Markdown bullet: outcome in bold, the goal, the number that decides it and why."""
    head = f"- **{v.outcome}**: {v.goal}"
    if v.reason:
        bar = bar_text(v.bar, points=points, direction=v.direction)
        return f"{head}: {value_text(v.interval, points=points)} ({bar}); not shown because {v.reason}"
    if v.parts:
        s = v.settled_by
        if v.outcome == "not shown":
            open_ = [p for p in v.parts if p.outcome == "not shown"]
            with_reason = [p for p in open_ if p.reason]
            first = s if s is not None and s.reason else (with_reason[0] if with_reason else None)
            reasons = [first.reason + (f" (on {first.goal}; each part below gives its own)" if len(with_reason) > 1
                                       else "")] if first is not None else []  # fmt: skip
            no_interval = [p.goal for p in open_ if not p.reason and not p.interval.exists]
            straddles = [p.goal for p in open_ if not p.reason and p.interval.exists]
            tail = "".join(f"; {r}" for r in reasons)
            tail += f"; no interval on {', '.join(no_interval)} (one seed)" if no_interval else ""
            tail += f"; the interval straddles the bar on {', '.join(straddles)}" if straddles else ""
            worst = f"; worst {s.goal}: {value_text(s.interval, points=points)}" if s is not None else ""
            return f"{head}{worst}{tail} ({bar_text(v.bar, points=points, direction=v.direction)})"
        assert s is not None
        word = "settled by" if v.outcome == "missed" else "closest to the bar"
        return (
            f"{head}: {word} {s.goal}, {value_text(s.interval, points=points)} "
            f"({bar_text(v.bar, points=points, direction=v.direction)}; "
            f"{sum(p.outcome == 'met' for p in v.parts)} of {len(v.parts)} parts met)"
        )
    return f"{head}: {value_text(v.interval, points=points)} ({bar_text(v.bar, points=points, direction=v.direction)})"


def part_lines(v: Verdict, *, points: bool) -> list[str]:
    """One indented bullet per part of a goal over several parts."""
    return [
        f"  - {p.goal}: **{p.outcome}**, {value_text(p.interval, points=points)}"
        + (f" ({p.reason})" if p.reason else "")
        for p in v.parts
    ]


def setting_text(info: RunInfo) -> str:
    """'imagenette10, test split, profile `cpu-real`, 32 px, seeds [0, 1, 2], <device>'."""
    seeds = f"seed {info.seeds[0]}" if len(info.seeds) == 1 else f"seeds {info.seeds}"
    return f"{info.dataset}, {info.split} split, profile `{info.profile}`, {info.image_size} px, {seeds}, {info.device}"


__all__ = ["NOTATION", "bar_text", "part_lines", "setting_text", "value_text", "verdict_line"]
