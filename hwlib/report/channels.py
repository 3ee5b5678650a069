"""Notebook 01's prose and tables, every number and every condition taken from a
:class:`~hwlib.studies.channels.ChannelStudyResult` (and, for the limitations, the data's facts).

* :func:`summary_markdown` - the answer (goal verdicts), what it is measured against, the main limit.
* :func:`accuracy_table`, :func:`schedule_table`, :func:`exploratory_table`, :func:`cost_table`,
  :func:`diversity_table`, :func:`original_comparison` - DataFrames.
* :func:`goal_lines`, :func:`findings_markdown`, :func:`limitations_markdown`, :func:`cost_note` - Markdown.
* :func:`strongest_baselines` - which baselines the findings and the figures single out.

Notation (:mod:`hwlib.stats`): "mean ± sd (n seeds)" is a spread over seeds; "[low, high]" a 95%
interval covering seeds and test images, unpaired over seeds and paired over test images;
differences are the first model minus the other, in points.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..data.loader import COMBOS
from ..original import ORIGINAL_FLEX
from ..stats import Interval, Verdict, interval_text, mean_sd
from ..studies.channels import (
    DIVERSITY_IMAGES,
    EQUAL_STEPS,
    EXPERTS,
    JOINT_CONTROLS,
    JOINT_OPTIONS,
    MEAN7,
    SCHEDULES,
    ChannelStudyResult,
)
from .common import part_lines, setting_text, verdict_line

MAIN = "flex"
QUIET = 0.1  # latency is reported only when other processes used less than this share of the CPU
ALPHA = 0.05  # an exploratory difference is shown when its Holm-adjusted p is below this
GOAL_AGAINST = {  # goal key (ChannelStudyResult.goal_map) -> what it is measured against
    "experts": "the seven per-combination experts, at their total training compute",
    "experts_equal_steps": "the experts at the study's base epochs (not the budget curve's), with flex trained at one "
    "expert's compute (`flex_equal_steps`)",
    "generated": "flex's own static part (`replicate`, as built and with fc1 widened to flex's parameter count), "
    "same schedule",
    "colour": "the channel-mean (greyscale) CNN `grey_mean`, at one expert's compute",
    "zero_fill": "the zero-filled RGB CNN `cnn3_zero_fill`, at one expert's compute",
}


# -- small pieces -------------------------------------------------------------------------------


def _seeds_text(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def _p_text(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "no interval"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _single_models(res: ChannelStudyResult) -> list[str]:
    """Every model of the study but the experts (which are seven models)."""
    return [m for m in res.correct if m != EXPERTS]


def _epochs(res: ChannelStudyResult) -> int | None:
    runs = res.runs.get(MAIN) or next(iter(res.runs.values()), [])
    return len(runs[0].history) if runs else None


def _test_images(res: ChannelStudyResult) -> int:
    return len(res.correct[MAIN]["RGB"][0])


def _seed_count(res: ChannelStudyResult) -> int:
    return len(res.correct[MAIN]["RGB"])


def _mean7_by_seed(res: ChannelStudyResult, model: str) -> list[float]:
    return [float(x) for x in res.sample(model, MEAN7).per_seed]


def strongest_baselines(res: ChannelStudyResult, n: int = 3) -> list[str]:
    """The `n` channel-adaptive baselines trained with flex's own schedule (joint: replicate,
    replicate_wide, template_mixing, target_param) with the highest best validation accuracy (mean of
    the seven combinations, mean over seeds), best first."""
    names = [v.name for v in JOINT_CONTROLS if v.name in res.correct]
    return sorted(names, key=res.val_best, reverse=True)[:n]  # chosen on validation, never on test


def _goals(res: ChannelStudyResult) -> dict[str, Verdict]:
    """Goal key -> verdict, for the goals this result has (ChannelStudyResult.goal_map)."""
    return res.goal_map()


def _no_interval(v: Verdict) -> bool:
    parts = v.parts or (v,)
    return all(not p.interval.exists for p in parts)


def _verdict_line(v: Verdict) -> str:
    """common.verdict_line, except for a goal that has no interval at all (one seed)."""
    if _no_interval(v) and not v.reason:
        s = v.settled_by or v
        where = f"worst {s.goal}: " if v.parts else ""
        return f"- **{v.outcome}**: {v.goal}: {where}{_points(s.estimate)} points; one seed, so there is no interval"
    return verdict_line(v, points=True)


def _settled_by(v: Verdict) -> str:
    s = v.settled_by
    return (
        f" (settled by {s.goal})"
        if s is not None and v.outcome != "not shown"
        else (f" (worst {s.goal})" if s is not None else "")
    )


# -- tables -------------------------------------------------------------------------------------


def accuracy_table(res: ChannelStudyResult) -> pd.DataFrame:
    """Accuracy per model (rows) and combination, 'mean ± sd (n seeds)' over seeds, the mean over
    the seven combinations (per seed, then over seeds) and what each model is."""
    rows = {}
    for model, by in res.accuracy_by_seed.items():
        row = {c: mean_sd(by[c]) for c in COMBOS}
        row[MEAN7] = mean_sd(_mean7_by_seed(res, model))
        row["what"] = res.what.get(model, "")
        rows[model] = row
    return pd.DataFrame(rows).T[[*COMBOS, MEAN7, "what"]].rename_axis("model")


def exploratory_table(res: ChannelStudyResult) -> pd.DataFrame:
    """The main model of each schedule minus each other model trained the same way, on RGB and on
    the mean of seven: the difference with its 95% interval (points) and its p-value Holm-adjusted
    over every row and column here."""
    rows: dict[str, dict[str, str]] = {}
    explo = res.exploratory()
    for r in explo:
        low, high = (float("nan") if v is None else v for v in r["interval"])
        iv = Interval(r["estimate"], low, high)
        row = rows.setdefault(f"{r['model']} - {r['other']}", {})
        row[f"{r['combo']}: difference [unadjusted 95%]"] = interval_text(iv, points=True)
        row[f"{r['combo']}: p (Holm)"] = _p_text(r["p_holm"])
        row["schedule"] = res.schedule.get(r["other"], "")
    df = pd.DataFrame(rows).T
    if len(df):  # each combination's difference and p side by side, the schedule last
        df = df[[*(c for c in df.columns if c != "schedule"), "schedule"]]
    df = df.rename_axis(f"exploratory, Holm over {len(explo)} comparisons")
    df.attrs["title"] = f"Exploratory: each model against the main model of its schedule (Holm over {len(explo)})"
    return df


def schedule_table(res: ChannelStudyResult) -> pd.DataFrame:
    """How each model was trained: its schedule, its optimizer steps (each expert's for the experts)
    and the image-combination passes it saw in training (the experts': summed over the seven)."""
    seen = res.training_images_seen()
    first = {m: runs[0] for m, runs in res.runs.items()}
    first[EXPERTS] = first.get("expert_RGB")  # type: ignore[assignment]  # each expert takes as many steps
    rows = {
        m: {
            "schedule": SCHEDULES[k],
            "optimizer steps": first[m].steps if first.get(m) is not None else None,
            "training image-combination passes": seen.get(m),
        }
        for m, k in res.schedule.items()
    }
    return pd.DataFrame(rows).T.rename_axis("model")


def cost_table(res: ChannelStudyResult) -> pd.DataFrame:
    """Parameters (the experts: all seven), float32 size, multiply-adds per image (the experts: the
    RGB expert's, one runs per image), the mean accuracy over the seven combinations, and latency
    per image only for models timed while the machine was quiet (:data:`QUIET`; see :func:`cost_note`)."""
    rows = {}
    for model in res.correct:
        c = res.costs.get(model)
        if c is None:
            continue
        row: dict[str, object] = {
            "params": c.params,
            "MiB float32": round(c.params * 4 / 2**20, 3),
            "multiply-adds / image": c.macs,
        }
        if _quiet(c.others_busy):
            for batch, ms in c.latency_ms.items():
                row[f"latency ms/img, {batch.replace('batch', 'batch ')}"] = round(ms, 3)
        row[f"accuracy, {MEAN7}"] = mean_sd(_mean7_by_seed(res, model))
        rows[model] = row
    df = pd.DataFrame(rows).T.rename_axis("model")
    return df.astype({"params": int, "multiply-adds / image": int})


def _quiet(busy: float | None) -> bool:
    return busy is not None and busy < QUIET


def cost_note(res: ChannelStudyResult) -> str:
    """Whether the cost table shows latency, and why (how busy the machine was while it was timed)."""
    busy = {m: res.costs[m].others_busy for m in res.correct if m in res.costs}
    known = [b for b in busy.values() if b is not None]
    quiet = [m for m, b in busy.items() if _quiet(b)]
    worst = f" (other processes used up to {max(known):.0%} of the CPU meanwhile)" if known else ""
    if not busy:
        return "No latency was measured."
    if len(quiet) == len(busy):
        return (
            f"Latency per image was timed while other processes used at most {max(known):.2f} of the CPU "
            f"(below {QUIET}), so it is shown."
        )
    if not quiet:
        return (
            f"Latency was not measured on an idle machine{worst}, so it is left out; parameters and "
            "multiply-adds do not depend on the machine."
        )
    return (
        f"Latency is shown only for {', '.join(quiet)}, timed while other processes used less than {QUIET} "
        f"of the CPU; the other models were not timed on an idle machine{worst}."
    )


def diversity_table(res: ChannelStudyResult) -> pd.DataFrame:
    """The kernel-diversity numbers of the first seed's FlexConv layers, rounded to 3 digits."""
    return pd.DataFrame(res.diversity).T.round(3).rename_axis("first layer of")


def original_comparison(res: ChannelStudyResult) -> pd.DataFrame:
    """The original report's numbers (its best validation accuracy on RGB) beside this run's test
    accuracy on RGB (different settings and splits: placed side by side, not compared); a model this
    profile did not train reads "not run"."""
    acc = res.accuracy
    ours: dict[str, float | str] = {
        k: round(acc[k]["RGB"], 3) if k in acc else "not run" for k in ("flex", "flex_original", "cnn3_zero_fill")
    }
    n = len(res.info.seeds)
    setting = f"{res.info.dataset}, {res.info.image_size} px, {_seeds_text(n)}"
    rows = [
        ("FlexConv network (the original layer)", ORIGINAL_FLEX.flex_val_best, "flex_original"),
        ("FlexConv network (hybrid layer)", "not in the original", "flex"),
        ("3-layer CNN", ORIGINAL_FLEX.cnn3_val_best, "cnn3_zero_fill"),
    ]
    return pd.DataFrame(
        [
            {
                "model": what,
                "original report: best val acc, RGB": orig,
                f"this run: test acc, RGB (mean of {_seeds_text(n)})": ours[name],
                "this run's model": name,
                "original setting": ORIGINAL_FLEX.setting(),
                "this run's setting": setting,
            }
            for what, orig, name in rows
        ]
    )


# -- Markdown -----------------------------------------------------------------------------------


def goal_lines(res: ChannelStudyResult) -> str:
    """Each goal's verdict (the combination that settles a goal over several) and its parts."""
    lines = []
    for v in res.goals():
        lines.append(_verdict_line(v))
        if v.parts:
            lines += [line.replace(" (no interval)", "") for line in part_lines(v, points=True)]
    return "\n".join(lines)


def _answer(res: ChannelStudyResult) -> str:
    goals = list(_goals(res).values())
    return "; ".join(
        f"goal {i} **{v.outcome}**{_settled_by(v)}, {interval_text(v.interval, points=True)}"
        + (
            f" (a model not shown to have converged; on its intervals alone it would read {v.on_interval_alone})"
            if _unconverged(v)
            else ""
        )
        for i, v in enumerate(goals, 1)
    )


def _unconverged(v: Verdict) -> bool:
    """Whether a goal is not shown because a model in it was still improving (a reason on the goal or
    on any of its parts)."""
    return v.outcome == "not shown" and bool(v.reason or any(p.reason for p in v.parts))


def _main_limit(res: ChannelStudyResult) -> str:
    singles = _single_models(res)
    late = [m for m, v in res.rising().items() if v and m in singles]
    if _seed_count(res) < 2:
        return "one seed, so there is no interval: no goal can be met or missed and no difference is shown"
    if late:
        return (
            f"the training budget: convergence is not shown for {len(late)} of {len(singles)} single models "
            f"({_convergence_rule(res)}), so longer training could change these numbers"
        )
    return (
        f"a small budget on {res.info.image_size} px images keeps every accuracy low; the ranking holds for "
        "this budget and this one recipe only"
    )


def _recipe(res: ChannelStudyResult) -> str:
    """The one recipe every model used, from the result (and how its rate was chosen, if it was)."""
    lr = f" {res.lr:g}" if res.lr is not None else ""
    if res.lr_trials and res.lr is not None:
        tried = ", ".join(f"{r['lr']:g}" for r in res.lr_choice_rows())
        lr += f" (peak rate chosen among {tried} on the first seed's experts' mean best validation accuracy)"
    if res.lr_schedule == "constant":
        return f"Adam{lr}, constant learning rate (the original report's), no augmentation"
    return f"Adam{lr} with a {res.lr_schedule} learning-rate decay to 0 over each run, no augmentation"


def _convergence_rule(res: ChannelStudyResult) -> str:
    """How convergence was judged in this result."""
    if res.longer:
        return (
            "judged by doubling: the first seed trained again for twice the epochs raised validation accuracy by "
            "more than the seed sd, or that model was not doubled"
            + (
                " and its learning rate decays, so its last epochs are the best by construction"
                if res.lr_schedule != "constant"
                else ""
            )
        )
    if res.lr_schedule != "constant":
        return (
            "no model was trained at twice the epochs, and its learning rate decays, so its last epochs are the "
            "best by construction"
        )
    return "a best validation epoch in the last fifth of training, more than one standard error above the earlier best"


def convergence_table(res: ChannelStudyResult) -> pd.DataFrame:
    """The doubling check per model trained twice as long (first seed), at every budget: best
    validation accuracy at the budget's epochs (mean ± sd over seeds) and at twice them, the move
    (from the seeds' mean, which the rule uses, and from the same seed's own run, paired) and whether
    it is within the seed sd."""
    seed = res.info.seeds[0]
    rows = {
        (r["model"], r["epochs"]): {
            "best validation accuracy": mean_sd(r["val_best_by_seed"]),
            "doubled to (epochs)": r["longer_epochs"],
            f"best validation doubled (seed {seed})": f"{r['longer_val_best']:.3f}",
            "moved (points)": _points(r["moved"]),
            f"moved on seed {seed} alone (points)": _points(r["moved_same_seed"]),
            "converged (moved <= seed sd)": {True: "yes", False: "no", None: "no sd (one seed)"}[r["converged"]],
        }
        for b in res.budgets()
        for r in b.convergence_rows()
    }
    df = pd.DataFrame(rows).T
    if len(df):
        df.index = df.index.set_names(["model", "epochs"])
    return df


def budget_table(res: ChannelStudyResult) -> pd.DataFrame:
    """Goal 1's budget curve, one row per budget (epochs) with flex and the experts: their mean
    accuracy over the seven combinations (mean ± sd over seeds), flex minus the experts on the mean
    of seven and on its worst combination (95% intervals), the training passes, which of them are
    not shown to have converged there (the doubling check at that budget) and where goal 1 is judged."""
    chosen = res.goal_budget()
    rows = {}
    for r in res.budgets():
        if MAIN not in r.correct or EXPERTS not in r.correct:
            continue
        seen = r.training_images_seen()
        worst = min(COMBOS, key=lambda c: r.diff(MAIN, EXPERTS, c).estimate)
        models = (MAIN, *(f"expert_{c}" for c in COMBOS))
        open_ = [m for m in models if r.unconverged(m)]
        rows[r.epochs] = {
            f"flex, {MEAN7}": mean_sd(_mean7_by_seed(r, MAIN)),
            f"experts, {MEAN7}": mean_sd(_mean7_by_seed(r, EXPERTS)),
            f"flex - experts, {MEAN7}": interval_text(r.diff(MAIN, EXPERTS, MEAN7), points=True),
            "worst combination": f"{worst}: {interval_text(r.diff(MAIN, EXPERTS, worst), points=True)}",
            "image-combination passes (flex = experts)": seen.get(MAIN),
            "convergence not shown for": ", ".join(open_) if open_ else "none (all doubled and converged)",
            "goal 1 judged here": "yes" if r is chosen else "",
        }
    return pd.DataFrame(rows).T.rename_axis("epochs")


def lr_choice_table(res: ChannelStudyResult) -> pd.DataFrame:
    """The peak learning rates tried on the first seed's seven experts: each expert's best validation
    accuracy, their mean (what decides) and which rate every run then used."""
    rows = {
        f"{r['lr']:g}": {
            **{c: f"{v:.3f}" for c, v in r["val_best_by_combo"].items()},
            "mean of 7": f"{r['val_best_mean']:.3f}",
            "used": "yes" if r["chosen"] else "",
        }
        for r in res.lr_choice_rows()
    }
    return pd.DataFrame(rows).T.rename_axis(f"peak rate (experts, seed {res.info.seeds[0]}, validation)")


def beyond_table(res: ChannelStudyResult) -> pd.DataFrame:
    """Each five-channel model on each channel subset it was scored on (R, G, B and the derived L, E):
    test accuracy 'mean ± sd (n seeds)' with its 95% interval, and minus its own RGB accuracy (the
    same runs, paired over seeds and test images), in points."""
    rows = {}
    for r in res.beyond_rows():
        rows[(r["model"], r["combo"])] = {
            "channels": r["channels"],
            "accuracy": mean_sd(r["accuracy_by_seed"]),
            "95% interval": interval_text(Interval(r["accuracy"], *_bounds(r))),
            "minus its RGB accuracy (points)": ""
            if r["combo"] == "RGB"
            else interval_text(Interval(r["minus_rgb"], *_bounds(r, "minus_rgb_interval")), points=True),
        }
    df = pd.DataFrame(rows).T
    if not df.empty:
        df = df.rename_axis(["model", "channels given"])
    return df


def _beyond_lines(res: ChannelStudyResult) -> list[str]:
    """One Findings line per five-channel model: its accuracy with all five, with RGB, on the derived
    channels alone, and what training on 31 subsets costs on the seven RGB combinations."""
    lines = []
    all_rows = res.beyond_rows()
    for model in res.beyond:
        rows = {r["combo"]: r for r in all_rows if r["model"] == model}

        def acc(combo: str) -> str:
            return f"{combo} {interval_text(Interval(rows[combo]['accuracy'], *_bounds(rows[combo])))}"

        def minus(combo: str) -> str:
            r = rows[combo]
            return interval_text(Interval(r["minus_rgb"], *_bounds(r, "minus_rgb_interval")), points=True)

        line = (
            f"- Beyond three channels ({model}, trained on random subsets of R, G, B, L, E): test accuracy "
            f"{acc('RGBLE')}, {acc('RGB')}, {acc('LE')}, {acc('L')}, {acc('E')}; adding L and E to RGB moves it "
            f"{minus('RGBLE')} (the same runs)"
        )
        if EQUAL_STEPS in res.correct:
            iv = res.diff(model, EQUAL_STEPS, MEAN7)
            line += (
                f"; on the seven R, G, B combinations it is {interval_text(iv, points=True)} against "
                f"{EQUAL_STEPS} (same layer and schedule, trained on three channels)"
            )
        lines.append(line + ". L and E are computed from R, G and B, so they carry no new information.")
    return lines


def summary_markdown(res: ChannelStudyResult) -> str:
    """The notebook's Summary: the answer, what it is measured against and on what budget, the main
    limit (lines 3-5), then each goal's verdict and the headline accuracies."""
    goals = _goals(res)
    curve = {"experts": f", at {res.goal_budget().epochs} epochs (the budget curve)"} if res.at_budget else {}
    against = [GOAL_AGAINST[k] + curve.get(k, "") + f" (goal {i})" for i, k in enumerate(goals, 1)]
    epochs = _epochs(res)
    tpc = res.train_per_class
    seen = res.training_images_seen()
    budget = (
        (f"{epochs} epoch{'s' if epochs != 1 else ''}" if epochs is not None else "the profile's epochs")
        + " on "
        + (f"{tpc} training images per class drawn per seed" if tpc else "all training images")
        + (f", {_seeds_text(_seed_count(res))} {res.info.seeds}, {_test_images(res):,} test images")
    )
    if MAIN in seen and EXPERTS in seen:
        budget += (
            f"; flex and its joint controls see all seven combinations in every batch ({seen[MAIN]:,} "
            f"image-combination passes, the seven experts together {seen[EXPERTS]:,}), the other single models "
            "one combination per batch"
        )
    more = [b.epochs for b in res.budgets()[1:] if MAIN in b.correct and EXPERTS in b.correct]
    if more:
        budget += (
            f"; flex and the experts also for {', '.join(map(str, more))} epochs on every seed (goal 1's budget curve)"
        )
    lines = [
        f"**Summary** ({setting_text(res.info)})",
        "",
        f"- **Answer**: {_answer(res)}." if goals else "- **Answer**: this result has no goal's baseline.",
        f"- **Against**: {'; '.join(against)}. Every model trained for {budget}; {_recipe(res)}.",
        f"- **Main limit**: {_main_limit(res)}.",
        "",
        *(_verdict_line(v) for v in goals.values()),
        "",
    ]
    acc = res.accuracy
    at = f" at {res.epochs} epochs" if res.at_budget and res.epochs is not None else ""
    lines.append(
        f"- flex, one model for every combination{at}: RGB {acc[MAIN]['RGB']:.3f}, mean of seven "
        f"{res.mean_of_seven(MAIN):.3f}"
    )
    if EXPERTS in acc:
        lines.append(
            f"- the seven experts{at}: RGB {acc[EXPERTS]['RGB']:.3f}, mean of seven {res.mean_of_seven(EXPERTS):.3f}"
        )
    g = res.goal_budget()
    if g is not res and MAIN in g.correct and EXPERTS in g.correct:
        lines.append(
            f"- at {g.epochs} epochs, where goal 1 is judged: flex mean of seven {g.mean_of_seven(MAIN):.3f}, the "
            f"experts {g.mean_of_seven(EXPERTS):.3f}"
        )
    best = strongest_baselines(res, 1)
    if best:
        b = best[0]
        lines.append(
            "- strongest channel-adaptive baseline on flex's joint schedule (chosen on validation, mean of seven): "
            f"{b} (test: RGB {acc[b]['RGB']:.3f}, "
            f"mean of seven {res.mean_of_seven(b):.3f})"
        )
    return "\n".join(lines)


def _generated_synthesis(res: ChannelStudyResult, goals: dict[str, Verdict]) -> list[str]:
    """One line putting together the evidence on the generated part, when all of it points one way:
    flex not shown to beat its parameter-matched static part, switching the residual off not shown
    to cost accuracy, and kernels that vary little between images."""
    wide = (
        next((p for p in goals["generated"].parts if p.goal == "replicate_wide"), None)
        if "generated" in goals
        else None
    )
    off = next((r for r in res.exploratory() if r["other"] == "flex_no_residual" and r["combo"] == MEAN7), None)
    share = res.diversity.get(MAIN, {}).get("residual_between_images_share")
    if wide is None or off is None or share is None:
        return []
    if wide.on_interval_alone == "met" or not (off["p_holm"] >= ALPHA) or share >= 0.25:
        return []
    return [
        "- Taken together, this run gives no evidence that generating kernels from the content earns its keep: "
        f"flex is not shown to beat replicate_wide (its static part with as many parameters, "
        f"{interval_text(wide.interval, points=True)}), switching the residual off is not shown to cost accuracy "
        f"(Holm p {_p_text(off['p_holm'])}), and a share of only {share:.2f} of the generated residual's variance "
        "is between images (the rest is between channels)."
    ]


def _bounds(row: dict, key: str = "interval") -> tuple[float, float]:
    """A results row's [low, high] at `key` (None where there is no interval: nan)."""
    low, high = (float("nan") if v is None else v for v in row[key])
    return low, high


def _generated_word(v: Verdict) -> str:
    if v.reason:
        return f"not shown ({v.reason})"
    return {
        "met": "the generated part is shown to add accuracy",
        "missed": "the generated part is shown to cost accuracy",
        "not shown": "no difference is shown",
    }[v.outcome]


def _shown(res: ChannelStudyResult) -> tuple[dict[str, list[str]], dict[str, list[str]], list[dict]]:
    """(flex ahead of, flex behind, all rows): model -> ['RGB, Holm p 0.012', ...] for the
    exploratory rows whose Holm-adjusted p is below ALPHA (their interval excludes 0 after Holm)."""
    rows = res.exploratory()
    ahead: dict[str, list[str]] = {}
    behind: dict[str, list[str]] = {}
    for r in rows:
        p = r["p_holm"]
        if p is None or math.isnan(p) or p >= ALPHA:
            continue
        side = ahead if r["estimate"] > 0 else behind
        side.setdefault(f"{r['model']} vs {r['other']}", []).append(f"{r['combo']}, Holm p {_p_text(p)}")
    return ahead, behind, rows


def findings_markdown(res: ChannelStudyResult) -> str:
    """The notebook's Findings: which differences are shown, where the experts lead, the schedule,
    the layer's kernels and the cost; every number from the result, every condition computed."""
    n = _seed_count(res)
    head = (
        f"**Findings** ({_seeds_text(n)} {res.info.seeds}; differences are the first model minus the other, in points)"
    )
    lines = [head, ""]
    singles = _single_models(res)
    groups: dict[str, list[str]] = {}
    for m in sorted(singles, key=res.mean_of_seven, reverse=True):
        groups.setdefault(res.schedule.get(m, "other"), []).append(m)
    lines.append(
        "- Single models ordered by their mean accuracy over the seven combinations, within each schedule (point "
        "estimates; the exploratory table says which differences are shown): "
        + "; ".join(f"{k.replace('_', ' ')}: {', '.join(ms)}" for k, ms in groups.items())
        + "."
    )
    ahead, behind, rows = _shown(res)
    if rows and n < 2:
        lines.append(
            "- Exploratory comparisons: one seed, so no interval; no difference between flex and another "
            "model is shown."
        )
    elif rows:
        said = [
            f"the main model is {word} in " + "; ".join(f"{m} ({'; '.join(where)})" for m, where in side.items())
            for word, side in (("ahead", ahead), ("behind", behind))
            if side
        ]
        shown = sum(len(w) for side in (ahead, behind) for w in side.values())
        others = len({r["other"] for r in rows})
        lines.append(
            f"- Exploratory comparisons ({others} models against the main model of their schedule, flex or "
            f"{EQUAL_STEPS}, on RGB and on the mean of seven, Holm over {len(rows)}): "
            + (
                ". ".join(said) + f". The other {len(rows) - shown} are not shown to differ"
                if said
                else f"none of the {len(rows)} differences is shown after the correction"
            )
            + "."
        )
    goals = _goals(res)
    g = res.goal_budget()  # where goal 1 is judged
    at = f" at {g.epochs} epochs" if res.at_budget else ""
    if "experts" in goals:
        parts = goals["experts"].parts
        lead = [p for p in parts if p.estimate < 0]
        if lead:
            widest = min(lead, key=lambda p: p.estimate)
            lines.append(
                f"- The experts' mean is above flex's{at} on {len(lead)} of {len(parts)} combinations "
                f"({', '.join(p.goal for p in lead)}); the widest gap is on {widest.goal}, "
                f"{_points(widest.estimate)} points."
            )
        else:
            lines.append(f"- flex's mean{at} is at or above the experts' on all {len(parts)} combinations.")
    for key in ("experts", "experts_equal_steps"):
        if key in goals:
            by: dict[str, list[str]] = {}
            for p in goals[key].parts:
                by.setdefault(p.outcome, []).append(p.goal)
            model = MAIN if key == "experts" else EQUAL_STEPS
            lines.append(
                f"- Within 1 point of the experts, {model}, combination by combination: "
                + "; ".join(f"{outcome} on {', '.join(combos)}" for outcome, combos in sorted(by.items()))
                + "."
            )
    if EXPERTS in g.correct and MAIN in g.correct:
        iv = g.diff(MAIN, EXPERTS, MEAN7)
        above = [c for c in COMBOS if g.diff(MAIN, EXPERTS, c).low > 0]
        below = [c for c in COMBOS if g.diff(MAIN, EXPERTS, c).high < 0]
        lines.append(
            f"- At the experts' total compute{at}, flex minus the experts on the mean of seven: "
            f"{interval_text(iv, points=True)}"
            + (f"; its interval lies above 0 on {', '.join(above)}" if above else "")
            + (f"; below 0 on {', '.join(below)}" if below else "")
            + "."
            + (
                f" The experts were not shown to have converged ({len(open_experts)} of {len(COMBOS)}: "
                f"{'; '.join(open_experts)}), so this difference holds at this budget only; longer training "
                "could move it either way."
                if (open_experts := [why for c in COMBOS if (why := g.unconverged(f"expert_{c}"))])
                else ""
            )
        )
    lines += _budget_lines(res)
    if "generated" in goals:
        for p in goals["generated"].parts:
            lines.append(
                f"- flex minus {p.goal} (same joint schedule) on the mean of seven: "
                f"{interval_text(p.interval, points=True)}: {_generated_word(p)}."
            )
    ablations = [r for r in res.exploratory() if r["model"] == EQUAL_STEPS and r["other"].startswith("flex_no_")]
    if ablations:
        lines.append(
            f"- Ablations of the layer ({EQUAL_STEPS} minus the layer without one part, mean of seven, one expert's "
            "compute): "
            + "; ".join(
                f"{r['other']} {interval_text(Interval(r['estimate'], *_bounds(r)), points=True)}"
                for r in ablations
                if r["combo"] == MEAN7
            )
            + " (positive: the part helps; unadjusted intervals, the exploratory table's Holm p decides what is shown)."
        )
    lines += _joint_aid_lines(res)
    lines += _generated_synthesis(res, goals)
    if EXPERTS in res.correct and "cnn3_zero_fill" in res.correct:
        pairs = zip(res.correct[EXPERTS]["RGB"], res.correct["cnn3_zero_fill"]["RGB"])
        same = all(np.array_equal(a, b) for a, b in pairs)
        if same:
            lines.append(
                "- On RGB the RGB expert and cnn3_zero_fill are the same network trained the same way on the "
                "same images and seeds: they get the same test images right, and differ only on the partial "
                "combinations."
            )
    late, rising = res.last_fifth(), res.rising()
    late_single = [m for m in singles if late.get(m)]
    experts_runs = [k for k in late if k.startswith("expert_")]
    late_experts = [k for k in experts_runs if late[k]]
    rising_single = [m for m in singles if rising.get(m)]
    rising_experts = [k for k in experts_runs if rising.get(k)]
    last_fifth = (
        f"the best validation epoch falls in the last fifth of training (any seed) for {len(late_single)} of "
        f"{len(singles)} single models"
        + (f" and {len(late_experts)} of {len(experts_runs)} experts" if experts_runs else "")
    )
    if res.longer:
        checks = res.convergence_rows()
        moved = [_moved(r) for r in checks if r["seed_sd"] is not None]
        epochs = checks[0]["epochs"] if checks else _epochs(res)
        lines.append(
            f"- Schedule: {_recipe(res)}; {last_fifth}. The doubling check (the first seed trained again for "
            f"{2 * epochs if epochs else 'twice the'} epochs, its best validation accuracy minus the mean over the "
            f"{epochs}-epoch seeds, against their sd, in points): "
            + "; ".join(moved)
            + ". "
            + (
                f"Convergence is not shown for {len(rising_single)} of {len(singles)} single models"
                + (f" and {len(rising_experts)} of {len(experts_runs)} experts" if experts_runs else "")
                + " (doubled and still improving, or not doubled); their comparisons stay not shown."
                if rising_single or rising_experts
                else "Every model checked had converged."
            )
        )
    elif res.lr_schedule != "constant":
        lines.append(
            f"- Schedule: {_recipe(res)}; {last_fifth}. Convergence is not shown for any model "
            f"({_convergence_rule(res)}); their comparisons stay not shown."
        )
    else:
        flat = [m for m in late_single if not rising.get(m)]
        lines.append(
            f"- Schedule: {_recipe(res)}; {last_fifth}. "
            + (
                f"Still improving (more than one standard error above their best earlier epoch): {len(rising_single)} "
                f"of {len(singles)} single models"
                + (f" and {len(rising_experts)} of {len(experts_runs)} experts" if experts_runs else "")
                + (f"; flattened within the validation noise: {', '.join(flat)}" if flat else "")
                + ". Longer training could move their numbers"
                if rising_single or rising_experts
                else "None of them beats its best earlier epoch by more than one standard error of the validation "
                "accuracy: the curves have flattened, within the validation noise"
            )
            + "."
        )
    for b in res.budgets()[1:]:
        checks = b.convergence_rows()
        if checks:
            lines.append(
                f"- At {b.epochs} epochs (goal 1's budget curve: flex and the experts on every seed) the doubling "
                f"check to {checks[0]['longer_epochs']} epochs (seed {res.info.seeds[0]}, points): "
                + "; ".join(_moved(r) for r in checks if r["seed_sd"] is not None)
                + "."
            )
    lines += _beyond_lines(res)
    d = res.diversity
    if MAIN in d and "residual_between_images_share" in d[MAIN]:
        share, size = d[MAIN]["residual_between_images_share"], d[MAIN]["residual_to_static"]
        whole = d[MAIN]["between_images_share"]
        lines.append(
            f"- The trained flex layer's generated residual (first {DIVERSITY_IMAGES} test images, seed "
            f"{res.info.seeds[0]}) has {size:.2f} of the static kernels' RMS size; a share of {share:.2f} of its "
            "variance is between images, the rest between channels"
            + (
                ", so it acts mostly as a learned per-channel offset to the static kernels"
                if share < 0.25
                else ", so it depends on the image as well as on the channel"
            )
            + f" (of the whole kernel's variance, static part included, {whole:.2f} is between images)."
        )
    if d:
        lines.append(
            "- Cosine similarity of the kernels of different channels of one image (mean over the first test "
            "images; 1 means the same kernels for every channel): "
            + ", ".join(f"{k} {v['cosine_across_channels']:.2f}" for k, v in d.items())
            + "."
        )
    if MAIN in res.costs and EXPERTS in res.costs:
        lines.append(
            f"- Size: flex has {res.costs[MAIN].params:,} parameters; the seven experts "
            f"{res.costs[EXPERTS].params:,} in all."
        )
    return "\n".join(lines)


def _zero_fill_choice_lines(res: ChannelStudyResult) -> list[str]:
    """cnn3_zero_fill keeps its best epoch, as every single model does, on the mean of the seven
    combinations' validation accuracies, six of them zero-filled views it never trained on: its kept
    epochs and its RGB accuracy beside the RGB expert's (the same network and steps, kept on RGB)."""
    if "cnn3_zero_fill" not in res.runs or EXPERTS not in res.correct:
        return []
    kept = [r.best_epoch for r in res.runs["cnn3_zero_fill"]]
    acc = res.accuracy_by_seed  # computed once: a property over every model
    rgb = {m: float(np.mean(acc[m]["RGB"])) for m in ("cnn3_zero_fill", EXPERTS)}
    return [
        "- cnn3_zero_fill keeps its best epoch, as every single model does, on the mean of the seven combinations' "
        f"validation accuracies, six of them zero-filled views it never trained on; the kept epochs per seed are "
        f"{kept}, so its RGB accuracy ({rgb['cnn3_zero_fill']:.3f}) is below the RGB expert's ({rgb[EXPERTS]:.3f}), "
        "the same network trained the same way but kept on RGB validation."
    ]


def _joint_aid_lines(res: ChannelStudyResult) -> list[str]:
    """One line on the two aids to joint training the literature proposes (JOINT_OPTIONS: in-place
    distillation, a scale and shift per channel subset), each added to flex on its own: the aid minus
    flex on the mean of seven, and the aid minus the experts on its lowest such combination, at the
    study's epochs."""
    aids = [v.name for v in JOINT_OPTIONS if v.name in res.correct]
    if not aids or MAIN not in res.correct:
        return []
    parts = []
    for aid in aids:
        text = f"{aid} minus flex on the mean of seven {interval_text(res.diff(aid, MAIN, MEAN7), points=True)}"
        if EXPERTS in res.correct:
            gaps = {c: res.diff(aid, EXPERTS, c) for c in COMBOS}
            worst = min(gaps, key=lambda c: gaps[c].estimate)
            text += f", minus the experts on its lowest combination {worst} {interval_text(gaps[worst], points=True)}"
        parts.append(text)
    return [
        f"- Aids to joint training, each added to flex on its own (same joint schedule and compute, "
        f"{_epochs(res)} epochs, against the experts at {_epochs(res)} epochs: no bearing on goal 1; positive: the aid "
        "is ahead): "
        + "; ".join(parts)
        + " (unadjusted intervals, the lowest combination chosen after looking; the exploratory table's Holm p "
        "decides what is shown, flex minus the aid there)."
    ]


def _moved(row: dict) -> str:
    """One doubling check (a row of ChannelStudyResult.convergence_rows), in points."""
    state = "converged" if row["converged"] else "still improving" if row["converged"] is False else "no sd"
    return f"{row['model']} {100 * row['moved']:+.1f} (sd {100 * row['seed_sd']:.1f}: {state})"


def _budget_lines(res: ChannelStudyResult) -> list[str]:
    """Goal 1's budget curve in one line: flex minus the experts on the mean of seven at each budget,
    and where goal 1 is judged (and why there)."""
    rows = [r for r in res.budgets() if MAIN in r.correct and EXPERTS in r.correct]
    if len(rows) < 2:
        return []
    g = res.goal_budget()
    models = (MAIN, *(f"expert_{c}" for c in COMBOS))
    where = (
        f"goal 1 is judged at {g.epochs} epochs, the first budget at which flex and every expert have converged"
        if not g.still_improving(*models)
        else f"flex and every expert converged at none of them, so goal 1 is judged at the last, {g.epochs} epochs, "
        "and stays not shown"
    )
    return [
        "- Budget curve (flex and the experts at equal compute, each budget its own cosine schedule): flex minus the "
        "experts on the mean of seven "
        + "; ".join(f"at {r.epochs} epochs {interval_text(r.diff(MAIN, EXPERTS, MEAN7), points=True)}" for r in rows)
        + f"; {where}."
    ]


def limitations_markdown(res: ChannelStudyResult, *, data) -> str:
    """What the numbers can and cannot be compared with. `data`: the run's LoadedData or its DataFacts."""
    facts = data.facts() if hasattr(data, "facts") else data
    i = res.info
    n = _seed_count(res)
    used = ", ".join(f"{k} {v:,}" for k, v in facts.used.items())
    available = ", ".join(f"{k} {v:,}" for k, v in facts.available.items())
    tpc = res.train_per_class
    epochs = _epochs(res)
    runs = {r.name: r for b in res.budgets() for r in [*(x for rs in b.runs.values() for x in rs), *b.longer.values()]}
    lines = [
        "**Limitations**",
        "",
        f"- Data: {facts.name}, {facts.num_classes} classes (chance {1 / facts.num_classes:.3f}); images loaded: "
        f"{used} of {available}; "
        + (f"each seed trains on {tpc} images per class drawn from the training split; " if tpc else "")
        + f"resized to {i.image_size} px. Small images, few training images and {epochs} epoch"
        + ("s" if epochs != 1 else "")
        + " keep accuracy low; "
        "what this study measures is how the models compare at this budget.",
        (
            f"- Seeds: {n}; each interval covers seed noise and the sampling of the {_test_images(res):,} test images, "
            "a difference between models unpaired over seeds (Welch) and paired over the shared test images; a "
            "difference whose interval includes 0 is not shown."
            if n >= 2
            else "- Seeds: 1, so there is no interval and no verdict: the goals stay not shown."
        ),
        "- The exploratory comparisons were chosen after the goals; their p-values are Holm-adjusted over all of them, "
        "and one that stays above 0.05 says nothing either way.",
        f"- Machine: {i.device}; {len(runs)} training runs"
        + (f" and {sum(map(len, res.lr_trials.values()))} for the rate choice" if res.lr_trials else "")
        + " (their wall times are in the results JSON but were "
        "measured while other work shared the machine, so they are not speed figures). " + cost_note(res),
        f"- One recipe ({_recipe(res)}) for every model; a recipe tuned per model could change the ranking.",
        *_zero_fill_choice_lines(res),
        *(
            [
                "- Schedules: flex and its joint controls train on all seven combinations of every batch (the mean "
                "of the seven losses, one step); "
                + (
                    "in-place distillation (flex_distill: the six partial views learn only from the RGB view's "
                    "predictions) and a scale and shift per channel subset (flex_subset_affine) were each tried on "
                    "their own, with one setting each, at the base epochs only (not doubled: exploratory). "
                    if all(v.name in res.correct for v in JOINT_OPTIONS)
                    else "in-place distillation from the RGB view and a per-combination scale and shift were not "
                    "tried. "
                )
                + f"The layer's ablations are measured at one expert's compute, against {EQUAL_STEPS}, not at the "
                "joint schedule."
            ]
            if MAIN in res.schedule
            else []
        ),
        *(
            [
                f"- The budget curve ({', '.join(str(b.epochs) for b in res.budgets())} epochs) covers flex and the "
                f"experts only, for goal 1; every other goal, table row and exploratory comparison is at {epochs} "
                "epochs."
            ]
            if res.at_budget
            else []
        ),
        (
            "- Beyond three channels: the fourth and fifth channels (luminance L, edge strength E) are computed from "
            "R, G and B, so they test that one layer trains and predicts on 4 and 5 channels and on subsets of them, "
            "not that it uses information a real extra sensor (near-infrared, depth) would bring; no such data was "
            "available."
            if res.beyond
            else "- Beyond three channels the layer is checked for shapes only (the shapes cell above); no accuracy "
            "with a fourth or fifth input channel is measured in this run."
        ),
        "- The original report's numbers (50 classes, 128 px, its own images and splits, one run) are placed beside "
        "these, not compared with them.",
    ]
    return "\n".join(lines)


__all__ = [
    "QUIET",
    "accuracy_table",
    "beyond_table",
    "budget_table",
    "convergence_table",
    "lr_choice_table",
    "cost_note",
    "cost_table",
    "diversity_table",
    "exploratory_table",
    "findings_markdown",
    "goal_lines",
    "limitations_markdown",
    "original_comparison",
    "schedule_table",
    "strongest_baselines",
    "summary_markdown",
]
