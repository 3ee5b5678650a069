"""Notebook 03's figure: parameters against the number of input channels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .common import MODEL_COLOURS, model_colour, savefig  # noqa: F401


def plot_params_vs_channels(
    curves: dict[str, np.ndarray], channels: np.ndarray, crossovers: dict[str, int], *, conv_label: str
) -> plt.Figure:
    """Parameters of one layer vs its input channels (log-log), crossover points marked.

    FlexConv layers whose counts lie within 10% of each other (e.g. original mode at 16x16 and
    pooled) would draw as one line: the first is drawn wide and pale, the next dotted on top of it,
    the legend gives each exact count, and their crossovers share one label.
    """
    fig, ax = plt.subplots(figsize=(10, 5))
    palette = sns.color_palette()
    conv = curves[conv_label]
    ax.plot(channels, conv, lw=2.4, color=palette[0], label=conv_label, zorder=3)
    flex = {name: float(ys[0]) for name, ys in curves.items() if name != conv_label}
    groups: list[list[str]] = []
    for name in sorted(flex, key=flex.__getitem__):
        if groups and flex[name] / flex[groups[-1][0]] < 1.1:
            groups[-1].append(name)
        else:
            groups.append([name])
    distinct = ("#E69F00", "#009E73", "#D55E00", "#6A3D9A", "#444444", "#56B4E9", "#CC79A7")  # far from conv's blue
    colour = {name: distinct[i % len(distinct)] for i, name in enumerate(sorted(flex, key=flex.__getitem__))}
    for group in groups:
        for j, name in enumerate(group):
            wide = j == 0 and len(group) > 1
            ax.plot(
                channels,
                curves[name],
                ls="-" if wide else ("--" if j == 0 else ":"),
                lw=6 if wide else 2,
                alpha=0.45 if wide else 1.0,
                color=colour[name],
                label=f"{name}: {flex[name]:,.0f} params",
                zorder=2,
            )
        marked = [(name, crossovers[name]) for name in group if name in crossovers]
        marked = [(name, c) for name, c in marked if channels[0] <= c <= channels[-1]]
        if not marked:
            continue
        for _name, c in marked:
            ax.plot([c], [conv[np.searchsorted(channels, c)]], "o", color="black", ms=5, zorder=4)
        c0 = marked[0][1]
        if len(marked) == 1:
            text = f"C = {c0:,}"
        else:
            text = "\n".join(f"C = {c:,}: {name.removeprefix('FlexConv ')}" for name, c in marked)
        ax.annotate(
            text,
            (c0, conv[np.searchsorted(channels, c0)]),
            textcoords="offset points",
            xytext=(8, -6),
            va="top",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
            zorder=5,
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input channels C")
    ax.set_ylabel("parameters of the layer")
    ax.set_title("Where FlexConv saves parameters: right of each marked crossover", fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig
