"""`python -m hwlib.runner`: regenerate the three notebooks headless with papermill (`make report`).

Without --publish, executed copies go to runs/<data>-<profile>/notebooks/ with their figures/ and
results/ beside them; the committed notebooks, figures/ and results/ are not touched. With
--publish, the committed notebooks are replaced by their executed versions (outputs and execution
counts kept, volatile metadata and the injected-parameters cell removed) and figures/ and
results/ are rewritten.

Re-running the same command resumes: every training run whose folder under
runs/<data>-<profile>/checkpoints/ holds a finished run with the same key (profile, data, config,
hwlib's source; see :mod:`hwlib.run_cache`) is loaded instead of trained ("<name>: loaded
(finished)"), an interrupted one continues from its last epoch ("<name>: resumed from epoch E").
--fresh (`make report FRESH=1`) trains every run from scratch.

One report at a time per runs folder: the runner holds runs/<data>-<profile>/.lock (see
:mod:`hwlib.run_lock`); a second one on the same folder stops at once naming the first. A data
problem (a bad list line, a missing, undecodable or oversized image) is one `error:` line naming
the file and list line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

import nbformat

from .config import PROFILES
from .data.lists import DatasetError, DatasetSpec, open_dataset
from .data.prepare import resolve_data, show_warnings
from .paths import REPO_ROOT, RUNS_DIR, display_path
from .publish import update_readme
from .run_cache import FRESH_ENV
from .run_lock import RunLocked, run_lock

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
SUMMARY_NOTEBOOKS = ("01_flexconv.ipynb", "02_dense4_vs_resnet34.ipynb")  # open with a Summary of their study
NOTEBOOKS = ("01_flexconv.ipynb", "02_dense4_vs_resnet34.ipynb", "03_param_analysis.ipynb")
KERNEL = "python3"
VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")
VOLATILE_NB_KEYS = ("papermill", "widgets")


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes on every run but says nothing (timings, papermill bookkeeping, widget
    state); keep outputs, execution counts (nbval needs them) and papermill's injected-parameters
    cell, the record of the parameters the notebook ran with."""
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        cell.pop("id", None)
    for key in VOLATILE_NB_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata.get("language_info", {}).pop("version", None)
    nb.nbformat_minor = 4
    return nb


MAX_CELL_LINES = 40  # what a reader scrolls past in one code cell's printed output
ABSOLUTE_PATH_MARKERS = ("/work/", "/home/", "/root/", "/tmp/", "/Users/", "C:\\")


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/markdown") or data.get("text/plain") or ""


def output_problems(nb: nbformat.NotebookNode, *, name: str, summary: bool) -> list[str]:
    """What a reader should not meet in an executed notebook: a code cell printing more than
    MAX_CELL_LINES lines, a warning on stderr, a machine's absolute path; and (summary=True) a
    missing Summary display, or one without numbers."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        printed = sum(
            o.get("text", "").count("\n") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
        )
        if printed > MAX_CELL_LINES:
            problems.append(f"{name} cell {i}: prints {printed} lines (at most {MAX_CELL_LINES})")
        for o in cell.get("outputs", []):
            text = _output_text(o)
            if o.get("name") == "stderr" and "Warning" in text:
                problems.append(f"{name} cell {i}: a warning on stderr: {text.strip().splitlines()[0][:120]}")
            if any(m in text for m in ABSOLUTE_PATH_MARKERS):
                problems.append(f"{name} cell {i}: output shows an absolute path")
    if summary:
        shown = [_output_text(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        summaries = [t for t in shown if t.startswith("**Summary**")]
        if not summaries:
            problems.append(f"{name}: no Summary display")
        elif not re.search(r"\d\.\d{3}", summaries[0]) or "filled in" in summaries[0]:
            problems.append(f"{name}: the Summary carries no numbers from this run")
    return problems


def run_notebook(name: str, *, out_path: Path, parameters: dict) -> None:
    """Execute notebooks/<name> into out_path; raise SystemExit(1) naming the notebook and cell on failure."""
    import papermill as pm

    src = NOTEBOOK_DIR / name
    try:
        pm.execute_notebook(
            str(src),
            str(out_path),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(NOTEBOOK_DIR),
            progress_bar=False,
            log_output=True,
        )
    except pm.PapermillExecutionError as e:
        if e.ename == "DatasetError":  # a data problem: its one line names the file and list line
            print(f"error: {e.evalue} (in notebooks/{name})", file=sys.stderr)
            raise SystemExit(1) from None
        print(
            f"error: notebooks/{name} failed in cell [{e.exec_count}] (cell {e.cell_index}): {e.ename}: {e.evalue} "
            f"- the executed notebook with the traceback is at {out_path}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hwlib.runner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    ap.add_argument("--data", default="", help="dataset folder or .zip (default: the embedded generated dataset)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--publish", action="store_true", help="rewrite the committed notebooks, figures/ and results/")
    ap.add_argument("--only", nargs="*", default=None, help="notebook prefixes to run, e.g. 01 03")
    ap.add_argument(
        "--fresh", action="store_true", help="train every run from scratch (default: load finished runs, resume others)"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    os.environ["HWLIB_PROGRESS"] = "line"  # the kernels inherit it: one line per epoch, no widget bars
    os.environ[FRESH_ENV] = "1" if args.fresh else "0"  # and this: resume (default) or start clean
    if os.environ.get("HWLIB_PROFILE") and os.environ["HWLIB_PROFILE"] != args.profile:
        print(f"note: HWLIB_PROFILE={os.environ['HWLIB_PROFILE']} is set and overrides --profile {args.profile}")
    try:
        path = resolve_data(args.data)
        spec = open_dataset(path)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    show_warnings(spec)
    profile = os.environ.get("HWLIB_PROFILE") or args.profile
    runs_folder = RUNS_DIR / f"{spec.name}-{profile}"  # checkpoints go here even with --publish
    try:
        with run_lock(runs_folder):
            return _report(args, spec=spec, path=path, profile=profile, runs_folder=runs_folder)
    except RunLocked as e:
        print(f"error: {e}", file=sys.stderr)
        return 3


def _report(args: argparse.Namespace, *, spec: DatasetSpec, path: Path, profile: str, runs_folder: Path) -> int:
    """Run the chosen notebooks (the runs folder's lock is held)."""
    data_param = display_path(path) if args.data else ""  # relative to the repository where it can be
    base = REPO_ROOT if args.publish else runs_folder
    out_dir = NOTEBOOK_DIR if args.publish else base / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    # What the injected-parameters cell records: the profile that runs and repository-relative paths
    params = {"PROFILE": profile, "DATA": data_param, "SEED": args.seed, "OUTPUT_DIR": display_path(base)}
    chosen = [n for n in NOTEBOOKS if not args.only or any(n.startswith(p) for p in args.only)]
    runs = "--fresh: every run from scratch" if args.fresh else "finished runs loaded, interrupted ones resumed"
    print(
        f"report: {len(chosen)} notebooks, profile {profile}, data {spec.name} ({display_path(path)}), "
        f"seed {args.seed}, outputs in {base}; {runs}"
    )
    problems: list[str] = []
    for name in chosen:
        t0 = time.perf_counter()
        target = out_dir / name
        tmp = target.with_suffix(".running.ipynb") if args.publish else target
        print(f"== {name}")
        run_notebook(name, out_path=tmp, parameters=params)
        executed = nbformat.read(tmp, as_version=4)
        problems += output_problems(executed, name=name, summary=name in SUMMARY_NOTEBOOKS)
        if args.publish:
            nbformat.write(clean_notebook(executed), target)
            tmp.unlink()
        print(f"== {name} done in {time.perf_counter() - t0:.0f} s -> {target.relative_to(REPO_ROOT)}")
    if args.publish:
        update_readme(REPO_ROOT / "README.md", REPO_ROOT / "results")
        print("README.md results table updated from results/")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
