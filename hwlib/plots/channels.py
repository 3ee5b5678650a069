"""Notebook 01's figures, each answering one question:

* :func:`plot_gap_to_experts` - how far is one FlexConv model (and the strongest baselines) from the
  seven per-combination experts, on each combination? (points, with 95% intervals, the goal's bar)
* :func:`plot_cost_accuracy` - what does each model's mean accuracy over the seven combinations cost
  in parameters, or in training (image-combination passes)? (every point labelled, with its interval)
* :func:`plot_compute_accuracy` - at a given training compute, which model is most accurate, and
  how does one FlexConv model trained on all seven combinations compare with the seven experts?
* :func:`plot_flexconv_flow` - what does the trained FlexConv layer do with one image: how alike are
  the kernels it uses for R, G and B, and how much does the generated residual change them?

:func:`plot_accuracy_vs_cost` (one point per model, names in a legend) is notebook 02's too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import TwoSlopeNorm

from .. import stats
from ..data.loader import COMBOS
from .common import MODEL_COLOURS, model_colour, savefig  # noqa: F401

if TYPE_CHECKING:
    from ..studies.channels import ChannelStudyResult

MEAN7 = "mean of 7"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "p", "h", "<", ">", "d", "H", "8")


# Notebook 01's models in a fixed order: each keeps its colour and marker in every figure (the first ten
# take the colorblind palette, the next ten its dark variant, any other name the pastel one)
CHANNEL_MODEL_ORDER: tuple[str, ...] = (
    "flex", "flex_equal_steps", "experts", "replicate", "replicate_wide", "template_mixing", "target_param",
    "grey_mean", "cnn3_zero_fill", "flex_5ch", "flex_no_residual", "flex_no_context", "flex_no_stats",
    "flex_no_redistribution", "expert_RGB", "expert_RG", "expert_GB", "expert_RB", "expert_R", "expert_G", "expert_B",
    "flex_distill", "flex_subset_affine",
)  # fmt: skip


def channel_styles(names: list[str]) -> dict[str, tuple]:
    """name -> (colour, marker), fixed per name by CHANNEL_MODEL_ORDER (names outside it follow, in
    the order given), so a model looks the same in every figure of notebook 01."""
    import seaborn as sns

    palette = [*sns.color_palette("colorblind"), *sns.color_palette("dark"), *sns.color_palette("pastel")]
    order = [*CHANNEL_MODEL_ORDER, *(n for n in names if n not in CHANNEL_MODEL_ORDER)]
    return {n: (palette[order.index(n) % len(palette)], MARKERS[order.index(n) % len(MARKERS)]) for n in names}


def channel_colours(names: list[str]) -> dict[str, tuple]:
    """name -> its fixed colour (:func:`channel_styles`), e.g. for plot_history_bands(colours=...)."""
    return {n: c for n, (c, _) in channel_styles(names).items()}


# -- 01_combos: the gap to the experts -----------------------------------------------------------


def plot_gap_to_experts(
    res: ChannelStudyResult, *, models: list[str] | None = None, bar: float = -0.01, title: str
) -> plt.Figure:
    """Accuracy of each model in `models` (default: flex, flex_equal_steps and the two strongest
    channel-adaptive baselines of flex's schedule) minus the per-combination experts', on every
    combination and on the mean of seven: a dot per estimate with its 95% interval [low, high]
    (none with one seed), a line at 0 (as good as the experts) and one at `bar` (goal 1: within 1
    point). Where goal 1 is judged at a longer budget (ChannelStudyResult.goal_budget), flex there
    minus the experts there is drawn beside it (open markers)."""
    from ..report.channels import strongest_baselines
    from ..studies.channels import EQUAL_STEPS, EXPERTS

    models = models or [m for m in ("flex", EQUAL_STEPS, *strongest_baselines(res, 2)) if m in res.correct]
    series = [(m, m, res) for m in models]  # (label, model, the result holding it)
    g = res.goal_budget()
    if g is not res and "flex" in models:  # goal 1 judged at a longer budget: flex there against the experts there
        series.insert(1, (f"flex, {g.epochs} epochs (vs the experts at {g.epochs})", "flex", g))
    combos = [*COMBOS, MEAN7]
    styles = channel_styles(models)
    fig, ax = plt.subplots(figsize=(10.5, 4.6))
    width = 0.7 / max(len(series), 1)
    lows = [0.0, 100 * bar]
    for j, (label, m, r) in enumerate(series):
        ivs = [r.diff(m, EXPERTS, c) for c in combos]
        x = np.arange(len(combos)) + (j - (len(series) - 1) / 2) * width
        y = np.array([100 * iv.estimate for iv in ivs])
        lo = np.array([100 * (iv.estimate - iv.low) if iv.exists else 0.0 for iv in ivs])
        hi = np.array([100 * (iv.high - iv.estimate) if iv.exists else 0.0 for iv in ivs])
        colour, marker = styles[m]
        main = r is not res or j == 0
        ax.errorbar(x, y, yerr=[lo, hi], fmt=marker, color=colour, ms=7 if main else 5.5, capsize=3,
                    lw=1.6 if main else 1.1, mec="black", mew=0.5, label=label, zorder=4 if main else 3,
                    mfc="white" if r is not res else colour)  # fmt: skip
        lows += list(y - lo) + list(y + hi)
    ax.axhline(0, color="black", lw=1)
    ax.axhline(100 * bar, color="firebrick", lw=1, ls="--")
    right = len(combos) - 0.45
    ax.set_xlim(-0.6, right + 1.1)
    ax.text(right + 0.05, 0, " 0: the\n experts' level", va="bottom", ha="left", fontsize=8)
    ax.text(right + 0.05, 100 * bar, f" {100 * bar:+.0f} point:\n the goals' bar", va="top", ha="left", fontsize=8,
            color="firebrick")  # fmt: skip
    ax.axvline(len(COMBOS) - 0.5, color="grey", lw=0.8, ls=":")
    ax.set_xticks(range(len(combos)), [*COMBOS, "mean\nof 7"])
    ax.set_xlabel("channels given to the model (each expert: trained and tested on that combination only)")
    ax.set_ylabel("accuracy minus the expert's (points)")
    span = max(lows) - min(lows) or 1.0
    ax.set_ylim(min(lows) - 0.08 * span, max(lows) + 0.08 * span)
    n = res.sample(models[0], "RGB").seeds
    note = "95% intervals over seeds and test images" if n > 1 else "one seed: no intervals"
    ax.set_title(f"{title}\n(dots: mean over {n} seed{'s' if n != 1 else ''}; bars: {note})", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, title="model")
    fig.tight_layout()
    return fig


# -- 01_beyond_rgb: accuracy with four and five channels ---------------------------------------------


def plot_beyond_rgb(res: ChannelStudyResult, *, model: str = "flex_5ch", title: str) -> plt.Figure:
    """A five-channel model's test accuracy on each channel subset of BEYOND_COMBOS (R, G, B and the
    derived L and E), a dot per mean over seeds with its 95% interval (seeds and test images), grouped
    by the number of channels given; a dashed line at flex_equal_steps' RGB accuracy (the same
    layer and schedule trained on three channels) where the study has it."""
    from ..studies.channels import EQUAL_STEPS

    rows = [r for r in res.beyond_rows() if r["model"] == model]
    rows.sort(key=lambda r: (-r["channels"], r["combo"] != "RGB"))
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    x = np.arange(len(rows))
    y = np.array([r["accuracy"] for r in rows])
    lo = np.array([(r["accuracy"] - r["interval"][0]) if r["interval"][0] is not None else 0.0 for r in rows])
    hi = np.array([(r["interval"][1] - r["accuracy"]) if r["interval"][1] is not None else 0.0 for r in rows])
    derived = ["L" in r["combo"] or "E" in r["combo"] for r in rows]
    for xi, yi, l_, h_, d in zip(x, y, lo, hi, derived, strict=True):
        ax.errorbar(xi, yi, yerr=[[l_], [h_]], fmt="o" if d else "s", color="tab:purple" if d else "tab:blue",
                    ms=7, capsize=3, mec="black", mew=0.5, zorder=3)  # fmt: skip
        ax.annotate(f"{yi:.3f}", (xi, yi + h_), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=8)
    if EQUAL_STEPS in res.correct:
        ref = res.sample(EQUAL_STEPS, "RGB").mean
        ax.axhline(ref, color="grey", lw=1, ls="--")
        ax.text(len(rows) - 0.5, ref, f" {EQUAL_STEPS}\n on RGB ({ref:.3f})", va="bottom", ha="left", fontsize=8)
    for k in sorted({r["channels"] for r in rows})[:-1]:  # a divider after each group of k + 1 channels
        ax.axvline(max(i for i, r in enumerate(rows) if r["channels"] > k) + 0.5, color="grey", lw=0.6, ls=":")
    ax.set_xticks(x, [f"{r['combo']}\n({r['channels']} ch)" for r in rows])
    ax.set_xlim(-0.6, len(rows) + 0.9)
    top, bottom = float((y + hi).max()), float((y - lo).min())
    ax.set_ylim(bottom - 0.05 * (top - bottom or 1.0), top + 0.12 * (top - bottom or 1.0))  # room for the labels
    ax.set_xlabel("channels given (R, G, B; L luminance and E edge strength, both derived from R, G, B)")
    ax.set_ylabel("test accuracy")
    n = res.beyond_sample(model, "RGB").seeds
    note = "95% intervals over seeds and test images" if n > 1 else "one seed: no intervals"
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    ax.set_title(f"{title}\n(dots: mean over {seeds}; bars: {note}; square: the RGB input; 7 of the 31 subsets)",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    return fig


# -- 01_cost_accuracy: size against mean accuracy ---------------------------------------------------


def _spread_labels(ax, xy: Mapping[str, tuple[float, float]], fig) -> list:
    """One text per point, placed right of it and pushed apart vertically (in pixels) until no two
    overlap; a thin leader line joins a moved label to its point."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    names = sorted(xy, key=lambda n: xy[n][1])
    texts = {}
    for n in names:
        texts[n] = ax.annotate(n, xy=xy[n], xytext=(8, 0), textcoords="offset points", va="center", fontsize=8,
                               zorder=6)  # fmt: skip
    for _ in range(200):  # push overlapping labels apart (bottom-up sweep), then repeat until clear
        moved = False
        boxes = {n: texts[n].get_window_extent(renderer) for n in names}
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                ba, bb = boxes[names[a]], boxes[names[b]]
                if ba.overlaps(bb):
                    shift = (ba.y1 - bb.y0) / 2 + 1
                    for n, s in ((names[a], -shift), (names[b], shift)):
                        ox, oy = texts[n].get_position()
                        texts[n].set_position((ox, oy + s * 72 / fig.dpi))
                        boxes[n] = texts[n].get_window_extent(renderer)
                    moved = True
        if not moved:
            break
    for n, t in texts.items():
        if abs(t.get_position()[1]) > 3:
            ax.annotate("", xy=xy[n], xytext=t.get_position(), textcoords="offset points",
                        arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "grey"})  # fmt: skip
    return list(texts.values())


X_AXES = {  # plot_cost_accuracy's x: (label, what it counts)
    "params": "parameters (log scale; experts: all seven together; models of nearly equal size drawn side by side)",
    "images_seen": "image-combination passes in training (log scale; a joint batch of B images counts 7B;\n"
    "experts: all seven together; models with equal counts drawn side by side around the tick)",
}


def plot_cost_accuracy(
    res: ChannelStudyResult, *, title: str, x: str = "params", models: list[str] | None = None
) -> plt.Figure:
    """One point per model: its cost (x="params": parameters, the experts all seven together;
    x="images_seen": image-combination passes in training, the experts' summed) on a log scale
    against the mean accuracy over the seven combinations, with its 95% interval (over seeds and
    test images; none with one seed); a distinct colour and marker per model and its name beside it.
    models: which to draw (default: every model with a cost). With x="images_seen", flex and
    flex_equal_steps (the same model at the experts' total and at one expert's compute) are joined
    by a dashed line."""
    from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

    if x == "params":
        cost = {m: float(res.costs[m].params) for m in res.correct if m in res.costs}
    elif x == "images_seen":
        seen = res.training_images_seen()
        cost = {m: float(seen[m]) for m in res.correct if m in seen}
    else:
        raise ValueError(f"x must be one of {', '.join(X_AXES)}, got {x!r}")
    if models is not None:
        cost = {m: cost[m] for m in models if m in cost}
    names = list(cost)
    styles = channel_styles(names)
    fig, ax = plt.subplots(figsize=(10, 5.6))
    xy, ends = {}, []
    # models within 5% of each other's cost are drawn side by side (x spread by 2% a step, in their
    # cost order) so every interval can be read; their numbers are in the tables
    order = sorted(names, key=lambda m: cost[m])
    groups: list[list[str]] = []
    for m in order:
        if groups and cost[m] <= 1.05 * cost[groups[-1][0]]:
            groups[-1].append(m)
        else:
            groups.append([m])
    step = 1.02 if x == "params" else 1.012  # equal training counts: a narrow strip, the true count at its centre
    spread = {m: step ** (i - (len(g) - 1) / 2) for g in groups for i, m in enumerate(g)}
    for m in names:
        iv = stats.accuracy_interval(res.sample(m, MEAN7))
        ends += [iv.low, iv.high] if iv.exists else []
        px = cost[m] * spread[m]
        colour, marker = styles[m]
        err = [[iv.estimate - iv.low], [iv.high - iv.estimate]] if iv.exists else None
        ax.errorbar(px, iv.estimate, yerr=err, fmt=marker, color=colour, ms=8, mec="black", mew=0.5, capsize=3,
                    lw=1.2, zorder=4)  # fmt: skip
        xy[m] = (px, iv.estimate)
    from ..studies.channels import EQUAL_STEPS, MAIN

    if x == "images_seen" and MAIN.name in xy and EQUAL_STEPS in xy:
        (x0, y0), (x1, y1) = xy[EQUAL_STEPS], xy[MAIN.name]
        ax.plot([x0, x1], [y0, y1], color="grey", lw=1, ls="--", zorder=2)
    xs = [px for px, _ in xy.values()]
    ys = [y for _, y in xy.values()]
    ax.set_xscale("log")
    if x == "images_seen":  # a few distinct counts: a tick at each
        from matplotlib.ticker import FixedLocator

        ax.xaxis.set_major_locator(FixedLocator(sorted({cost[g[0]] for g in groups})))
    else:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.set_xlim(min(xs) / 1.3, max(xs) * 2.0)  # room on the right for the labels
    lo, hi = min([*ys, *ends]), max([*ys, *ends])  # every interval drawn whole
    span = (hi - lo) or 0.05
    ax.set_ylim(lo - 0.05 * span, hi + 0.05 * span)
    ax.set_xlabel(X_AXES[x])
    ax.set_ylabel("test accuracy, mean of the 7 combinations")
    n = res.sample(names[0], "RGB").seeds
    note = "bars: 95% interval over seeds and test images" if n > 1 else "one seed: no intervals"
    ax.set_title(f"{title}\n(mean over {n} seed{'s' if n != 1 else ''}; {note})", fontsize=10)
    fig.tight_layout()
    _spread_labels(ax, xy, fig)
    return fig


def plot_compute_accuracy(res: ChannelStudyResult, *, title: str, models: list[str] | None = None) -> plt.Figure:
    """Mean accuracy over the seven combinations (95% interval over seeds and test images) of each
    model, one panel per training compute (image-combination passes: a joint batch of B images counts
    7B, the experts' summed over the seven), models sorted by accuracy within a panel; goal 1's budget
    curve (flex and the experts at more epochs, ChannelStudyResult.at_budget) adds its own rows, named
    with their epochs; a dotted line marks the experts' accuracy at the base budget in every panel.
    With a few distinct compute levels a panel per level reads better than a log axis on which the
    models of one level pile up. models: which to draw (default: every model trained)."""
    from ..studies.channels import EXPERTS

    entries: list[tuple[str, str, int, stats.Sample]] = []  # (label, model, passes, sample)
    for b in res.budgets():
        seen = b.training_images_seen()
        for m in models if models is not None else list(b.correct):
            if m in seen and m in b.correct:
                label = m if b is res else f"{m}, {b.epochs} epochs"
                entries.append((label, m, seen[m], b.sample(m, MEAN7)))
    if not entries:
        raise ValueError("no model with a training count to draw")
    levels = sorted({e[2] for e in entries})
    acc = {e[0]: stats.accuracy_interval(e[3]) for e in entries}
    rows = {lv: sorted((e for e in entries if e[2] == lv), key=lambda e: acc[e[0]].estimate) for lv in levels}
    fig, axes = plt.subplots(
        len(levels), 1, figsize=(9, 1.2 + 0.42 * len(entries) + 0.5 * len(levels)), sharex=True,
        gridspec_kw={"height_ratios": [len(rows[lv]) + 0.6 for lv in levels]}, squeeze=False,
    )  # fmt: skip
    experts = stats.accuracy_interval(res.sample(EXPERTS, MEAN7)) if EXPERTS in res.correct else None
    styles = channel_styles(list(dict.fromkeys(e[1] for e in entries)))
    for ax, lv in zip(axes[:, 0], levels):
        for y, (label, m, _, _) in enumerate(rows[lv]):
            iv = acc[label]
            colour, marker = styles[m]
            err = [[iv.estimate - iv.low], [iv.high - iv.estimate]] if iv.exists else None
            ax.errorbar(iv.estimate, y, xerr=err, fmt=marker, color=colour, ms=7, mec="black", mew=0.5, capsize=3)
            ax.annotate(f"{iv.estimate:.3f}", xy=(iv.high if iv.exists else iv.estimate, y), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        ax.set_yticks(range(len(rows[lv])), [e[0] for e in rows[lv]])
        ax.set_ylim(-0.6, len(rows[lv]) - 0.4)
        if experts is not None:
            ax.axvline(experts.estimate, color="grey", ls=":", lw=1)
        ax.set_title(f"{lv:,} image-combination passes in training", fontsize=9, loc="left")
    if experts is not None:
        at = f" ({res.epochs} epochs)" if res.at_budget else ""
        axes[0, 0].annotate(f"experts{at}", xy=(experts.estimate, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(3, -10), textcoords="offset points", fontsize=8, color="grey")  # fmt: skip
    axes[-1, 0].set_xlabel("test accuracy, mean of the 7 combinations (bars: 95% interval over seeds and test images)")
    n = entries[0][3].seeds
    fig.suptitle(f"{title}\n(mean over {n} seed{'s' if n != 1 else ''})", fontsize=10)
    fig.tight_layout()
    return fig


# -- 01_flexconv_flow: the layer on one image -----------------------------------------------------


@torch.no_grad()
def flow_trace(layer, image: torch.Tensor, channel_ids=None) -> dict:
    """The layer's :meth:`trace` of one image (1, C, H, W), plus for a hybrid layer (one with
    `static_kernels`) its static kernels (out, C, k, k) and the generated residual (kernels minus
    static), and the cosine similarity across channels on this image (the kernel-diversity measure)."""
    from ..flexconv import kernel_diversity, resolve_channel_ids

    was_training = layer.training
    layer.eval()
    trace = dict(layer.trace(image, channel_ids))
    trace["static"] = trace["residual"] = None
    if hasattr(layer, "static_kernels"):
        c = image.shape[1]
        rows = resolve_channel_ids(channel_ids, c, image.device, type(layer).__name__).clamp(max=layer.known_channels)
        trace["static"] = layer.static_kernels(rows).transpose(0, 1)  # (out, C, k, k)
        trace["residual"] = trace["kernels"] - trace["static"]
    trace["cosine"] = kernel_diversity(layer, image, channel_ids)["cosine_across_channels"]
    layer.train(was_training)
    return trace


def _kernel_strip(k) -> np.ndarray:
    """(n, k, k) kernels side by side with a 1-px gap, as one image."""
    k = np.asarray(k)
    n, s, _ = k.shape
    canvas = np.full((s, n * (s + 1) - 1), np.nan)
    for i in range(n):
        canvas[:, i * (s + 1) : i * (s + 1) + s] = k[i]
    return canvas


def plot_flexconv_flow(
    layer,
    image: torch.Tensor,
    channel_ids=None,
    *,
    channel_names: str = "RGB",
    outputs: int = 3,
    cosine_over_images: float | None = None,
    images_in_table: int = 64,
    title: str = "",
) -> plt.Figure:
    """A FlexConv layer on one image (1, C, H, W): per input channel (a row) its map, its features,
    (the pooled grid,) its kernels for the first `outputs` output maps - for a hybrid layer the static
    kernel, the residual generated from this image, and their sum - on one diverging colour scale
    with a colour bar; then the output maps. The title gives the cosine similarity of the channels'
    kernels on this image (the kernel-diversity measure) and, if given, the table's value over
    `images_in_table` test images; `title` (e.g. data, split, seed) heads it."""
    tr = flow_trace(layer, image, channel_ids)
    t = {k: (v.detach().float().cpu() if isinstance(v, torch.Tensor) else v) for k, v in tr.items()}
    x, feats, pooled, kern = t["input"], t["features"], t["pooled"], t["kernels"]
    c = x.shape[0]
    hybrid = t["static"] is not None
    maps = [("input channel", lambda i: x[i], "gray"), ("its features (mean)", lambda i: feats[i].mean(0), "gray")]
    if pooled is not None:
        maps.append(("pooled grid", lambda i: pooled[i].mean(0), "gray"))
    if hybrid:
        kernel_cols = [("static kernel", t["static"]), ("+ residual from this image", t["residual"]),
                       ("= kernel used", kern)]  # fmt: skip
    else:
        kernel_cols = [("generated kernels", kern)]
    ncols = len(maps) + len(kernel_cols)
    widths = [1.0] * len(maps) + [1.45] * len(kernel_cols)
    fig = plt.figure(figsize=(2.0 * sum(widths) + 2.4, 1.9 * max(c, outputs) + 1.9))
    grid = fig.add_gridspec(1, 2, width_ratios=[sum(widths), 1.1], wspace=0.12)
    left = grid[0].subgridspec(c + 1, ncols, wspace=0.1, width_ratios=widths, height_ratios=[1.0] * c + [0.09])
    right = grid[1].subgridspec(outputs, 1)
    shown = [k[:outputs] for _, k in kernel_cols]
    vmax = max(float(np.nanmax(np.abs(np.asarray(k)))) for k in shown) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
    cmap_k = plt.get_cmap("RdBu_r").with_extremes(bad="0.35")  # the gaps between kernels, unlike a zero weight
    last = None
    names = ", ".join(channel_names[i] if i < len(channel_names) else f"ch {i}" for i in range(c))
    for i in range(c):
        name = channel_names[i] if i < len(channel_names) else f"ch {i}"
        for j, (head, get, cmap) in enumerate(maps):
            ax = fig.add_subplot(left[i, j])
            ax.imshow(np.asarray(get(i)), cmap=cmap)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(head, fontsize=9)
            if j == 0:
                ax.set_ylabel(name)
        for j, (head, k) in enumerate(kernel_cols, start=len(maps)):
            ax = fig.add_subplot(left[i, j])
            last = ax.imshow(_kernel_strip(k[:outputs, i]), cmap=cmap_k, norm=norm)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{head}\n(outputs 0-{outputs - 1}, {k.shape[-2]}x{k.shape[-1]} each)", fontsize=9)
    if last is None:  # no row drawn, so no kernel image for the colour bar
        raise ValueError(f"the image has no channels (shape {tuple(image.shape)})")
    cax = fig.add_subplot(left[c, len(maps) :])
    fig.colorbar(last, cax=cax, orientation="horizontal", format="%.2f")
    cax.set_xlabel("kernel weight (one scale for every kernel shown)", fontsize=9)
    cax.tick_params(labelsize=8)
    for o in range(outputs):
        ax = fig.add_subplot(right[o, 0])
        ax.imshow(np.asarray(t["output"][o]), cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"output map {o} (sum over {names})", fontsize=9)
    lines = [*([title] if title else []),
        f"FlexConv ({getattr(layer, 'mode', '')}) on one test image. Cosine similarity of the kernels used for "
        f"{names}: {t['cosine']:.2f} on this image"
        + (f" ({cosine_over_images:.2f} over the first {images_in_table} test images, as in the table)"
           if cosine_over_images is not None else "")
    ]  # fmt: skip
    if hybrid:
        share = float(t["residual"].norm() / t["static"].norm().clamp_min(1e-12))
        lines.append(f"size of the residual generated from this image, relative to the static kernels: {share:.2f}")
    lines.append("one per-image convolution applies the kernels and adds the channels' results into each output map")
    fig.suptitle("\n".join(lines), fontsize=10)
    return fig


# -- notebook 02's too ----------------------------------------------------------------------------


def plot_accuracy_vs_cost(points: dict[str, tuple[float, float]], *, xlabel: str, title: str) -> plt.Figure:
    """One point per model or variant: (cost, accuracy), each with its own colour and marker named
    in a legend beside the axes (no text on the points, so close points cannot overlap labels);
    later points are drawn smaller and on top, so coinciding points stay visible as rings; log x
    with engineering tick labels (1M, 2M, 5M) when the costs span more than 3x."""
    from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=(8.5, 4.3))
    names = list(points)
    for i, (name, (x, y)) in enumerate(points.items()):
        ax.scatter(
            x,
            y,
            s=max(30.0, 170 * 0.62**i),
            marker=MARKERS[i % 8],
            color=model_colour(name, names),
            edgecolor="black",
            lw=0.5,
            label=name,
            zorder=3 + i,
        )
    xs = [x for x, _ in points.values()]
    if max(xs) / max(min(xs), 1e-12) > 3:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(min(xs) / 1.4, max(xs) * 1.4)
    else:
        span = max(xs) - min(xs) or max(xs) * 0.1
        ax.set_xlim(min(xs) - 0.15 * span, max(xs) + 0.15 * span)
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


__all__ = [
    "CHANNEL_MODEL_ORDER",
    "MODEL_COLOURS",
    "channel_colours",
    "channel_styles",
    "flow_trace",
    "model_colour",
    "plot_accuracy_vs_cost",
    "plot_beyond_rgb",
    "plot_compute_accuracy",
    "plot_cost_accuracy",
    "plot_flexconv_flow",
    "plot_gap_to_experts",
    "savefig",
]
