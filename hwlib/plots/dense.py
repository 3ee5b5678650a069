"""Notebook 02's figures: the budget curve (accuracy and ratio against training steps) and the
results measured elsewhere, drawn apart from this run's."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..stats import Interval


def _reference_lines(ax, *, bar: float, horizontal: bool) -> None:
    """The goal's bar and equality, each labelled on the axes."""
    lines = ((bar, f"goal: {bar:.2f}", "--"), (1.0, "equal accuracy: 1.00", ":"))
    for value, text, style in lines:
        if horizontal:
            ax.axhline(value, color="0.3", ls=style, lw=1)
            ax.annotate(
                text,
                (1.0, value),
                xycoords=("axes fraction", "data"),
                xytext=(-4, 3),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=8,
                color="0.3",
            )
        else:
            ax.axvline(value, color="0.3", ls=style, lw=1)
            left = value < 1.0  # the bar's label left of its line, equality's right of its own: never on each other
            ax.annotate(text, (value, 1.0), xycoords=("data", "axes fraction"), xytext=(-3 if left else 3, 3),
                        textcoords="offset points", ha="right" if left else "left", va="bottom", fontsize=8,
                        color="0.3")  # fmt: skip


def plot_budget_curve(
    accuracy: dict[str, list[tuple[int, list[float]]]],
    ratios: list[tuple[int, Interval]],
    *,
    labels: dict[str, str],
    colours: dict[str, str],
    ratio_label: str,
    bar: float,
    title: str,
    seconds: dict[str, list[tuple[float, list[float]]]] | None = None,
) -> plt.Figure:
    """Left: test accuracy against training steps per model (seeds as dots, mean as a line); then,
    given `seconds` (model -> (median training seconds, accuracies) per budget), the same against
    measured training time; right: the ratio of the two models against the candidate's steps with
    its 95% interval, the goal's bar and equality drawn and labelled. Every point is a run sized to
    its budget (its own schedule)."""
    if seconds:
        fig, (ax, tx, bx) = plt.subplots(1, 3, figsize=(16, 4.2))
        for m, timed in seconds.items():
            tx.plot([t / 60 for t, _ in timed], [float(np.mean(v)) for _, v in timed], "-o", color=colours[m],
                    label=labels[m])  # fmt: skip
        tx.set_xscale("log", base=2)
        tx.set_xlabel("training time, minutes, log scale (median over seeds)")
        tx.set_ylabel("test accuracy (mean)")
        tx.set_title("test accuracy by measured training time", fontsize=10)
        tx.legend(fontsize=8)
    else:
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.0))
    steps_all = sorted({s for pts in accuracy.values() for s, _ in pts})
    for m, pts in accuracy.items():
        xs = [s for s, _ in pts]
        ax.plot(xs, [float(np.mean(v)) for _, v in pts], "-o", color=colours[m], label=f"{labels[m]} (mean)")
        for s, v in pts:
            ax.scatter([s] * len(v), v, color=colours[m], s=14, alpha=0.5, zorder=3)
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps_all, [f"{s:,}" for s in steps_all])
    ax.set_xlabel("training steps, log scale (each point: a run with its own schedule)")
    ax.set_ylabel("test accuracy")
    ax.set_title("test accuracy by budget (dots: seeds)", fontsize=10)
    ax.legend(fontsize=8)
    xs = [s for s, _ in ratios]
    est = [iv.estimate for _, iv in ratios]
    lo = [iv.estimate - iv.low if iv.exists else 0 for _, iv in ratios]
    hi = [iv.high - iv.estimate if iv.exists else 0 for _, iv in ratios]
    bx.errorbar(xs, est, yerr=[lo, hi], fmt="o-", color="black", capsize=4, label=f"{ratio_label} [95% interval]")
    for x, (_, iv) in zip(xs, ratios):
        bx.annotate(
            f"{iv.estimate:.2f}", (x, iv.estimate), xytext=(6, 0), textcoords="offset points", va="center", fontsize=8
        )
    _reference_lines(bx, bar=bar, horizontal=True)
    bx.set_xscale("log", base=2)
    bx.set_xticks(xs, [f"{s:,}" for s in xs])
    bx.set_xlabel("training steps, log scale")
    bx.set_ylabel(ratio_label)
    finite = [v for iv in (r for _, r in ratios) for v in (iv.low, iv.high, iv.estimate) if np.isfinite(v)]
    bx.set_ylim(min([bar - 0.05, *finite]) - 0.02, max([1.05, *finite]) + 0.05)
    bx.set_title("the ratio by budget: where does it settle?", fontsize=10)
    bx.legend(fontsize=8, loc="upper right")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_references(rows: list[tuple[str, Interval | float]], *, bar: float, title: str) -> plt.Figure:
    """Results measured elsewhere, one row each (label: source and setting), as a ratio with its
    interval where one is known; the goal's bar and equality labelled."""
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    for i, (_label, value) in enumerate(rows):
        if isinstance(value, Interval):
            ax.errorbar(
                value.estimate,
                i,
                xerr=[[value.estimate - value.low], [value.high - value.estimate]],
                fmt="s",
                color="0.2",
                capsize=4,
            )
            ax.annotate(
                f"{value.estimate:.2f} [{value.low:.2f}, {value.high:.2f}]",
                (value.high, i),
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        else:
            ax.plot(value, i, "o", color="0.2")
            ax.annotate(f"{value:.2f}", (value, i), xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    _reference_lines(ax, bar=bar, horizontal=False)
    ax.set_xlabel("4-conv network / ResNet34 test accuracy")
    ax.set_xlim(0.7, 1.45)
    ax.set_title(title, fontsize=10, pad=18)
    fig.tight_layout()
    return fig


__all__ = ["plot_budget_curve", "plot_references"]
