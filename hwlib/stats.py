"""Statistics: every interval, comparison and verdict of the studies, and how they are written.

One module decides statistics. The studies call it; the report modules only print what it returns.

What an interval covers. A model trained with S seeds (each seed draws its own training subset,
initialisation and batch order) and tested on one shared test set of N images has two sources of
noise in its mean accuracy: the seeds (sample variance s^2 over seeds, so s^2 / S for the mean) and
the test images (the same N images for every seed: the variance over images of the seed-mean
correctness, divided by N). :func:`accuracy_interval` adds the two and takes a Student-t quantile
with Welch-Satterthwaite degrees of freedom. With one seed the seed term cannot be estimated, so
there is no interval (nan) and no verdict.

Comparisons across models are unpaired over seeds (seed 0 of two architectures may share training
images and batch order but no weights: Welch, the cautious choice) and paired over test images
(both models are scored on the same images):
:func:`difference_interval` and :func:`ratio_interval` (delta method). A paired interval over seeds
(:func:`paired_seed_interval`) is only for runs whose seeds really are shared, e.g. one architecture
trained for two budgets from the same initialisation and data order.

Verdicts (:class:`Verdict`) have three outcomes: **met** (the interval lies on the goal's side of the
bar), **missed** (it lies on the other side) and **not shown** (it straddles the bar, or there is
none). A goal over several parts is missed if any part is missed, met if all parts are met, else not
shown; it names the part that settles it. Exploratory comparisons beyond the goals are corrected for
multiplicity with Holm's method (:func:`holm`).

Notation, everywhere: "mean ± sd (n seeds)" for a spread (sample sd, n - 1), "[low, high]" for a 95%
interval; differences are "a - b" in points (1 point = 0.01 accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats as sps

LEVEL = 0.95  # confidence level of every interval
Outcome = Literal["met", "missed", "not shown"]
Direction = Literal[">=", "<="]


# -- samples and intervals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One model's test accuracy: per seed, and per seed and test image.

    correct: (S, N), seed s's score on test image i: 1 right, 0 wrong (or, for an accuracy averaged
    over several views of the same image such as channel combinations, the share of views it got
    right); the accuracy of seed s is its row mean.
    """

    correct: np.ndarray

    def __post_init__(self) -> None:
        c = np.asarray(self.correct, dtype=np.float64)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise ValueError(f"correct must be (seeds, images) with both >= 1, got shape {c.shape}")
        object.__setattr__(self, "correct", c)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[bool] | np.ndarray]) -> Sample:
        return cls(np.stack([np.asarray(r, dtype=np.float64) for r in rows]))

    @classmethod
    def mean_of(cls, samples: Sequence[Sample]) -> Sample:
        """The accuracy averaged over several views of the same images and seeds (e.g. the seven
        channel combinations): per seed and image, the mean score over the views."""
        if len({s.correct.shape for s in samples}) != 1:
            raise ValueError("views must have the same seeds and test images")
        return cls(np.mean([s.correct for s in samples], axis=0))

    @property
    def seeds(self) -> int:
        return self.correct.shape[0]

    @property
    def images(self) -> int:
        return self.correct.shape[1]

    @property
    def per_seed(self) -> np.ndarray:
        """(S,) accuracy of each seed."""
        return self.correct.mean(axis=1)

    @property
    def mean(self) -> float:
        return float(self.per_seed.mean())

    @property
    def sd(self) -> float:
        """Sample standard deviation over seeds (n - 1); nan for one seed."""
        return float(np.std(self.per_seed, ddof=1)) if self.seeds > 1 else float("nan")

    @property
    def per_image(self) -> np.ndarray:
        """(N,) the seed-mean correctness of each test image."""
        return self.correct.mean(axis=0)


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval [low, high] (nan where there is none) and what it covers."""

    estimate: float
    low: float
    high: float
    covers: str = "seeds and test images"

    @property
    def exists(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    def as_list(self) -> list[float | None]:
        return [None if math.isnan(v) else v for v in (self.low, self.high)]

    def contains(self, value: float) -> bool:
        return self.exists and self.low <= value <= self.high


def _t_interval(estimate: float, components: list[tuple[float, float]], level: float = LEVEL) -> tuple[float, float]:
    """estimate ± t * sqrt(sum of variances), t with Welch-Satterthwaite df over the (variance, df)
    components; nan when any component has no degrees of freedom."""
    if any(df <= 0 or math.isnan(v) for v, df in components):
        return float("nan"), float("nan")
    total = sum(v for v, _ in components)
    if total == 0:
        return estimate, estimate
    denom = sum(v * v / df for v, df in components if v > 0)
    df = total * total / denom
    half = float(sps.t.ppf(0.5 + level / 2, df)) * math.sqrt(total)
    return estimate - half, estimate + half


def _seed_component(s: Sample) -> tuple[float, float]:
    """(variance of the seed mean, its df): s^2 / S with S - 1 df; (nan, 0) for one seed."""
    if s.seeds < 2:
        return float("nan"), 0.0
    return float(np.var(s.per_seed, ddof=1)) / s.seeds, float(s.seeds - 1)


def _image_component(per_image: np.ndarray) -> tuple[float, float]:
    """(variance of a mean over the test images, its df): var_i / N with N - 1 df."""
    n = len(per_image)
    return float(np.var(per_image, ddof=1)) / n if n > 1 else 0.0, float(max(n - 1, 1))


def accuracy_interval(s: Sample, level: float = LEVEL) -> Interval:
    """Mean accuracy over seeds with an interval covering seed and test-set noise."""
    low, high = _t_interval(s.mean, [_seed_component(s), _image_component(s.per_image)], level)
    return Interval(s.mean, low, high)


def _same_images(a: Sample, b: Sample) -> None:
    if a.images != b.images:
        raise ValueError(f"the two samples are scored on different test sets ({a.images} vs {b.images} images)")


def difference_interval(a: Sample, b: Sample, level: float = LEVEL) -> Interval:
    """mean(a) - mean(b): unpaired over seeds (Welch), paired over the shared test images."""
    _same_images(a, b)
    est = a.mean - b.mean
    comps = [_seed_component(a), _seed_component(b), _image_component(a.per_image - b.per_image)]
    low, high = _t_interval(est, comps, level)
    return Interval(est, low, high)


def paired_difference_interval(a: Sample, b: Sample, level: float = LEVEL) -> Interval:
    """mean(a) - mean(b) for two scores of the same runs (seed s of a and of b is one trained model,
    e.g. given two channel combinations): paired over seeds and over test images."""
    _same_images(a, b)
    if a.seeds != b.seeds:
        raise ValueError(f"paired samples need the same seeds ({a.seeds} vs {b.seeds})")
    d = Sample(a.correct - b.correct)
    low, high = _t_interval(d.mean, [_seed_component(d), _image_component(d.per_image)], level)
    return Interval(d.mean, low, high, "seeds and test images (paired: the same runs)")


def _borrowed_seed_component(s: Sample, spread: Sample) -> tuple[float, float]:
    """(variance of `s`'s seed mean, df) with the seed sd taken from `spread` (the same model's
    runs at another budget, >= 2 seeds): sd^2 / S(s) with S(spread) - 1 df."""
    if spread.seeds < 2:
        return float("nan"), 0.0
    return float(np.var(spread.per_seed, ddof=1)) / s.seeds, float(spread.seeds - 1)


def ratio_interval(
    a: Sample, b: Sample, level: float = LEVEL, *, seed_spread: tuple[Sample, Sample] | None = None
) -> Interval:
    """mean(a) / mean(b) by the delta method: var(r) ~ r^2 (va/a^2 + vb/b^2 - 2 cov/(a b)), the
    seed terms unpaired, the test-image term paired (its covariance included).

    seed_spread: samples of the same two models elsewhere (e.g. at the base budget, >= 2 seeds)
    whose seed sd stands in for a and b's own, for runs with too few seeds to estimate it (the
    interval's `covers` says so)."""
    _same_images(a, b)
    ma, mb = a.mean, b.mean
    if mb == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    r = ma / mb
    # the ratio's linearisation per test image: (a_i / ma - b_i / mb) * r; its variance / N is the image term
    lin = r * (a.per_image / ma - b.per_image / mb) if ma > 0 else -r * b.per_image / mb
    if seed_spread is None:
        (va, dfa), (vb, dfb) = _seed_component(a), _seed_component(b)
        covers = "seeds and test images"
    else:
        (va, dfa), (vb, dfb) = _borrowed_seed_component(a, seed_spread[0]), _borrowed_seed_component(b, seed_spread[1])
        covers = "test images and a seed spread taken from another budget's seeds"
    comps = [(r * r * va / (ma * ma) if ma > 0 else 0.0, dfa), (r * r * vb / (mb * mb), dfb), _image_component(lin)]
    low, high = _t_interval(r, comps, level)
    return Interval(r, low, high, covers)


def quoted_ratio_interval(pa: float, pb: float, *, images: int, level: float = LEVEL) -> Interval:
    """pa / pb for two accuracies quoted from one run each on `images` test images, with the
    test-set noise alone (binomial, the two treated as independent; the delta method): seed noise
    is unknown for a single run, so the true uncertainty is larger."""
    r = pa / pb
    var = r * r * ((1 - pa) / (pa * images) + (1 - pb) / (pb * images))
    half = float(sps.norm.ppf(0.5 + level / 2)) * math.sqrt(var)
    return Interval(r, r - half, r + half, "test images only (one run each)")


def paired_seed_interval(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval:
    """mean(a - b) over seeds that really are shared (the same run's seed under two settings); a
    t-interval over the paired differences, seeds only (nan for one pair)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return Interval(float(d.mean()) if len(d) else float("nan"), float("nan"), float("nan"), "seeds (paired)")
    low, high = _t_interval(float(d.mean()), [(float(np.var(d, ddof=1)) / len(d), float(len(d) - 1))], level)
    return Interval(float(d.mean()), low, high, "seeds (paired)")


def p_value(iv: Interval, null: float = 0.0, level: float = LEVEL) -> float:
    """Two-sided p-value of `null` implied by a t-based interval (normal approximation of its df:
    the half-width / 1.96 taken as the standard error); nan without an interval."""
    if not iv.exists:
        return float("nan")
    se = (iv.high - iv.low) / 2 / float(sps.norm.ppf(0.5 + level / 2))
    if se == 0:
        return 0.0 if iv.estimate != null else 1.0
    return float(2 * sps.norm.sf(abs(iv.estimate - null) / se))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the given order (nan stays nan)."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    order = sorted(idx, key=lambda i: pvalues[i])
    m = len(order)
    out = [float("nan")] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


# -- convergence ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Convergence:
    """Whether doubling a model's training budget moved its accuracy by less than its seed spread."""

    model: str
    steps: int  # the shorter budget
    moved: float  # mean accuracy at 2 x steps minus at steps
    seed_sd: float  # sample sd over seeds at the shorter budget (nan: one seed)

    @property
    def converged(self) -> bool | None:
        """True: doubling raised the accuracy by no more than the seed sd (a fall counts as converged:
        the shorter run is not under-trained); False: by more; None: no sd (one seed)."""
        if math.isnan(self.seed_sd):
            return None
        return self.moved <= self.seed_sd


def convergence(model: str, *, steps: int, short: Sequence[float], long: Sequence[float]) -> Convergence:
    """Doubling check from one score per seed (e.g. best validation accuracy) at `steps` (`short`)
    and at twice the steps (`long`): how far the mean moved, against the sample sd at `steps`."""
    sd = float(np.std(short, ddof=1)) if len(short) > 1 else float("nan")
    return Convergence(model, steps, float(np.mean(long) - np.mean(short)), sd)


# -- verdicts ---------------------------------------------------------------------------------------------


def decide(interval: Interval, bar: float, direction: Direction) -> Outcome:
    """met / missed / not shown of one interval against `bar` (direction: what meeting it needs)."""
    if not interval.exists:
        return "not shown"
    if direction == ">=":
        return "met" if interval.low >= bar else "missed" if interval.high < bar else "not shown"
    return "met" if interval.high <= bar else "missed" if interval.low > bar else "not shown"


@dataclass(frozen=True)
class Verdict:
    """One goal's verdict (the results JSON's goal object): the estimate, its interval, the bar and
    which side of it meets the goal; a goal over several parts carries them in `parts` (each a Verdict
    whose `goal` names the part), and `settled_by` names the part that decides the outcome.

    `reason` says why a goal is not shown when that is not its interval (e.g. the baseline has not
    converged at this budget); such a goal is not shown whatever its interval says.
    """

    goal: str
    estimate: float
    interval: Interval
    bar: float
    direction: Direction
    parts: tuple[Verdict, ...] = ()
    reason: str = ""
    extra: dict = field(default_factory=dict)  # numbers the goal's text needs (budget, baseline, ...)

    @property
    def outcome(self) -> Outcome:
        if self.reason:
            return "not shown"
        if self.parts:
            outs = [p.outcome for p in self.parts]
            return "missed" if "missed" in outs else "met" if all(o == "met" for o in outs) else "not shown"
        return decide(self.interval, self.bar, self.direction)

    @property
    def on_interval_alone(self) -> Outcome:
        """What the outcome would be if no `reason` held it back (e.g. had every model converged):
        decided by the intervals only, parts combined as in :attr:`outcome`."""
        if self.parts:
            outs = [p.on_interval_alone for p in self.parts]
            return "missed" if "missed" in outs else "met" if all(o == "met" for o in outs) else "not shown"
        return decide(self.interval, self.bar, self.direction)

    def margin(self) -> float:
        """How far the interval's far end lies past the bar on the meeting side (negative: short of it)."""
        if not self.interval.exists:
            return float("nan")
        return self.interval.low - self.bar if self.direction == ">=" else self.bar - self.interval.high

    @property
    def settled_by(self) -> Verdict | None:
        """The part that decides the outcome: for missed, the part missed by most; for met, the part
        met by least; for not shown, the part whose estimate is worst among those not met."""
        if not self.parts:
            return None
        out = self.outcome
        if out == "missed":
            missed = [p for p in self.parts if p.outcome == "missed"]
            return max(missed, key=lambda p: _miss_margin(p))
        if out == "met":
            return min(self.parts, key=lambda p: p.margin())
        open_ = [p for p in self.parts if p.outcome != "met"]
        sign = 1 if self.direction == ">=" else -1
        return min(open_, key=lambda p: sign * p.estimate) if open_ else None

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        """The Verdict a results JSON goal object (:meth:`as_dict`) was written from."""
        known = {"goal", "outcome", "estimate", "interval", "bar", "direction", "parts", "settled_by", "reason"}
        low, high = (np.nan if x is None else x for x in d["interval"])
        est = np.nan if d["estimate"] is None else d["estimate"]
        return cls(
            d["goal"],
            est,
            Interval(est, low, high),
            d["bar"],
            d["direction"],
            tuple(cls.from_dict(p) for p in d.get("parts", [])),
            d.get("reason", ""),
            {k: v for k, v in d.items() if k not in known},
        )

    def as_dict(self) -> dict:
        d: dict = {
            "goal": self.goal,
            "outcome": self.outcome,
            "estimate": _num(self.estimate),
            "interval": self.interval.as_list(),
            "bar": self.bar,
            "direction": self.direction,
        }
        if self.parts:
            d["parts"] = [p.as_dict() for p in self.parts]
            s = self.settled_by
            d["settled_by"] = s.goal if s is not None else None
        if self.reason:
            d["reason"] = self.reason
        if self.extra:
            d.update({k: _num(v) if isinstance(v, float) else v for k, v in self.extra.items()})
        return d


def _miss_margin(p: Verdict) -> float:
    """How far the interval's near end lies past the bar on the missing side."""
    return p.bar - p.interval.high if p.direction == ">=" else p.interval.low - p.bar


def _num(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def verdict(goal: str, interval: Interval, *, bar: float, direction: Direction, reason: str = "", **extra) -> Verdict:
    return Verdict(goal, interval.estimate, interval, bar, direction, reason=reason, extra=extra)


def verdict_over_parts(
    goal: str, parts: Sequence[Verdict], *, bar: float, direction: Direction, reason: str = "", **extra
) -> Verdict:
    """A goal over several parts; its estimate and interval are those of the part that settles it."""
    v = Verdict(
        goal,
        float("nan"),
        Interval(float("nan"), float("nan"), float("nan")),
        bar,
        direction,
        tuple(parts),
        reason,
        extra,
    )
    s = v.settled_by or (parts[0] if parts else None)
    if s is None:
        return v
    return Verdict(goal, s.estimate, s.interval, bar, direction, tuple(parts), reason, extra)


# -- notation ---------------------------------------------------------------------------------------------


def mean_sd(values: Sequence[float], *, digits: int = 3, scale: float = 1.0) -> str:
    """'0.412 ± 0.012 (3 seeds)': mean ± sample sd over seeds; '0.412 (1 seed)' for one."""
    v = np.asarray(values, dtype=float) * scale
    n = len(v)
    if n == 1:
        return f"{v[0]:.{digits}f} (1 seed)"
    return f"{v.mean():.{digits}f} ± {np.std(v, ddof=1):.{digits}f} ({n} seeds)"


def interval_text(iv: Interval, *, digits: int = 3, points: bool = False, signed: bool = False) -> str:
    """'0.412 [0.401, 0.423]'; points=True: in points of accuracy ('+2.9 [+0.5, +5.3] points');
    'no interval' where there is none."""
    scale = 100 if points else 1
    d = 1 if points else digits
    sign = "+" if signed or points else ""

    def f(x: float) -> str:
        return f"{scale * x:{sign}.{d}f}"

    unit = " points" if points else ""
    if not iv.exists:
        return f"{f(iv.estimate)}{unit} (no interval)"
    return f"{f(iv.estimate)} [{f(iv.low)}, {f(iv.high)}]{unit}"


__all__ = [
    "LEVEL",
    "Convergence",
    "Direction",
    "Interval",
    "Outcome",
    "Sample",
    "Verdict",
    "accuracy_interval",
    "convergence",
    "decide",
    "difference_interval",
    "holm",
    "interval_text",
    "mean_sd",
    "p_value",
    "paired_difference_interval",
    "paired_seed_interval",
    "quoted_ratio_interval",
    "ratio_interval",
    "verdict",
    "verdict_over_parts",
]
