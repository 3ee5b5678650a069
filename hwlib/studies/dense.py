"""Dense4 vs ResNet34 (notebook 02): the models' registry, the run plan, and the study's numbers.

* :data:`MODELS` - one entry per model (name, label, colour, factory): adding a model is one entry.
* :func:`plan_runs` - every run the study trains: size x recipe x budget x model x seed.
* :func:`run_dense_study` -> :class:`DenseStudyResult`: the runs' numbers, costs and map sizes, the
  verdicts (decided by :mod:`hwlib.stats`) and the results JSON. Prose is :mod:`hwlib.report.dense`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import stats
from ..config import RECIPES, DataSettings, DenseStudySettings, Recipe, TrainConfig
from ..data.prepare import DataFacts, LoadedData, load_dataset
from ..dense_models import dense4, resnet34_baseline
from ..device import device_name, pick_device
from ..own4 import own4
from ..run_cache import DENSE_SOURCES, OWN4_SOURCES
from ..stats import Convergence, Sample, Verdict
from ..train import history_best
from .costs import Cost, TrainSpeed, measure_cost, training_speed
from .results import RunInfo, StudyResult
from .runs import RunResult, pack_bits, train_and_test


@dataclass(frozen=True, kw_only=True)
class DenseModel:
    """One model of notebook 02: how it is built, and how every table and figure names and draws it."""

    name: str  # run and JSON name
    label: str  # legend and table label
    colour: str  # its colour in every figure
    what: str  # one line for tables
    build: Callable[[int], nn.Module]  # num_classes -> a fresh model
    dense4_original_recipe: bool = False  # the original recipe gives it Dense4's own lr and batch
    sources: tuple[str, ...] = DENSE_SOURCES  # the hwlib modules its run key hashes


MODELS: dict[str, DenseModel] = {
    m.name: m
    for m in (
        DenseModel(
            name="dense4",
            label="Dense4",
            colour="#1b9e77",
            what="the original report's 4-conv DenseNet (two dense layers, one transition)",
            build=lambda n: dense4(num_classes=n),
            dense4_original_recipe=True,
        ),
        DenseModel(
            name="resnet34",
            label="ResNet34",
            colour="#7570b3",
            what="torchvision ResNet34 from scratch, the original report's head (1000-way fc, ReLU, Linear)",
            build=lambda n: resnet34_baseline(num_classes=n, head="original"),
        ),
        DenseModel(
            name="resnet34_small",
            label="ResNet34 (no stem pool)",
            colour="#d95f02",
            what="torchvision ResNet34 from scratch without the stem max-pool (16x downsampling instead of 32x), "
            "the original report's head",
            build=lambda n: resnet34_baseline(num_classes=n, head="original", stem_pool=False),
        ),
        DenseModel(
            name="plain4",
            label="Plain4",
            colour="#66a61e",
            what="Dense4's four conv layers and widths without the concatenation (each layer sees only the last)",
            build=lambda n: dense4(num_classes=n, concat=False),
        ),
        DenseModel(
            name="own4",
            label="Own4",
            colour="#e7298a",
            what="this project's four-conv design: 3x3 stages 64-128-256-512 with max-pools, SE gates, "
            "pooled features of all four stages concatenated before the fc",
            build=lambda n: own4(num_classes=n),
            sources=OWN4_SOURCES,
        ),
        DenseModel(
            name="own4_no_se",
            label="Own4 without SE",
            colour="#a6761d",
            what="Own4 without its squeeze-and-excitation gates (ablation)",
            build=lambda n: own4(num_classes=n, se=False),
            sources=OWN4_SOURCES,
        ),
        DenseModel(
            name="own4_last_head",
            label="Own4, last-stage head",
            colour="#666666",
            what="Own4 classifying the last stage's pooled features only (ablation of the multi-scale head)",
            build=lambda n: own4(num_classes=n, head="last"),
            sources=OWN4_SOURCES,
        ),
    )
}


PLAIN = "plain4"  # the model that isolates the concatenation (Dense4 without it)
OWN = "own4"  # this project's design
OWN_TIME_SHARE = 0.5  # own4 must train in at most this share of Dense4's time per epoch
QUIET_LOAD = 0.10  # training speeds count only if other processes used less than this share of the CPU
HANDICAP_MAP = 1  # a baseline whose last conv stage sees maps of at most this side is handicapped


@dataclass(frozen=True, kw_only=True)
class ResolvedRecipe:
    """A recipe as one run trains with it."""

    recipe: str
    config: TrainConfig
    batch_size: int
    flip: bool
    crop_pad: int


def steps_per_epoch(train_images: int, batch: int) -> int:
    """Training batches per epoch (the last one may be short): the one place this is computed."""
    return -(-train_images // batch)


def resolve_recipe(
    recipe: Recipe, *, model: DenseModel, settings: DenseStudySettings, image_size: int, train_images: int, epochs: int
) -> ResolvedRecipe:
    """`recipe` for one run: its lr and batch (the original recipe's per model), its schedule over
    its own `epochs`, its EMA decay from its own steps, its crop padding at `image_size`."""
    own = recipe.own_batch and model.dense4_original_recipe
    batch = settings.dense4_batch_size if own else settings.batch_size
    lr = recipe.lr if recipe.lr is not None else (settings.dense4_lr if model.dense4_original_recipe else settings.lr)
    total = max(1, epochs * steps_per_epoch(train_images, batch))
    ema = float(np.clip(1 - 1 / (recipe.ema_horizon * total), 0.9, 0.9999)) if recipe.ema_horizon else 0.0
    config = TrainConfig(
        epochs=epochs,
        lr=lr,
        optimizer=recipe.optimizer,
        weight_decay=recipe.weight_decay,
        schedule=recipe.schedule,
        label_smoothing=recipe.label_smoothing,
        ema_decay=ema,
    )
    crop = max(1, image_size // recipe.crop_divisor) if recipe.crop_divisor else 0
    return ResolvedRecipe(recipe=recipe.name, config=config, batch_size=batch, flip=recipe.flip, crop_pad=crop)


def budget_epochs(settings: DenseStudySettings, *, budget: float) -> int:
    """A budget (a multiple of `settings.epochs`) in epochs: what every model without an epoch scale
    trains at it (at least 1)."""
    return max(1, round(budget * settings.epochs))


def run_epochs(settings: DenseStudySettings, *, model: str, budget: float) -> int:
    """Epochs of `model`'s runs at `budget`: :func:`budget_epochs` scaled by its `epoch_scale` (a
    slower model sized to the candidate's training time), at least 1."""
    return max(1, round(budget * settings.epochs * settings.epoch_scale.get(model, 1.0)))


@dataclass(frozen=True, kw_only=True)
class PlannedRun:
    """One training run of the study."""

    model: str
    recipe: str
    image_size: int
    budget_epochs: int  # the budget in unscaled epochs (what the candidate trains): the run's Point
    epochs: int  # what this model trains at that budget
    seed: int

    @property
    def name(self) -> str:
        return f"{self.model}-{self.recipe}-{self.image_size}px-{self.epochs}ep-seed{self.seed}"


def plan_runs(settings: DenseStudySettings, *, seeds: list[int]) -> list[PlannedRun]:
    """Every run. At each size: the strong recipe at the base budget (every model, every seed, seed
    by seed so that an interrupted plan has whole seeds), the `explore_models` at it on the first
    seed, then the other budgets on the first `curve_seeds` seeds: those below the base with
    `curve_models` (the budget curve), those above it with `longer_models` (the doubling check), then
    the original recipe (at `original_sizes`, base budget, every model and seed)."""
    curve_models = settings.models if settings.curve_models is None else settings.curve_models
    longer_models = settings.models if settings.longer_models is None else settings.longer_models
    known = set(settings.models)
    listed = (*settings.models, *settings.baselines, *curve_models, *longer_models)
    unknown = [m for m in listed if m not in MODELS or m not in known]
    unknown += [m for m in settings.explore_models if m not in MODELS or m in known]
    if unknown or not settings.baselines or settings.models[0] in settings.baselines:
        raise ValueError(
            f"models {unknown} are not registered or not in `models`, or the baselines {settings.baselines} are "
            f"empty or hold the candidate {settings.models[0]!r}; registered: {', '.join(MODELS)}"
        )
    curve_seeds = seeds[: settings.curve_seeds] if settings.curve_seeds is not None else seeds
    plan = []

    def add(model: str, recipe: str, size: int, budget: float, seed: int) -> None:
        run = PlannedRun(
            model=model,
            recipe=recipe,
            image_size=size,
            budget_epochs=budget_epochs(settings, budget=budget),
            epochs=run_epochs(settings, model=model, budget=budget),
            seed=seed,
        )
        if run not in plan:  # budgets that round to the same epochs (e.g. 0.1 and 0.5 of 1 epoch) are one run
            plan.append(run)

    for size in sorted(settings.sizes):
        for s in seeds:
            for model in settings.models:
                add(model, "strong", size, 1, s)
        for model in settings.explore_models:
            add(model, "strong", size, 1, seeds[0])
        for b in sorted(b for b in settings.budgets if b != 1):
            for model in curve_models if b < 1 else longer_models:
                for s in curve_seeds:
                    add(model, "strong", size, b, s)
        if size in settings.original_sizes:
            for model in settings.models:
                for s in seeds:
                    add(model, "original", size, 1, s)
    return plan


@dataclass
class DenseRun:
    """One trained and tested run (the results JSON's `runs` entries)."""

    model: str
    recipe: str
    image_size: int
    train_images: int
    budget_epochs: int  # the budget (the candidate's epochs at it); `epochs` is this model's
    epochs: int
    steps: int
    seed: int
    test_accuracy: float
    best_epoch: int
    train_seconds: float  # wall time of the call that finished it (a resumed run: its last part only)
    correct: np.ndarray  # (N,) bool per test image
    history: list[dict]
    confusion: np.ndarray  # (classes, classes) true x predicted

    @classmethod
    def from_run(cls, p: PlannedRun, run: RunResult) -> DenseRun:
        return cls(
            model=p.model,
            recipe=p.recipe,
            image_size=p.image_size,
            train_images=run.train_images,
            budget_epochs=p.budget_epochs,
            epochs=p.epochs,
            steps=run.steps,
            seed=p.seed,
            test_accuracy=run.test.accuracy,
            best_epoch=run.best_epoch,
            train_seconds=run.seconds,
            correct=run.correct,
            history=run.history,
            confusion=run.test.confusion,
        )

    @property
    def epoch_seconds(self) -> float:
        """The run's training time as its median epoch time x its epochs: every epoch counts (also
        those before a resume), and an epoch slowed by another process on the machine does not move
        it unless most epochs were (falls back to the wall time without per-epoch times)."""
        times = [h["seconds"] for h in self.history if "seconds" in h]
        return float(np.median(times)) * len(self.history) if times else self.train_seconds

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "recipe": self.recipe,
            "image_size": self.image_size,
            "train_images": self.train_images,
            "budget_epochs": self.budget_epochs,
            "epochs": self.epochs,
            "steps": self.steps,
            "seed": self.seed,
            "test_accuracy": self.test_accuracy,
            "best_epoch": self.best_epoch,
            "train_seconds": round(self.epoch_seconds, 1),
            "correct": pack_bits(self.correct),
        }


@dataclass(frozen=True)
class Point:
    """One cell of the plan: size, recipe and budget; every model and seed trained at it. The
    budget is in unscaled epochs (what the candidate trains); a model with an epoch scale trains
    its own `epochs` (:meth:`DenseStudyResult.epochs`) in about the same time."""

    image_size: int
    recipe: str
    epochs: int


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


def conv_layers(model: nn.Module) -> int:
    """How many Conv2d modules the model has."""
    return sum(isinstance(m, nn.Conv2d) for m in model.modules())


@dataclass(frozen=True, kw_only=True)
class BaselineRow:
    """One baseline candidate at the base budget: its cost against the candidate's and its validation."""

    model: str
    epochs: int
    steps: int
    train_seconds: float  # its training time at the base budget (BaselineChoice.time_source says from what)
    time_ratio: float  # its training time / the candidate's
    val_mean: float  # mean best validation accuracy over seeds
    final_map: int  # side of its last conv stage's map at this size
    qualifies: bool  # training time within the candidate's x (1 + slack)
    handicapped: bool


@dataclass(frozen=True, kw_only=True)
class BaselineChoice:
    """The fair baseline at one image size and the table it was chosen from."""

    model: str
    image_size: int
    rows: tuple[BaselineRow, ...]
    slack: float
    time_source: str = ""  # what the training times come from

    @property
    def row(self) -> BaselineRow:
        return next(r for r in self.rows if r.model == self.model)

    def unfair(self) -> str:
        """Why the chosen baseline is not a fair one ('' if it is): no candidate trained in the time."""
        if self.row.qualifies:
            return ""
        return (
            f"no ResNet34 trained within {1 + self.slack:.2f}x the candidate's time; the cheapest, "
            f"{MODELS[self.model].label}, took {self.row.time_ratio:.2f}x"
        )

    def as_dict(self) -> dict:
        return {"model": self.model, "image_size": self.image_size, "time_slack": self.slack,
                "time_limit_vs_candidate": 1 + self.slack, "time_source": self.time_source,
                "candidates": [asdict(r) for r in self.rows]}  # fmt: skip


@dataclass
class DenseStudyResult(StudyResult):
    """Every run's numbers, the models' costs and map sizes, and the verdicts taken from them."""

    info: RunInfo
    settings: DenseStudySettings
    data: DataFacts | None = None
    runs: list[DenseRun] = field(default_factory=list)
    costs: dict[str, Cost] = field(default_factory=dict)  # at the detail size
    macs: dict[str, dict[int, int]] = field(default_factory=dict)  # model -> size -> multiply-adds per image
    final_map: dict[str, dict[int, int]] = field(default_factory=dict)  # model -> size -> last conv map side
    convs: dict[str, int] = field(default_factory=dict)  # model -> Conv2d layers
    labels: np.ndarray | None = None  # (N,) test labels at the detail size
    predictions: dict[tuple[str, int, str], np.ndarray] = field(
        default_factory=dict
    )  # (recipe, epochs, model) -> first seed
    run_counts: dict[str, int] = field(default_factory=dict)  # "trained" / "resumed" / "loaded" -> runs
    all_train_images: bool = False  # every run trains on every training image (no per-seed subset)
    train_speed: dict[str, TrainSpeed] = field(default_factory=dict)  # at the detail size, the strong batch

    # -- access --------------------------------------------------------------------------------------

    @property
    def models(self) -> tuple[str, ...]:
        """The study's models (trained at every budget of the base plan; the ablations are apart)."""
        return self.settings.models

    @property
    def all_models(self) -> tuple[str, ...]:
        """Every model trained: the study's, then the exploratory ablations (first seed, base budget)."""
        return (*self.settings.models, *self.settings.explore_models)

    @property
    def split(self) -> str:
        return self.info.split

    @property
    def candidate(self) -> str:
        """The model the goal is about (the first of `models`: Dense4)."""
        return self.settings.models[0]

    @property
    def baseline(self) -> str:
        """The verdict's fair baseline at the detail size (:meth:`fair_baseline`)."""
        return self.fair_baseline(self.info.image_size).model

    def points(self, recipe: str | None = None, image_size: int | None = None) -> list[Point]:
        pts = sorted(
            {Point(r.image_size, r.recipe, r.budget_epochs) for r in self.runs},
            key=lambda p: (p.image_size, p.recipe != "original", p.epochs),
        )
        return [
            p
            for p in pts
            if (recipe is None or p.recipe == recipe) and (image_size is None or p.image_size == image_size)
        ]

    def runs_at(self, point: Point, model: str) -> list[DenseRun]:
        return sorted(
            (r for r in self.runs if Point(r.image_size, r.recipe, r.budget_epochs) == point and r.model == model),
            key=lambda r: r.seed,
        )

    def sample(self, point: Point, model: str) -> Sample:
        runs = self.runs_at(point, model)
        if not runs:
            raise KeyError(f"no runs of {model} at {point}")
        return Sample.from_rows([r.correct for r in runs])

    def recipe_at(self, point: Point, model: str) -> ResolvedRecipe:
        """The recipe as `model`'s runs at `point` trained with it (lr, batch, schedule, EMA, crops)."""
        return resolve_recipe(
            RECIPES[point.recipe],
            model=MODELS[model],
            settings=self.settings,
            image_size=point.image_size,
            train_images=self.runs_at(point, model)[0].train_images,
            epochs=self.epochs(point, model),
        )

    def epochs(self, point: Point, model: str) -> int:
        """Epochs of one run of `model` at `point` (the same for every seed)."""
        return self.runs_at(point, model)[0].epochs

    def steps(self, point: Point, model: str) -> int:
        """Optimizer steps of one run of `model` at `point` (the same for every seed)."""
        return self.runs_at(point, model)[0].steps

    # -- statistics ----------------------------------------------------------------------------------

    def models_at(self, point: Point) -> list[str]:
        """The models with runs at `point` (the budget curve trains only `curve_models`)."""
        return [m for m in self.all_models if self.runs_at(point, m)]

    def ratio(self, point: Point, baseline: str | None = None) -> stats.Interval:
        """candidate / baseline (default: the fair one at the point's size) test accuracy with its
        interval (seeds unpaired, test images paired)."""
        baseline = baseline or self.fair_baseline(point.image_size).model
        a, b = self.sample(point, self.candidate), self.sample(point, baseline)
        base = self.base_point(point.image_size)
        if (
            min(a.seeds, b.seeds) < 2
            and point.recipe == "strong"
            and point.epochs > base.epochs
            and min(len(self.runs_at(base, m)) for m in (self.candidate, baseline)) >= 2
        ):  # a longer run with one seed: its seed spread is the base budget's (stated in the interval)
            spread = (self.sample(base, self.candidate), self.sample(base, baseline))
            return stats.ratio_interval(a, b, seed_spread=spread)
        return stats.ratio_interval(a, b)

    def val_best(self, point: Point, model: str) -> list[float]:
        """Best validation accuracy of each seed's run (what `fit` chose the weights by)."""
        return [history_best(r.history)["val_acc"] for r in self.runs_at(point, model)]

    def convergence(self, point: Point, model: str) -> Convergence | None:
        """Doubling check at `point` on validation accuracy (the test split decides nothing but the
        reported numbers): the run at twice its epochs (same size, recipe), if planned."""
        longer = Point(point.image_size, point.recipe, 2 * point.epochs)
        if not self.runs_at(longer, model):
            return None
        return stats.convergence(
            model, steps=self.steps(point, model), short=self.val_best(point, model), long=self.val_best(longer, model)
        )

    def handicap(self, image_size: int, model: str | None = None) -> str:
        """Why `model` (default: the verdict's baseline) is handicapped at `image_size` ('' if it is
        not): its last conv stage works on maps of at most HANDICAP_MAP x HANDICAP_MAP (computed from
        the model). On a 1x1 map a 3x3 conv's eight outer taps multiply only zero padding, so the
        stage is a stack of 1x1 convs and global pooling has no spatial layout left to pool."""
        model = model or self.fair_baseline(image_size).model
        side = self.final_map.get(model, {}).get(image_size)
        if side is None or side > HANDICAP_MAP:
            return ""
        at_224 = self.final_map[model].get(224, "?")
        return (
            f"{MODELS[model].label} is handicapped at {image_size} px: its last conv stage works on "
            f"{side}x{side} maps ({at_224}x{at_224} at the 224 px it was designed for)"
        )

    def base_point(self, image_size: int) -> Point:
        """The base budget (the assignment's epochs, strong recipe) at `image_size`."""
        return Point(image_size, "strong", self.settings.epochs)

    @property
    def speeds_quiet(self) -> bool:
        """Whether every model's training speed was measured with other processes under QUIET_LOAD."""
        busy = [s.others_busy for m in self.all_models if (s := self.train_speed.get(m)) is not None]
        return len(busy) == len(self.all_models) and all(b is not None and b < QUIET_LOAD for b in busy)

    def training_time(self, point: Point, model: str) -> float:
        """Seconds `model` needs to train at `point`: its steps x batch / its training speed measured
        on a quiet machine (:attr:`speeds_quiet`, at the detail size), else its runs' time
        (:meth:`train_seconds`)."""
        if self.speeds_quiet and point.image_size == self.info.image_size:
            batch = self.recipe_at(point, model).batch_size
            return self.steps(point, model) * batch / self.train_speed[model].images_per_s
        return self.train_seconds(point, model)

    @property
    def time_source(self) -> str:
        """What the fair-baseline rule's training times come from."""
        if self.speeds_quiet:
            return "steps x batch / training speed measured on a quiet machine"
        why = "not on a quiet machine" if self.train_speed else "not made in this profile"
        return f"the runs' median epoch time x epochs (the training-speed measurement was {why})"

    def train_seconds(self, point: Point, model: str) -> float:
        """Median over seeds of `model`'s training time at `point` (:attr:`DenseRun.epoch_seconds`:
        median epoch time x epochs, so a resumed run counts every epoch and a briefly busy machine
        does not decide which baseline qualifies)."""
        return float(np.median([r.epoch_seconds for r in self.runs_at(point, model)]))

    def fair_baseline(self, image_size: int) -> BaselineChoice:
        """The verdict's baseline at `image_size`, chosen at the base budget: among `baselines`,
        those whose median training time is at most the candidate's x (1 + time_slack) qualify; the
        strongest qualifying one on validation (mean best validation accuracy over seeds) is chosen,
        handicapped or not (a handicapped one's verdict is then not shown: passing over a stronger
        baseline for a weaker one would flatter the candidate); if none qualifies, the cheapest
        (its verdict not shown either)."""
        p = self.base_point(image_size)
        limit = self.training_time(p, self.candidate) * (1 + self.settings.time_slack)
        rows = []
        for m in self.settings.baselines:
            seconds = self.training_time(p, m)
            rows.append(
                BaselineRow(
                    model=m,
                    epochs=self.epochs(p, m),
                    steps=self.steps(p, m),
                    train_seconds=seconds,
                    time_ratio=seconds / self.training_time(p, self.candidate),
                    val_mean=float(np.mean(self.val_best(p, m))),
                    final_map=self.final_map.get(m, {}).get(image_size, 0),
                    qualifies=seconds <= limit,
                    handicapped=bool(self.handicap(image_size, m)),
                )
            )
        by_val = sorted(rows, key=lambda r: -r.val_mean)
        chosen = next((r for r in by_val if r.qualifies), None) or min(rows, key=lambda r: r.train_seconds)
        return BaselineChoice(
            model=chosen.model,
            image_size=image_size,
            rows=tuple(rows),
            slack=self.settings.time_slack,
            time_source=self.time_source,
        )

    def verdict_point(self, image_size: int) -> tuple[Point, str]:
        """The strong-recipe budget the verdict at `image_size` is taken at, and why it is not
        shown there ('' if nothing but its interval decides). Budgets below the base one are never
        used (the assignment's epochs are the least). From the base budget up: the first at which
        doubling moved neither the candidate's nor the fair baseline's validation accuracy by more
        than its seed spread; where doubling moved one by more, the longer run is used, and at the
        longest planned budget convergence is not shown. A handicapped baseline is a reason too."""
        baseline = self.fair_baseline(image_size).model
        pts = [p for p in self.points("strong", image_size) if p.epochs >= self.settings.epochs]
        point, reason = pts[-1], ""
        for p in pts:
            checks = [self.convergence(p, m) for m in (self.candidate, baseline)]
            if any(c is None for c in checks):
                point, reason = p, self._unconverged_reason(p, pts)
                break
            if any(c.converged is None for c in checks if c is not None):
                point, reason = p, "one seed: no seed spread to judge convergence or an interval by"
                break
            if all(c is not None and c.converged for c in checks):
                point, reason = p, ""
                break
        else:
            reason = self._unconverged_reason(pts[-1], pts)
        handicap = self.handicap(image_size, baseline)
        return point, "; ".join(r for r in (reason, handicap, self.fair_baseline(image_size).unfair()) if r)

    def _unconverged_reason(self, p: Point, pts: list[Point]) -> str:
        """Why convergence at `p` is not shown: no doubling was trained, or the last doubling (into
        `p`) still moved the candidate or the baseline by more than its seed spread."""
        baseline = self.fair_baseline(p.image_size).model
        if len(pts) < 2:
            return "trained at one budget of at least the base one only: convergence not checked"
        prev = pts[pts.index(p) - 1] if pts.index(p) > 0 else None
        if prev is None:
            return "convergence not checked (no run at twice the base budget)"
        moved = []
        for m in (self.candidate, baseline):
            c = self.convergence(prev, m)
            if c is not None and not c.converged:
                moved.append(
                    f"doubling {MODELS[m].label}'s budget from {c.steps:,} to {self.steps(p, m):,} steps moved its "
                    f"validation accuracy by {100 * c.moved:+.1f} points (seed sd {100 * c.seed_sd:.1f})"
                )
        if not moved:
            return "convergence not checked"
        return "not converged: " + "; ".join(moved) + ", and no longer budget was trained"

    def goals(self) -> list[Verdict]:
        """The 90% goal: candidate / baseline >= bar at every size of the sweep, each size at its
        verdict budget (:meth:`verdict_point`)."""
        parts = []
        sizes = sorted({p.image_size for p in self.points("strong")})
        for size in sizes:
            p, reason = self.verdict_point(size)
            baseline = self.fair_baseline(size).model
            parts.append(
                stats.verdict(
                    f"{size} px, against {MODELS[baseline].label}",
                    self.ratio(p, baseline),
                    bar=self.settings.bar,
                    direction=">=",
                    reason=reason,
                    image_size=size,
                    epochs=p.epochs,
                    steps=self.steps(p, self.candidate),
                    baseline=baseline,
                    baseline_epochs=self.epochs(p, baseline),
                    baseline_steps=self.steps(p, baseline),
                )
            )
        where = f"at {sizes[0]} px" if len(sizes) == 1 else f"at every image size ({', '.join(map(str, sizes))} px)"
        goal = (
            f"{MODELS[self.candidate].label} reaches >= {self.settings.bar:.0%} of the fair ResNet34's test "
            f"accuracy {where} (strong recipe; the strongest ResNet34 on validation that trains in no more time)"
        )
        out = [stats.verdict_over_parts(goal, parts, bar=self.settings.bar, direction=">=")]
        size = self.info.image_size
        base = self.base_point(size)
        if PLAIN in self.models and self.runs_at(base, PLAIN):
            out.append(
                stats.verdict(
                    f"The concatenation helps: {MODELS[self.candidate].label} minus {MODELS[PLAIN].label} (the "
                    f"same four convs without it) test accuracy above 0 at {size} px, "
                    f"{self.steps(base, self.candidate):,} steps",
                    stats.difference_interval(self.sample(base, self.candidate), self.sample(base, PLAIN)),
                    bar=0.0,
                    direction=">=",
                    reason=self.still_rising(base, self.candidate) or self.still_rising(base, PLAIN),
                    image_size=size,
                    steps=self.steps(base, self.candidate),
                )
            )
        if OWN in self.models and self.runs_at(base, OWN):
            baseline = self.fair_baseline(size).model
            per_epoch = self.time_per_epoch(base, OWN) / self.time_per_epoch(base, self.candidate)
            reason = (
                f"{MODELS[OWN].label} trains at {per_epoch:.2f}x {MODELS[self.candidate].label}'s time per epoch, "
                f"over the {OWN_TIME_SHARE:.2f} allowed"
                if per_epoch > OWN_TIME_SHARE
                else self.handicap(size, baseline) or self.still_rising(base, baseline) or self.still_rising(base, OWN)
            )
            out.append(
                stats.verdict(
                    f"{MODELS[OWN].label} reaches >= {self.settings.bar:.0%} of {MODELS[baseline].label}'s test "
                    f"accuracy at {size} px at <= {OWN_TIME_SHARE:.0%} of {MODELS[self.candidate].label}'s training "
                    "time per epoch",
                    stats.ratio_interval(self.sample(base, OWN), self.sample(base, baseline)),
                    bar=self.settings.bar,
                    direction=">=",
                    reason=reason,
                    image_size=size,
                    steps=self.steps(base, OWN),
                    baseline=baseline,
                    time_per_epoch_vs_candidate=per_epoch,
                    time_share_allowed=OWN_TIME_SHARE,
                )
            )
        return out

    def still_rising(self, point: Point, model: str) -> str:
        """Why a comparison at `point` is of an under-trained `model` ('' if doubling did not show
        that): doubling its budget raised its validation accuracy by more than its seed sd."""
        c = self.convergence(point, model)
        if c is None or c.converged is not False:
            return ""
        return (
            f"{MODELS[model].label} was still improving at {c.steps:,} steps (doubling raised its validation "
            f"accuracy by {100 * c.moved:+.1f} points, seed sd {100 * c.seed_sd:.1f})"
        )

    def ablations(self) -> list[dict]:
        """The exploratory ablations at the base budget of the detail size, each beside the model it
        ablates on the same seed: best validation accuracy of both (one run each)."""
        base = self.base_point(self.info.image_size)
        ref = {q.seed: val for q, val in zip(self.runs_at(base, OWN), self.val_best(base, OWN))}
        out = []
        for m in self.settings.explore_models:
            for r, v in zip(self.runs_at(base, m), self.val_best(base, m)):
                out.append({"model": m, "seed": r.seed, "val_best": v, "of": OWN, "of_val_best": ref.get(r.seed)})
        return out

    def time_per_epoch(self, point: Point, model: str) -> float:
        """Training seconds per epoch of `model` at `point` (:meth:`training_time`)."""
        return self.training_time(point, model) / self.epochs(point, model)

    def verdict(self) -> dict:
        """The results JSON's `verdict`: candidate against the baseline at the verdict's budget,
        for the size that settles the goal (the detail size when none does)."""
        g = self.goals()[0]  # the 90% goal
        part = g.settled_by or next(p for p in g.parts if p.extra["image_size"] == self.info.image_size)
        return {
            "baseline": part.extra["baseline"],
            "image_size": part.extra["image_size"],
            "steps": part.extra["steps"],
            "epochs": part.extra["epochs"],
            "baseline_steps": part.extra["baseline_steps"],
            "baseline_epochs": part.extra["baseline_epochs"],
            "ratio": part.estimate,
            "interval": part.interval.as_list(),
            "interval_covers": part.interval.covers,
            "outcome": g.outcome,
            **({"reason": part.reason} if part.reason else {}),
        }

    def budget_curve(self) -> list[dict]:
        """Per model and strong-recipe budget at the detail size: steps and one test accuracy per seed."""
        out = []
        for p in self.points("strong", self.info.image_size):
            for m in (m for m in self.models if self.runs_at(p, m)):  # the study's models, not the ablations
                runs = self.runs_at(p, m)
                out.append(
                    {
                        "model": m,
                        "budget_epochs": p.epochs,
                        "epochs": runs[0].epochs,
                        "steps": runs[0].steps,
                        "train_seconds": self.train_seconds(p, m),
                        "test_accuracy": [r.test_accuracy for r in runs],
                    }
                )
        return out

    def to_json(self) -> dict:
        base = self.base_point(self.info.image_size)
        return {
            **self.info.as_dict(),
            "settings": asdict(self.settings),
            "recipes": [
                {
                    "image_size": p.image_size,
                    "recipe": p.recipe,
                    "epochs": p.epochs,
                    "model": m,
                    "train_images": self.runs_at(p, m)[0].train_images,
                    **asdict(self.recipe_at(p, m)),
                }
                for p in self.points()
                for m in self.models_at(p)
            ],
            "data": None if self.data is None else self.data.as_dict(),
            "models": {
                m: {
                    "label": MODELS[m].label,
                    "what": MODELS[m].what,
                    "conv_layers": self.convs.get(m),
                    "params": self.costs[m].params if m in self.costs else None,
                    "macs_per_image": {str(s): v for s, v in self.macs.get(m, {}).items()},
                    "final_conv_map": {str(s): v for s, v in self.final_map.get(m, {}).items()},
                    "latency_ms_per_image": self.costs[m].latency_ms if m in self.costs else None,
                    "train_seconds_per_epoch": self.time_per_epoch(base, m) if self.runs_at(base, m) else None,
                    "train_images_per_s": s.images_per_s if (s := self.train_speed.get(m)) else None,
                    "train_speed_others_busy": s.others_busy if s else None,
                }
                for m in self.all_models
            },
            "runs": [r.as_dict() for r in self.runs],
            "goals": [g.as_dict() for g in self.goals()],
            "verdict": self.verdict(),
            "baseline_choice": [self.fair_baseline(s).as_dict() for s in sorted({p.image_size for p in self.points()})],
            "budget_curve": self.budget_curve(),
            "ablations": self.ablations(),
            "ratios": [
                {
                    "image_size": p.image_size,
                    "recipe": p.recipe,
                    "epochs": p.epochs,
                    "baseline": b,
                    "steps": self.steps(p, self.candidate),
                    "ratio": (r := self.ratio(p, b)).estimate,
                    "interval": r.as_list(),
                }
                for p in self.points()
                for b in self.settings.baselines
                if self.runs_at(p, b)
            ],
            "convergence": [
                {
                    "model": m,
                    "image_size": p.image_size,
                    "steps": c.steps,
                    "moved": c.moved,
                    "seed_sd": None if np.isnan(c.seed_sd) else c.seed_sd,
                    "converged": c.converged,
                }
                for p in self.points("strong")
                for m in self.models_at(p)
                if (c := self.convergence(p, m)) is not None
            ],
        }


def detail_size(settings: DenseStudySettings) -> int:
    """The size shown in detail (confusion matrices, per-class accuracy, costs): the largest size
    where both recipes run, else the largest size of the sweep."""
    both = set(settings.sizes) & set(settings.original_sizes)
    return max(both or settings.sizes)


def load_sweep_data(source: LoadedData, *, settings: DenseStudySettings, data: DataSettings) -> dict[int, LoadedData]:
    """size -> `source`'s dataset decoded at that size (cached): every training image (each seed
    draws its own subset) and `data.eval_per_class` validation/test images."""
    return {
        size: load_dataset(source.path, size=size, eval_per_class=data.eval_per_class)
        for size in sorted(set(settings.sizes))
    }


def train_per_class(settings: DenseStudySettings, data: DataSettings) -> int | None:
    """Training images per class for notebook 02's runs (None: every image)."""
    if settings.train_per_class == "all":
        return None
    return settings.train_per_class if settings.train_per_class is not None else data.train_per_class


def run_dense_study(
    datasets: dict[int, LoadedData],
    *,
    settings: DenseStudySettings,
    data_settings: DataSettings,
    profile: str,
    seeds: list[int],
    run_dir: Path | None,
    log: Callable[[str], object] = print,
) -> DenseStudyResult:
    """Train and test every run of :func:`plan_runs` (resumable: finished runs are loaded), then
    measure each model's cost at the detail size, its multiply-adds and last map size at every size.
    At the detail size the first seed's test predictions of every recipe and budget are kept."""
    device = pick_device()
    missing = sorted(set(settings.sizes) - set(datasets))
    if missing:
        raise ValueError(f"no data for the sweep's sizes {missing} px (have {sorted(datasets)})")
    shown = detail_size(settings)
    data = datasets[shown]
    res = DenseStudyResult(
        RunInfo(data.name, profile, data.eval_split, shown, device_name(device), list(seeds)), settings
    )
    res.data = data.facts()
    res.labels = data.splits[data.eval_split].labels.numpy().copy()
    per_class = train_per_class(settings, data_settings)
    res.all_train_images = per_class is None
    plan = plan_runs(settings, seeds=seeds)
    counts = {"trained": 0, "resumed": 0, "loaded": 0}
    for p in plan:
        d = datasets[p.image_size]
        model = MODELS[p.model]
        n_train = len(d.splits["train"].per_class_sample(per_class, seed=p.seed))
        r = resolve_recipe(
            RECIPES[p.recipe],
            model=model,
            settings=settings,
            image_size=p.image_size,
            train_images=n_train,
            epochs=p.epochs,
        )
        trained, run = train_and_test(
            p.name,
            partial(model.build, d.num_classes),
            d,
            config=r.config,
            batch_size=r.batch_size,
            seed=p.seed,
            run_dir=run_dir,
            train_per_class=per_class,
            flip=r.flip,
            crop_pad=r.crop_pad,
            sources=model.sources,
            log=log,
        )
        counts[run.source] += 1
        res.runs.append(DenseRun.from_run(p, run))
        if p.image_size == shown and p.seed == seeds[0]:
            res.predictions[(p.recipe, p.budget_epochs, p.model)] = run.predicted
        del trained
    res.run_counts = counts
    log(f"{len(plan)} runs: {counts['trained']} trained, {counts['resumed']} resumed, {counts['loaded']} loaded")
    for m in res.all_models:
        build = MODELS[m].build
        res.costs[m] = measure_cost(
            build(data.num_classes), (3, shown, shown), device=device, batches=settings.latency_batches
        )
        res.macs[m] = {
            s: measure_cost(build(data.num_classes), (3, s, s), device=device, batches=()).macs
            for s in sorted(settings.sizes)
        }
        res.final_map[m] = {
            s: final_conv_map_size(build(data.num_classes), image_size=s) for s in sorted({*settings.sizes, 224})
        }  # 224 px: ResNet34's design size
        res.convs[m] = conv_layers(build(data.num_classes))
        if settings.speed_steps:
            res.train_speed[m] = training_speed(
                build(data.num_classes), (3, shown, shown), batch=settings.batch_size, num_classes=data.num_classes,
                device=device, repeats=settings.speed_steps,
            )  # fmt: skip
    return res


__all__ = [
    "MODELS",
    "DenseModel",
    "DenseRun",
    "DenseStudyResult",
    "PlannedRun",
    "Point",
    "ResolvedRecipe",
    "conv_layers",
    "detail_size",
    "final_conv_map_size",
    "load_sweep_data",
    "plan_runs",
    "resolve_recipe",
    "run_dense_study",
    "steps_per_epoch",
]
