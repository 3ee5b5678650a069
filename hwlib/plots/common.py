"""Figures every notebook uses: the theme, saving with fixed metadata, training curves, and the
classification figures (samples, confusion matrices, per-class accuracy, misclassified images)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

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


def plot_history_bands(
    runs: dict[str, dict[str, list[list[dict]]]], *, title: str, colours: dict[str, str] | None = None
) -> plt.Figure:
    """One panel per key of `runs` (its title: the key, e.g. "32 px, strong recipe"): validation
    accuracy per epoch, mean over seeds with a min-max band, and training accuracy (dashed mean),
    one colour per model (the same model keeps its colour in every panel; one legend names them all)."""
    names = list(dict.fromkeys(m for models in runs.values() for m in models))
    fig, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs) + 3.4, 4.2), squeeze=False, sharey=True)
    handles: dict[str, Line2D] = {}
    for ax, (panel, models) in zip(axes[0], runs.items()):
        longest: list[int] = []
        for model, histories in models.items():
            if not histories:  # a model not trained at this panel's budget
                continue
            c = colours[model] if colours and model in colours else model_colour(model, names)
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
        ax.set_title(textwrap.fill(panel, 52), fontsize=10)  # a long title wraps within its panel
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
    xt: str | list[str]  # tick labels: "auto" or one per class
    yt: str | list[str]
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
            ax.text(a + 0.01, float(yi), f"{a:.2f}", va="center", fontsize=small)
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
