"""`python -m hwlib.pretrain`: train every run of notebooks 01 and 02 into the run cache without
executing the notebooks, so that a later `make report` (or `python -m hwlib.runner --publish`) of
the same profile and data loads them instead of training. It calls the studies exactly as the
notebooks do (same data, settings, seeds and run folder), one run at a time, with one line per run.
"""

from __future__ import annotations

import argparse
import sys
import time

from .config import resolve_profile
from .run_context import setup_run
from .studies.channels import run_channel_study
from .studies.dense import load_sweep_data, run_dense_study


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwlib.pretrain", description=__doc__)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--data", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=["01", "02"], help="notebook prefixes: 01, 02")
    args = ap.parse_args(argv)
    prof = resolve_profile(args.profile)

    def log(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    if "01" in args.only:
        run = setup_run(notebook="01_flexconv", profile=prof.name, data=args.data, seed=args.seed, quiet=True)
        seeds = [args.seed + i for i in range(prof.channels.seeds)]
        run_channel_study(
            run.data,
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
        datasets = load_sweep_data(run.data, settings=prof.dense, data=prof.data)
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
