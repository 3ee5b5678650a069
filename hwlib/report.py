"""What every notebook states about its run, and where its outputs go.

`describe_run` prints the resolved configuration, dataset, device and versions (the first output
of each notebook). `output_dirs` keeps non-published runs under runs/ so committed figures/ and
results/ change only with PUBLISH=1. `write_json` writes results with sorted keys and a newline.
"""
from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
import torchvision

from .config import Profile
from .paths import RUNS_DIR, display_path, resolve_repo_path


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}, bf16 autocast)"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, float32)"


def environment() -> dict:
    return {"python": sys.version.split()[0], "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": np.__version__, "platform": platform.platform()}


def describe_run(*, notebook: str, profile: Profile, seed: int, data_summary: str, device: torch.device,
                 output_dir: Path) -> str:
    """The first output of every notebook: what ran, on what, where the outputs went."""
    env = environment()
    lines = [
        f"notebook {notebook}: profile {profile.name!r} ({profile.note})",
        f"  image {profile.image_size} px, train {profile.train_per_class or 'all'} / eval {profile.eval_per_class or 'all'} "
        f"images per class; epochs: {profile.study_epochs} (notebook 01), {profile.epochs} (notebook 02, "
        f"{profile.seeds} seed{'s' if profile.seeds > 1 else ''}); batch {profile.batch_size} (Dense4 {profile.dense4_batch_size}), "
        f"Adam lr {profile.lr:g} (Dense4 {profile.dense4_lr:g}); seed {seed}",
        data_summary,
        f"device: {device_name(device)}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in env.items()),
        f"outputs: {display_path(output_dir)}",
    ]
    return "\n".join(lines)


def output_dirs(output_dir: str | Path | None, *, data_name: str, profile: str) -> tuple[Path, Path, Path]:
    """(base, figures, results): the given OUTPUT_DIR, else runs/<data>-<profile>/."""
    base = resolve_repo_path(output_dir) if output_dir else RUNS_DIR / f"{data_name}-{profile}"
    figures, results = base / "figures", base / "results"
    figures.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    return base, figures, results


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


def write_json(path: str | Path, payload: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_jsonable) + "\n")
    return path


def results_markdown(results_dir: str | Path) -> str:
    """The README's results table, built from the results JSON files (never typed by hand)."""
    results_dir = Path(results_dir)
    lines = []
    r1 = results_dir / "01_flexconv.json"
    if r1.exists():
        d = json.loads(r1.read_text())
        lines += [f"**FlexConv** ({d['dataset']}, {d['split']} split, profile `{d['profile']}`, {d['image_size']} px, "
                  f"{d['device']}): accuracy by channels given", "",
                  "| model | " + " | ".join(d["combos"]) + " | params |",
                  "|---|" + "---:|" * (len(d["combos"]) + 1)]
        for model, acc in d["accuracy"].items():
            lines.append(f"| {model} | " + " | ".join(f"{acc[c]:.3f}" for c in d["combos"]) +
                         f" | {d['params'].get(model, 0):,} |")
        lines.append("")
    r2 = results_dir / "02_dense4_vs_resnet34.json"
    if r2.exists():
        d = json.loads(r2.read_text())
        lines += [f"**Dense4 vs ResNet34** ({d['dataset']}, {d['split']} split, profile `{d['profile']}`, "
                  f"{d['image_size']} px, seeds {d['seeds']}, {d['device']})", "",
                  "| recipe | model | test accuracy | macro F1 | params | multiply-adds / image |", "|---|---|---:|---:|---:|---:|"]
        for recipe, models in d["recipes"].items():
            for model, m in models.items():
                acc, f1 = np.mean(m["test_acc"]), np.mean(m["macro_f1"])
                lines.append(f"| {recipe} | {model} | {acc:.3f} | {f1:.3f} | {d['params'][model]:,} | "
                             f"{d['macs'][model] / 1e9:.3f} G |")
            lines.append(f"| {recipe} | **Dense4 / ResNet34** | **{d['ratio'][recipe]:.3f}** | | | |")
        lines.append("")
    r3 = results_dir / "03_param_analysis.json"
    if r3.exists():
        d = json.loads(r3.read_text())
        ok = sum(c["match"] for c in d["checks"])
        lines.append(f"**Parameter arithmetic**: {ok} of {len(d['checks'])} closed-form counts match torchinfo "
                     f"(see notebooks/03_param_analysis.ipynb).")
    return "\n".join(lines).rstrip() + "\n"


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
    """The README's results table, rebuilt from results/*.json."""
    return update_section(readme, "results", results_markdown(results_dir))
