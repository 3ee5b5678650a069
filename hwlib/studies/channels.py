"""The channel study (notebook 01): one FlexConv model for every channel combination, against the
channel-adaptive baselines of the literature, a zero-filling CNN and seven per-combination experts,
over several seeds; plus the kernel-diversity diagnostic and costs. This module holds the models'
registry (:data:`VARIANTS`), the run loop and the study's numbers and verdicts (decided by
:mod:`hwlib.stats`); its prose is :mod:`hwlib.report.channels`'s.

Every model gets the same data, recipe (optimizer, learning rate, epochs, batch) and seeds; the
channel-adaptive ones (FlexConv and the baselines) are trained on channel subsets by one of the
:data:`SCHEDULES` (joint: all seven per batch; equal steps: one per batch, how many channels
uniformly, then which, ChannelViT's hierarchical sampling) and are told which channels they get.
Every single model keeps its best epoch by the mean of the seven combinations' validation
accuracies (each expert by its own combination's). Convergence is judged by doubling
(:meth:`ChannelStudyResult.unconverged`). `flex_5ch` trains on five channels: R, G, B and two
derived from them (:mod:`hwlib.data.derived`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .. import stats
from ..channel_layers import AdaptiveFirst
from ..config import ChannelStudySettings
from ..data.derived import DERIVED_LETTERS, with_derived_channels
from ..data.loader import ALL, COMBOS, RANDOM
from ..data.prepare import LoadedData
from ..device import device_name, pick_device
from ..flexconv import FlexConvBase, FlexMode, HybridFlexConv2d, kernel_diversity, resolve_channel_ids
from ..models import SmallCNN, adaptive_cnn, cnn3, flex_cnn
from ..run_cache import CHANNEL_SOURCES
from ..stats import Sample, Verdict
from ..train import TrainConfig, history_best
from .costs import Cost, measure_cost
from .results import RunInfo, StudyResult
from .runs import RunResult, correct_by_combo, pack_bits, train_and_test

PARTIAL = COMBOS[1:]  # the six combinations with a channel missing
MEAN7 = "mean of 7"  # the score per image averaged over the seven combinations


Schedule = Literal["joint", "equal_steps", "rgb", "own"]
SCHEDULES: dict[str, str] = {  # how a model was trained, for the tables and the JSON's `schedule`
    "joint": "all seven combinations every batch (joint training): the seven experts' total compute",
    "equal_steps": "one combination drawn per batch (how many channels, then which): one expert's compute",
    "rgb": "RGB only: one expert's compute",
    "own": "each expert on its own combination",
}
TRAIN_COMBO = {"joint": ALL, "equal_steps": RANDOM, "rgb": "RGB"}


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One model of the study: how it is built and trained, and how it is given partial input."""

    name: str
    what: str  # one line for the tables
    kind: Literal["flex", "cnn3", "adaptive"]
    schedule: Schedule = "equal_steps"
    mode: FlexMode = "hybrid"  # flex: FlexConv mode
    known_channels: int = 3  # flex: size of the channel-identity table (0: channel-blind)
    ablate: tuple[str, ...] = ()  # flex, hybrid: parts switched off (hwlib.flexconv.ABLATABLE)
    first: AdaptiveFirst | None = None  # adaptive: which channel-adaptive first layer
    match_params: bool = False  # adaptive: fc1 widened to the main model's parameter count
    channels: int = 3  # input channels it is trained on: 3 (R, G, B) or 5 (+ L, E of hwlib.data.derived)
    distill: float = 0.0  # joint: in-place distillation weight (TrainConfig.distill, hwlib.train.joint_loss)
    subset_affine: bool = False  # flex: a scale and shift per channel subset (hwlib.models.SubsetAffine)

    def __post_init__(self) -> None:
        if self.distill and self.schedule != "joint":
            raise ValueError(f"variant {self.name!r}: distill needs the joint schedule (views to distil between)")
        if self.subset_affine and self.kind != "flex":
            raise ValueError(f"variant {self.name!r}: subset_affine is a flex option")

    @property
    def train_combo(self) -> str:
        return TRAIN_COMBO[self.schedule]

    @property
    def zero_fill(self) -> bool:  # naive CNNs get 3 channels, absent ones zeroed
        return self.kind == "cnn3"

    @property
    def with_channels(self) -> bool:  # told which channels it gets
        return self.kind == "adaptive" or (self.kind == "flex" and self.known_channels > 0)

    def build(self, *, num_classes: int, image_size: int) -> SmallCNN:
        if self.kind == "flex":
            return flex_cnn(
                num_classes=num_classes,
                image_size=image_size,
                mode=self.mode,
                known_channels=self.known_channels if self.mode != "original" else 0,
                ablate=self.ablate,
                subset_affine=self.subset_affine,
            )
        if self.kind == "adaptive":
            if self.first is None:
                raise ValueError(f"variant {self.name!r}: kind='adaptive' needs first= (which channel-adaptive layer)")
            hidden = 128
            if self.match_params:
                target = count_params(MAIN.build(num_classes=num_classes, image_size=image_size))
                hidden = matching_hidden(self.first, target, num_classes=num_classes, image_size=image_size)
            return adaptive_cnn(first=self.first, num_classes=num_classes, image_size=image_size, hidden=hidden)
        return cnn3(num_classes=num_classes, image_size=image_size)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matching_hidden(first: AdaptiveFirst, target: int, *, num_classes: int, image_size: int) -> int:
    """The fc1 width at which adaptive_cnn(first) has the parameter count nearest `target` (the
    count grows by a constant per unit of width, so two builds give it)."""

    def n(hidden: int) -> int:
        return count_params(adaptive_cnn(first=first, num_classes=num_classes, image_size=image_size, hidden=hidden))

    per_unit = n(129) - n(128)
    return max(1, 128 + round((target - n(128)) / per_unit))


MAIN = Variant(
    name="flex",
    kind="flex",
    schedule="joint",
    what="FlexConv hybrid: static kernel per channel + residual generated from content, identity and "
    "the set of channels given",
)
EQUAL_STEPS = "flex_equal_steps"  # the main model under one expert's compute
JOINT_CONTROLS: tuple[Variant, ...] = (
    Variant(
        name="replicate",
        kind="adaptive",
        first="replicate",
        schedule="joint",
        what="absent channels filled with the mean of the present ones (FlexConv's static part alone)",
    ),
    Variant(
        name="replicate_wide",
        kind="adaptive",
        first="replicate",
        schedule="joint",
        match_params=True,
        what="replicate with fc1 widened to flex's parameter count",
    ),
    Variant(
        name="template_mixing",
        kind="adaptive",
        first="template_mixing",
        schedule="joint",
        what="TemplateMixing: per-channel mix of 4 shared kernel templates",
    ),
    Variant(
        name="target_param",
        kind="adaptive",
        first="target_param",
        schedule="joint",
        what="TargetParam: a private first layer per channel combination, shared body",
    ),
)
JOINT_OPTIONS: tuple[Variant, ...] = (  # the literature's two aids to joint training, each on its own
    Variant(
        name="flex_distill",
        kind="flex",
        schedule="joint",
        distill=1.0,
        what="flex with in-place distillation: the six partial views learn only from the RGB view's detached "
        "predictions (slimmable networks)",
    ),
    Variant(
        name="flex_subset_affine",
        kind="flex",
        schedule="joint",
        subset_affine=True,
        what="flex with a scale and shift per channel subset after the first layer and conv1",
    ),
)
LAYER_ABLATIONS: tuple[Variant, ...] = (
    Variant(name=EQUAL_STEPS, kind="flex", what="flex trained on one drawn combination per batch"),
    *(
        Variant(name=f"flex_no_{part}", kind="flex", ablate=(part,), what=f"flex_equal_steps without {what}")
        for part, what in (
            ("residual", "the generated residual (static kernels only)"),
            ("context", "the channel-set context u"),
            ("stats", "the channel statistics s"),
            ("redistribution", "the absent-kernel redistribution"),
        )
    ),
)
BEYOND_RGB: tuple[Variant, ...] = (  # "any number of channels", in accuracy (five channels, two derived)
    Variant(
        name="flex_5ch",
        kind="flex",
        known_channels=5,
        channels=5,
        what="flex_equal_steps on five channels, R, G, B and the luminance L and edge strength E derived from "
        "them, one of their 31 subsets drawn per batch",
    ),
)
BEYOND_COMBOS: tuple[str, ...] = ("RGBLE", "RGBL", "RGBE", "RGB", "LE", "L", "E")  # flex_5ch is also scored on these
BASELINES: tuple[Variant, ...] = (
    Variant(
        name="grey_mean", kind="adaptive", first="grey_mean", what="mean of the present channels -> 1-channel conv"
    ),
    Variant(
        name="cnn3_zero_fill",
        kind="cnn3",
        schedule="rgb",
        what="3-layer CNN trained on RGB, absent channels zero-filled",
    ),
)
EXTRA: tuple[Variant, ...] = (  # the other channel-adaptive layers of the literature, equal steps (profiles choose)
    Variant(
        name="zero_fill_rescale",
        kind="adaptive",
        first="zero_fill_rescale",
        what="absent channels zero-filled, input scaled by 3 / C",
    ),
    Variant(
        name="depthwise",
        kind="adaptive",
        first="depthwise",
        what="Depthwise: one shared per-channel conv, ReLU, mean over channels",
    ),
    Variant(name="slice_param", kind="adaptive", first="slice_param", what="SliceParam: a weight slice per channel"),
    Variant(
        name="hypernet",
        kind="adaptive",
        first="hypernet",
        what="HyperNet: kernel generated from a learned channel embedding",
    ),
    Variant(
        name="flex_pooled",
        kind="flex",
        mode="pooled",
        known_channels=0,
        what="FlexConv pooled, channel-blind (kernels from content only)",
    ),
    Variant(
        name="flex_original",
        kind="flex",
        mode="original",
        what="the original report's FlexConv layer (fixed size), channel-subset training",
    ),
)
VARIANTS: tuple[Variant, ...] = (
    MAIN,
    *JOINT_CONTROLS,
    *JOINT_OPTIONS,
    *LAYER_ABLATIONS,
    *BEYOND_RGB,
    *BASELINES,
    *EXTRA,
)
VARIANT_BY_NAME: dict[str, Variant] = {v.name: v for v in VARIANTS}
EXPERTS = "experts"  # result key: seven 3-layer CNNs, one per combination, each trained and tested on it
EXPERTS_WHAT = "seven 3-layer CNNs, each trained and tested on its own combination"
DIVERSITY_MODELS = ("flex_original", "flex_pooled", "flex")
DIVERSITY_IMAGES = 64  # the first test images the kernel-diversity diagnostics use
GOAL_BARS = {  # model - other, in accuracy
    "experts": -0.01,
    "experts_equal_steps": -0.01,
    "generated": 0.0,
    "colour": 0.03,
    "zero_fill": 0.0,
}
STATIC_PART = ("replicate", "replicate_wide")  # flex's static part alone, as built and widened (goal "generated")
# Beyond the goals, each model against the main model of its schedule (exploratory, Holm-adjusted):
EXPLORATORY: dict[str, tuple[str, ...]] = {
    "flex": (*(v.name for v in JOINT_CONTROLS if v.name not in STATIC_PART), *(v.name for v in JOINT_OPTIONS)),
    EQUAL_STEPS: (
        *(v.name for v in LAYER_ABLATIONS if v.name != EQUAL_STEPS),
        *(v.name for v in BEYOND_RGB),
        *(v.name for v in EXTRA),
    ),
}


def peaked_late(run: RunResult) -> bool:
    """Whether a run's best validation epoch is in the last fifth of its training."""
    return run.best_epoch > 0.8 * len(run.history)


def still_rising(run: RunResult, *, val_images: int | None) -> bool:
    """Whether a run was still improving when training ended: its best validation epoch is in the
    last fifth *and* beats the best epoch before the last fifth by more than one standard error of
    a validation accuracy, sqrt(p (1 - p) / N) with p the best accuracy and N = `val_images` (None:
    any gain counts). A best epoch in the last fifth of a flat, noisy plateau is not a rise."""
    if not peaked_late(run):
        return False
    vals = [h["val_acc"] for h in run.history]
    before = max(vals[: int(0.8 * len(vals))], default=float("-inf"))
    best = max(vals)
    se = math.sqrt(best * (1 - best) / val_images) if val_images else 0.0
    return best - before > se


@dataclass
class ChannelStudyResult(StudyResult):
    """Which test images every model got right, by combination and seed, plus runs, costs, kernel
    diversity and the trained models of the first seed."""

    info: RunInfo
    correct: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)  # model -> combo -> (N,) per seed
    runs: dict[str, list[RunResult]] = field(default_factory=dict)  # model (experts: expert_<combo>) -> per seed
    costs: dict[str, Cost] = field(default_factory=dict)  # experts: params summed, MACs of one
    what: dict[str, str] = field(default_factory=dict)
    schedule: dict[str, str] = field(default_factory=dict)  # model -> a key of SCHEDULES
    diversity: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> kernel-diversity numbers
    train_per_class: int | None = None  # each seed's training images per class (None: all)
    val_images: int | None = None  # validation images (the standard error in still_rising)
    lr_schedule: str = "constant"  # the learning-rate schedule every run used (ChannelStudySettings.schedule)
    lr: float | None = None  # every run's (peak) Adam learning rate
    epochs: int | None = None  # every run's epochs (ChannelStudySettings.epochs; at_budget: that budget's)
    longer: dict[str, RunResult] = field(default_factory=dict)  # model -> first seed's run at twice the epochs
    lr_trials: dict[float, dict[str, RunResult]] = field(default_factory=dict)  # rate -> expert_<combo> -> run
    beyond: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)  # five-channel model -> BEYOND_COMBOS
    run_counts: dict[str, int] = field(default_factory=dict)  # "trained" / "resumed" / "loaded" -> runs
    models: dict[str, SmallCNN] = field(default_factory=dict, repr=False)  # first seed's
    # goal 1's budget curve: epochs -> its models (ChannelStudySettings.budget_models) trained that long
    at_budget: dict[int, ChannelStudyResult] = field(default_factory=dict)

    def empty_like(self, *, epochs: int) -> ChannelStudyResult:
        """A result with this one's run info, data and recipe, at `epochs`, and no runs (one budget of
        at_budget)."""
        return ChannelStudyResult(
            self.info,
            train_per_class=self.train_per_class,
            val_images=self.val_images,
            lr_schedule=self.lr_schedule,
            lr=self.lr,
            epochs=epochs,
        )

    def budgets(self) -> list[ChannelStudyResult]:
        """This result (the base budget) and each of at_budget, by epochs."""
        return [self, *(self.at_budget[e] for e in sorted(self.at_budget))]

    def goal_budget(self) -> ChannelStudyResult:
        """Where goal 1 (flex against the experts at their total compute) is judged: the first of
        :meth:`budgets` that has both and at which both converged (flex and every expert,
        :meth:`unconverged`), else the last that has both (its verdict then reads not shown)."""
        both = [r for r in self.budgets() if MAIN.name in r.correct and EXPERTS in r.correct]
        if not both:
            return self
        models = (MAIN.name, *(f"expert_{c}" for c in COMBOS))
        return next((r for r in both if not r.still_improving(*models)), both[-1])

    @property
    def split(self) -> str:
        return self.info.split

    @property
    def accuracy_by_seed(self) -> dict[str, dict[str, list[float]]]:
        """model -> combo -> accuracy per seed."""
        return {m: {c: [float(x.mean()) for x in v] for c, v in by.items()} for m, by in self.correct.items()}

    @property
    def accuracy(self) -> dict[str, dict[str, float]]:
        """model -> combo -> mean accuracy over seeds."""
        return {m: {c: float(np.mean(v)) for c, v in by.items()} for m, by in self.accuracy_by_seed.items()}

    def mean_of_seven(self, model: str) -> float:
        return float(np.mean(list(self.accuracy[model].values())))

    def sample(self, model: str, combo: str) -> Sample:
        """`combo` may be a combination or "mean of 7" (the score per image averaged over the seven)."""
        if combo == MEAN7:
            return Sample.mean_of([self.sample(model, c) for c in COMBOS])
        return Sample.from_rows(self.correct[model][combo])

    def diff(self, a: str, b: str, combo: str) -> stats.Interval:
        """Accuracy of model a minus model b on `combo` (or "mean of 7"): unpaired over seeds, paired
        over the shared test images."""
        return stats.difference_interval(self.sample(a, combo), self.sample(b, combo))

    def convergence(self, model: str) -> stats.Convergence | None:
        """Doubling check of `model` (an expert: expert_<combo>) on validation accuracy (mean of seven;
        an expert's on its own combination): its run at twice the epochs on the first seed against
        its runs at the study's epochs on every seed (None: no run at twice the epochs)."""
        if model not in self.longer or model not in self.runs:
            return None
        return stats.convergence(
            model,
            steps=self.runs[model][0].steps,
            short=self.val_bests(model),
            long=[history_best(self.longer[model].history)["val_acc"]],
        )

    def unconverged(self, model: str) -> str:
        """Why `model`'s convergence is not shown ('' when it is): with a run at twice the epochs, the
        doubling check (:meth:`convergence`); without one, under a constant learning rate, seeds whose
        best validation epoch is a rise in the last fifth (:func:`still_rising`); under a decaying one
        the last epochs are the best by construction, so nothing short of doubling can tell."""
        runs = self.runs.get(model, [])
        if not runs:
            return ""
        epochs = len(runs[0].history)
        c = self.convergence(model)
        if c is not None:
            if c.converged is None:
                return f"{model} (one seed: no seed spread to judge its doubling by)"
            if c.converged:
                return ""
            return (
                f"{model} (doubling {epochs} -> {2 * epochs} epochs raised its validation accuracy "
                f"{100 * c.moved:+.1f} points, more than its seed sd {100 * c.seed_sd:.1f})"
            )
        if self.lr_schedule != "constant":
            return f"{model} (not trained at twice the epochs, and a {self.lr_schedule} schedule peaks at its end)"
        n = sum(still_rising(r, val_images=self.val_images) for r in runs)
        return f"{model} (still improving at the end of the {epochs} epochs on {n} of {len(runs)} seeds)" if n else ""

    def still_improving(self, *models: str) -> str:
        """Why a comparison of `models` is not a verdict: every one of them whose convergence is not
        shown (:meth:`unconverged`), as a reason; '' when every one of them has converged."""
        late = [why for m in models if (why := self.unconverged(m))]
        if not late:
            return ""
        return f"convergence not shown for {' and '.join(late)}"

    def goal_map(self) -> dict[str, Verdict]:
        """Goal key -> verdict, for the goals whose models this result has, each decided by
        :mod:`hwlib.stats`; a comparison is a verdict only where every model in it had stopped
        improving (:meth:`still_improving`). Keys: "experts" (flex, at the seven experts' total
        compute, within 1 point of each expert), "experts_equal_steps" (the same for flex trained at
        one expert's compute), "generated" (flex beats its own static part, replicate as built and
        widened, on the mean of seven), "colour" and "zero_fill" (flex_equal_steps against the
        greyscale and the zero-filled CNN, both at one expert's compute)."""
        out: dict[str, Verdict] = {}
        for key, model in (("experts", MAIN.name), ("experts_equal_steps", EQUAL_STEPS)):
            r = self.goal_budget() if key == "experts" else self  # goal 1 at its budget curve's choice
            if EXPERTS in r.correct and model in r.correct:
                bar = GOAL_BARS[key]
                parts = [
                    stats.verdict(c, r.diff(model, EXPERTS, c), bar=bar, direction=">=",
                                  reason=r.still_improving(model, f"expert_{c}"))
                    for c in COMBOS
                ]  # fmt: skip
                compute = "the seven experts' total" if key == "experts" else "one expert's"
                at = f", {r.epochs} epochs" if r.epochs is not None and self.at_budget else ""
                out[key] = stats.verdict_over_parts(
                    f"{model} ({compute} training compute{at}) within 1 point of the per-combination expert on "
                    "every one of the seven combinations",
                    parts,
                    bar=bar,
                    direction=">=",
                    compared_with=EXPERTS,
                )
        static = [m for m in STATIC_PART if m in self.correct]
        if MAIN.name in self.correct and static:
            parts = [
                stats.verdict(m, self.diff(MAIN.name, m, MEAN7), bar=GOAL_BARS["generated"], direction=">=",
                              reason=self.still_improving(MAIN.name, m))
                for m in static
            ]  # fmt: skip
            out["generated"] = stats.verdict_over_parts(
                "flex beats its own static part (replicate, as built and widened to flex's parameters; same "
                "schedule) on the mean of seven",
                parts,
                bar=GOAL_BARS["generated"],
                direction=">=",
                compared_with=", ".join(static),
            )
        if EQUAL_STEPS in self.correct and "grey_mean" in self.correct:
            out["colour"] = stats.verdict(
                f"{EQUAL_STEPS} uses colour: RGB accuracy >= 3 points above the channel-mean (greyscale) CNN",
                self.diff(EQUAL_STEPS, "grey_mean", "RGB"),
                bar=GOAL_BARS["colour"],
                direction=">=",
                reason=self.still_improving(EQUAL_STEPS, "grey_mean"),
                compared_with="grey_mean",
            )
        if EQUAL_STEPS in self.correct and "cnn3_zero_fill" in self.correct:
            bar = GOAL_BARS["zero_fill"]
            reason = self.still_improving(EQUAL_STEPS, "cnn3_zero_fill")
            parts = [
                stats.verdict(c, self.diff(EQUAL_STEPS, "cnn3_zero_fill", c), bar=bar, direction=">=", reason=reason)
                for c in PARTIAL
            ]
            out["zero_fill"] = stats.verdict_over_parts(
                f"{EQUAL_STEPS} beats the zero-filled RGB CNN on all six partial combinations",
                parts,
                bar=bar,
                direction=">=",
                compared_with="cnn3_zero_fill",
            )
        return out

    def goals(self) -> list[Verdict]:
        return list(self.goal_map().values())

    def exploratory(self) -> list[dict]:
        """The main model of each schedule (flex, flex_equal_steps) minus each model of
        :data:`EXPLORATORY` trained the same way, on RGB and on the mean of seven: the difference,
        its interval, and its p-value Holm-adjusted over all of them (exploratory: chosen after the
        goals, so corrected for the number of comparisons)."""
        rows: list[dict[str, Any]] = []
        for model, others in EXPLORATORY.items():
            if model not in self.correct:
                continue
            for other in (m for m in others if m in self.correct):
                for combo in ("RGB", MEAN7):
                    iv = self.diff(model, other, combo)
                    rows.append(
                        {
                            "model": model,
                            "other": other,
                            "combo": combo,
                            "estimate": iv.estimate,
                            "interval": iv.as_list(),
                            "p": stats.p_value(iv),
                        }
                    )
        for row, adj in zip(rows, stats.holm([r["p"] for r in rows])):
            row["p_holm"] = adj
        return rows

    def training_images_seen(self) -> dict[str, int]:
        """model -> image-combination passes in training (a joint batch of B images is 7B passes);
        the experts' summed over the seven. Mean over seeds (every seed sees the same count)."""
        out: dict[str, int] = {}
        for name, runs in self.runs.items():
            views = len(COMBOS) if self.schedule.get(name) == "joint" else 1
            seen = int(np.mean([r.train_images * len(r.history) * views for r in runs]))
            key = EXPERTS if name.startswith("expert_") else name
            out[key] = out.get(key, 0) + seen
        return out

    def last_fifth(self) -> dict[str, bool]:
        """model -> whether its best validation epoch (any seed) is in the last fifth of training."""
        return {name: any(peaked_late(r) for r in runs) for name, runs in self.runs.items()}

    def rising(self) -> dict[str, bool]:
        """model -> whether its convergence is not shown (:meth:`unconverged`)."""
        return {name: bool(self.unconverged(name)) for name in self.runs}

    def beyond_sample(self, model: str, combo: str) -> Sample:
        """A five-channel model's score on one of BEYOND_COMBOS."""
        return Sample.from_rows(self.beyond[model][combo])

    def beyond_rows(self) -> list[dict]:
        """Each five-channel model on each of BEYOND_COMBOS: accuracy with its interval, and minus its
        own RGB accuracy (the same runs: paired over seeds and images). The JSON's `beyond_rgb`."""
        rows = []
        for model, by in self.beyond.items():
            rgb = self.beyond_sample(model, "RGB")
            for combo in by:
                s = self.beyond_sample(model, combo)
                acc, vs = stats.accuracy_interval(s), stats.paired_difference_interval(s, rgb)
                rows.append(
                    {
                        "model": model,
                        "combo": combo,
                        "channels": len(combo),
                        "accuracy_by_seed": [float(x) for x in s.per_seed],
                        "accuracy": acc.estimate,
                        "interval": acc.as_list(),
                        "minus_rgb": vs.estimate,
                        "minus_rgb_interval": vs.as_list(),
                    }
                )
        return rows

    def lr_choice_rows(self) -> list[dict]:
        """The learning-rate choice (ChannelStudySettings.lr_candidates), one row per rate tried on the
        first seed's seven experts: each expert's best validation accuracy, their mean (what decides),
        and whether it is the rate every run used (the JSON's `lr_choice`)."""
        rows = []
        for lr, runs in self.lr_trials.items():
            by_combo = {name.removeprefix("expert_"): history_best(r.history)["val_acc"] for name, r in runs.items()}
            rows.append(
                {
                    "lr": lr,
                    "val_best_by_combo": by_combo,
                    "val_best_mean": float(np.mean(list(by_combo.values()))),
                    "chosen": lr == self.lr,
                }
            )
        return rows

    def convergence_rows(self) -> list[dict]:
        """The doubling checks, one row per model trained at twice the epochs (the JSON's `convergence`)."""
        rows = []
        for name in self.longer:
            c = self.convergence(name)
            if c is None:
                continue
            epochs = len(self.runs[name][0].history)
            rows.append(
                {
                    "model": name,
                    "epochs": epochs,
                    "longer_epochs": 2 * epochs,
                    "val_best_by_seed": self.val_bests(name),
                    "longer_val_best": history_best(self.longer[name].history)["val_acc"],
                    "moved": c.moved,
                    # the same seed's own run at the study's epochs (the same training subset): paired
                    "moved_same_seed": history_best(self.longer[name].history)["val_acc"] - self.val_bests(name)[0],
                    "seed_sd": None if math.isnan(c.seed_sd) else c.seed_sd,
                    "converged": c.converged,
                }
            )
        return rows

    def budget_rows(self) -> list[dict]:
        """Goal 1's budget curve (the JSON's `budget_curve`), one row per budget with flex and the
        experts: epochs, accuracy by seed, image-combination passes, flex minus the experts (per
        combination and on the mean of seven, with intervals), the doubling checks at that budget and
        whether goal 1 is judged there."""
        chosen = self.goal_budget()
        rows = []
        for r in self.budgets():
            if MAIN.name not in r.correct or EXPERTS not in r.correct:
                continue
            seen = r.training_images_seen()
            by = {m: r.accuracy_by_seed[m] for m in (MAIN.name, EXPERTS)}
            rows.append(
                {
                    "epochs": r.epochs,
                    "accuracy_by_seed": by,
                    "mean_of_7": {m: r.mean_of_seven(m) for m in by},
                    "training_images_seen": {m: seen[m] for m in by if m in seen},
                    "flex_minus_experts": {
                        c: {"estimate": (iv := r.diff(MAIN.name, EXPERTS, c)).estimate, "interval": iv.as_list()}
                        for c in (*COMBOS, MEAN7)
                    },
                    "convergence": r.convergence_rows(),
                    "unconverged": [why for m in r.runs if (why := r.unconverged(m))],
                    "goal_judged_here": r is chosen,
                }
            )
        return rows

    def val_bests(self, model: str) -> list[float]:
        """Best validation accuracy of each seed's run of `model` (mean of the seven combinations; an
        expert's on its own combination)."""
        return [history_best(r.history)["val_acc"] for r in self.runs[model]]

    def val_best(self, model: str) -> float:
        """:meth:`val_bests`, mean over seeds: what choices are made on."""
        return float(np.mean(self.val_bests(model)))

    def to_json(self) -> dict:
        return {
            **self.info.as_dict(),
            "combos": list(COMBOS),
            "train_per_class": self.train_per_class,
            "val_images": self.val_images,
            "accuracy": self.accuracy,
            "accuracy_by_seed": self.accuracy_by_seed,
            "mean_of_7": {m: self.mean_of_seven(m) for m in self.correct},
            "correct": {m: {c: [pack_bits(x) for x in v] for c, v in by.items()} for m, by in self.correct.items()},
            "what": self.what,
            "schedule": {m: SCHEDULES[k] for m, k in self.schedule.items()},
            "vs_experts_mean_of_7": {  # model - experts on the mean of seven, in accuracy
                m: {"estimate": (iv := self.diff(m, EXPERTS, MEAN7)).estimate, "interval": iv.as_list()}
                for m in (MAIN.name, EQUAL_STEPS)
                if m in self.correct and EXPERTS in self.correct
            },
            "training_images_seen": self.training_images_seen(),
            "budget_curve": self.budget_rows(),
            "lr_schedule": self.lr_schedule,
            "lr": self.lr,
            "convergence": self.convergence_rows(),
            "lr_choice": self.lr_choice_rows(),
            "beyond_rgb": self.beyond_rows(),
            "models": {
                k: {
                    "params": c.params,
                    "macs": c.macs,
                    "latency_ms_per_image": c.latency_ms,
                    "latency_others_busy": c.others_busy,
                }
                for k, c in self.costs.items()
            },
            "goals": [g.as_dict() for g in self.goals()],
            "exploratory": self.exploratory(),
            "kernel_diversity": self.diversity,
            "runs": {k: [r.summary() for r in runs] for k, runs in self.runs.items()},
            "history": {k: [r.history for r in runs] for k, runs in self.runs.items()},
        }


def run_channel_study(
    data: LoadedData,
    *,
    settings: ChannelStudySettings,
    profile: str,
    seeds: list[int],
    run_dir: Path | None,
    train_per_class: int | None,
    variants: tuple[Variant, ...] | None = None,
    experts: bool = True,
    latency_repeats: int = 5,
    log: Callable[[str], object] = print,
) -> ChannelStudyResult:
    """Train every variant (and the seven experts) for every seed on that seed's training subset,
    score each on all seven combinations of the test split, then measure costs and kernel diversity
    on the first seed's models. `log` gets one line per training run and a count at the end.
    variants: None: those `settings.models` names (every registered one when that is None).
    Every single model picks its best epoch on the mean of the seven combinations' validation
    accuracies; each expert on its own combination."""
    if variants is None:
        variants = VARIANTS if settings.models is None else tuple(VARIANT_BY_NAME[m] for m in settings.models)
    size = data.size
    test = data.splits[data.eval_split]
    device = pick_device()
    res = ChannelStudyResult(
        RunInfo(data.name, profile, data.eval_split, size, device_name(device), list(seeds)),
        train_per_class=train_per_class,
        val_images=len(data.splits["val"]),
        lr_schedule=settings.schedule,
        lr=settings.lr,
        epochs=settings.epochs,
    )
    config = TrainConfig(epochs=settings.epochs, lr=settings.lr, schedule=settings.schedule)
    counts = {"trained": 0, "resumed": 0, "loaded": 0}
    by_channels: dict[int, LoadedData] = {3: data}

    def data_with(channels: int) -> LoadedData:
        """The data with `channels` channels: R, G, B (as given) or + L, E (derived once, on first use)."""
        if channels not in by_channels:
            if channels != 3 + len(DERIVED_LETTERS):
                raise ValueError(f"{channels} channels: the data has 3 and derives {DERIVED_LETTERS!r} from them")
            by_channels[channels] = with_derived_channels(data)
        return by_channels[channels]

    done: dict[str, tuple[SmallCNN, RunResult]] = {}  # run name -> its model and result (each run once)

    def train(
        name: str,
        build: Callable[[], SmallCNN],
        seed: int,
        *,
        epochs: int | None = None,
        into: ChannelStudyResult | None = None,
        longer: bool = False,
        trial_lr: float | None = None,
        channels: int = 3,
        distill: float = 0.0,
        **view,
    ) -> tuple[SmallCNN, RunResult]:
        """One run at `epochs` (None: the study's), kept in `into` (None: the study's result);
        `longer`: at twice those epochs, for the doubling check only (kept in into.longer);
        `trial_lr`: at that peak rate, for the rate choice only (kept in res.lr_trials); channels 5:
        on the images with the derived channels L and E appended; distill: the in-place distillation
        weight of a joint schedule. A run of the same name trained
        earlier in the call (the base budget's doubling run is the next budget's first seed) is reused."""
        target = res if into is None else into
        base = config.epochs if epochs is None else epochs
        run_epochs = 2 * base if longer else base
        if trial_lr is not None:
            run_name, run_config = f"{name}-lr{trial_lr:g}-seed{seed}", replace(config, lr=trial_lr)
        elif run_epochs != config.epochs:
            run_name, run_config = f"{name}-{run_epochs}ep-seed{seed}", replace(config, epochs=run_epochs)
        else:
            run_name, run_config = f"{name}-seed{seed}", config
        if distill:
            run_config = replace(run_config, distill=distill)
        if run_name in done:
            model, run = done[run_name]
        else:
            made, run = train_and_test(
                run_name,
                build,
                data_with(channels),
                config=run_config,
                batch_size=settings.batch_size,
                seed=seed,
                run_dir=run_dir,
                train_per_class=train_per_class,
                sources=CHANNEL_SOURCES,
                log=log,
                **view,
            )
            if not isinstance(made, SmallCNN):  # train_and_test returns the model `build` made
                raise TypeError(f"{name}: build made a {type(made).__name__}, not a SmallCNN")
            model = made
            counts[run.source] += 1
            done[run_name] = model, run
        if longer:
            target.longer[name] = run
        elif trial_lr is not None:
            res.lr_trials.setdefault(trial_lr, {})[name] = run
        else:
            target.runs.setdefault(name, []).append(run)
            target.models.setdefault(name, model)
        return model, run

    def build_of(v: Variant) -> Callable[[], SmallCNN]:
        return partial(v.build, num_classes=data.num_classes, image_size=size)

    def expert_of(combo: str) -> Callable[[], SmallCNN]:
        return partial(cnn3, num_classes=data.num_classes, image_size=size, in_channels=len(combo))

    def view_of(v: Variant) -> dict:
        """How v is trained and fed (train's keywords past the seed)."""
        return {
            "distill": v.distill,
            "combo": v.train_combo,
            "val_combo": ALL,
            "zero_fill": v.zero_fill,
            "with_channels": v.with_channels,
            "channels": v.channels,
        }

    # The rate choice: each candidate on the first seed's seven experts; the best mean validation wins
    if settings.lr_candidates and experts and seeds:
        for lr in settings.lr_candidates:
            for combo in COMBOS:
                train(f"expert_{combo}", expert_of(combo), seeds[0], trial_lr=lr, combo=combo)
        means = [float(np.mean([history_best(r.history)["val_acc"] for r in res.lr_trials[lr].values()]))
                 for lr in settings.lr_candidates]  # fmt: skip
        res.lr = settings.lr_candidates[int(np.argmax(means))]  # argmax: the first of equals
        config = replace(config, lr=res.lr)
        log(f"peak learning rate {res.lr:g}: the experts' mean best validation accuracy "
            + ", ".join(f"{m:.3f} at {lr:g}" for lr, m in zip(settings.lr_candidates, means)))  # fmt: skip
    planned = {v.name: v for v in variants}

    def score(v: Variant, model: SmallCNN, into: ChannelStudyResult) -> None:
        """`model` (of variant v) on the seven combinations of the scored split, into into.correct."""
        scored = data_with(v.channels).splits[data.eval_split]
        right = correct_by_combo(model, scored, zero_fill=v.zero_fill, with_channels=v.with_channels, device=device)
        for combo, c in right.items():
            into.correct.setdefault(v.name, {}).setdefault(combo, []).append(c)
        into.what[v.name] = v.what
        into.schedule[v.name] = v.schedule

    def train_experts(seed: int, into: ChannelStudyResult, epochs: int | None = None) -> None:
        into.schedule[EXPERTS] = "own"
        into.what[EXPERTS] = EXPERTS_WHAT
        for combo in COMBOS:
            _, run = train(f"expert_{combo}", expert_of(combo), seed, epochs=epochs, into=into, combo=combo)
            into.correct.setdefault(EXPERTS, {}).setdefault(combo, []).append(run.correct)

    def double(names: tuple[str, ...], into: ChannelStudyResult, epochs: int | None = None) -> None:
        """The doubling check of `names`: the first seed once more at twice `epochs` (its own schedule)."""
        for name in names if seeds else ():
            if name == EXPERTS:
                for combo in COMBOS if experts else ():
                    train(f"expert_{combo}", expert_of(combo), seeds[0], epochs=epochs, into=into, longer=True,
                          combo=combo)  # fmt: skip
            elif name in planned:
                v = planned[name]
                train(name, build_of(v), seeds[0], epochs=epochs, into=into, longer=True, **view_of(v))

    for seed in seeds:
        for v in variants:
            model, _ = train(v.name, build_of(v), seed, **view_of(v))
            score(v, model, res)
            if v.channels > 3:
                scored = data_with(v.channels).splits[data.eval_split]
                more = correct_by_combo(
                    model, scored, zero_fill=False, combos=BEYOND_COMBOS, with_channels=True, device=device
                )
                for combo, c in more.items():
                    res.beyond.setdefault(v.name, {}).setdefault(combo, []).append(c)
        if experts:
            train_experts(seed, res)
    double(settings.longer_models, res)
    # Goal 1's budget curve: its models at each larger budget on every seed (model by model, the cheap
    # experts first), then doubled there on the first seed
    for budget in sorted(b for b in settings.budgets if b > 1):
        epochs = budget * config.epochs
        sub = res.at_budget[epochs] = res.empty_like(epochs=epochs)
        names = tuple(m for m in settings.budget_models if m in planned or (m == EXPERTS and experts))
        for name in names:
            for seed in seeds:
                if name == EXPERTS:
                    train_experts(seed, sub, epochs)
                else:
                    model, _ = train(name, build_of(planned[name]), seed, epochs=epochs, into=sub,
                                     **view_of(planned[name]))  # fmt: skip
                    score(planned[name], model, sub)
        double(tuple(m for m in names if m in settings.longer_models), sub, epochs)
    res.run_counts = counts
    log(
        f"{sum(counts.values())} training runs: {counts['trained']} trained, {counts['resumed']} resumed, "
        f"{counts['loaded']} loaded"
    )
    for name, model in res.models.items():
        in_channels = model.fixed_in_channels or 3
        res.costs[name] = measure_cost(model, (in_channels, size, size), device=device, repeats=latency_repeats)
    experts_costs = [c for n, c in res.costs.items() if n.startswith("expert_")]
    if experts_costs:  # all seven stored; one runs per image (the RGB one is the largest and slowest)
        rgb = res.costs["expert_RGB"]
        res.costs[EXPERTS] = Cost(sum(c.params for c in experts_costs), rgb.macs, rgb.latency_ms, rgb.others_busy)
    images = test.images[:DIVERSITY_IMAGES].float().div(255).to(device)  # (B, 3, H, W)
    for name in DIVERSITY_MODELS:
        if name in res.models:
            first = res.models[name].first_layer
            if not isinstance(first, FlexConvBase):
                raise TypeError(f"{name}: kernel diversity needs a FlexConv first layer, not {type(first).__name__}")
            res.diversity[name] = kernel_diversity(first, images, [0, 1, 2])
            if isinstance(first, HybridFlexConv2d) and first.residual:
                res.diversity[name] |= residual_diversity(first, images, [0, 1, 2])
    return res


@torch.no_grad()
def residual_diversity(layer: HybridFlexConv2d, images: torch.Tensor, channel_ids) -> dict[str, float]:
    """The generated residual r = w - W_i of a hybrid layer on its own (kernel_diversity measures the
    whole kernel, whose static part W_i differs by channel and so dominates its variance).
    images: (B, C, H, W). Returns:
        residual_between_images_share: share of the residual's variance that is variation across
            images for the same channel (1: it depends only on the image; 0: only on the channel);
        residual_to_static: the residual's RMS over the static kernels' RMS (its size)."""
    layer.eval()
    b, c = images.shape[:2]
    rows = resolve_channel_ids(channel_ids, c, images.device, type(layer).__name__).clamp(max=layer.known_channels)
    static = layer.static_kernels(rows).transpose(0, 1).unsqueeze(0)  # (1, out, C, k, k)
    r = (layer.generate_kernels(images, channel_ids) - static).permute(0, 2, 1, 3, 4).reshape(b, c, -1).double()
    total = ((r - r.mean((0, 1))) ** 2).mean().clamp_min(1e-30)  # r: (B, C, out*k*k)
    return {
        "residual_between_images_share": float(((r - r.mean(0)) ** 2).mean() / total),
        "residual_to_static": float(r.pow(2).mean().sqrt() / static.double().pow(2).mean().sqrt()),
    }
