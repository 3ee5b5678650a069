"""Dense4 vs ResNet34 (notebook 02): two recipes, several seeds, the same data, epochs and image
size for both models; plus an ablation of what makes the four-layer network work."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from .config import Profile
from .data.prepare import LoadedData
from .experiments import RunResult, train_and_test
from .models import dense4, resnet34_baseline
from .params import measure
from .timing import inference_latency
from .train import TrainConfig, pick_device

MODELS: dict[str, Callable[..., nn.Module]] = {
    "dense4": lambda num_classes: dense4(num_classes=num_classes),
    "resnet34": lambda num_classes: resnet34_baseline(num_classes=num_classes, head="seed"),
}


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: optimizer and schedule, batch size, augmentation."""

    name: str
    what: str
    config: TrainConfig
    batch_size: int
    flip: bool = False
    crop_pad: int = 0


def recipes(profile: Profile, model: str, steps_per_epoch: int) -> dict[str, Recipe]:
    """The two recipes for `model`, each applied identically to both models except where the report
    itself gave Dense4 its own learning rate and batch size (seed recipe).

    * seed: the report's: Adam, constant lr (1e-3; Dense4 3e-3 at batch 256 in the full profile),
      no augmentation, fixed epochs.
    * strong: AdamW (lr 2e-3, weight decay 0.05, none on norm weights and biases), one-cycle schedule
      (warm-up then cosine-like anneal), label smoothing 0.1, horizontal flips and 4-px random
      crops, EMA of the weights (validated and kept); same batch for both models.
    """
    dense = model == "dense4"
    total = max(1, profile.epochs * steps_per_epoch)
    ema = float(np.clip(1 - 10 / total, 0.9, 0.9999))  # averages over about the last tenth of training
    return {
        "seed": Recipe("seed", "the report's: Adam, constant lr, no augmentation",
                       TrainConfig(epochs=profile.epochs, lr=profile.dense4_lr if dense else profile.lr),
                       profile.dense4_batch_size if dense else profile.batch_size),
        "strong": Recipe("strong", "AdamW + one-cycle, label smoothing, flip + crop, EMA",
                         TrainConfig(epochs=profile.epochs, lr=2e-3, optimizer="adamw", weight_decay=0.05,
                                     schedule="onecycle", label_smoothing=0.1, ema_decay=ema),
                         profile.batch_size, flip=True, crop_pad=max(1, profile.image_size // 8)),
    }


@dataclass
class ComparisonResult:
    data_name: str
    profile: str
    split: str
    seeds: list[int]
    runs: dict[str, dict[str, list[RunResult]]] = field(default_factory=dict)  # recipe -> model -> per seed
    what: dict[str, str] = field(default_factory=dict)  # recipe -> description
    params: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)
    train_images_per_s: dict[str, float] = field(default_factory=dict)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def metric(self, recipe: str, model: str, key: str) -> list[float]:
        return [getattr(r.test, key) for r in self.runs[recipe][model]]

    def ratio(self, recipe: str) -> float:
        """mean Dense4 / mean ResNet34 test accuracy."""
        return float(np.mean(self.metric(recipe, "dense4", "accuracy")) / np.mean(self.metric(recipe, "resnet34", "accuracy")))


def _steps(data: LoadedData, batch: int) -> int:
    return -(-len(data.splits["train"]) // batch)


def compare(data: LoadedData, *, profile: Profile, seeds: list[int], run_dir: Path | None,
            recipe_names: tuple[str, ...] = ("seed", "strong")) -> ComparisonResult:
    """Train Dense4 and ResNet34 under every recipe and seed; evaluate on the test split."""
    res = ComparisonResult(data.name, profile.name, data.eval_split, list(seeds))
    for rname in recipe_names:
        res.runs[rname] = {}
        for model in MODELS:
            recipe = recipes(profile, model, _steps(data, profile.batch_size))[rname]
            res.what[rname] = recipe.what
            res.runs[rname][model] = []
            for seed in seeds:
                name = f"{model}-{rname}-seed{seed}"
                _, run = train_and_test(name, lambda m=model: MODELS[m](data.num_classes), data, config=recipe.config,
                                        batch_size=recipe.batch_size, seed=seed, run_dir=run_dir, flip=recipe.flip,
                                        crop_pad=recipe.crop_pad)
                res.runs[rname][model].append(run)
    device = pick_device()
    size = (3, data.size, data.size)
    for model, build in MODELS.items():
        m = measure(build(data.num_classes), size)
        res.params[model], res.macs[model] = m.params, m.macs
        res.train_images_per_s[model] = float(np.median([h["images_per_s"] for runs in res.runs.values()
                                                         for r in runs[model] for h in r.history]))
        res.latency_ms[model] = {f"batch{b}": 1e3 * inference_latency(build(data.num_classes), size, batch=b,
                                                                      device=device, repeats=5) for b in (1, 64)}
    return res


ABLATIONS: dict[str, tuple[str, Callable[..., nn.Module]]] = {
    "k512": ("the report's Dense4: width 512, concatenation, transition", lambda n: dense4(num_classes=n)),
    "k256": ("growth rate and stem width 256", lambda n: dense4(num_classes=n, growth_rate=256, init_channels=256)),
    "k128": ("growth rate and stem width 128", lambda n: dense4(num_classes=n, growth_rate=128, init_channels=128)),
    "no_concat": ("no concatenation: each bottleneck's output only", lambda n: dense4(num_classes=n, concat=False)),
    "no_transition": ("no transition (1x1 conv + pool) between the blocks", lambda n: dense4(num_classes=n, transition=False)),
}


def ablation(data: LoadedData, *, profile: Profile, seed: int, run_dir: Path | None) -> dict[str, dict]:
    """What makes Dense4 work: width, concatenation, transition; seed recipe, one seed."""
    out = {}
    for name, (what, build) in ABLATIONS.items():
        recipe = recipes(profile, "dense4", _steps(data, profile.dense4_batch_size))["seed"]
        _, run = train_and_test(f"ablation-{name}", lambda b=build: b(data.num_classes),
                                data, config=recipe.config, batch_size=recipe.batch_size, seed=seed, run_dir=run_dir)
        m = measure(build(data.num_classes), (3, data.size, data.size))
        out[name] = {"what": what, "test_acc": run.test.accuracy, "macro_f1": run.test.macro_f1, "params": m.params,
                     "macs": m.macs, "best_epoch": run.best_epoch,
                     "convs": sum(isinstance(x, nn.Conv2d) for x in build(data.num_classes).modules())}
    return out
