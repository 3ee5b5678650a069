"""Dense4 vs ResNet34 (notebook 02): two recipes, several seeds, the same data, epochs and image
size for both models; plus an ablation of what makes the four-layer network work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from torch import nn

from ..config import DenseStudySettings
from ..data.prepare import LoadedData
from ..device import device_name, pick_device
from ..models import dense4, resnet34_baseline
from ..train import TrainConfig
from .common import Cost, Goal, RunInfo, RunResult, StudyResult, measure_cost, train_and_test

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


@dataclass
class DenseStudyResult(StudyResult):
    """Every recipe x model x seed run, the models' costs, and the ablation."""

    info: RunInfo
    runs: dict[str, dict[str, list[RunResult]]] = field(default_factory=dict)  # recipe -> model -> per seed
    recipes: dict[str, dict[str, Recipe]] = field(default_factory=dict)  # recipe -> model -> Recipe
    costs: dict[str, Cost] = field(default_factory=dict)
    train_images_per_s: dict[str, float] = field(default_factory=dict)
    ablation: dict[str, dict] = field(default_factory=dict)

    @property
    def split(self) -> str:
        return self.info.split

    @property
    def seeds(self) -> list[int]:
        return self.info.seeds

    def metric(self, recipe: str, model: str, key: str) -> list[float]:
        return [getattr(r.test, key) for r in self.runs[recipe][model]]

    def ratio(self, recipe: str) -> float:
        """mean Dense4 / mean ResNet34 test accuracy."""
        return float(
            np.mean(self.metric(recipe, "dense4", "accuracy")) / np.mean(self.metric(recipe, "resnet34", "accuracy"))
        )

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

    def to_json(self) -> dict:
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
            "goals": [g.as_dict() for g in self.goals()],
            "params": {m: c.params for m, c in self.costs.items()},
            "macs": {m: c.macs for m, c in self.costs.items()},
            "train_images_per_s": self.train_images_per_s,
            "latency_ms_per_image": {m: c.latency_ms for m, c in self.costs.items()},
            "ablation": self.ablation,
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
    """Train Dense4 and ResNet34 under every recipe and seed, evaluate on the test split, measure
    both models' cost, then (ablation=True) the Dense4 ablation with the original recipe, first seed."""
    device = pick_device()
    res = DenseStudyResult(RunInfo(data.name, profile, data.eval_split, data.size, device_name(device), list(seeds)))
    for rname in recipe_names:
        res.runs[rname], res.recipes[rname] = {}, {}
        for model in MODELS:
            recipe = recipes(
                settings, image_size=data.size, model=model, steps_per_epoch=steps_per_epoch(data, settings.batch_size)
            )[rname]
            res.recipes[rname][model] = recipe
            res.runs[rname][model] = []
            for seed in seeds:
                name = f"{model}-{rname}-seed{seed}"
                _, run = train_and_test(
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
    shape = (3, data.size, data.size)
    for model, build in MODELS.items():
        res.costs[model] = measure_cost(build(data.num_classes), shape, device=device, repeats=5)
        res.train_images_per_s[model] = float(
            np.median([h["images_per_s"] for runs in res.runs.values() for r in runs[model] for h in r.history])
        )
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
