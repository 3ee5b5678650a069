"""Dense4 vs ResNet34 (notebook 02): two recipes, several seeds, the same data, epochs and image
size for both models; plus an ablation of what makes the four-layer network work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..config import DenseStudySettings
from ..data.loader import BatchLoader
from ..data.prepare import DataFacts, LoadedData
from ..device import device_name, pick_device
from ..models import dense4, resnet34_baseline
from ..original import ORIGINAL_DENSE
from ..train import TrainConfig, predict
from .common import EVAL_BATCH, Cost, Goal, RunInfo, RunResult, StudyResult, measure_cost, train_and_test

ModelName = Literal["dense4", "resnet34"]
RecipeName = Literal["original", "strong"]
RECIPES: tuple[RecipeName, ...] = ("original", "strong")

MODELS: dict[str, Callable[[int], nn.Module]] = {
    "dense4": lambda num_classes: dense4(num_classes=num_classes),
    "resnet34": lambda num_classes: resnet34_baseline(num_classes=num_classes, head="original"),
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


ABLATIONS: dict[str, tuple[str, Callable[[int], nn.Module]]] = {
    "k512": ("the original report's Dense4: width 512, concatenation, transition", lambda n: dense4(num_classes=n)),
    "k256": ("growth rate and stem width 256", lambda n: dense4(num_classes=n, growth_rate=256, init_channels=256)),
    "k128": ("growth rate and stem width 128", lambda n: dense4(num_classes=n, growth_rate=128, init_channels=128)),
    "no_concat": ("no concatenation: each bottleneck's output only", lambda n: dense4(num_classes=n, concat=False)),
    "no_transition": (
        "no transition (1x1 conv + pool) between the blocks",
        lambda n: dense4(num_classes=n, transition=False),
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
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _signed(x: float) -> str:
    return f"{x:+.3f}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class DenseStudyResult(StudyResult):
    """Every recipe x model x seed run, the models' costs, the ablation, and what a report says about
    them: tables, per-class results, Findings and Limitations (every number from this run)."""

    info: RunInfo
    runs: dict[str, dict[str, list[RunResult]]] = field(default_factory=dict)  # recipe -> model -> per seed
    recipes: dict[str, dict[str, Recipe]] = field(default_factory=dict)  # recipe -> model -> Recipe
    costs: dict[str, Cost] = field(default_factory=dict)
    train_images_per_s: dict[str, float] = field(default_factory=dict)
    ablation: dict[str, dict] = field(default_factory=dict)
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
        return float(
            np.mean(self.metric(recipe, "dense4", "accuracy")) / np.mean(self.metric(recipe, "resnet34", "accuracy"))
        )

    def seed_ratios(self, recipe: str) -> list[float]:
        """Dense4 / ResNet34 test accuracy seed by seed (same seed, same data order)."""
        d, r = self.metric(recipe, "dense4", "accuracy"), self.metric(recipe, "resnet34", "accuracy")
        return [a / b if b else float("inf") for a, b in zip(d, r)]

    def goals(self) -> list[Goal]:
        """The requirement (>= 0.90 of ResNet34) per recipe, and the aim (>= 1.00 with fewer parameters)."""
        fewer = self.costs["dense4"].params < self.costs["resnet34"].params
        rows = []
        for rec in self.runs:
            r = self.ratio(rec)
            rows.append(
                Goal(
                    f"{rec} recipe: Dense4 >= 0.90 x ResNet34 mean test accuracy",
                    r >= 0.9,
                    f"ratio {r:.3f} over seeds {self.seeds}",
                )
            )
        if "strong" in self.runs:
            r = self.ratio("strong")
            rows.append(
                Goal(
                    "strong recipe: Dense4 >= 1.00 x ResNet34 with fewer parameters",
                    r >= 1 and fewer,
                    f"ratio {r:.3f}; params {self.costs['dense4'].params:,} vs {self.costs['resnet34'].params:,}",
                )
            )
        return rows

    def headline(self) -> list[str]:
        lines = []
        for rec in self.runs:
            d, r = self.metric(rec, "dense4", "accuracy"), self.metric(rec, "resnet34", "accuracy")
            lines.append(
                f"- {rec} recipe: Dense4 {np.mean(d):.3f} ± {np.std(d):.3f}, ResNet34 {np.mean(r):.3f} ± "
                f"{np.std(r):.3f} test accuracy (mean ± sd over seeds): ratio {self.ratio(rec):.3f}"
            )
        c = self.costs
        lines.append(
            f"- Dense4 has {c['dense4'].params / c['resnet34'].params:.2f}x ResNet34's parameters but "
            f"{c['dense4'].macs / c['resnet34'].macs:.2f}x its multiply-adds per image at {self.info.image_size} px"
        )
        return lines

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

    def ablation_effects(self) -> dict[str, tuple[float, bool | None]]:
        """Ablation variant -> (test accuracy minus the original Dense4's (k512), whether the
        difference exceeds the seed spread of the main runs; None when no spread is known)."""
        if "k512" not in self.ablation:
            return {}
        spread = self.seed_spread()
        base = self.ablation["k512"]["test_acc"]
        out = {}
        for name, v in self.ablation.items():
            if name == "k512":
                continue
            diff = float(v["test_acc"] - base)
            out[name] = (diff, None if spread is None else abs(diff) > spread[0])
        return out

    def ablation_table(self) -> pd.DataFrame:
        """The ablation: what changed, conv layers, parameters (integers), multiply-adds, test
        accuracy and its difference to the original Dense4 (k512), and whether that difference is
        larger than the seed spread of the main runs."""
        effects = self.ablation_effects()
        rows = []
        for name, v in self.ablation.items():
            diff, exceeds = effects.get(name, (0.0, None))
            rows.append(
                {
                    "variant": name,
                    "what": v["what"],
                    "conv layers": int(v["convs"]),
                    "params": int(v["params"]),
                    f"multiply-adds / image at {self.info.image_size} px (G)": round(v["macs"] / 1e9, 3),
                    "test accuracy": round(float(v["test_acc"]), 3),
                    "minus k512": "" if name == "k512" else _signed(diff),
                    "beyond seed spread": ""
                    if name == "k512"
                    else {True: "yes", False: "no", None: "unknown"}[exceeds],
                    "best epoch": int(v["best_epoch"]),
                }
            )
        return pd.DataFrame(rows).set_index("variant")

    def confusion_panels(self) -> dict[str, np.ndarray]:
        """Title -> confusion matrix of every recipe and model's first-seed run."""
        return {
            f"{m}, {rec} recipe, seed {self.seeds[0]}: acc {runs[0].test.accuracy:.3f}": runs[0].test.confusion
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

    def _finding_recipes(self) -> list[str]:
        n = len(self.seeds)
        over = f"mean ± sd over {n} seeds" if n > 1 else f"one seed ({self.seeds[0]}), so no spread"
        lines = []
        for rec in self.runs:
            d, r = self.metric(rec, "dense4", "accuracy"), self.metric(rec, "resnet34", "accuracy")
            ratio, per_seed = self.ratio(rec), self.seed_ratios(rec)
            show = _pm if n > 1 else (lambda v: f"{v[0]:.3f}")
            if ratio >= 1:
                verdict = "the 0.90 requirement and the 1.00 aim are both met"
            elif ratio >= 0.9:
                verdict = "the 0.90 requirement is met, the 1.00 aim is not"
            else:
                verdict = "the 0.90 requirement is missed (and so is the 1.00 aim)"
            seeds_text = ""
            if n > 1:
                met = sum(x >= 0.9 for x in per_seed)
                seeds_text = f"; seed by seed {_pm(per_seed)}, at least 0.90 in {met} of {n} seeds"
            lines.append(
                f"- **{rec} recipe**: Dense4 {show(d)}, ResNet34 {show(r)} test accuracy ({over}); Dense4 / ResNet34 "
                f"= {ratio:.3f}{seeds_text}: {verdict}."
            )
        if {"original", "strong"} <= set(self.runs):
            moves = []
            for m in ("dense4", "resnet34"):
                delta = np.mean(self.metric("strong", m, "accuracy")) - np.mean(self.metric("original", m, "accuracy"))
                moves.append(
                    f"raises {m} by {delta:.3f}"
                    if delta > 0
                    else f"lowers {m} by {-delta:.3f}"
                    if delta < 0
                    else f"leaves {m} unchanged"
                )
            lines.append(f"- **Recipe**: the strong recipe {_join(moves)} (mean test accuracy).")
        return lines

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

    def _finding_ablation(self) -> list[str]:
        effects = self.ablation_effects()
        if not effects:
            return []
        seed = self.seeds[0]
        diffs = [f"{name} {diff:+.3f}" for name, (diff, _) in effects.items()]
        spread = self.seed_spread()
        head = (
            f"- **Ablation** (original recipe, seed {seed}, one run per variant; test accuracy minus the original "
            f"Dense4 k512's {self.ablation['k512']['test_acc']:.3f}): {_join(diffs)}. "
        )
        if spread is None:
            return [
                head + "With one seed in the main runs the seed-to-seed spread is unknown, so none of these "
                "differences can be called an effect."
            ]
        value, which = spread
        beyond = [f"{n} ({d:+.3f})" for n, (d, e) in effects.items() if e]
        within = [n for n, (d, e) in effects.items() if not e]
        parts = [f"The seed spread of the main runs is {value:.3f} (largest max - min over seeds: {which})."]
        if beyond:
            parts.append(
                f"Beyond it: {_join(beyond)}; each variant ran once, so these are indications, not measured effects."
            )
        else:
            parts.append("No difference exceeds it.")
        if within:
            parts.append(f"Within it, so not effects: {_join(within)}.")
        parts.append(
            "The ablation cannot say how the variants fare with the strong recipe, more epochs or larger images."
        )
        return [head + " ".join(parts)]

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
            lines.append(
                f"- **Still improving**: in {where} every run's best validation epoch is its last (epoch "
                f"{self.epochs}), for both models: training was still improving when it stopped, so longer training "
                "would change these numbers and possibly the ratio."
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
            *self._finding_recipes(),
            *self._finding_cost(),
            *self._finding_epochs(),
            *self._finding_classes(),
            *self._finding_ablation(),
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
                f"({frac:.0%} of the training images). The models see {d.image_size}x{d.image_size} px images "
                f"resized from stored images of {d.photo_size}."
            )
        still = all(
            r.best_epoch == len(r.history) for models in self.runs.values() for runs in models.values() for r in runs
        )
        lines.append(
            f"- **Training length**: {self.epochs} epoch{'s' if self.epochs != 1 else ''} per run (the original "
            f"report: {o.epochs})" + ("; every run was still improving at its last epoch." if still else ".")
        )
        n = len(self.seeds)
        lines.append(
            f"- **Seeds**: {n} per recipe and model ({', '.join(map(str, self.seeds))})"
            + ("; with one seed no spread is measured." if n == 1 else ".")
            + f" The ablation ran once per variant (seed {self.seeds[0]})."
        )
        lines.append(
            f"- **Machine**: {i.device}. Images/s and latencies hold for this machine only; multiply-adds and "
            "parameters do not depend on it."
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
            reasons.append(f"the images are {d.image_size} px instead of {d.photo_size}")
            if d.used["train"] < d.available["train"]:
                reasons.append(f"training uses {d.used['train']:,} of {d.available['train']:,} training images")
        reasons.append(f"training lasts {self.epochs} epoch{'s' if self.epochs != 1 else ''}")
        lines.append(f"- **Why absolute accuracy is low**: {_join(reasons)}.")
        fm = self.final_map.get("resnet34", {})
        if i.image_size in fm:
            f = fm[i.image_size]
            design = fm.get(224)
            dense_f = self.final_map.get("dense4", {}).get(i.image_size)
            text = (
                f"- **ResNet34 at {i.image_size} px**: torchvision's ResNet34 (7x7 stride-2 stem, stride-2 max-pool, "
                f"three stride-2 stages) shrinks a {i.image_size} px image to a {f}x{f} map at layer4"
            )
            if design is not None:
                text += f", against {design}x{design} at the 224 px it was designed for"
            if dense_f is not None:
                text += f"; Dense4's last map is {dense_f}x{dense_f}"
            text += (
                ". Its last stage then convolves maps with almost no spatial extent, which handicaps ResNet34 at "
                "this size: the ratio says little about larger images."
                if f <= 2
                else ". Both keep spatial detail to their last layer at this size."
            )
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
            "ratio": {rec: self.ratio(rec) for rec in self.runs},
            "ratio_per_seed": {rec: self.seed_ratios(rec) for rec in self.runs},
            "goals": [g.as_dict() for g in self.goals()],
            "params": {m: c.params for m, c in self.costs.items()},
            "macs": {m: c.macs for m, c in self.costs.items()},
            "train_images_per_s": self.train_images_per_s,
            "latency_ms_per_image": {m: c.latency_ms for m, c in self.costs.items()},
            "ablation": self.ablation,
            "seed_spread": None if spread is None else {"value": spread[0], "run": spread[1]},
            "class_names": self.class_names,
            "data": None if self.data is None else self.data.as_dict(),
            "final_conv_map": {m: {str(s): v for s, v in sizes.items()} for m, sizes in self.final_map.items()},
        }


def steps_per_epoch(data: LoadedData, batch: int) -> int:
    """Training batches per epoch of `data` at batch size `batch` (the last one may be short)."""
    return -(-len(data.splits["train"]) // batch)


def run_dense_study(
    data: LoadedData,
    *,
    settings: DenseStudySettings,
    profile: str,
    seeds: list[int],
    run_dir: Path | None,
    recipe_names: tuple[str, ...] = RECIPES,
    ablation: bool = True,
) -> DenseStudyResult:
    """Train Dense4 and ResNet34 under every recipe and seed, evaluate on the test split (keeping the
    first seed's predictions), measure both models' cost, then (ablation=True) the Dense4 ablation
    with the original recipe, first seed."""
    device = pick_device()
    res = DenseStudyResult(RunInfo(data.name, profile, data.eval_split, data.size, device_name(device), list(seeds)))
    res.data = data.facts()
    test = data.splits[data.eval_split]
    res.labels = test.labels.numpy().copy()
    for rname, by_model in planned_recipes(data, settings=settings, recipe_names=recipe_names).items():
        res.runs[rname], res.recipes[rname], res.predictions[rname] = {}, {}, {}
        for model, recipe in by_model.items():
            res.recipes[rname][model] = recipe
            res.runs[rname][model] = []
            for seed in seeds:
                name = f"{model}-{rname}-seed{seed}"
                trained, run = train_and_test(
                    name,
                    lambda m=model: MODELS[m](data.num_classes),
                    data,
                    config=recipe.config,
                    batch_size=recipe.batch_size,
                    seed=seed,
                    run_dir=run_dir,
                    flip=recipe.flip,
                    crop_pad=recipe.crop_pad,
                )
                res.runs[rname][model].append(run)
                if seed == seeds[0]:
                    loader = BatchLoader(test, batch_size=EVAL_BATCH, device=device)
                    _, y_pred, _ = predict(trained, loader, device=device)
                    res.predictions[rname][model] = y_pred
                del trained
    shape = (3, data.size, data.size)
    for model, build in MODELS.items():
        res.costs[model] = measure_cost(build(data.num_classes), shape, device=device)
        res.train_images_per_s[model] = float(
            np.median([h["images_per_s"] for runs in res.runs.values() for r in runs[model] for h in r.history])
        )
        sizes = {data.size, 224} if model == "resnet34" else {data.size}  # 224 px: what ResNet34 was designed for
        res.final_map[model] = {s: final_conv_map_size(build(data.num_classes), image_size=s) for s in sorted(sizes)}
    if ablation:
        res.ablation = run_ablation(data, settings=settings, seed=seeds[0], run_dir=run_dir)
    return res


def run_ablation(data: LoadedData, *, settings: DenseStudySettings, seed: int, run_dir: Path | None) -> dict[str, dict]:
    """What makes Dense4 work: width, concatenation, transition; original recipe, one seed."""
    out = {}
    steps = steps_per_epoch(data, settings.dense4_batch_size)
    recipe = recipes(settings, image_size=data.size, model="dense4", steps_per_epoch=steps)["original"]
    for name, (what, build) in ABLATIONS.items():
        _, run = train_and_test(
            f"ablation-{name}",
            lambda b=build: b(data.num_classes),
            data,
            config=recipe.config,
            batch_size=recipe.batch_size,
            seed=seed,
            run_dir=run_dir,
        )
        model = build(data.num_classes)
        cost = measure_cost(model, (3, data.size, data.size), device=pick_device(), batches=())
        out[name] = {
            "what": what,
            "test_acc": run.test.accuracy,
            "macro_f1": run.test.macro_f1,
            "params": cost.params,
            "macs": cost.macs,
            "best_epoch": run.best_epoch,
            "convs": sum(isinstance(x, nn.Conv2d) for x in model.modules()),
        }
    return out
