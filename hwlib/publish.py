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
    text = json.dumps(_no_nan({**payload, "schema_version": SCHEMA_VERSION}), indent=2, sort_keys=True,
                      default=_jsonable, allow_nan=False)  # fmt: skip
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


def _goal_lines(goals: list[dict]) -> list[str]:
    """One bullet per goal of a results JSON: the verdict (with 'not settled by the 95% interval' or
    'no interval' where the JSON says so), the goal and its numbers."""
    qualifier = {True: "", False: " (not settled by the 95% interval)", None: " (no interval)"}
    return [
        f"- {'met' if g['met'] else 'MISSED'}{qualifier[g.get('settled', True)]}: {g['goal']} ({g['numbers']})"
        for g in goals
    ]


def results_markdown(results_dir: str | Path) -> str:
    """The README's results table, built from the results JSON files (never typed by hand)."""
    results_dir = Path(results_dir)
    lines = []
    r1 = results_dir / "01_flexconv.json"
    if r1.exists():
        d = json.loads(r1.read_text())
        by_seed = d.get("accuracy_by_seed", {})
        seeds = d.get("seeds", [])
        lines += [
            f"**FlexConv** ({d['dataset']}, {d['split']} split, profile `{d['profile']}`, {d['image_size']} px, "
            f"seeds {seeds}, {d['device']}): test accuracy by channels given, mean ± sd over seeds",
            "",
            "| model | " + " | ".join(d["combos"]) + " | params |",
            "|---|" + "---:|" * (len(d["combos"]) + 1),
        ]
        for model, acc in d["accuracy"].items():
            cells = [
                f"{acc[c]:.3f} ± {np.std(by_seed[model][c], ddof=1):.3f}"
                if len(by_seed.get(model, {}).get(c, [])) > 1
                else f"{acc[c]:.3f}"
                for c in d["combos"]
            ]
            lines.append(f"| {model} | " + " | ".join(cells) + f" | {d['params'].get(model, 0):,} |")
        lines.append("")
        lines += _goal_lines(d.get("goals", []))
        lines.append("")
    r2 = results_dir / "02_dense4_vs_resnet34.json"
    d = json.loads(r2.read_text()) if r2.exists() else {}
    if d.get("sweep"):  # results of a study before the sweep have no table here
        lines += [
            f"**Dense4 vs ResNet34** ({d['dataset']}, {d['split']} split, profile `{d['profile']}`, "
            f"{d['device']}): test accuracy, mean ± sd over seeds, at every image size of the sweep",
            "",
            "| size | recipe | model | epochs | seeds | test accuracy | Dense4 / model |",
            "|---:|---|---|---:|---:|---:|---:|",
        ]
        for e in d.get("sweep", []):
            models = [m for m in e if isinstance(e[m], list) and m != "seeds"]
            for model in models:
                acc = e[model]
                spread = f" ± {np.std(acc, ddof=1):.3f}" if len(acc) > 1 else ""
                ratio, epochs = e["ratio"].get(model), e["epochs_by_model"].get(model, e["epochs"])
                lines.append(
                    f"| {e['image_size']} px | {e['recipe']} | {model} | {epochs} "
                    f"| {len(acc)} | {np.mean(acc):.3f}{spread} | {'' if ratio is None else f'{ratio:.3f}'} |"
                )
        lines.append("")
        lines += _goal_lines(d.get("goals", []))
        p, m = d.get("params", {}), d.get("macs", {})
        if {"dense4", "resnet34"} <= set(p) and {"dense4", "resnet34"} <= set(m):
            lines.append(
                f"- Dense4 {p['dense4']:,} parameters, {m['dense4'] / 1e9:.3f} G multiply-adds per image at "
                f"{d['image_size']} px; ResNet34 {p['resnet34']:,}, {m['resnet34'] / 1e9:.3f} G"
            )
        lines.append("")
    r3 = results_dir / "03_param_analysis.json"
    if r3.exists():
        d = json.loads(r3.read_text())
        ok = sum(c["match"] for c in d["checks"])
        lines.append(
            f"**Parameter arithmetic**: {ok} of {len(d['checks'])} closed-form counts match torchinfo "
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


def bench_markdown(res: dict) -> str:
    """The README's speed section from a `python -m hwlib.bench` results JSON."""
    return f"`python -m hwlib.bench{' --quick' if res['quick'] else ''}`, torch {res['torch']}:\n\n{bench_table(res)}"


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
