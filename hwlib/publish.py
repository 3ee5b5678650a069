"""Publishing: results JSON files and the README sections generated from them.

`write_json` is the one writer of results (sorted keys, one trailing newline). `results_markdown`
builds the README's results table from results/*.json and `bench_markdown` its speed table from
the benchmark's JSON, so no number in the README is typed by hand. `python -m hwlib.publish`
rewrites both sections of README.md from results/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .paths import REPO_ROOT

BENCH_JSON = "bench_cpu_quick.json"


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


SCHEMA_VERSION = 3  # of every results JSON; raised when a key changes meaning or moves


def write_json(path: str | Path, payload: dict) -> Path:
    """The one writer of results JSON: `schema_version` added, sorted keys, one trailing newline,
    NaN written as null (JSON has no NaN)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        _no_nan({**payload, "schema_version": SCHEMA_VERSION}),
        indent=2,
        sort_keys=True,
        default=_jsonable,
        allow_nan=False,
    )
    path.write_text(text + "\n")
    return path


def _no_nan(o):
    if isinstance(o, float) and o != o:
        return None
    if isinstance(o, dict):
        return {k: _no_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_no_nan(v) for v in o]
    if isinstance(o, np.floating) and np.isnan(o):
        return None
    return o


def _goal_lines(goals: list[dict], *, points: bool) -> list[str]:
    """One bullet per goal of a results JSON, worded as the notebooks word it (hwlib.report.common):
    the outcome with the part that settles it or the reason it is not shown."""
    from .report.common import verdict_line  # the report's wording; imported here to keep publish light
    from .stats import Verdict

    return [verdict_line(Verdict.from_dict(g), points=points) for g in goals]


def _points_interval(diff: dict) -> str:
    """{"estimate", "interval"} (accuracy) as '+1.2 [-0.3, +2.7] points'."""
    from .stats import Interval, interval_text

    low, high = diff["interval"]
    iv = Interval(diff["estimate"], float("nan") if low is None else low, float("nan") if high is None else high)
    return interval_text(iv, points=True)


def _mean_sd(values: list[float]) -> str:
    from .stats import mean_sd

    return mean_sd(values).rsplit(" (", 1)[0]


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


def results_markdown(results_dir: str | Path) -> str:
    """The README's results section, built from the results JSON files (never typed by hand): per
    study the data it comes from, a table, the verdicts with their qualifiers and the limits line."""
    results_dir = Path(results_dir)
    lines = []
    r1 = results_dir / "01_flexconv.json"
    if r1.exists():
        d = json.loads(r1.read_text())
        by_seed, combos = d["accuracy_by_seed"], d["combos"]
        n = len(d["seeds"])
        epochs = len(next(iter(d["history"].values()))[0])
        per_class = d.get("train_per_class") or "all"
        lines += [
            f"**FlexConv** ({d['dataset']}, {d['split']} split, profile `{d['profile']}`, {d['image_size']} px, "
            f"{d['device']}): test accuracy by channels given at {epochs} epochs, mean ± sd over {_seeds(n)}",
            "",
            "| model | " + " | ".join(combos) + " | mean of 7 | params | training passes |",
            "|---|" + "---:|" * (len(combos) + 3),
        ]
        seen = d.get("training_images_seen", {})
        for model, acc in by_seed.items():
            cells = [_mean_sd(acc[c]) for c in combos]
            mean7 = float(np.mean([np.mean(acc[c]) for c in combos]))
            params = d["models"].get(model, {}).get("params", 0)
            passes = f"{seen[model]:,}" if model in seen else ""
            lines.append(f"| {model} | " + " | ".join(cells) + f" | {mean7:.3f} | {params:,} | {passes} |")
        curve = [b for b in d.get("budget_curve", []) if b.get("epochs") is not None]
        if len(curve) > 1:  # goal 1's budget curve: flex and the experts at more epochs (the table: the base)
            lines += [
                "",
                "Goal 1's budget curve (flex and the seven experts at equal compute; mean of seven, mean over seeds; "
                "flex minus the experts with its 95% interval): "
                + "; ".join(
                    f"{b['epochs']} epochs: flex {b['mean_of_7']['flex']:.3f}, experts "
                    f"{b['mean_of_7']['experts']:.3f}, {_points_interval(b['flex_minus_experts']['mean of 7'])}"
                    + (" (goal 1 judged here)" if b["goal_judged_here"] else "")
                    for b in curve
                )
                + ".",
            ]
        lines += ["", *_goal_lines(d.get("goals", []), points=True)]
        judged = next((b["epochs"] for b in curve if b["goal_judged_here"] and b["epochs"] != epochs), None)
        at = f" (goal 1: {judged})" if judged else ""
        lines.append(
            f"- Limits: {d['dataset']} at {d['image_size']} px, {per_class} training images per class drawn per seed, "
            f"{epochs} epochs{at}, {_seeds(n)}; intervals are 95% over seeds and test images. Training passes: "
            "image-combination passes in training (a joint batch of B images, all seven combinations, counts 7B; "
            "the experts' summed over the seven)."
        )
        lines.append("")
    r2 = results_dir / "02_dense4_vs_resnet34.json"
    d = json.loads(r2.read_text()) if r2.exists() else {}
    if d.get("runs"):
        models = d["models"]
        label = {m: v["label"] for m, v in models.items()}
        lines += [
            f"**Dense4 vs ResNet34** ({d['dataset']}, {d['split']} split, profile `{d['profile']}`, {d['device']}): "
            "test accuracy, mean ± sd over seeds, for every size, recipe and budget",
            "",
            "| size | recipe | steps | model | seeds | test accuracy |",
            "|---:|---|---:|---|---:|---:|",
        ]
        groups: dict[tuple, list[float]] = {}
        for r in d["runs"]:
            groups.setdefault(
                (r["image_size"], r["recipe"] != "original", r["recipe"], r["steps"], r["model"]), []
            ).append(r["test_accuracy"])
        for (size, _, recipe, steps, model), acc in sorted(groups.items()):
            lines.append(f"| {size} px | {recipe} | {steps:,} | {label[model]} | {len(acc)} | {_mean_sd(acc)} |")
        lines += ["", *_goal_lines(d.get("goals", []), points=False)]
        facts = d.get("data") or {}
        per_class = d["runs"][0]["train_images"] // max(1, facts.get("num_classes", 1))
        images = (
            f"every training image ({d['runs'][0]['train_images']:,})"
            if d.get("settings", {}).get("train_per_class") == "all"
            else f"{per_class} training images per class drawn per seed"
        )
        lines.append(
            f"- Limits: {facts.get('num_classes', '?')} classes of {d['dataset']}, {images}, "
            f"at most {max(r['steps'] for r in d['runs']):,} steps, "
            f"{_seeds(len(d['seeds']))}; "
            "not the course's 50 classes at 128 px."
        )
        lines.append("")
    r3 = results_dir / "03_param_analysis.json"
    if r3.exists():
        d = json.loads(r3.read_text())
        checks = d.get("checks", [])
        ok = sum(c["match"] for c in checks)
        lines.append(
            f"**Parameter arithmetic**: {ok} of {len(checks)} closed-form counts match torchinfo "
            f"(see notebooks/03_param_analysis.ipynb)."
        )
    return "\n".join(lines).rstrip() + "\n"


def bench_table(res: dict) -> str:
    """The benchmark's ratios against their goals, as a Markdown table. The loader's figure is the
    data stall (a results file's retired `loader_cached_vs_decode` ratio is not shown)."""
    peak = res.get("matmul_peak", {}).get("dtype", "float32")
    loader = res.get("train", {}).get("dense4", {}).get("loader")
    rows = [
        (
            "FlexConv original: its loop / batched (fwd+bwd)",
            f"{res['flexconv_batched_vs_loop']['speedup']:.2f}x",
            ">= 1.1x (CPU), >= 20x (GPU)",
        ),
        ("pooled FlexConv / Conv2d(3, 16, 3) time", f"{res['flexconv_vs_conv2d']['ratio']:.2f}x", "<= 1.5x"),
        *(
            [("hybrid FlexConv / Conv2d(3, 16, 3) time", f"{res['hybrid_vs_conv2d']['ratio']:.2f}x", "none set")]
            if "hybrid_vs_conv2d" in res
            else []
        ),
        *(
            [
                (
                    "joint step (7 combinations, 1 update) / 7 separate steps, flex at 32 px",
                    f"{res['joint_vs_separate']['ratio']:.2f}x",
                    "<= 1.0x",
                )
            ]
            if "joint_vs_separate" in res
            else []
        ),
        (
            f"training MFU Dense4 / ResNet34 at 128 px ({peak} matmul peak)",
            f"{res['train_mfu']['dense4']:.2f} / {res['train_mfu']['resnet34']:.2f}",
            ">= 0.5 (CPU)",
        ),
        (
            "data stall Dense4 / ResNet34" + (f" ({loader} loader)" if loader else ""),
            f"{res['data_stall']['dense4']:.1%} / {res['data_stall']['resnet34']:.1%}",
            "<= 10%",
        ),
    ]
    lines = [f"| measured on {res['device']} | ratio | goal |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


QUIET_MACHINE = 0.10  # a benchmark is shown only if other processes used less than this share of the CPU


def bench_markdown(res: dict) -> str:
    """The README's speed section from a `python -m hwlib.bench` results JSON: its table only when the
    JSON shows the machine was otherwise idle while it ran (`others_busy` below QUIET_MACHINE)."""
    cmd = f"`python -m hwlib.bench{' --quick' if res['quick'] else ''}`"
    busy = res.get("others_busy")
    if busy is None or busy >= QUIET_MACHINE:
        why = "no record of how busy the machine was" if busy is None else f"other processes used {busy:.0%} of the CPU"
        return (
            f"Not shown: the committed benchmark ({cmd}, torch {res['torch']}) was not measured on an idle machine "
            f"({why}). Run `{cmd[1:-1]} --out results/bench_cpu_quick.json` with nothing else running, then "
            "`python -m hwlib.publish`."
        )
    return f"{cmd}, torch {res['torch']}, other processes using {busy:.0%} of the CPU:\n\n{bench_table(res)}"


def update_section(readme: str | Path, name: str, body: str) -> bool:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown file;
    True if it changed."""
    readme = Path(readme)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text()
    head, sep, rest = text.partition(start)
    if not sep or end not in rest:
        raise ValueError(f"{readme}: no {start} ... {end} section")
    new = f"{head}{start}\n{body.rstrip()}\n{end}{rest.split(end, 1)[1]}"
    if new != text:
        readme.write_text(new)
    return new != text


def update_readme(readme: str | Path, results_dir: str | Path) -> bool:
    """The README's results table (and its speed table, when the benchmark's JSON is there),
    rebuilt from results/*.json; True if anything changed."""
    results_dir = Path(results_dir)
    changed = update_section(readme, "results", results_markdown(results_dir))
    bench = results_dir / BENCH_JSON
    if bench.exists():
        changed |= update_section(readme, "bench", bench_markdown(json.loads(bench.read_text())))
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hwlib.publish", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--results", default=str(REPO_ROOT / "results"), help="folder of results JSON files")
    ap.add_argument("--readme", default=str(REPO_ROOT / "README.md"))
    args = ap.parse_args(argv)
    changed = update_readme(args.readme, args.results)
    print(f"{args.readme}: {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
