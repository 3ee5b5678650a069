"""`python -m hwlib.runner`: regenerate the three notebooks headless with papermill (`make report`).

Without --publish, executed copies go to runs/<data>-<profile>/notebooks/ with their figures/ and
results/ beside them; the committed notebooks, figures/ and results/ are not touched. With
--publish, the committed notebooks are replaced by their executed versions (outputs and execution
counts kept, volatile metadata and the injected-parameters cell removed) and figures/ and
results/ are rewritten.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import nbformat

from .config import PROFILES
from .data.lists import DatasetError, open_dataset
from .data.prepare import resolve_data
from .paths import REPO_ROOT, RUNS_DIR, display_path
from .report import update_readme

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = ("01_flexconv.ipynb", "02_dense4_vs_resnet34.ipynb", "03_param_analysis.ipynb")
KERNEL = "python3"
VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")
VOLATILE_NB_KEYS = ("papermill", "widgets")


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes on every run but says nothing (timings, papermill bookkeeping, widget
    state, the injected-parameters cell); keep outputs and execution counts (nbval needs counts)."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        cell.pop("id", None)
    for key in VOLATILE_NB_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata.get("language_info", {}).pop("version", None)
    nb.nbformat_minor = 4
    return nb


def run_notebook(name: str, *, out_path: Path, parameters: dict) -> None:
    """Execute notebooks/<name> into out_path; raise SystemExit(1) naming the notebook and cell on failure."""
    import papermill as pm

    src = NOTEBOOK_DIR / name
    try:
        pm.execute_notebook(str(src), str(out_path), parameters=parameters, kernel_name=KERNEL,
                            cwd=str(NOTEBOOK_DIR), progress_bar=False, log_output=True)
    except pm.PapermillExecutionError as e:
        print(f"error: notebooks/{name} failed in cell [{e.exec_count}] (cell {e.cell_index}): {e.ename}: {e.evalue} "
              f"- the executed notebook with the traceback is at {out_path}", file=sys.stderr)
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwlib.runner", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    ap.add_argument("--data", default="", help="dataset folder or .zip (default: the embedded generated dataset)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--publish", action="store_true", help="rewrite the committed notebooks, figures/ and results/")
    ap.add_argument("--only", nargs="*", default=None, help="notebook prefixes to run, e.g. 01 03")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    os.environ["HWLIB_PROGRESS"] = "line"  # the kernels inherit it: one line per epoch, no widget bars
    if os.environ.get("HWLIB_PROFILE") and os.environ["HWLIB_PROFILE"] != args.profile:
        print(f"note: HWLIB_PROFILE={os.environ['HWLIB_PROFILE']} is set and overrides --profile {args.profile}")
    try:
        path = resolve_data(args.data)
        spec = open_dataset(path)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    data_param = str(path) if args.data else ""
    profile = os.environ.get("HWLIB_PROFILE") or args.profile
    base = REPO_ROOT if args.publish else RUNS_DIR / f"{spec.name}-{profile}"
    out_dir = NOTEBOOK_DIR if args.publish else base / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"PROFILE": args.profile, "DATA": data_param, "SEED": args.seed, "OUTPUT_DIR": str(base)}
    chosen = [n for n in NOTEBOOKS if not args.only or any(n.startswith(p) for p in args.only)]
    print(f"report: {len(chosen)} notebooks, profile {profile}, data {spec.name} ({display_path(path)}), seed {args.seed}, outputs in {base}")
    for name in chosen:
        t0 = time.perf_counter()
        target = out_dir / name
        tmp = target.with_suffix(".running.ipynb") if args.publish else target
        print(f"== {name}")
        run_notebook(name, out_path=tmp, parameters=params)
        if args.publish:
            nbformat.write(clean_notebook(nbformat.read(tmp, as_version=4)), target)
            tmp.unlink()
        print(f"== {name} done in {time.perf_counter() - t0:.0f} s -> {target.relative_to(REPO_ROOT)}")
    if args.publish:
        update_readme(REPO_ROOT / "README.md", REPO_ROOT / "results")
        print("README.md results table updated from results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
