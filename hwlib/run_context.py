"""One call that sets a notebook up: `setup_run(...)` resolves the profile, loads the data, picks
the device, makes the output folders, sets the plot theme and prints what ran (the first output of
every notebook: profile, dataset, device, versions, where the outputs go)."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torchvision

from . import plots
from .config import Profile, resolve_profile
from .data.prepare import LoadedData, load_dataset
from .device import device_name, pick_device
from .paths import RUNS_DIR, display_path, resolve_repo_path


def environment() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


@dataclass
class RunContext:
    """What a notebook works with: its profile, data, device and folders."""

    notebook: str
    profile: Profile
    seed: int
    data: LoadedData | None  # None for a notebook that needs no dataset
    device: torch.device
    base: Path  # OUTPUT_DIR, else runs/<data>-<profile>/
    figures: Path  # base/figures
    results: Path  # base/results
    checkpoints: Path  # always under runs/, never in the published folders

    def _study_settings(self) -> list[str]:
        """The settings of this notebook's study only (never another notebook's)."""
        by_prefix = {"01": self.profile.describe_channels, "02": self.profile.describe_dense}
        describe = by_prefix.get(self.notebook[:2])
        return [describe()] if describe else []

    def describe(self) -> str:
        data = (
            self.data.summary()
            if self.data is not None
            else "dataset: none (closed-form arithmetic and torchinfo on random weights; "
            "independent of PROFILE and DATA)"
        )
        env = environment()
        return "\n".join(
            [
                f"notebook {self.notebook}: {self.profile.describe()}; seed {self.seed}",
                *self._study_settings(),
                data,
                f"device: {device_name(self.device)}",
                "versions: " + ", ".join(f"{k} {v}" for k, v in env.items()),
                f"outputs: {display_path(self.base)}",
            ]
        )


def output_dirs(output_dir: str | Path | None, *, data_name: str, profile: str) -> tuple[Path, Path, Path]:
    """(base, figures, results): the given OUTPUT_DIR, else runs/<data>-<profile>/."""
    base = resolve_repo_path(output_dir) if output_dir else RUNS_DIR / f"{data_name}-{profile}"
    figures, results = base / "figures", base / "results"
    figures.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    return base, figures, results


def setup_run(
    *,
    notebook: str,
    profile: str,
    data: str,
    seed: int,
    output_dir: str = "",
    needs_data: bool = True,
    quiet: bool = False,
) -> RunContext:
    """Set a notebook up from its parameters (PROFILE, DATA, SEED, OUTPUT_DIR) and print what ran.

    Every training image is loaded: each seed draws its own `train_per_class` subset from them.

    $HWLIB_PROFILE, $HWLIB_DATA and $HWLIB_OUTPUT_DIR, when set (the last two may be empty: the
    embedded dataset; runs/<data>-<profile>/), win over the notebook's PROFILE, DATA and OUTPUT_DIR:
    nbval cannot inject parameters and re-runs the committed notebooks, whose injected parameters
    name the published folders, so `make test` sets all three (its smoke outputs go under runs/).
    """
    prof = resolve_profile(profile)
    data = os.environ.get("HWLIB_DATA", data)
    output_dir = os.environ.get("HWLIB_OUTPUT_DIR", output_dir)
    loaded = (
        load_dataset(data, size=prof.data.image_size, eval_per_class=prof.data.eval_per_class) if needs_data else None
    )
    name = loaded.name if loaded is not None else "params"
    base, figures, results = output_dirs(output_dir, data_name=name, profile=prof.name)
    ctx = RunContext(
        notebook,
        prof,
        seed,
        loaded,
        pick_device(),
        base,
        figures,
        results,
        RUNS_DIR / f"{name}-{prof.name}" / "checkpoints",
    )
    plots.set_theme()
    pd.set_option("display.max_colwidth", None)  # tables never cut a description short
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", 200)
    if not quiet:
        print(ctx.describe())
    return ctx


__all__ = ["RunContext", "environment", "output_dirs", "setup_run"]
