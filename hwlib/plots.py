"""Figures: one seaborn theme, PNGs saved with fixed metadata (same bytes on a re-run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

# notebook 02's models keep one colour in every figure (colorblind palette: blue, orange, green, purple)
MODEL_COLOURS = {"dense4": 0, "resnet34": 1, "resnet34_plain": 2, "resnet34_2x": 4}


def model_colour(name: str, names: list[str]) -> tuple:
    """A model's colour: its fixed one (MODEL_COLOURS; a name like "dense4 (strong)" counts as dense4),
    else the palette colour of its position in `names`, skipping the fixed ones."""
    palette = sns.color_palette("colorblind")
    base = name.split(" (")[0]
    if base in MODEL_COLOURS:
        return palette[MODEL_COLOURS[base]]
    free = [c for i, c in enumerate(palette) if i not in MODEL_COLOURS.values()] if set(MODEL_COLOURS) & {
        n.split(" (")[0] for n in names} else palette  # fmt: skip
    return free[names.index(name) % len(free)]


def set_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 90, "savefig.dpi": 110, "savefig.bbox": "tight"})


def savefig(fig: plt.Figure, path: str | Path) -> Path:
    """Save as PNG without the software/date metadata that would change the bytes every run."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def plot_histories(histories: dict[str, list[dict]], *, title: str = "") -> plt.Figure:
    """Loss and accuracy per epoch, train (dashed) and validation (solid), one colour per model."""
    rows = [{**r, "model": name} for name, h in histories.items() for r in h]
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, metric in zip(axes, ("loss", "acc")):
        for i, (name, part) in enumerate(df.groupby("model", sort=False)):
            c = sns.color_palette()[i % 10]
            ax.plot(part["epoch"], part[f"train_{metric}"], "--", color=c, label=f"{name} train")
            ax.plot(part["epoch"], part[f"val_{metric}"], "-o", color=c, ms=3, label=f"{name} val")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if metric == "acc" else "cross-entropy loss")
    axes[1].legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


NAMES_MAX_CLASSES = 20  # confusion matrices name every class up to this many; beyond, names on rows only


def _short(name: str, width: int = 22) -> str:
    """A class name cut to `width` characters (with an ellipsis) for tick labels."""
    return name if len(name) <= width else name[: width - 1] + "…"


def plot_confusion(cm: np.ndarray, *, title: str, labels: list[str] | None = None, ax=None) -> plt.Axes:
    """Row-normalised confusion matrix (rows: true class).

    With `labels` (class names): up to NAMES_MAX_CLASSES classes both axes are named (columns
    rotated); with more, rows carry "index name" in a small font and columns the index only (the
    x label says so), so 50 classes stay readable.
    """
    k = cm.shape[0]
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax = ax or plt.subplots(figsize=(5, 4.2))[1]
    many = labels is not None and k > NAMES_MAX_CLASSES
    if labels is None:
        xt, yt = "auto", "auto"
    elif many:
        xt, yt = [str(i) for i in range(k)], [f"{i} {_short(n)}" for i, n in enumerate(labels)]
    else:
        xt = yt = [_short(n) for n in labels]
    sns.heatmap(
        norm,
        vmin=0,
        vmax=1,
        cmap="viridis",
        square=True,
        ax=ax,
        cbar_kws={"label": "fraction of true class", "shrink": 0.8},
        xticklabels=xt,
        yticklabels=yt,
    )
    if labels is not None:
        size = 9 if k <= 10 else 8 if k <= NAMES_MAX_CLASSES else 6
        ax.tick_params(axis="both", labelsize=size, length=0)
        plt.setp(ax.get_xticklabels(), rotation=90 if many else 45, ha="center" if many else "right")
        plt.setp(ax.get_yticklabels(), rotation=0)
    ax.set_xlabel("predicted (class index, as the rows)" if many else "predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    return ax


# -- class-level figures: confusion grids, sample images, per-class accuracy, misclassified examples --
def plot_confusion_grid(
    panels: dict[str, np.ndarray], *, class_names: list[str] | None = None, ncols: int = 2
) -> plt.Figure:
    """One :func:`plot_confusion` per (title, matrix), `ncols` per row, sized for the class count."""
    k = next(iter(panels.values())).shape[0]
    nrows = -(-len(panels) // ncols)
    side = 5.2 if k <= 10 else 6.5 if k <= NAMES_MAX_CLASSES else 9.0
    extra = 1.6 if class_names is not None else 0.0  # room for names on the axes
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * (side + extra), nrows * (side - 0.4 + extra)), squeeze=False
    )
    for ax, (title, cm) in zip(axes.flat, panels.items()):
        plot_confusion(cm, title=title, labels=class_names, ax=ax)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _hwc(image) -> np.ndarray:
    """A (3, H, W) uint8 tensor or array as (H, W, 3) for imshow."""
    return np.asarray(image).transpose(1, 2, 0)


def _wrap(name: str, width: int = 16) -> str:
    """A class name on at most two lines of about `width` characters."""
    import textwrap

    lines = textwrap.wrap(name, width) or [""]
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def plot_class_samples(
    images, labels, class_names: list[str], *, per_class: int = 1, ncols: int = 10, title: str = ""
) -> plt.Figure:
    """The first `per_class` images of every class (in split order), each titled with its class
    name; images are shown at their stored resolution (nearest-neighbour), so 32 px looks like 32 px."""
    labels = np.asarray(labels)
    chosen = [int(i) for c in range(len(class_names)) for i in np.flatnonzero(labels == c)[:per_class]]
    ncols = min(ncols, len(chosen))
    nrows = -(-len(chosen) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.45 * ncols, 1.75 * nrows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, chosen):
        ax.imshow(_hwc(images[i]), interpolation="nearest")
        ax.set_title(_wrap(class_names[int(labels[i])]), fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_per_class_accuracy(
    accuracy: np.ndarray, class_names: list[str], *, title: str, chance: float | None = None
) -> plt.Figure:
    """Test accuracy of each class (horizontal bars, best at the top, value at each bar's end),
    with the chance level as a dashed line."""
    acc = np.asarray(accuracy, dtype=float)
    order = np.argsort(-np.nan_to_num(acc, nan=-1), kind="stable")
    k = len(acc)
    fig, ax = plt.subplots(figsize=(7.5, 0.26 * k + 1.4))
    y = np.arange(k)
    ax.barh(y, acc[order], color=sns.color_palette()[0], alpha=0.85)
    small = 8 if k <= 20 else 6
    for yi, a in zip(y, acc[order]):
        if not np.isnan(a):
            ax.text(a + 0.01, yi, f"{a:.2f}", va="center", fontsize=small)
    ax.set_yticks(y, [_short(class_names[i], 28) for i in order], fontsize=small + 1)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_ylim(k - 0.5, -0.5)
    if chance is not None:
        ax.axvline(chance, ls="--", color="black", lw=1, label=f"chance (1/{k} = {chance:.2f})")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("test accuracy of the class (recall)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_misclassified(
    images, examples: list[tuple[int, int, int]], class_names: list[str], *, title: str, ncols: int = 4
) -> plt.Figure:
    """Misclassified test images, each titled with its true and predicted class names;
    `examples` are (index into images, true label, predicted label)."""
    n = max(1, len(examples))
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.5 * ncols, 2.75 * nrows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (i, t, p) in zip(axes.flat, examples):
        ax.imshow(_hwc(images[i]), interpolation="nearest")
        ax.set_title(f"true: {_short(class_names[t], 28)}\npred: {_short(class_names[p], 28)}", fontsize=8)
    if not examples:
        axes[0, 0].text(0.5, 0.5, "no misclassified test images", ha="center", va="center")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_combo_heatmap(acc: dict[str, dict[str, float]], *, title: str) -> plt.Figure:
    """Accuracy of each model (rows) on each channel combination (columns); the colour scale spans
    the accuracies shown (not 0-1), so gaps of a few points between models stay visible."""
    df = pd.DataFrame(acc).T
    fig, ax = plt.subplots(figsize=(1.1 * df.shape[1] + 2.5, 0.6 * df.shape[0] + 1.5))
    lo, hi = float(np.nanmin(df.values)), float(np.nanmax(df.values))
    sns.heatmap(df, annot=True, fmt=".3f", vmin=lo, vmax=max(hi, lo + 1e-6), cmap="mako", ax=ax,
                cbar_kws={"label": "accuracy"})  # fmt: skip
    ax.set_xlabel("channels given to the model")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_flexconv_flow(trace: dict, *, channel_names: str = "RGB", outputs: int = 3) -> plt.Figure:
    """FlexConv2d's data flow on one real image: each input channel (a row) -> its feature map ->
    (pooled grid) -> its generated 3x3 kernels; then, in a separate column, the output maps, each made
    from all channels at once. The title says how alike the channels' kernels are (cosine similarity)."""
    x, feats, pooled, kern, out = (
        None if trace[k] is None else trace[k].detach().float().cpu()
        for k in ("input", "features", "pooled", "kernels", "output")
    )
    c = x.shape[0]
    per_channel = 3 + (pooled is not None)
    fig = plt.figure(figsize=(2.1 * (per_channel + 1) + 0.3, 2.1 * max(c, outputs) + 0.6))
    grid = fig.add_gridspec(1, 2, width_ratios=[per_channel, 1.15], wspace=0.12)
    left = grid[0].subgridspec(c, per_channel)
    right = grid[1].subgridspec(outputs, 1)
    titles = (
        ["input channel", "extract_conv + ReLU"]
        + (["pooled grid"] if pooled is not None else [])
        + [f"its kernels, outputs 0-{outputs - 1}"]
    )
    for i in range(c):
        row = [x[i], feats[i].mean(0)] + ([pooled[i].mean(0)] if pooled is not None else [])
        row.append(_kernel_strip(kern[:outputs, i]))
        for j, img in enumerate(row):
            ax = fig.add_subplot(left[i, j])
            ax.imshow(np.asarray(img), cmap="magma" if j == len(row) - 1 else "gray")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(titles[j], fontsize=9)
            if j == 0:
                ax.set_ylabel(channel_names[i] if i < len(channel_names) else f"ch {i}")
    for o in range(outputs):
        ax = fig.add_subplot(right[o, 0])
        ax.imshow(np.asarray(out[o]), cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"output map {o}" + (" (all channels)" if o == 0 else ""), fontsize=9)
    v = kern.permute(1, 0, 2, 3).reshape(c, -1)  # (C, out*k*k): each channel's kernels
    v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)
    cos = float((v @ v.T)[~np.eye(c, dtype=bool)].mean()) if c > 1 else 1.0
    names = ", ".join(channel_names[i] if i < len(channel_names) else f"ch {i}" for i in range(c))
    alike = "nearly the same" if cos > 0.95 else "different"
    fig.suptitle(
        f"FlexConv2d on one image: the kernels generated for {names} are {alike} "
        f"(mean cosine similarity {cos:.2f});\n"
        "one grouped convolution applies them and adds the channels' results into each output map",
        fontsize=10,
    )
    return fig


def _kernel_strip(k) -> np.ndarray:
    """(n, k, k) kernels side by side with a 1-px gap, as one image."""
    k = np.asarray(k)
    n, s, _ = k.shape
    canvas = np.full((s, n * (s + 1) - 1), np.nan)
    for i in range(n):
        canvas[:, i * (s + 1) : i * (s + 1) + s] = k[i]
    return canvas


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
    for name in sorted(flex, key=flex.get):
        if groups and flex[name] / flex[groups[-1][0]] < 1.1:
            groups[-1].append(name)
        else:
            groups.append([name])
    distinct = ("#E69F00", "#009E73", "#D55E00", "#6A3D9A", "#444444", "#56B4E9", "#CC79A7")  # far from conv's blue
    colour = {name: distinct[i % len(distinct)] for i, name in enumerate(sorted(flex, key=flex.get))}
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


def plot_history_bands(runs: dict[str, dict[str, list[list[dict]]]], *, title: str) -> plt.Figure:
    """One panel per key of `runs` (its title: the key, e.g. "32 px, strong recipe"): validation
    accuracy per epoch, mean over seeds with a min-max band, and training accuracy (dashed mean),
    one colour per model (the same model keeps its colour in every panel; one legend names them all)."""
    names = list(dict.fromkeys(m for models in runs.values() for m in models))
    fig, axes = plt.subplots(1, len(runs), figsize=(max(7.0, 4.6 * len(runs)), 3.8), squeeze=False, sharey=True)
    handles = {}
    for ax, (panel, models) in zip(axes[0], runs.items()):
        longest: list[int] = []
        for model, histories in models.items():
            c = model_colour(model, names)
            n = min(len(h) for h in histories)
            epochs = [r["epoch"] for r in histories[0][:n]]
            longest = max(longest, epochs, key=len)
            val = np.array([[r["val_acc"] for r in h[:n]] for h in histories])
            train = np.array([[r["train_acc"] for r in h[:n]] for h in histories])
            (line,) = ax.plot(epochs, val.mean(0), "-o", ms=3, color=c)
            seeds = f"{len(histories)} seed{'s' if len(histories) != 1 else ''}"
            handles.setdefault(f"{model} val ({'mean of ' if len(histories) > 1 else ''}{seeds})", line)
            ax.fill_between(epochs, val.min(0), val.max(0), color=c, alpha=0.2)
            (dashed,) = ax.plot(epochs, train.mean(0), "--", color=c)
            handles.setdefault(f"{model} train", dashed)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("epoch")
        if len(longest) <= 12:  # epochs are whole numbers: label each one
            ax.set_xticks(longest)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("accuracy")
    axes[0, -1].legend(handles.values(), handles.keys(), fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                       borderaxespad=0)  # fmt: skip
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_bars(acc: dict[str, dict[str, list[float]]], *, title: str) -> plt.Figure:
    """Test accuracy, mean with a standard-deviation error bar and the seeds as dots, per setting
    (e.g. "32 px, strong recipe") and model."""
    rows = [
        {"setting": r, "model": m, "accuracy": a}
        for r, models in acc.items()
        for m, vals in models.items()
        for a in vals
    ]
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(max(6.5, 2.6 * len(acc) + 2), 4))
    models = list(dict.fromkeys(df["model"]))
    colours = {m: model_colour(m, models) for m in models}
    sns.barplot(df, x="setting", y="accuracy", hue="model", errorbar="sd", capsize=0.1, ax=ax, alpha=0.8,
                palette=colours)  # fmt: skip
    sns.stripplot(
        df, x="setting", y="accuracy", hue="model", dodge=True, ax=ax, palette="dark:black", size=4, legend=False
    )
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_title(title)
    ax.set_ylabel("test accuracy")
    fig.tight_layout()
    return fig


def plot_accuracy_vs_cost(points: dict[str, tuple[float, float]], *, xlabel: str, title: str) -> plt.Figure:
    """One point per model or variant: (cost, accuracy), each with its own colour and marker named
    in a legend beside the axes (no text on the points, so close points cannot overlap labels);
    later points are drawn smaller and on top, so coinciding points stay visible as rings; log x
    with engineering tick labels (1M, 2M, 5M) when the costs span more than 3x."""
    from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=(8.5, 4.3))
    markers = ("o", "s", "^", "D", "v", "P", "X", "*")
    names = list(points)
    for i, (name, (x, y)) in enumerate(points.items()):
        ax.scatter(
            x,
            y,
            s=max(30.0, 170 * 0.62**i),
            marker=markers[i % len(markers)],
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


def plot_ratio_vs_size(
    series: dict[str, dict[int, list[float]]], *, references: dict[str, tuple[int, float]], title: str
) -> plt.Figure:
    """Dense4 / ResNet34 test accuracy against image size (log2 x axis): per series the mean over
    seeds with a min-max bar and each seed as a dot, unconnected (sizes are separate measurements);
    `references` (label -> (size, ratio)) as open
    markers from elsewhere; dashed lines at the 0.90 requirement and at 1.00."""
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    palette = sns.color_palette()
    all_sizes = [s for by_size in series.values() for s in by_size] + [s for s, _ in references.values()]
    for i, (name, by_size) in enumerate(series.items()):
        sizes = sorted(by_size)
        means = [float(np.mean(by_size[s])) for s in sizes]
        lo = [m - min(by_size[s]) for m, s in zip(means, sizes)]
        hi = [max(by_size[s]) - m for m, s in zip(means, sizes)]
        shift = 1 + 0.03 * (i - (len(series) - 1) / 2)  # side by side at one size
        xs = [s * shift for s in sizes]
        n = max(len(by_size[s]) for s in sizes)
        seeds = f"{n} seed{'s' if n != 1 else ''}"
        colour = palette[(0, 3, 4, 7)[i % 4]]  # the third series (2x epochs) in resnet34_2x's colour
        ax.errorbar(xs, means, yerr=[lo, hi], fmt="o", ms=7, color=colour, capsize=4, label=f"{name} ({seeds})")
        for x, s in zip(xs, sizes):
            ax.scatter([x] * len(by_size[s]), by_size[s], s=10, color="black", zorder=4)
    for j, (label, (size, ratio)) in enumerate(references.items()):
        colour = ("black", "dimgrey", "grey")[j % 3]
        marker = ("D", "s", "^")[j % 3]
        ax.scatter(size, ratio, s=70, marker=marker, facecolor="none", edgecolor=colour, lw=1.8, label=label, zorder=5)
    ax.axhline(0.9, color="grey", ls="--", lw=1)
    ax.axhline(1.0, color="grey", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ticks = sorted(set(all_sizes))
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlim(min(ticks) / 1.3, max(ticks) * 1.3)
    ax.set_xlabel("image size (px)")
    ax.set_ylabel("Dense4 / ResNet34 test accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def plot_accuracy_vs_training_compute(
    panels: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], *, title: str
) -> plt.Figure:
    """One panel per key (e.g. an image size): per model, validation accuracy (mean over seeds, with
    a min-max band) against the training multiply-adds spent so far, one point per epoch (log x), so
    two models are compared at equal training compute."""
    from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

    names = list(dict.fromkeys(m for models in panels.values() for m in models))
    handles = {}
    fig, axes = plt.subplots(1, len(panels), figsize=(max(7.0, 4.8 * len(panels)), 3.9), squeeze=False, sharey=True)
    for ax, (panel, models) in zip(axes[0], panels.items()):
        for model, (macs, val) in models.items():
            c = model_colour(model, names)
            (line,) = ax.plot(macs, val.mean(0), "-o", ms=3, color=c)
            handles.setdefault(f"{model} ({len(val)} seed{'s' if len(val) != 1 else ''})", line)
            ax.fill_between(macs, val.min(0), val.max(0), color=c, alpha=0.2)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("training multiply-adds so far")
    axes[0, 0].set_ylabel("validation accuracy")
    axes[0, -1].legend(handles.values(), handles.keys(), fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                       borderaxespad=0)  # fmt: skip
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
