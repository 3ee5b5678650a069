"""Figures: one seaborn theme, PNGs saved with fixed metadata (same bytes on a re-run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


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


def plot_confusion(cm: np.ndarray, *, title: str, labels: list[str] | None = None, ax=None) -> plt.Axes:
    """Row-normalised confusion matrix (rows: true class)."""
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax = ax or plt.subplots(figsize=(5, 4.2))[1]
    sns.heatmap(
        norm,
        vmin=0,
        vmax=1,
        cmap="viridis",
        square=True,
        ax=ax,
        cbar_kws={"label": "fraction of true class"},
        xticklabels=labels if labels else "auto",
        yticklabels=labels if labels else "auto",
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return ax


def plot_combo_heatmap(acc: dict[str, dict[str, float]], *, title: str) -> plt.Figure:
    """Accuracy of each model (rows) on each channel combination (columns)."""
    df = pd.DataFrame(acc).T
    fig, ax = plt.subplots(figsize=(1.1 * df.shape[1] + 2.5, 0.6 * df.shape[0] + 1.5))
    sns.heatmap(df, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="mako", ax=ax, cbar_kws={"label": "accuracy"})
    ax.set_xlabel("channels given to the model")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_flexconv_flow(trace: dict, *, channel_names: str = "RGB", outputs: int = 3) -> plt.Figure:
    """FlexConv2d's data flow on one real image: each input channel -> its feature map -> (pooled
    grid) -> its generated 3x3 kernels; all channels' kernels -> the output maps."""
    x, feats, pooled, kern, out = (
        None if trace[k] is None else trace[k].detach().float().cpu()
        for k in ("input", "features", "pooled", "kernels", "output")
    )
    c = x.shape[0]
    cols = 3 + (pooled is not None) + 1
    fig, axes = plt.subplots(c, cols, figsize=(2.1 * cols, 2.1 * c + 0.4), squeeze=False)
    titles = (
        ["input channel", "extract_conv + ReLU"]
        + (["pooled grid"] if pooled is not None else [])
        + [f"kernels for outputs 0-{outputs - 1}", "output map"]
    )
    for i in range(c):
        row = [x[i], feats[i].mean(0)] + ([pooled[i].mean(0)] if pooled is not None else [])
        row.append(_kernel_strip(kern[:outputs, i]))
        row.append(out[i % out.shape[0]])
        for j, img in enumerate(row):
            ax = axes[i, j]
            ax.imshow(np.asarray(img), cmap="magma" if j == len(row) - 2 else "gray")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(titles[j], fontsize=9)
        axes[i, 0].set_ylabel(channel_names[i] if i < len(channel_names) else f"ch {i}")
        if i > 0:
            axes[i, -1].set_title(f"output {i % out.shape[0]}", fontsize=8)
    axes[0, -1].set_title(f"{titles[-1]} (output 0)", fontsize=9)
    fig.suptitle(
        "FlexConv2d: every channel makes its own kernels; one grouped conv applies them per sample", fontsize=10
    )
    fig.tight_layout()
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
    """Parameters of one layer vs its input channels (log-log), crossover points marked."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, ys in curves.items():
        ax.plot(channels, ys, label=name, lw=2 if name == conv_label else 1.5, ls="-" if name == conv_label else "--")
    conv = curves[conv_label]
    for i, (_name, c) in enumerate(sorted(crossovers.items(), key=lambda kv: kv[1])):
        if channels[0] <= c <= channels[-1]:
            y = conv[np.searchsorted(channels, c)]
            ax.plot([c], [y], "o", color="black", ms=5)
            # alternate label sides so neighbouring crossovers (257 and 258) stay readable
            ax.annotate(
                f"C={c}", (c, y), textcoords="offset points", xytext=(6, -13) if i % 2 == 0 else (-42, 6), fontsize=8
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input channels C")
    ax.set_ylabel("parameters of the layer")
    ax.set_title("Where FlexConv saves parameters: right of each marked crossover")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_history_bands(runs: dict[str, dict[str, list[list[dict]]]], *, title: str) -> plt.Figure:
    """Per recipe (one panel each): validation accuracy per epoch, mean over seeds with a min-max
    band, and training accuracy (dashed mean), one colour per model."""
    fig, axes = plt.subplots(1, len(runs), figsize=(5.5 * len(runs), 3.8), squeeze=False, sharey=True)
    for ax, (recipe, models) in zip(axes[0], runs.items()):
        for i, (model, histories) in enumerate(models.items()):
            c = sns.color_palette()[i % 10]
            epochs = [r["epoch"] for r in histories[0]]
            val = np.array([[r["val_acc"] for r in h] for h in histories])
            train = np.array([[r["train_acc"] for r in h] for h in histories])
            ax.plot(epochs, val.mean(0), "-o", ms=3, color=c, label=f"{model} val (mean of {len(histories)})")
            ax.fill_between(epochs, val.min(0), val.max(0), color=c, alpha=0.2)
            ax.plot(epochs, train.mean(0), "--", color=c, label=f"{model} train")
        ax.set_title(f"recipe: {recipe}")
        ax.set_xlabel("epoch")
    axes[0, 0].set_ylabel("accuracy")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_bars(acc: dict[str, dict[str, list[float]]], *, title: str) -> plt.Figure:
    """Test accuracy, mean with a standard-deviation error bar and the seeds as dots, per recipe and model."""
    rows = [
        {"recipe": r, "model": m, "accuracy": a}
        for r, models in acc.items()
        for m, vals in models.items()
        for a in vals
    ]
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.barplot(df, x="recipe", y="accuracy", hue="model", errorbar="sd", capsize=0.1, ax=ax, alpha=0.8)
    sns.stripplot(
        df, x="recipe", y="accuracy", hue="model", dodge=True, ax=ax, palette="dark:black", size=4, legend=False
    )
    ax.set_title(title)
    ax.set_ylabel("test accuracy")
    fig.tight_layout()
    return fig


def plot_accuracy_vs_cost(points: dict[str, tuple[float, float]], *, xlabel: str, title: str) -> plt.Figure:
    """One labelled point per model: (cost, accuracy), log x."""
    fig, ax = plt.subplots(figsize=(7, 4.3))
    for name, (x, y) in points.items():
        ax.scatter(x, y, s=40)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    fig.tight_layout()
    return fig
