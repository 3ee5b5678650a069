"""hwlib.stats: intervals that cover seed and test-set noise, unpaired comparisons across models,
three-outcome verdicts and Holm's correction."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from hwlib import stats
from hwlib.stats import Interval, Sample


def sample(accs, n, rng):
    """Seeds with the given accuracies on n shared test images, images drawn independently per seed."""
    return Sample(np.stack([rng.random(n) < a for a in accs]))


def test_identical_seeds_give_the_binomial_test_set_interval():
    rng = np.random.default_rng(0)
    row = rng.random(2000) < 0.4
    s = Sample(np.stack([row, row, row]))  # seed spread 0: only the test images are noise
    iv = stats.accuracy_interval(s)
    p = row.mean()
    half = 1.96 * math.sqrt(p * (1 - p) / 2000)
    assert iv.estimate == pytest.approx(p)
    assert (iv.high - iv.low) / 2 == pytest.approx(half, rel=0.01)


def test_with_many_test_images_a_difference_is_welchs_interval_over_seeds():
    rng = np.random.default_rng(1)
    a = sample([0.50, 0.53, 0.47, 0.51], 400_000, rng)
    b = sample([0.40, 0.45, 0.42], 400_000, rng)
    iv = stats.difference_interval(a, b)
    welch = sps.ttest_ind(a.per_seed, b.per_seed, equal_var=False).confidence_interval(0.95)
    assert iv.estimate == pytest.approx(a.mean - b.mean)
    assert iv.low == pytest.approx(welch.low, abs=2e-3) and iv.high == pytest.approx(welch.high, abs=2e-3)


def test_test_set_noise_widens_the_interval_and_one_seed_has_none():
    rng = np.random.default_rng(2)
    big = stats.accuracy_interval(sample([0.5, 0.52, 0.48], 100_000, rng))
    small = stats.accuracy_interval(sample([0.5, 0.52, 0.48], 300, rng))
    assert small.high - small.low > big.high - big.low
    lone = stats.accuracy_interval(sample([0.5], 300, rng))
    assert not lone.exists and math.isnan(lone.low)


def test_ratio_interval_contains_the_ratio_and_matches_the_difference_sign():
    rng = np.random.default_rng(3)
    a = sample([0.50, 0.52, 0.49], 2000, rng)
    b = sample([0.40, 0.41, 0.43], 2000, rng)
    r = stats.ratio_interval(a, b)
    assert r.low < a.mean / b.mean < r.high and r.low > 1.0
    assert stats.difference_interval(a, b).low > 0


def test_scored_on_different_test_sets_is_an_error():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError):
        stats.difference_interval(sample([0.5, 0.5], 10, rng), sample([0.5, 0.5], 11, rng))


@pytest.mark.parametrize(
    ("low", "high", "direction", "outcome"),
    [
        (0.91, 0.95, ">=", "met"),
        (0.85, 0.89, ">=", "missed"),
        (0.88, 0.92, ">=", "not shown"),
        (-0.02, -0.011, "<=", "met"),
        (float("nan"), float("nan"), ">=", "not shown"),
    ],
)
def test_three_outcomes(low, high, direction, outcome):
    bar = 0.90 if direction == ">=" else -0.01
    assert stats.decide(Interval((low + high) / 2, low, high), bar, direction) == outcome


def test_parts_missed_if_any_missed_met_if_all_met_and_named():
    def part(name, low, high):
        return stats.verdict(name, Interval((low + high) / 2, low, high), bar=-0.01, direction=">=")

    met = stats.verdict_over_parts("all", [part("RGB", 0.0, 0.02), part("R", -0.005, 0.01)], bar=-0.01, direction=">=")
    assert met.outcome == "met" and met.settled_by.goal == "R"
    mixed = stats.verdict_over_parts(
        "all", [part("RGB", -0.05, -0.02), part("RG", -0.08, 0.01), part("R", 0.0, 0.01)], bar=-0.01, direction=">="
    )
    assert mixed.outcome == "missed" and mixed.settled_by.goal == "RGB"  # settled by the one wholly below
    assert mixed.interval.as_list() == [-0.05, -0.02]
    open_ = stats.verdict_over_parts("all", [part("RGB", -0.03, 0.01), part("R", 0.0, 0.01)], bar=-0.01, direction=">=")
    assert open_.outcome == "not shown"
    d = mixed.as_dict()
    assert d["outcome"] == "missed" and [p["outcome"] for p in d["parts"]] == ["missed", "not shown", "met"]
    assert set(d) >= {"goal", "outcome", "estimate", "interval", "bar", "direction", "parts"}


def test_a_reason_makes_a_goal_not_shown_whatever_its_interval():
    v = stats.verdict("ratio", Interval(1.2, 1.1, 1.3), bar=0.9, direction=">=", reason="baseline not converged")
    assert v.outcome == "not shown" and v.as_dict()["reason"] == "baseline not converged"


def test_holm_matches_the_textbook_example():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(stats.holm([float("nan"), 0.02])[0])


def test_paired_seed_interval_only_pairs_what_is_given():
    iv = stats.paired_seed_interval([0.5, 0.6, 0.55], [0.4, 0.52, 0.46])
    ref = sps.ttest_rel([0.5, 0.6, 0.55], [0.4, 0.52, 0.46]).confidence_interval(0.95)
    assert iv.low == pytest.approx(ref.low) and iv.high == pytest.approx(ref.high)


def test_convergence_compares_the_move_with_the_seed_spread():
    short = [0.40, 0.42, 0.41]
    assert stats.convergence("m", steps=80, short=short, long=[0.50, 0.51, 0.52]).converged is False
    flat = stats.convergence("m", steps=80, short=short, long=list(short))
    assert flat.converged is True and flat.moved == 0
    assert stats.convergence("m", steps=80, short=[0.4], long=short).converged is None


def test_notation():
    assert stats.mean_sd([0.40, 0.42, 0.44]) == "0.420 ± 0.020 (3 seeds)"
    assert stats.mean_sd([0.4]) == "0.400 (1 seed)"
    assert stats.interval_text(Interval(0.029, 0.005, 0.053), points=True) == "+2.9 [+0.5, +5.3] points"
    assert stats.interval_text(Interval(1.2, 1.1, 1.3)) == "1.200 [1.100, 1.300]"


def test_a_verdict_round_trips_through_its_json():
    def part(name, low, high):
        return stats.verdict(name, Interval((low + high) / 2, low, high), bar=-0.01, direction=">=", size=32)

    v = stats.verdict_over_parts(
        "all", [part("RGB", -0.05, -0.02), part("R", float("nan"), float("nan"))], bar=-0.01, direction=">="
    )
    back = stats.Verdict.from_dict(v.as_dict())
    assert back.as_dict() == v.as_dict() and back.outcome == "missed" and back.parts[0].extra == {"size": 32}


def test_a_fall_on_doubling_counts_as_converged_and_a_rise_beyond_the_seed_sd_does_not():
    from hwlib import stats

    assert stats.convergence("m", steps=10, short=[0.50, 0.52, 0.51], long=[0.45]).converged is True
    assert stats.convergence("m", steps=10, short=[0.50, 0.52, 0.51], long=[0.60]).converged is False
    assert stats.convergence("m", steps=10, short=[0.50], long=[0.60]).converged is None


def test_a_one_seed_ratio_borrows_its_seed_spread_and_says_so():
    import numpy as np

    from hwlib import stats

    rng = np.random.default_rng(0)
    one = [stats.Sample.from_rows([rng.random(500) < p]) for p in (0.6, 0.5)]
    assert not stats.ratio_interval(*one).exists  # one seed: no seed spread
    spread = tuple(stats.Sample.from_rows([rng.random(500) < p + d for d in (0, 0.02, 0.04)]) for p in (0.6, 0.5))
    iv = stats.ratio_interval(*one, seed_spread=spread)
    assert iv.exists and iv.low < iv.estimate < iv.high and "another budget" in iv.covers
    wider = stats.ratio_interval(
        *one,
        seed_spread=tuple(stats.Sample.from_rows([rng.random(500) < p + d for d in (0, 0.1, 0.2)]) for p in (0.6, 0.4)),
    )
    assert wider.high - wider.low > iv.high - iv.low  # a larger seed spread, a wider interval


def test_paired_difference_of_the_same_runs_removes_their_shared_noise():
    rng = np.random.default_rng(3)
    a = Sample((rng.random((5, 400)) < 0.6).astype(float))
    same = stats.paired_difference_interval(a, a)
    assert same.estimate == 0 and same.low == 0 and same.high == 0
    b = Sample(np.where(rng.random((5, 400)) < 0.05, 1 - a.correct, a.correct))  # 5% of answers flipped
    paired, unpaired = stats.paired_difference_interval(a, b), stats.difference_interval(a, b)
    assert paired.estimate == pytest.approx(a.mean - b.mean)
    assert paired.high - paired.low < unpaired.high - unpaired.low  # the seed spread cancels in the pairs
    d = stats.accuracy_interval(Sample(a.correct - b.correct))
    assert (paired.low, paired.high) == pytest.approx((d.low, d.high))
    with pytest.raises(ValueError, match="same seeds"):
        stats.paired_difference_interval(a, Sample(a.correct[:3]))
