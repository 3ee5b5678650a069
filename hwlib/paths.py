"""Where the repository lives (hwlib is installed editable), so notebooks and CLIs agree on paths."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"  # generated data and caches (git-ignored)
RUNS_DIR = REPO_ROOT / "runs"  # checkpoints and non-published outputs (git-ignored)


def resolve_repo_path(path: str | Path) -> Path:
    """A user path: absolute as given, relative ones against the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (REPO_ROOT / p)


def display_path(path: str | Path) -> str:
    """A path as a reader of a report should see it: relative to the repository when that is
    short (data/synthetic10, ../shared/data/imagenette10, runs/x), else absolute."""
    rel = os.path.relpath(Path(path).resolve(), REPO_ROOT)
    return rel if rel.count("..") <= 2 else str(Path(path).resolve())
