"""Dense4 vs ResNet34 (notebook 02): a sweep of image sizes, two recipes, several seeds, the same
data and epochs for both models at each size; ResNet34 with both heads and with twice the epochs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..config import DataSettings, DenseStudySettings
from ..data.loader import BatchLoader
from ..data.prepare import DataFacts, LoadedData, load_dataset
from ..device import device_name, pick_device
from ..models import dense4, resnet34_baseline
from ..original import ORIGINAL_DENSE, PUBLIC_256
from ..train import TrainConfig, predict
from .common import EVAL_BATCH, RunResult, train_and_test
from .results import Cost, Goal, RunInfo, StudyResult, all_settled, measure_cost, settled, t_interval

ModelName = Literal["dense4", "resnet34"]
RecipeName = Literal["original", "strong"]
RECIPES: tuple[RecipeName, ...] = ("original", "strong")

MODELS: dict[str, Callable[[int], nn.Module]] = {
    "dense4": lambda num_classes: dense4(num_classes=num_classes),
    "resnet34": lambda num_classes: resnet34_baseline(num_classes=num_classes, head="original"),
}
PLAIN_HEAD = "resnet34_plain"  # ResNet34 with Linear(512, classes) as its head, smallest size, strong recipe
DOUBLE_EPOCHS = "resnet34_2x"  # ResNet34 (original head) trained 2 x epochs, largest size, strong recipe
ARCHITECTURES: dict[str, Callable[[int], nn.Module]] = {
    **MODELS,
    PLAIN_HEAD: lambda num_classes: resnet34_baseline(num_classes=num_classes, head="plain"),
}


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """How a model is trained: optimizer and schedule, batch size, augmentation."""

    name: RecipeName
    what: str
    config: TrainConfig
    batch_size: int
    flip: bool = False
    crop_pad: int = 0


def recipes(
    settings: DenseStudySettings, *, image_size: int, model: ModelName, steps_per_epoch: int
) -> dict[str, Recipe]:
    """The two recipes for `model`, each applied identically to both models except where the
    original report itself gave Dense4 its own learning rate and batch size (original recipe).

    * original: the original report's: Adam, constant lr (1e-3; Dense4 3e-3 at batch 256 in the
      full profile), no augmentation, fixed epochs.
    * strong: AdamW (lr 2e-3, weight decay 0.05, none on norm weights and biases), one-cycle schedule
      (warm-up then cosine-like anneal), label smoothing 0.1, horizontal flips and random crops
      (reflect padding of image_size / 8), EMA of the weights (validated and kept); same batch for both.
      ResNet34 trained with twice the epochs keeps this recipe unchanged, EMA decay included (so its EMA
      averages over about the last twentieth of its longer training).
    """
    dense = model == "dense4"
    total = max(1, settings.epochs * steps_per_epoch)
    ema = float(np.clip(1 - 10 / total, 0.9, 0.9999))  # averages over about the last tenth of training
    return {
        "original": Recipe(
            name="original",
            what="the original report's: Adam, constant lr, no augmentation",
            config=TrainConfig(epochs=settings.epochs, lr=settings.dense4_lr if dense else settings.lr),
            batch_size=settings.dense4_batch_size if dense else settings.batch_size,
        ),
        "strong": Recipe(
            name="strong",
            what="AdamW + one-cycle, label smoothing, flip + crop, EMA",
            config=TrainConfig(
                epochs=settings.epochs,
                lr=2e-3,
                optimizer="adamw",
                weight_decay=0.05,
                schedule="onecycle",
                label_smoothing=0.1,
                ema_decay=ema,
            ),
            batch_size=settings.batch_size,
            flip=True,
            crop_pad=max(1, image_size // 8),
        ),
    }


def planned_recipes(
    data: LoadedData, *, settings: DenseStudySettings, recipe_names: tuple[str, ...] = RECIPES
) -> dict[str, dict[str, Recipe]]:
    """recipe -> model -> :class:`Recipe`, exactly as :func:`run_dense_study` trains them (the strong
    recipe's EMA decay from this data's real steps per epoch)."""
    steps = steps_per_epoch(data, settings.batch_size)
    return {
        rname: {m: recipes(settings, image_size=data.size, model=m, steps_per_epoch=steps)[rname] for m in MODELS}
        for rname in recipe_names
    }


def recipe_table(planned: dict[str, dict[str, Recipe]], *, train_images: int) -> pd.DataFrame:
    """One row per recipe and model: what trains, with which settings (as they run)."""
    rows = []
    for rname, by_model in planned.items():
        for model, r in by_model.items():
            c = r.config
            rows.append(
                {
                    "recipe": rname,
                    "model": model,
                    "optimizer": c.optimizer,
                    "lr": f"{c.lr:g}",
                    "weight decay": f"{c.weight_decay:g}",
                    "schedule": c.schedule,
                    "batch": r.batch_size,
                    "steps / epoch": -(-train_images // r.batch_size),
                    "epochs": c.epochs,
                    "label smoothing": f"{c.label_smoothing:g}",
                    "EMA decay": f"{c.ema_decay:.4f}" if c.ema_decay else "none",
                    "flip": "yes" if r.flip else "no",
                    "crop pad (px)": r.crop_pad,
                }
            )
    return pd.DataFrame(rows).set_index(["recipe", "model"])


def final_conv_map_size(model: nn.Module, *, image_size: int) -> int:
    """Side of the feature map the last Conv2d of `model` produces for one image_size x image_size
    input (measured with forward hooks on a CPU forward of zeros)."""
    sizes: list[int] = []
    hooks = [
        m.register_forward_hook(lambda _m, _args, out: sizes.append(int(out.shape[-1])))
        for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, image_size, image_size))
    finally:
        for h in hooks:
            h.remove()
    return sizes[-1]


def _pm(values: list[float]) -> str:
    """'mean ± sd' over seeds, the sample standard deviation (n - 1); a lone seed's value alone."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def _ratio(a: float, b: float) -> float:
    """a / b; nan when b is 0 (a baseline at 0 accuracy, as in the smoke profile): no ratio, no goal met."""
    return a / b if b else float("nan")


def _where(mean: float, half: float) -> str:
    """Where the interval mean ± half lies against the 0.90 requirement and the 1.00 aim."""
    lo, hi = mean - half, mean + half
    if lo >= 1:
        return "above 1.00"
    if lo >= 0.9:
        return "above 0.90, across 1.00" if hi >= 1 else "between 0.90 and 1.00"
    return "below 0.90" if hi < 0.9 else "across 0.90"


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class SweepPoint:
    """One image size and recipe of the sweep: every model's runs (one per seed) and its multiply-adds
    per image at this size. Models: dense4, resnet34 (original head), and where they ran
    resnet34_plain (plain head) and resnet34_2x (twice the epochs, `epochs_by_model`)."""

    image_size: int
    recipe: str
    epochs: int
    train_images: int
    seeds: list[int] = field(default_factory=list)  # Dense4's and ResNet34's; a model with fewer ran the first
    runs: dict[str, list[RunResult]] = field(default_factory=dict)
    epochs_by_model: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)  # model -> multiply-adds per image at image_size

    @property
    def label(self) -> str:
        return f"{self.image_size} px, {self.recipe} recipe"

    def acc(self, model: str) -> list[float]:
        """Test accuracy of each seed's run."""
        return [r.test.accuracy for r in self.runs.get(model, [])]

    def paired(self, baseline: str = "resnet34") -> tuple[list[float], list[float]]:
        """(Dense4, baseline) test accuracies over the seeds both ran (a baseline with fewer seeds,
        e.g. resnet34_2x, ran the first ones)."""
        b = self.acc(baseline)
        return self.acc("dense4")[: len(b)], b

    def ratio(self, baseline: str = "resnet34") -> float:
        """mean Dense4 / mean `baseline` test accuracy over the seeds both ran."""
        d, b = self.paired(baseline)
        return _ratio(float(np.mean(d)), float(np.mean(b)))

    def seed_ratios(self, baseline: str = "resnet34") -> list[float]:
        """Dense4 / `baseline` seed by seed (same seed, same data order), for the seeds both ran."""
        return [_ratio(a, b) for a, b in zip(*self.paired(baseline))]

    def ratio_interval(self, baseline: str = "resnet34") -> tuple[float, float]:
        """(mean, half-width) of a 95% t-interval of the per-seed ratios (nan half-width: one seed)."""
        return t_interval(self.seed_ratios(baseline))

    def training_macs(self, model: str) -> float:
        """Multiply-adds one run of `model` spends training: 3 x (forward) per image x images x epochs
        (backward ~ 2 x forward)."""
        return 3.0 * self.macs[model] * self.train_images * self.epochs_by_model.get(model, self.epochs)

    def to_json(self) -> dict:
        return {
            "image_size": self.image_size,
            "recipe": self.recipe,
            "seeds": self.seeds,
            "epochs": self.epochs,
            "epochs_by_model": self.epochs_by_model,
            "train_images": self.train_images,
            **{m: self.acc(m) for m in self.runs},
            "best_epoch": {m: [r.best_epoch for r in runs] for m, runs in self.runs.items()},
            "ratio": {b: self.ratio(b) for b in self.runs if b != "dense4"},
            "ratio_per_seed": {b: self.seed_ratios(b) for b in self.runs if b != "dense4"},
            "macs_per_image": self.macs,
        }


@dataclass
class DenseStudyResult(StudyResult):
    """The sweep (every size x recipe x model x seed), the detail size's runs in `runs`, the models'
    costs, and what a report says about them: tables, per-class results, Findings and Limitations
    (every number from this run). `info.image_size` is the detail size."""

    info: RunInfo
    runs: dict[str, dict[str, list[RunResult]]] = field(default_factory=dict)  # detail size: recipe -> model -> seeds
    sweep: list[SweepPoint] = field(default_factory=list)
    recipes: dict[str, dict[str, Recipe]] = field(default_factory=dict)  # recipe -> model -> Recipe
    costs: dict[str, Cost] = field(default_factory=dict)
    train_images_per_s: dict[str, float] = field(default_factory=dict)
    data: DataFacts | None = None  # what the run used (None in hand-made results)
    labels: np.ndarray | None = None  # the test split's true labels, in order
    predictions: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # recipe -> model -> first seed's
    final_map: dict[str, dict[int, int]] = field(default_factory=dict)  # model -> image size -> last conv map side

    @property
    def split(self) -> str:
        return self.info.split

    @property
    def seeds(self) -> list[int]:
        return self.info.seeds

    @property
    def num_classes(self) -> int:
        return int(next(iter(next(iter(self.runs.values())).values()))[0].test.confusion.shape[0])

    @property
    def class_names(self) -> list[str]:
        """One name per label: the dataset's, else 'class <i>'."""
        if self.data is not None:
            return list(self.data.class_names)
        return [f"class {i}" for i in range(self.num_classes)]

    @property
    def epochs(self) -> int:
        return max(len(r.history) for models in self.runs.values() for runs in models.values() for r in runs)

    def metric(self, recipe: str, model: str, key: str) -> list[float]:
        return [getattr(r.test, key) for r in self.runs[recipe][model]]

    def best_val(self, recipe: str, model: str) -> list[float]:
        """Best validation accuracy of each seed's run."""
        return [max(h["val_acc"] for h in r.history) for r in self.runs[recipe][model]]

    def ratio(self, recipe: str) -> float:
        """mean Dense4 / mean ResNet34 test accuracy."""
        d, r = self.metric(recipe, "dense4", "accuracy"), self.metric(recipe, "resnet34", "accuracy")
        return _ratio(float(np.mean(d)), float(np.mean(r)))

    def size_text(self) -> str:
        sizes = sorted({p.image_size for p in self.sweep} or {self.info.image_size})
        return f"{', '.join(map(str, sizes))} px"

    def training_seconds(self) -> float:
        """Wall time of every training run of the sweep as recorded when it was trained (loaded runs
        keep their original time)."""
        return float(sum(r.seconds for p in self.sweep for runs in p.runs.values() for r in runs))

    def points(self, recipe: str | None = None) -> list[SweepPoint]:
        """The sweep's points (of one recipe), smallest size first."""
        return sorted((p for p in self.sweep if recipe in (None, p.recipe)), key=lambda p: (p.image_size, p.recipe))

    def double_epoch_runs(self) -> list[RunResult]:
        """ResNet34 trained 2 x epochs (largest size, strong recipe); empty when it did not run."""
        return [r for p in self.sweep for r in p.runs.get(DOUBLE_EPOCHS, [])]

    @staticmethod
    def _ratio_numbers(p: SweepPoint, baseline: str = "resnet34") -> str:
        d, b = p.paired(baseline)
        over = "" if len(d) == len(p.acc("dense4")) else f" (the {_seeds(len(b))} both ran)"
        text = f"Dense4 {_pm(d)}, {baseline} {_pm(b)}{over}: ratio {p.ratio(baseline):.3f}"
        m, h = p.ratio_interval(baseline)
        if not np.isnan(h):
            text += f"; mean of the per-seed ratios {m:.3f}, 95% CI [{m - h:.3f}, {m + h:.3f}] ({_where(m, h)})"
        else:
            text += " (one seed, so no interval)"
        return text

    def goals(self) -> list[Goal]:
        """At every size and recipe: Dense4 >= 0.90 x ResNet34 (mean test accuracy over seeds; the
        numbers give the per-seed ratios' 95% interval); against ResNet34 with twice the epochs at the
        largest size; and the aim, >= 1.00 at every size under the strong recipe."""
        rows = [
            Goal(
                f"{p.label}: Dense4 >= 0.90 x ResNet34 test accuracy",
                p.ratio() >= 0.9,
                self._ratio_numbers(p),
                settled(*p.ratio_interval(), 0.9, p.ratio() >= 0.9),
            )
            for p in self.points()
        ]
        for p in self.points("strong"):
            if DOUBLE_EPOCHS in p.runs:
                e = p.epochs_by_model[DOUBLE_EPOCHS]
                rows.append(
                    Goal(
                        f"{p.label}: Dense4 ({p.epochs} epochs) >= 0.90 x ResNet34 trained {e} epochs",
                        p.ratio(DOUBLE_EPOCHS) >= 0.9,
                        self._ratio_numbers(p, DOUBLE_EPOCHS),
                        settled(*p.ratio_interval(DOUBLE_EPOCHS), 0.9, p.ratio(DOUBLE_EPOCHS) >= 0.9),
                    )
                )
        strong = self.points("strong")
        if strong:
            met, sure = all_settled([(p.ratio() >= 1, *p.ratio_interval()) for p in strong], 1.0)
            rows.append(
                Goal(
                    "aim: Dense4 >= 1.00 x ResNet34 at every size (strong recipe)",
                    met,
                    "; ".join(f"{p.image_size} px {p.ratio():.3f}" for p in strong),
                    sure,
                )
            )
        return rows

    def headline(self) -> list[str]:
        lines = [
            f"- {p.label}: Dense4 {_pm(p.acc('dense4'))}, ResNet34 {_pm(p.acc('resnet34'))} test accuracy "
            f"({'mean ± sd over ' if len(p.acc('dense4')) > 1 else ''}{_seeds(len(p.acc('dense4')))}): "
            f"ratio {p.ratio():.3f}"
            for p in self.points()
        ]
        for p in self.points("strong"):
            if DOUBLE_EPOCHS in p.runs:
                lines.append(
                    f"- {p.image_size} px, ResNet34 trained {p.epochs_by_model[DOUBLE_EPOCHS]} epochs: "
                    f"{_pm(p.acc(DOUBLE_EPOCHS))} ({_seeds(len(p.acc(DOUBLE_EPOCHS)))}); Dense4 / it = "
                    f"{p.ratio(DOUBLE_EPOCHS):.3f}"
                )
        fm = self.final_map.get("resnet34", {})
        sizes = sorted({p.image_size for p in self.sweep})
        if sizes:
            biggest = max((fm[z] for z in sizes if z in fm), default=None)
            lines.append(
                f"- Limits: measured at {self.size_text()} only"
                + (f" (ResNet34's last stage sees maps of at most {biggest}x{biggest})" if biggest else "")
                + f", {self.epochs} epochs (short: see the Findings), "
                + (f"{self.data.used['train']:,} " if self.data else "")
                + "training images; the intervals cover seed noise only (one training subset, one test set)"
            )
        m = self.compute_match()
        if m is not None and m["dense4_val"] is not None:
            lines.append(
                f"- At equal training compute ({m['point'].image_size} px) ResNet34 "
                + ("is ahead" if m["baseline_val"] > m["dense4_val"] else "is behind")
                + f": validation {m['baseline_val']:.3f} with {m['budget'] / 1e12:.1f} T multiply-adds, Dense4 "
                f"{m['dense4_val']:.3f} with {m['dense4_macs'] / 1e12:.1f} T (mid-schedule)"
            )
        c = self.costs
        if {"dense4", "resnet34"} <= set(c):
            lines.append(
                f"- Dense4 has {c['dense4'].params / c['resnet34'].params:.2f}x ResNet34's parameters but "
                f"{c['dense4'].macs / c['resnet34'].macs:.2f}x its multiply-adds per image at {self.info.image_size} px"
            )
        return lines

    def sweep_table(self) -> pd.DataFrame:
        """One row per size, recipe and model: epochs, seeds, test accuracy mean ± sd, each seed's best
        epoch, Dense4 / this model (mean ratio, and the per-seed ratios' 95% interval), multiply-adds
        per image and per training run."""
        rows = []
        for p in self.points():
            for m, runs in p.runs.items():
                row = {
                    "size (px)": p.image_size,
                    "recipe": p.recipe,
                    "model": m,
                    "epochs": p.epochs_by_model.get(m, p.epochs),
                    "seeds": len(runs),
                    "test accuracy": _pm(p.acc(m)),
                    "best epochs": ", ".join(str(r.best_epoch) for r in runs),
                    "Dense4 / model": "" if m == "dense4" else f"{p.ratio(m):.3f}",
                    "95% CI of ratio": "",
                    "multiply-adds / image (G)": round(p.macs.get(m, 0) / 1e9, 3),
                    "training multiply-adds (T)": round(p.training_macs(m) / 1e12, 1) if m in p.macs else "",
                }
                mean, h = p.ratio_interval(m)
                if m != "dense4" and len(runs) == len(p.runs["dense4"]) and not np.isnan(h):
                    row["95% CI of ratio"] = f"[{mean - h:.3f}, {mean + h:.3f}]"
                rows.append(row)
        return pd.DataFrame(rows).set_index(["size (px)", "recipe", "model"])

    def ratio_series(self) -> dict[str, dict[int, list[float]]]:
        """Series name -> size -> per-seed Dense4 / baseline ratios (same seed), for the ratio-vs-size
        figure."""
        out: dict[str, dict[int, list[float]]] = {}
        for p in self.points():
            out.setdefault(f"{p.recipe} recipe vs ResNet34", {})[p.image_size] = p.seed_ratios()
            if DOUBLE_EPOCHS in p.runs:
                out.setdefault(
                    f"{p.recipe} recipe, Dense4 {p.epochs} / ResNet34 {p.epochs_by_model[DOUBLE_EPOCHS]} epochs", {}
                )[p.image_size] = p.seed_ratios(DOUBLE_EPOCHS)
        return out

    @staticmethod
    def references() -> dict[str, tuple[int, float]]:
        """Ratios measured elsewhere, for the figure: label -> (image size, Dense4 / ResNet34)."""
        o, pub = ORIGINAL_DENSE, PUBLIC_256
        return {
            f"original report ({o.num_classes} classes, {o.epochs} epochs, 1 run)": (o.image_size, o.ratio),
            f"{pub.source} ({pub.epochs} epochs)": (pub.image_size, pub.ratio),
        }

    def compute_curves(self) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Panel (size, strong recipe) -> model -> (training multiply-adds after each epoch, validation
        accuracy per epoch as a seeds x epochs array): accuracy at equal training compute."""
        out = {}
        for p in self.points("strong"):
            panel = {}
            for m, runs in p.runs.items():
                per_epoch = p.training_macs(m) / p.epochs_by_model.get(m, p.epochs)
                n = min(len(r.history) for r in runs)
                val = np.array([[h["val_acc"] for h in r.history[:n]] for r in runs])
                panel[m] = (per_epoch * np.arange(1, n + 1), val)
            out[f"{p.image_size} px"] = panel
        return out

    # -- tables -------------------------------------------------------------------------------
    def metrics_table(self) -> pd.DataFrame:
        """Test metrics per recipe and model, mean ± sd over seeds, and each seed's best epoch."""
        rows = []
        for rec, models in self.runs.items():
            for m, runs in models.items():
                rows.append(
                    {
                        "recipe": rec,
                        "model": m,
                        **{
                            label: _pm(self.metric(rec, m, key))
                            for key, label in (
                                ("accuracy", "test accuracy"),
                                ("macro_precision", "macro precision"),
                                ("macro_recall", "macro recall"),
                                ("macro_f1", "macro F1"),
                            )
                        },
                        "best val accuracy": _pm(self.best_val(rec, m)),
                        f"best epoch (of {self.epochs})": ", ".join(str(r.best_epoch) for r in runs),
                    }
                )
        return pd.DataFrame(rows).set_index(["recipe", "model"])

    def cost_table(self) -> pd.DataFrame:
        """Per model: parameters (integer), multiply-adds per image, training and inference speed."""
        rows = []
        for m, c in self.costs.items():
            row = {
                "model": m,
                "params": int(c.params),
                f"multiply-adds / image at {self.info.image_size} px (G)": round(c.macs / 1e9, 3),
                "training images/s (median epoch)": round(self.train_images_per_s.get(m, float("nan")), 1),
            }
            for key, ms in c.latency_ms.items():
                row[f"inference ms / image, batch {key.removeprefix('batch')}"] = round(ms, 3)
            rows.append(row)
        return pd.DataFrame(rows).set_index("model")

    def seed_spread(self) -> tuple[float, str] | None:
        """The largest max - min test accuracy over seeds among the main runs, and which run it is;
        None with one seed (no spread can be measured)."""
        if len(self.seeds) < 2:
            return None
        spreads = {
            f"{m}, {rec} recipe": float(np.ptp(self.metric(rec, m, "accuracy")))
            for rec, models in self.runs.items()
            for m in models
        }
        which = max(spreads, key=spreads.get)
        return spreads[which], which

    def confusion_panels(self) -> dict[str, np.ndarray]:
        """Title -> confusion matrix of every recipe and model's first-seed run (at the detail size)."""
        size, seed = self.info.image_size, self.seeds[0]
        return {
            f"{m}, {rec} recipe, {size} px, seed {seed}: acc {runs[0].test.accuracy:.3f}": runs[0].test.confusion
            for rec, models in self.runs.items()
            for m, runs in models.items()
        }

    # -- one model in detail -----------------------------------------------------------------
    def showcase(self) -> tuple[str, str]:
        """(recipe, model) shown class by class: the model with the higher mean test accuracy under
        the strong recipe (else the last recipe that ran); ties go to Dense4."""
        rec = "strong" if "strong" in self.runs else list(self.runs)[-1]
        models = list(self.runs[rec])
        return rec, max(models, key=lambda m: (np.mean(self.metric(rec, m, "accuracy")), m == "dense4"))

    def per_class_accuracy(self, recipe: str, model: str) -> np.ndarray:
        """Accuracy on each class's test images (recall per class) of the first seed's run; NaN for
        a class without test images."""
        cm = self.runs[recipe][model][0].test.confusion
        n = cm.sum(1)
        return np.divide(np.diag(cm), n, out=np.full(len(n), np.nan), where=n > 0)

    def misclassified(self, recipe: str, model: str, *, k: int = 8) -> list[tuple[int, int, int]]:
        """Up to k (test index, true label, predicted label) of the first seed's run, one per true
        class in label order, then a second per class, and so on (deterministic)."""
        if self.labels is None or model not in self.predictions.get(recipe, {}):
            return []
        y, p = self.labels, self.predictions[recipe][model]
        wrong = np.flatnonzero(y != p)
        by_class = [list(wrong[y[wrong] == c]) for c in range(self.num_classes)]
        out: list[tuple[int, int, int]] = []
        for rank in range(max((len(b) for b in by_class), default=0)):
            for b in by_class:
                if rank < len(b) and len(out) < k:
                    i = int(b[rank])
                    out.append((i, int(y[i]), int(p[i])))
        return out

    # -- the report ----------------------------------------------------------------------------
    def original_comparison(self) -> pd.DataFrame:
        """The original report's published numbers (hwlib.original) next to this run's (original
        recipe, mean ± sd over seeds), with a column saying where the settings differ."""
        o, i, k = ORIGINAL_DENSE, self.info, self.num_classes
        rec = "original" if "original" in self.runs else next(iter(self.runs))
        same_data = k == o.num_classes and i.image_size == o.image_size and self.epochs == o.epochs
        data_name = self.data.name if self.data is not None else i.dataset
        acc_note = "yes" if same_data else "no: other data, classes, image size or epochs"
        c = self.costs

        def macs(m: str) -> str:
            return f"{c[m].macs / 1e9:.3f} G" if m in c else "-"

        def params(m: str) -> str:
            return f"{c[m].params:,}" if m in c else "-"

        rows = [
            (
                "dataset",
                "the course's 50-class mini-ImageNet",
                data_name,
                "no" if k != o.num_classes else "only if these are the course's images",
            ),
            ("classes", o.num_classes, k, "yes" if k == o.num_classes else "no"),
            ("image size (px)", o.image_size, i.image_size, "yes" if i.image_size == o.image_size else "no"),
            ("epochs", o.epochs, self.epochs, "yes" if self.epochs == o.epochs else "no"),
            ("runs per model", o.runs_per_model, len(self.seeds), "yes" if len(self.seeds) == 1 else "no"),
            (
                "recipe",
                "Adam, constant lr",
                f"{rec} recipe",
                "same kind; lr and batch per profile" if rec == "original" else "no",
            ),
            ("Dense4 test accuracy", f"{o.dense4_test_acc:.3f}", _pm(self.metric(rec, "dense4", "accuracy")), acc_note),
            (
                "ResNet34 test accuracy",
                f"{o.resnet34_test_acc:.3f}",
                _pm(self.metric(rec, "resnet34", "accuracy")),
                acc_note,
            ),
            ("Dense4 / ResNet34 test accuracy", f"{o.ratio:.3f}", f"{self.ratio(rec):.3f}", acc_note),
            ("Dense4 best val accuracy", f"{o.dense4_val_best:.3f}", _pm(self.best_val(rec, "dense4")), acc_note),
            ("ResNet34 best val accuracy", f"{o.resnet34_val_best:.3f}", _pm(self.best_val(rec, "resnet34")), acc_note),
            (
                "Dense4 params",
                f"{o.dense4_params:,}",
                params("dense4"),
                "yes" if k == o.num_classes else f"no: {k}-class head",
            ),
            (
                "ResNet34 params",
                f"{o.resnet34_params:,}",
                params("resnet34"),
                "yes" if k == o.num_classes else f"no: {k}-class head",
            ),
            (
                "Dense4 multiply-adds / image",
                f"{o.dense4_macs_g:.2f} G at {o.image_size} px",
                f"{macs('dense4')} at {i.image_size} px",
                "yes" if i.image_size == o.image_size else "no: image size",
            ),
            (
                "ResNet34 multiply-adds / image",
                f"{o.resnet34_macs_g:.2f} G at {o.image_size} px",
                f"{macs('resnet34')} at {i.image_size} px",
                "yes" if i.image_size == o.image_size else "no: image size",
            ),
        ]
        return pd.DataFrame(
            [(q, str(a), str(b), s) for q, a, b, s in rows],
            columns=["quantity", "original report", "this run", "same setting?"],
        ).set_index("quantity")

    def _finding_sweep(self) -> list[str]:
        """Each size and recipe: the ratio, its per-seed interval and the verdict; then the trend over sizes."""
        lines = []
        for p in self.points():
            r = p.ratio()
            if r >= 1:
                verdict = "the 0.90 requirement and the 1.00 aim are both met"
            elif r >= 0.9:
                verdict = "the 0.90 requirement is met, the 1.00 aim is not"
            else:
                verdict = f"the 0.90 requirement is missed by {0.9 - r:.3f}"
            m, h = p.ratio_interval()
            n = len(p.acc("dense4"))
            if np.isnan(h):
                sure = " (one seed: no interval, so the verdict is not settled)"
            else:
                sure = f"; the per-seed ratios' 95% interval [{m - h:.3f}, {m + h:.3f}] lies {_where(m, h)}"
            lines.append(
                f"- **{p.label}**: Dense4 {_pm(p.acc('dense4'))}, ResNet34 {_pm(p.acc('resnet34'))} "
                f"({'mean ± sd over ' if n > 1 else ''}{_seeds(n)}, {p.epochs} epochs): ratio {r:.3f}, {verdict}{sure}."
            )
        strong = self.points("strong")
        if len(strong) > 1:
            a, b = strong[0], strong[-1]
            lines.append(
                f"- **Image size**: with the strong recipe the ratio is {a.ratio():.3f} at {a.image_size} px and "
                f"{b.ratio():.3f} at {b.image_size} px (ResNet34 {np.mean(a.acc('resnet34')):.3f} -> "
                f"{np.mean(b.acc('resnet34')):.3f}, Dense4 {np.mean(a.acc('dense4')):.3f} -> "
                f"{np.mean(b.acc('dense4')):.3f}). This is not a size trend: both sizes leave ResNet34's last "
                "stage on maps of at most 2x2, every run is short (see below), and ResNet34 with more epochs moves the "
                "ratio more than the size does. References from elsewhere (figure): the original report "
                f"{ORIGINAL_DENSE.ratio:.2f} at {ORIGINAL_DENSE.image_size} px, {PUBLIC_256.source} "
                f"{PUBLIC_256.ratio:.2f} at {PUBLIC_256.image_size} px."
            )
        if {"original", "strong"} <= set(self.runs):
            moves = []
            for m in ("dense4", "resnet34"):
                delta = np.mean(self.metric("strong", m, "accuracy")) - np.mean(self.metric("original", m, "accuracy"))
                moves.append(f"{'raises' if delta > 0 else 'lowers'} {m} by {abs(delta):.3f}")
            lines.append(
                f"- **Recipe** ({self.info.image_size} px): the strong recipe {_join(moves)} (mean test accuracy)."
            )
        return lines

    def _finding_baselines(self) -> list[str]:
        """Is ResNet34 handicapped by its head or by too few epochs?"""
        lines = []
        for p in self.points("strong"):
            if PLAIN_HEAD in p.runs:
                diff = [a - b for a, b in zip(p.acc(PLAIN_HEAD), p.acc("resnet34"))]
                m, h = t_interval(diff)
                if np.isnan(h):
                    ci, effect = "", "one seed, so no interval: the head's effect is not measured"
                elif abs(m) <= h:
                    ci, effect = f" (95% CI ± {h:.3f})", "not distinguishable from the seed noise"
                else:
                    ci, effect = f" (95% CI ± {h:.3f})", "beyond the seed noise"
                lines.append(
                    f"- **ResNet34's head** ({p.label}): the plain head (Linear(512, classes)) "
                    f"{_pm(p.acc(PLAIN_HEAD))} vs the original report's (1000-way fc, ReLU, Linear) "
                    f"{_pm(p.acc('resnet34'))}: {m:+.3f}{ci}, {effect}; Dense4 / plain-head ResNet34 = "
                    f"{p.ratio(PLAIN_HEAD):.3f}."
                )
            if DOUBLE_EPOCHS in p.runs:
                e2 = p.epochs_by_model[DOUBLE_EPOCHS]
                k = len(p.acc(DOUBLE_EPOCHS))
                gain = np.mean(p.acc(DOUBLE_EPOCHS)) - np.mean(p.acc("resnet34")[:k])
                best = ", ".join(str(r.best_epoch) for r in p.runs[DOUBLE_EPOCHS])
                share = p.training_macs(DOUBLE_EPOCHS) / p.training_macs("dense4")
                compute = (
                    f"Even with twice the epochs ResNet34 spends {share:.2f}x Dense4's training multiply-adds"
                    if share < 1
                    else f"With twice the epochs ResNet34 spends {share:.2f}x Dense4's training multiply-adds"
                )
                lines.append(
                    f"- **ResNet34 trained longer** ({p.label}): {e2} epochs give {_pm(p.acc(DOUBLE_EPOCHS))} "
                    f"({_seeds(k)}; best epoch {best} of {e2}), {gain:+.3f} over {p.epochs} epochs (same "
                    f"seed{'s' if k != 1 else ''}); Dense4 ({p.epochs} epochs) / it = {p.ratio(DOUBLE_EPOCHS):.3f}"
                    f" (against {p.ratio():.3f} at {p.epochs} epochs). {compute}."
                    + (
                        f" ResNet34 gains this much from more epochs while Dense4 was not trained longer (so "
                        f"{p.ratio(DOUBLE_EPOCHS):.3f} compares {p.epochs} with {e2} epochs): the {p.epochs}-epoch "
                        "ratios overstate Dense4's lead, and this run cannot say where the ratio settles with full "
                        "training."
                        if gain > 0.02
                        else ""
                    )
                )
        return lines

    def compute_match(self) -> dict | None:
        """At the largest size (strong recipe): ResNet34's (2x-epoch, if run) whole training budget in
        multiply-adds, its final validation accuracy, and Dense4's validation accuracy at its last epoch
        within that budget (means over seeds; None: no epoch fits); None without a strong recipe."""
        strong = self.points("strong")
        if not strong:
            return None
        p = strong[-1]
        base = DOUBLE_EPOCHS if DOUBLE_EPOCHS in p.runs else "resnet34"
        curves = self.compute_curves()[f"{p.image_size} px"]
        (dx, dv), (bx, bv) = curves["dense4"], curves[base]
        budget = float(bx[-1])
        within = np.flatnonzero(dx <= budget * (1 + 1e-9))
        e = int(within[-1]) if len(within) else None
        return {
            "point": p,
            "baseline": base,
            "budget": budget,
            "baseline_val": float(bv.mean(0)[-1]),
            "dense4_epoch": None if e is None else e + 1,
            "dense4_macs": float(dx[e]) if e is not None else float(dx[0]),
            "dense4_val": None if e is None else float(dv.mean(0)[e]),
            "dense4_epochs": len(dx),
        }

    def _finding_compute(self) -> list[str]:
        """Who is ahead at equal training compute (see :meth:`compute_match`)."""
        c = self.compute_match()
        if c is None:
            return []
        p, base = c["point"], c["baseline"]
        if c["dense4_val"] is None:
            d_text, ahead = f"Dense4's first epoch alone costs {c['dense4_macs'] / 1e12:.1f} T", "ResNet34"
        else:
            d_text = (
                f"Dense4 after {c['dense4_macs'] / 1e12:.1f} T (epoch {c['dense4_epoch']} of {c['dense4_epochs']}, "
                f"part-way through its schedule, so not an end-of-training result) is at {c['dense4_val']:.3f}"
            )
            ahead = "ResNet34" if c["baseline_val"] > c["dense4_val"] else "Dense4"
        label = f"ResNet34 trained {p.epochs_by_model[base]} epochs" if base == DOUBLE_EPOCHS else "ResNet34"
        return [
            f"- **At equal training compute** ({p.label}, validation accuracy, mean over seeds): {label} reaches "
            f"{c['baseline_val']:.3f} with {c['budget'] / 1e12:.1f} T multiply-adds; {d_text}. {ahead} is ahead at "
            f"this budget: Dense4's lead at equal epochs is bought with {p.macs['dense4'] / p.macs['resnet34']:.1f}x "
            "the multiply-adds per image (figure above)."
        ]

    def _finding_cost(self) -> list[str]:
        c, size = self.costs, self.info.image_size
        if not {"dense4", "resnet34"} <= set(c):
            return []
        d, r = c["dense4"], c["resnet34"]
        pr, mr = d.params / r.params, d.macs / r.macs
        if pr < 1 <= mr:
            moral = (
                f'so "fewer parameters" is not "cheaper": per image Dense4 does {mr:.1f}x the arithmetic, because '
                "its 512 filters work on large maps"
            )
        elif pr < 1 and mr < 1:
            moral = "so here Dense4 is cheaper in both"
        else:
            moral = "so Dense4 is not the smaller model here"
        lines = [
            f"- **Cost**: Dense4 has {pr:.2f}x ResNet34's parameters ({d.params:,} vs {r.params:,}) but {mr:.2f}x its "
            f"multiply-adds per image at {size} px ({d.macs / 1e9:.3f} G vs {r.macs / 1e9:.3f} G), {moral}."
        ]
        tps = self.train_images_per_s
        if {"dense4", "resnet34"} <= set(tps):
            sr = tps["dense4"] / tps["resnet34"]
            if mr > 1 and sr >= 1:
                how = (
                    f"multiply-adds alone do not predict time: with {mr:.1f}x the multiply-adds Dense4 trains "
                    f"{sr:.2f}x as fast as ResNet34"
                )
            elif mr > 1:
                how = f"the extra multiply-adds show as time: Dense4 trains at {sr:.2f}x ResNet34's speed"
            else:
                how = f"Dense4 trains at {sr:.2f}x ResNet34's speed"
            lat = ""
            key = "batch64" if "batch64" in d.latency_ms and "batch64" in r.latency_ms else None
            if key:
                lat = f"; inference at batch 64: {d.latency_ms[key]:.3f} vs {r.latency_ms[key]:.3f} ms per image"
            lines.append(
                f"- **Speed** on {self.info.device}: training {tps['dense4']:.0f} vs {tps['resnet34']:.0f} images/s "
                f"(Dense4 vs ResNet34, median epoch): {how}{lat}."
            )
        return lines

    def _finding_epochs(self) -> list[str]:
        """Where both models' best validation epoch is the last one, training was still improving."""
        still = [
            rec
            for rec, models in self.runs.items()
            if all(r.best_epoch == len(r.history) for runs in models.values() for r in runs)
        ]
        lines = []
        if still:
            where = "every recipe" if len(still) == len(self.runs) else _join([f"the {rec} recipe" for rec in still])
            caveat = (
                " Under the strong recipe this is weak evidence on its own: its one-cycle schedule ends with a "
                "learning rate near zero, so the last epoch is usually the best one."
                if "strong" in still
                else ""
            )
            lines.append(
                f"- **Still improving**: in {where} every run's best validation epoch is its last (epoch "
                f"{self.epochs}), for both models: training was still improving when it stopped, so longer training "
                f"would change these numbers and possibly the ratio.{caveat}"
            )
        for rec, models in self.runs.items():
            if rec not in still:
                best = _join([f"{m} {', '.join(str(r.best_epoch) for r in runs)}" for m, runs in models.items()])
                lines.append(f"- **Best epochs** ({rec} recipe, of {self.epochs}): {best}.")
        return lines

    def _finding_classes(self) -> list[str]:
        rec, m = self.showcase()
        acc, names = self.per_class_accuracy(rec, m), self.class_names
        known = [int(i) for i in np.argsort(-np.nan_to_num(acc, nan=-1), kind="stable") if not np.isnan(acc[i])]
        if len(known) < 2:
            return []
        lo, hi = float(acc[known[-1]]), float(acc[known[0]])
        n = 2 if len(known) >= 6 else 1
        head = f"- **Per class** ({m}, {rec} recipe, seed {self.seeds[0]}; chance {1 / self.num_classes:.3f}): "
        if lo == hi:
            return [head + f"every class at {lo:.2f}."]
        top = _join([f"{names[i]} ({acc[i]:.2f})" for i in known[:n] if acc[i] > lo])
        never = [names[i] for i in known if acc[i] == 0]
        if len(never) > n:
            shown = ", ".join(never[:3]) + (f" and {len(never) - 3} more" if len(never) > 3 else "")
            bottom = f"{len(never)} classes never recognised ({shown})"
        else:
            bottom = "worst " + _join([f"{names[i]} ({acc[i]:.2f})" for i in known[::-1][:n] if acc[i] < hi])
        first = self.runs[rec][m][0].test.confusion
        cm = first.copy()
        np.fill_diagonal(cm, 0)
        t, p = np.unravel_index(int(np.argmax(cm)), cm.shape)
        confusion = (
            f"; most frequent confusion: {names[t]} taken for {names[p]} ({cm[t, p]} of {first[t].sum()} test images)"
            if cm[t, p] > 0
            else ""
        )
        return [head + f"best recognised {top}; {bottom}{confusion}."]

    def _finding_original(self) -> list[str]:
        o = ORIGINAL_DENSE
        rec = "original" if "original" in self.runs else next(iter(self.runs))
        r = self.ratio(rec)
        agree = (r >= 1) == (o.ratio >= 1)
        return [
            f"- **Against the original report**: it found Dense4 / ResNet34 = {o.dense4_test_acc:.2f} / "
            f"{o.resnet34_test_acc:.2f} = {o.ratio:.2f} ({o.num_classes} classes, {o.image_size} px, {o.epochs} "
            f"epochs, one run); this run's {rec} recipe gives {r:.3f}, "
            + ("the same direction" if agree else "the opposite direction")
            + ". The settings differ (table above), so only the direction is comparable."
        ]

    def findings_markdown(self) -> str:
        """The Findings section: every number from this run, outcome-dependent wording chosen here."""
        lines = [
            *self._finding_sweep(),
            *self._finding_baselines(),
            *self._finding_compute(),
            *self._finding_cost(),
            *self._finding_epochs(),
            *self._finding_classes(),
            *self._finding_original(),
        ]
        return "\n".join(lines)

    def limitations_markdown(self) -> str:
        """The Limitations section: data, image size, epochs, seeds, machine, why accuracy is low,
        ResNet34's map size at this image size, and what the numbers cannot be compared with."""
        i, k, o = self.info, self.num_classes, ORIGINAL_DENSE
        lines = []
        d = self.data
        if d is not None:
            used = ", ".join(f"{s} {n:,} of {d.available.get(s, n):,}" for s, n in d.used.items())
            frac = d.used["train"] / max(1, d.available["train"])
            lines.append(
                f"- **Data**: {d.name}, {d.num_classes} classes (names: {d.class_names_from}); images used: {used} "
                f"({frac:.0%} of the training images; the same images at every size). The models see "
                f"{_join([f'{z}x{z}' for z in sorted({p.image_size for p in self.sweep} or {d.image_size})])} px "
                f"images resized from stored images of {d.photo_size}."
            )
        every = [r for p in self.sweep for runs in p.runs.values() for r in runs] or [
            r for models in self.runs.values() for runs in models.values() for r in runs
        ]
        late = sum(r.best_epoch > 0.8 * len(r.history) for r in every)
        lines.append(
            f"- **Training length**: {self.epochs} epoch{'s' if self.epochs != 1 else ''} per run (the original "
            f"report: {o.epochs}); the best validation epoch is in the last fifth of training in {late} of "
            f"{len(every)} runs"
            + (
                ", so most runs were still improving when they stopped: longer training would raise both models "
                "and could move the ratio (ResNet34 with twice the epochs measures how far)."
                if late > len(every) / 2
                else "."
            )
        )
        if all(p.ratio() >= 0.9 for p in self.sweep):
            lines.append(
                "- **No other four-layer design was trained**: Dense4 met the 0.90 requirement at every size and "
                "recipe measured, so the search for a better <= 4-conv network (the issue's fallback) did not run."
            )
        n = len(self.seeds)
        lines.append(
            f"- **Seeds**: {n} per recipe and model ({', '.join(map(str, self.seeds))})"
            + ("; with one seed no spread is measured." if n == 1 else ".")
            + (
                f" ResNet34 with twice the epochs ran {len(self.double_epoch_runs())} seed"
                f"{'s' if len(self.double_epoch_runs()) != 1 else ''}."
                if self.double_epoch_runs()
                else ""
            )
        )
        lines.append(
            f"- **Machine**: {i.device}; the {sum(len(r) for p in self.sweep for r in p.runs.values())} training "
            f"runs took {self.training_seconds() / 60:.0f} min of training and testing on it. Images/s and latencies "
            "hold for this machine only; multiply-adds and parameters do not depend on it."
        )
        best_rec, best_m = max(
            ((rec, m) for rec, models in self.runs.items() for m in models),
            key=lambda rm: np.mean(self.metric(rm[0], rm[1], "accuracy")),
        )
        best = float(np.mean(self.metric(best_rec, best_m, "accuracy")))
        reasons = [
            f"chance is 1/{k} = {1 / k:.3f} and the best mean test accuracy here is {best:.3f} "
            f"({best_m}, {best_rec} recipe: {best * k:.1f}x chance)"
        ]
        if d is not None:
            reasons.append(f"the images are {self.size_text()} instead of {d.photo_size}")
            if d.used["train"] < d.available["train"]:
                reasons.append(f"training uses {d.used['train']:,} of {d.available['train']:,} training images")
        reasons.append(f"training lasts {self.epochs} epoch{'s' if self.epochs != 1 else ''}")
        lines.append(f"- **Why absolute accuracy is low**: {_join(reasons)}.")
        fm, dm = self.final_map.get("resnet34", {}), self.final_map.get("dense4", {})
        sizes = sorted({p.image_size for p in self.sweep} or {i.image_size})
        maps = [f"{fm[s]}x{fm[s]} at {s} px" for s in sizes if s in fm]
        if maps:
            text = (
                "- **ResNet34's last stage**: torchvision's ResNet34 (7x7 stride-2 stem, stride-2 max-pool, three "
                f"stride-2 stages) leaves layer4 a map of {_join(maps)}"
            )
            if 224 in fm:
                text += f", against {fm[224]}x{fm[224]} at the 224 px it was designed for"
            dense_maps = [f"{dm[s]}x{dm[s]}" for s in sizes if s in dm]
            if dense_maps:
                text += f"; Dense4's last map is {_join(dense_maps)}"
            small = [s for s in sizes if s in fm and fm[s] <= 2]
            if small and len(small) == len([s for s in sizes if s in fm]):
                text += (
                    ". At every size measured here its last stage convolves maps of at most 2x2, so the sweep does "
                    "not reach the sizes where ResNet34 is not handicapped (>= 128 px: the `full` profile, on a GPU); "
                    f"there the only evidence is from elsewhere: the original report's {ORIGINAL_DENSE.ratio:.2f} at "
                    f"{ORIGINAL_DENSE.image_size} px and the {PUBLIC_256.ratio:.2f} of {PUBLIC_256.source} at "
                    f"{PUBLIC_256.image_size} px."
                )
            elif small:
                text += (
                    f". At {_join([f'{s} px' for s in small])} its last stage convolves maps of at most 2x2, which "
                    "handicaps ResNet34 there; the larger sizes of the sweep are the fairer comparison."
                )
            else:
                text += ". Both keep spatial detail to their last layer at these sizes."
            lines.append(text)
        lines.append(
            f"- **Not comparable with the original report**: its {o.dense4_test_acc:.2f} (Dense4) and "
            f"{o.resnet34_test_acc:.2f} (ResNet34) are on {o.num_classes} classes at {o.image_size} px after "
            f"{o.epochs} epochs, one run each; this run differs in "
            + _join(
                [
                    w
                    for w, differs in (
                        ("data", self.data is None or self.data.name != "ncku50"),
                        ("classes", k != o.num_classes),
                        ("image size", i.image_size != o.image_size),
                        ("epochs", self.epochs != o.epochs),
                        ("runs per model", n != o.runs_per_model),
                    )
                    if differs
                ]
                or ["nothing listed"]
            )
            + ". The table above puts them side by side as different settings, not as a replication."
        )
        return "\n".join(lines)

    def to_json(self) -> dict:
        spread = self.seed_spread()
        return {
            **self.info.as_dict(),
            "recipes": {
                rec: {
                    m: {
                        "test_acc": self.metric(rec, m, "accuracy"),
                        "macro_f1": self.metric(rec, m, "macro_f1"),
                        "macro_precision": self.metric(rec, m, "macro_precision"),
                        "macro_recall": self.metric(rec, m, "macro_recall"),
                        "best_epoch": [r.best_epoch for r in runs],
                        "history": [r.history for r in runs],
                    }
                    for m, runs in models.items()
                }
                for rec, models in self.runs.items()
            },
            "recipe_description": {rec: next(iter(by_model.values())).what for rec, by_model in self.recipes.items()},
            "goals": [g.as_dict() for g in self.goals()],
            "params": {m: c.params for m, c in self.costs.items()},
            "macs": {m: c.macs for m, c in self.costs.items()},
            "train_images_per_s": self.train_images_per_s,
            "latency_ms_per_image": {m: c.latency_ms for m, c in self.costs.items()},
            "sweep": [p.to_json() for p in self.sweep],
            "seed_spread": None if spread is None else {"value": spread[0], "run": spread[1]},
            "class_names": self.class_names,
            "data": None if self.data is None else self.data.as_dict(),
            "final_conv_map": {m: {str(s): v for s, v in sizes.items()} for m, sizes in self.final_map.items()},
        }


def steps_per_epoch(data: LoadedData, batch: int) -> int:
    """Training batches per epoch of `data` at batch size `batch` (the last one may be short)."""
    return -(-len(data.splits["train"]) // batch)


def detail_size(settings: DenseStudySettings) -> int:
    """The size shown in detail (confusion matrices, per-class accuracy, costs, the original report's
    table): the largest size where both recipes run, else the largest size of the sweep."""
    both = set(settings.sizes) & set(settings.original_sizes)
    return max(both or settings.sizes)


def load_sweep_data(source: LoadedData, *, settings: DenseStudySettings, data: DataSettings) -> dict[int, LoadedData]:
    """size -> the data notebook 02 trains on at that size: `source`'s dataset with the first
    `settings.train_per_class` training images per class (None: the profile's `data.train_per_class`)
    and `data.eval_per_class` validation/test images, decoded at every size of the sweep (cached)."""
    per_class = settings.train_per_class if settings.train_per_class is not None else data.train_per_class
    return {
        size: load_dataset(source.path, size=size, train_per_class=per_class, eval_per_class=data.eval_per_class)
        for size in sorted(set(settings.sizes))
    }


def _train(
    name: str, model: str, data: LoadedData, recipe: Recipe, seed: int, run_dir: Path | None, epochs: int
) -> tuple[nn.Module, RunResult]:
    """Train and test architecture `model` under `recipe` for `epochs` epochs (see train_and_test)."""
    config = recipe.config if epochs == recipe.config.epochs else replace(recipe.config, epochs=epochs)
    return train_and_test(
        name,
        lambda: ARCHITECTURES[model](data.num_classes),
        data,
        config=config,
        batch_size=recipe.batch_size,
        seed=seed,
        run_dir=run_dir,
        flip=recipe.flip,
        crop_pad=recipe.crop_pad,
    )


def run_dense_study(
    datasets: dict[int, LoadedData],
    *,
    settings: DenseStudySettings,
    profile: str,
    seeds: list[int],
    run_dir: Path | None,
) -> DenseStudyResult:
    """The resolution sweep: at every size in `settings.sizes`, Dense4 and ResNet34 under the strong
    recipe (and the original recipe at `settings.original_sizes`), every seed, evaluated on the test
    split; ResNet34 with the plain head at the smallest size and with twice the epochs at the largest
    (strong recipe). At the detail size (:func:`detail_size`) the first seed's predictions are kept and
    both models' cost (parameters, multiply-adds, latency) is measured; multiply-adds at every size.

    `datasets` maps each size to its data (:func:`load_sweep_data`); run names are
    `<model>-<recipe>-<size>px-seed<seed>`.
    """
    device = pick_device()
    sizes = sorted(settings.sizes)
    missing = sorted(set(sizes) - set(datasets))
    if missing:
        raise ValueError(f"no data for the sweep's sizes {missing} px (have {sorted(datasets)})")
    shown = detail_size(settings)
    data = datasets[shown]
    res = DenseStudyResult(RunInfo(data.name, profile, data.eval_split, shown, device_name(device), list(seeds)))
    res.data = data.facts()
    res.labels = data.splits[data.eval_split].labels.numpy().copy()
    n_runs = sum(len(seeds) * (2 if s in settings.original_sizes else 1) * 2 for s in sizes)
    n_runs += len(seeds) + min(settings.resnet34_2x_seeds, len(seeds))
    print(f"{n_runs} training runs: sizes {', '.join(map(str, sizes))} px, seeds {seeds}")
    for size in sizes:
        d = datasets[size]
        steps = steps_per_epoch(d, settings.batch_size)
        names = ("original", "strong") if size in settings.original_sizes else ("strong",)
        for rname in names:
            point = SweepPoint(
                image_size=size,
                recipe=rname,
                epochs=settings.epochs,
                train_images=len(d.splits["train"]),
                seeds=list(seeds),
            )
            extra: list[tuple[str, str, list[int], int]] = []  # (result name, architecture, seeds, epochs)
            if rname == "strong" and size == sizes[0]:
                extra.append((PLAIN_HEAD, PLAIN_HEAD, seeds, settings.epochs))
            if rname == "strong" and size == sizes[-1] and settings.resnet34_2x_seeds:
                extra.append((DOUBLE_EPOCHS, "resnet34", seeds[: settings.resnet34_2x_seeds], 2 * settings.epochs))
            plan = [(m, m, seeds, settings.epochs) for m in MODELS] + extra
            for key, arch, arch_seeds, epochs in plan:
                recipe = recipes(settings, image_size=size, model="dense4" if arch == "dense4" else "resnet34",
                                 steps_per_epoch=steps)[rname]  # fmt: skip
                point.runs[key], point.epochs_by_model[key] = [], epochs
                for seed in arch_seeds:
                    name = f"{key}-{rname}-{size}px-seed{seed}"
                    trained, run = _train(name, arch, d, recipe, seed, run_dir, epochs)
                    point.runs[key].append(run)
                    if size == shown and key in MODELS and seed == seeds[0]:
                        loader = BatchLoader(d.splits[d.eval_split], batch_size=EVAL_BATCH, device=device)
                        res.predictions.setdefault(rname, {})[key] = predict(trained, loader, device=device)[1]
                    del trained
                if size == shown and key in MODELS:
                    res.runs.setdefault(rname, {})[key] = point.runs[key]
                    res.recipes.setdefault(rname, {})[key] = recipe
            point.macs = {
                key: measure_cost(ARCHITECTURES[arch](d.num_classes), (3, size, size), device=device, batches=()).macs
                for key, arch, _, _ in plan
            }
            res.sweep.append(point)
    shape = (3, shown, shown)
    for model, build in MODELS.items():
        res.costs[model] = measure_cost(build(data.num_classes), shape, device=device)
        res.train_images_per_s[model] = float(
            np.median([h["images_per_s"] for runs in res.runs.values() for r in runs[model] for h in r.history])
        )
        res.final_map[model] = {
            s: final_conv_map_size(build(data.num_classes), image_size=s)
            for s in sorted({*sizes, *([224] if model == "resnet34" else [])})  # 224 px: ResNet34's design size
        }
    return res
