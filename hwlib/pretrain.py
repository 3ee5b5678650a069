"""`python -m hwlib.pretrain`: train every run of notebooks 01 and 02 into the run cache without
executing the notebooks, so that a later `make report` (or `python -m hwlib.runner --publish`) of
the same profile and data loads them instead of training. It calls the studies exactly as the
notebooks do (same data, settings, seeds and run folder), one run at a time, with one line per run.
It holds the runs folder's lock (:mod:`hwlib.run_lock`) as `make report` does: the two never train
into the same folder at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .config import Profile, resolve_profile
from .data.lists import DatasetError, open_dataset
from .data.prepare import LoadedData, resolve_data
from .paths import RUNS_DIR
from .run_context import RunContext, setup_run
from .run_lock import RunLocked, run_lock
from .studies.channels import run_channel_study
from .studies.dense import load_sweep_data, run_dense_study


def _data(run: RunContext) -> LoadedData:
    """The run's dataset (setup_run loads one unless told needs_data=False)."""
    if run.data is None:
        raise RuntimeError(f"notebook {run.notebook}: setup_run loaded no dataset")
    return run.data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwlib.pretrain", description=__doc__)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--data", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=["01", "02"], help="notebook prefixes: 01, 02")
    args = ap.parse_args(argv)
    prof = resolve_profile(args.profile)
    try:  # the folder setup_run trains into: runs/<data>-<profile>/ ($HWLIB_DATA wins, as there)
        spec = open_dataset(resolve_data(os.environ.get("HWLIB_DATA", args.data)))
        with run_lock(RUNS_DIR / f"{spec.name}-{prof.name}"):
            return _pretrain(args, prof)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except RunLocked as e:
        print(f"error: {e}", file=sys.stderr)
        return 3


def _pretrain(args: argparse.Namespace, prof: Profile) -> int:
    """Train notebooks 01 and 02's runs (the runs folder's lock is held)."""

    def log(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    if "01" in args.only:
        run = setup_run(notebook="01_flexconv", profile=prof.name, data=args.data, seed=args.seed, quiet=True)
        seeds = [args.seed + i for i in range(prof.channels.seeds)]
        run_channel_study(
            _data(run),
            settings=prof.channels,
            profile=prof.name,
            seeds=seeds,
            run_dir=run.checkpoints,
            train_per_class=prof.data.train_per_class,
            latency_repeats=0,
            log=log,
        )
    if "02" in args.only:
        run = setup_run(notebook="02_dense4_vs_resnet34", profile=prof.name, data=args.data, seed=args.seed, quiet=True)
        datasets = load_sweep_data(_data(run), settings=prof.dense, data=prof.data)
        seeds = [args.seed + i for i in range(prof.dense.seeds)]
        run_dense_study(
            datasets,
            settings=prof.dense,
            data_settings=prof.data,
            profile=prof.name,
            seeds=seeds,
            run_dir=run.checkpoints,
            log=log,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
