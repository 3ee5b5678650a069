"""Notebook 02's prose and tables: Dense4 vs ResNet34. Every number comes from a
:class:`hwlib.studies.dense.DenseStudyResult`; every condition a sentence states (which side of the
bar, whether a model converged, map sizes, how many seeds) is computed from it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats
from ..original import COURSE_BATCH, COURSE_EPOCHS, COURSE_TRAIN_IMAGES, ORIGINAL_REFERENCE, REFERENCES
from ..studies.dense import MODELS, OWN, DenseStudyResult, Point, steps_per_epoch
from .common import NOTATION, part_lines, setting_text, verdict_line

QUIET_MACHINE = 0.10  # latency is reported only if other processes used less than this share of the CPU


def _label(m: str) -> str:
    return MODELS[m].label


def _budget(res: DenseStudyResult, p: Point, model: str | None = None) -> str:
    """'10 epochs = 470 steps' for `model` (default: the candidate) at `p`."""
    m = model or res.candidate
    e = res.epochs(p, m)
    return f"{e} epoch{'s' if e != 1 else ''} = {res.steps(p, m):,} steps"


def _training_images(res: DenseStudyResult, train_images: int) -> str:
    """'every training image (9,469), the same for every seed' or 'N images per class drawn per seed'."""
    if res.all_train_images:
        return (
            f"every training image ({train_images:,}), the same for every seed (seeds differ in initialisation "
            "and batch order)"
        )
    classes = res.data.num_classes if res.data else 1
    return f"{train_images // classes} training images per class, drawn afresh for every seed"


def _seeds_text(res: DenseStudyResult, p: Point, baseline: str) -> str:
    """How many seeds the verdict's point has, and where its interval's seed spread comes from."""
    n = min(len(res.runs_at(p, m)) for m in (res.candidate, baseline))
    base = res.base_point(p.image_size)
    if n >= 2 or p == base:
        return f"{n} seed{'s' if n != 1 else ''} each."
    k = len(res.runs_at(base, res.candidate))
    return (
        f"{n} seed each at this budget; its interval takes the seed spread of the base budget's runs "
        f"({k} seeds), as seed noise cannot be estimated from one run."
    )


def baseline_table(res: DenseStudyResult) -> pd.DataFrame:
    """How the fair baseline was chosen at each size: every baseline candidate's budget, training
    time against the candidate's, validation accuracy, last map size and whether it qualifies."""
    rows = []
    for size in sorted({p.image_size for p in res.points("strong")}):
        choice = res.fair_baseline(size)
        for r in choice.rows:
            rows.append(
                {
                    "size (px)": size,
                    "baseline": _label(r.model),
                    "epochs": r.epochs,
                    "steps": f"{r.steps:,}",
                    f"training time / {_label(res.candidate)}'s": f"{r.time_ratio:.2f}",
                    "validation accuracy (mean best)": f"{r.val_mean:.3f}",
                    "last conv map": f"{r.final_map}x{r.final_map}",
                    f"trains in <= {1 + choice.slack:.2f}x the time": "yes" if r.qualifies else "no",
                    "handicapped (1x1 last map)": "yes" if r.handicapped else "no",
                    "chosen": "yes" if r.model == choice.model else "",
                }
            )
    return pd.DataFrame(rows).set_index(["size (px)", "baseline"])


def summary_markdown(res: DenseStudyResult) -> str:
    """The Summary: the answer, the baseline and budget it is taken against, and the main limit in
    the first lines; then the other goals and the budget curve in one line each."""
    goals = res.goals()
    g = goals[0]
    v = res.verdict()
    p = Point(v["image_size"], "strong", v["epochs"])
    b = v["baseline"]
    low, high = (np.nan if x is None else x for x in v["interval"])
    iv = stats.Interval(v["ratio"], low, high)
    facts = res.data
    classes = facts.num_classes if facts else "?"
    images = _training_images(res, res.runs_at(p, b)[0].train_images)
    choice = res.fair_baseline(v["image_size"])
    row = choice.row
    how = (
        f"the strongest ResNet34 on validation of those that train in no more than {1 + choice.slack:.2f}x "
        f"{_label(res.candidate)}'s time ({row.time_ratio:.2f}x here)"
        if row.qualifies
        else f"the cheapest ResNet34, though it took {row.time_ratio:.2f}x {_label(res.candidate)}'s time"
    )
    answer = (
        f"- Answer: **{g.outcome}**. {_label(res.candidate)} / {_label(b)} test accuracy "
        f"{stats.interval_text(iv)} at {v['image_size']} px (goal >= {res.settings.bar:.2f})"
        + (f"; not shown because {v['reason']}." if v.get("reason") else ".")
    )
    against = (
        f"- Against: {_label(b)} ({MODELS[b].what}), {how}; {_label(res.candidate)} {_budget(res, p)}, "
        f"{_label(b)} {_budget(res, p, b)}, strong recipe, batch "
        f"{res.settings.batch_size}, {images}, " + _seeds_text(res, p, b)
    )
    course_steps = COURSE_EPOCHS * steps_per_epoch(COURSE_TRAIN_IMAGES, COURSE_BATCH)
    side = res.final_map[b][v["image_size"]]
    limit = (
        f"- Main limit: {classes} classes of {res.info.dataset} at {v['image_size']} px, against the assignment's "
        f"50 classes at 128 px and about {course_steps:,} steps; {_label(b)}'s last conv stage works on "
        f"{side}x{side} maps here ({res.final_map[b].get(224, '?')}x{res.final_map[b].get(224, '?')} at 224 px)."
    )
    others = [verdict_line(o, points=o.bar == 0.0) for o in goals[1:]]
    curve = []
    for q in res.points("strong", res.info.image_size):
        if res.runs_at(q, b):
            curve.append(f"{_budget(res, q)}: {stats.interval_text(res.ratio(q, b))}")
    return "\n".join(
        [
            f"**Summary** ({setting_text(res.info)})",
            "",
            answer,
            against,
            limit,
            *others,
            f"- Ratio by budget against {_label(b)} (strong recipe, {res.info.image_size} px, "
            f"{_label(res.candidate)}'s budget): " + "; ".join(curve) + ".",
        ]
    )


def goal_lines(res: DenseStudyResult) -> str:
    lines = []
    for g in res.goals():
        lines.append(verdict_line(g, points=g.bar == 0.0))
        lines += part_lines(g, points=g.bar == 0.0)
    return "\n".join(lines)


def recipe_table(res: DenseStudyResult) -> pd.DataFrame:
    """Each recipe and budget for each model with the settings its runs trained with."""
    rows = []
    for p in res.points():  # distinct points, distinct models: one row each
        for m in res.models_at(p):
            runs = res.runs_at(p, m)
            r = res.recipe_at(p, m)
            c = r.config
            rows.append(
                {
                    "size (px)": p.image_size,
                    "recipe": p.recipe,
                    "epochs": runs[0].epochs,
                    "model": _label(m),
                    "optimizer": c.optimizer,
                    "lr": f"{c.lr:g}",
                    "weight decay": f"{c.weight_decay:g}",
                    "schedule": c.schedule,
                    "batch": r.batch_size,
                    "steps": runs[0].steps,
                    "label smoothing": f"{c.label_smoothing:g}",
                    "EMA decay": f"{c.ema_decay:.4f}" if c.ema_decay else "none",
                    "flip": "yes" if r.flip else "no",
                    "crop pad (px)": r.crop_pad,
                }
            )
    return pd.DataFrame(rows).set_index(["size (px)", "recipe", "epochs", "model"])


def runs_table(res: DenseStudyResult) -> pd.DataFrame:
    """Test accuracy per size, recipe, budget and model ("mean ± sd (n seeds)"), the best epochs,
    and the candidate / model ratio with its 95% interval [low, high]."""
    rows = []
    for p in res.points():
        for m in res.models_at(p):
            runs = res.runs_at(p, m)
            ratio = (
                ""
                if m == res.candidate
                else stats.interval_text(stats.ratio_interval(res.sample(p, res.candidate), res.sample(p, m)))
            )
            rows.append(
                {
                    "size (px)": p.image_size,
                    "recipe": p.recipe,
                    "budget (epochs)": p.epochs,
                    "model": _label(m),
                    "steps": runs[0].steps,
                    "train s (median)": f"{res.train_seconds(p, m):,.0f}",
                    "test accuracy": stats.mean_sd([r.test_accuracy for r in runs]),
                    "best epoch / epochs": ", ".join(f"{r.best_epoch}" for r in runs) + f" / {runs[0].epochs}",
                    f"{_label(res.candidate)} / model [95%]": ratio,
                }
            )
    return pd.DataFrame(rows).set_index(["size (px)", "recipe", "budget (epochs)", "model"])


def convergence_table(res: DenseStudyResult) -> pd.DataFrame:
    """Per model and size: how far doubling the strong recipe's budget moved the best validation accuracy,
    against the seed spread (sd) at the shorter budget; converged when it moved less."""
    rows = []
    for p in res.points("strong"):
        for m in res.models_at(p):
            c = res.convergence(p, m)
            if c is None:
                continue
            rows.append(
                {
                    "size (px)": p.image_size,
                    "model": _label(m),
                    "steps": f"{c.steps:,} -> {res.steps(Point(p.image_size, 'strong', 2 * p.epochs), m):,}",
                    "validation moved (points)": f"{100 * c.moved:+.1f}",
                    "validation seed sd (points)": "n/a (1 seed)" if np.isnan(c.seed_sd) else f"{100 * c.seed_sd:.1f}",
                    "converged": {True: "yes", False: "no", None: "not known"}[c.converged],
                }
            )
    return pd.DataFrame(rows)


def model_table(res: DenseStudyResult) -> pd.DataFrame:
    """Each model's conv layers, parameters, multiply-adds and last conv map side at every size, and
    its latency when the machine was quiet while it was timed."""
    rows = {}
    for m in res.all_models:
        c = res.costs[m]
        row: dict[str, object] = {"conv layers": res.convs[m], "parameters": f"{c.params:,}"}
        for s, macs in res.macs[m].items():
            row[f"G multiply-adds / image, {s} px"] = f"{macs / 1e9:.3f}"
        for s, side in res.final_map[m].items():
            row[f"last conv map, {s} px"] = f"{side}x{side}"
        if c.others_busy is not None and c.others_busy < QUIET_MACHINE:
            for b, ms in c.latency_ms.items():
                row[f"latency ms / image, {b.replace('batch', 'batch ')}"] = f"{ms:.2f}"
        rows[_label(m)] = row
    return pd.DataFrame(rows).T


def latency_note(res: DenseStudyResult) -> str:
    busy = [c.others_busy for c in res.costs.values() if c.others_busy is not None]
    if not busy:
        return "Latency: not measured (the machine's load could not be read), so not shown."
    worst = max(busy)
    if worst < QUIET_MACHINE:
        return (
            f"Latency was timed on {res.info.device} while other processes used at most {worst:.0%} of its CPU "
            "(measured during the timing)."
        )
    return (
        f"Latency is not shown: other processes used up to {worst:.0%} of the CPU while it was timed, so the "
        "timings would not be this machine's speed."
    )


def references_table(res: DenseStudyResult) -> pd.DataFrame:
    """Results measured elsewhere on this homework, with their setting; the original report's ratio
    with its test-set interval (one run each, so seed noise is not in it)."""
    rows = []
    for ref in (ORIGINAL_REFERENCE, *REFERENCES):
        iv = (
            stats.quoted_ratio_interval(ref.dense4_test_acc, ref.resnet34_test_acc, images=ref.test_images)
            if ref.test_images
            else None
        )
        rows.append(
            {
                "source": ref.source,
                "setting": ref.setting(),
                "4-conv network": f"{ref.dense4_test_acc:.3f}",
                "ResNet34": f"{ref.resnet34_test_acc:.3f}",
                "ratio": stats.interval_text(iv) if iv else f"{ref.ratio:.3f}",
            }
        )
    return pd.DataFrame(rows).set_index("source")


def findings_markdown(res: DenseStudyResult) -> str:
    """What the runs show, each number once."""
    lines = ["**Findings**", ""]
    bar = res.settings.bar
    for size in sorted({p.image_size for p in res.points("strong")}):
        choice = res.fair_baseline(size)
        b = choice.model
        rows = {r.model: r for r in choice.rows}
        lines.append(
            f"- {'Fair baseline' if choice.row.qualifies else 'Baseline (none qualified)'} at {size} px: "
            f"{_label(b)}. "
            + "; ".join(
                f"{_label(r.model)} trained {r.epochs} epochs in {r.time_ratio:.2f}x {_label(res.candidate)}'s time "
                f"(validation {r.val_mean:.3f}, last map {r.final_map}x{r.final_map}"
                + (", handicapped" if r.handicapped else "")
                + ("" if r.qualifies else ", too slow to qualify")
                + ")"
                for r in rows.values()
            )
            + "."
        )
        pts = [q for q in res.points("strong", size) if res.runs_at(q, b)]
        ratios = [(q, res.ratio(q, b)) for q in pts]
        if len(ratios) > 1:
            text = "; ".join(f"{res.steps(q, res.candidate):,} steps {r.estimate:.3f}" for q, r in ratios)
            below = [q for q, r in ratios if r.estimate < bar]
            ra, rb = ratios[-2][1], ratios[-1][1]
            lines.append(
                f"- Budget curve at {size} px ({_label(res.candidate)} / {_label(b)}, each point a run of each "
                f"model sized to its budget, at {_label(res.candidate)}'s steps): {text}. The last doubling took "
                f"it from {ra.estimate:.3f} to {rb.estimate:.3f}"
                + (
                    f"; it is below {bar:.2f} at "
                    + ", ".join(f"{res.steps(q, res.candidate):,}" for q in below)
                    + " steps."
                    if below
                    else f"; it is above {bar:.2f} at every budget (by the estimate)."
                )
            )
        for m in res.models:
            for q in res.points("strong", size):
                c = res.convergence(q, m) if res.runs_at(q, m) else None
                if c is not None and c.converged is False:
                    lines.append(
                        f"- {_label(m)} at {size} px was still improving: doubling from {c.steps:,} steps moved its "
                        f"validation accuracy by {100 * c.moved:+.1f} points, more than its seed sd "
                        f"({100 * c.seed_sd:.1f})."
                    )
    orig = res.points("original")
    for p in orig:
        r = res.ratio(p)
        strong = Point(p.image_size, "strong", p.epochs)
        s = res.ratio(strong) if res.runs_at(strong, res.candidate) else None
        lines.append(
            f"- Under the original report's recipe (constant lr, no augmentation) at {p.image_size} px and "
            f"{_budget(res, p)} the ratio is {stats.interval_text(r)}"
            + (f", against {stats.interval_text(s)} under the strong recipe at the same budget." if s else ".")
        )
    size = res.info.image_size
    base = res.base_point(size)
    maps = ", ".join(f"{_label(m)} {res.final_map[m][size]}x{res.final_map[m][size]}" for m in res.models)
    lines.append(f"- Last conv stage's map at {size} px (computed from each model): {maps}.")
    b = res.baseline
    mac = {m: res.macs[m][size] for m in res.models}
    per_epoch = {m: res.time_per_epoch(base, m) for m in res.models if res.runs_at(base, m)}
    lines.append(
        f"- Cost at {size} px against {_label(b)}: "
        + "; ".join(
            f"{_label(m)} {res.costs[m].params / res.costs[b].params:.2f}x the parameters, "
            f"{mac[m] / mac[b]:.2f}x the multiply-adds per image, {per_epoch[m] / per_epoch[b]:.2f}x the training "
            "time per epoch"
            for m in res.models
            if m != b and m in per_epoch
        )
        + " (training time per epoch: median measured wall time)."
    )
    ablations = [a for a in res.ablations() if a["of_val_best"] is not None]
    if ablations:
        a0 = ablations[0]
        lines.append(
            f"- {_label(OWN)}'s parts (best validation accuracy, seed {a0['seed']}, one run each, so indicative only): "
            f"{_label(OWN)} {a0['of_val_best']:.3f}; "
            + "; ".join(f"{_label(a['model'])} {a['val_best']:.3f}" for a in ablations)
            + "."
        )
    refs = [r.ratio for r in REFERENCES]
    lines.append(
        f"- Measured elsewhere (table below; other people's runs at 128-256 px and 10-50 epochs, 50 classes): ratios "
        f"from {min(refs):.3f} to {max(refs):.3f}. They are context, not a replication, and are drawn apart from "
        "this run's points."
    )
    return "\n".join(lines)


def limitations_markdown(res: DenseStudyResult) -> str:
    f = res.data
    used = ", ".join(f"{k} {v:,}" for k, v in f.available.items()) if f else "?"
    images = _training_images(res, res.runs[0].train_images)
    n_test = f"{len(res.labels):,}" if res.labels is not None else "?"
    seeds = len(res.info.seeds)
    lines = [
        "**Limitations**",
        "",
        f"- Data: {res.info.dataset} ({f.num_classes if f else '?'} classes; images available: {used}); "
        f"{images}; test on all {n_test} {res.info.split} images, stored at "
        f"{f.photo_size if f else '?'}, resized to {res.info.image_size} px.",
        f"- Seeds: {seeds} at the base budget. Intervals cover seed and test-set noise, seeds unpaired across "
        f"models; with {seeds} seed{'s' if seeds != 1 else ''} the seed spread itself is uncertain. Budgets "
        "trained on one seed have no interval, except above the base budget, where the base budget's seed spread "
        "stands in (said where used).",
        "- Equal training time over equal epochs: a baseline slower per epoch than "
        f"{_label(res.candidate)} is trained for fewer epochs (its epoch scale), so that it costs no more time; "
        "the runs table gives every model's epochs and steps.",
        f"- Training time, which decides which ResNet34 qualifies as the fair baseline: {res.time_source}; the "
        f"rule allows {res.settings.time_slack:.0%} slack, and the Findings give each baseline's time ratio. "
        "The runs' own wall times are in the results JSON.",
        f"- {latency_note(res)}",
        "- " + NOTATION,
    ]
    return "\n".join(lines)


def misclassified_examples(labels: np.ndarray, predicted: np.ndarray, *, k: int = 8) -> list[tuple[int, int, int]]:
    """Up to `k` wrongly classified test images as (index, true, predicted): the first error of each
    true class in turn, so the figure shows several classes' confusions rather than one class's."""
    wrong = np.flatnonzero(predicted != labels)
    by_class: dict[int, list[int]] = {}
    for i in wrong:
        by_class.setdefault(int(labels[i]), []).append(int(i))
    picked: list[int] = []
    while len(picked) < k and any(by_class.values()):
        for c in sorted(by_class):
            if by_class[c] and len(picked) < k:
                picked.append(by_class[c].pop(0))
    return [(i, int(labels[i]), int(predicted[i])) for i in picked]


def original_comparison(res: DenseStudyResult) -> pd.DataFrame:
    """The original report's two numbers beside this run's original-recipe runs (other data and
    settings: read, do not compare); where the profile trains no original-recipe run, the row says so."""
    quoted = {"dense4": ORIGINAL_REFERENCE.dense4_test_acc, "resnet34": ORIGINAL_REFERENCE.resnet34_test_acc}
    rows = []
    for m in res.models:
        row: dict[str, object] = {
            "model": _label(m),
            "original report: test accuracy": quoted.get(m, np.nan),
            "original setting": ORIGINAL_REFERENCE.setting() + ", one run",
        }
        pts = res.points("original")
        if pts:
            for p in pts:
                runs = res.runs_at(p, m)
                row["this run: test accuracy"] = stats.mean_sd([r.test_accuracy for r in runs])
                row["this run's setting"] = f"{res.info.dataset}, {p.image_size} px, {_budget(res, p)}"
        else:
            row["this run: test accuracy"] = "not run: this profile trains no original-recipe runs"
            row["this run's setting"] = f"profile {res.info.profile}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


__all__ = [
    "convergence_table",
    "misclassified_examples",
    "findings_markdown",
    "goal_lines",
    "latency_note",
    "limitations_markdown",
    "model_table",
    "original_comparison",
    "recipe_table",
    "references_table",
    "runs_table",
    "summary_markdown",
    "baseline_table",
]
