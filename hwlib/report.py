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
from .paths import REPO_ROOT, RUNS_DIR, resolve_repo_path


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
        f"images per class, {profile.epochs} epochs, batch {profile.batch_size} (Dense4 {profile.dense4_batch_size}), "
        f"Adam lr {profile.lr:g} (Dense4 {profile.dense4_lr:g}), seed {seed}",
        data_summary,
        f"device: {device_name(device)}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in env.items()),
        f"outputs: {_rel(output_dir)}",
    ]
    return "\n".join(lines)


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


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
