"""The GPU run rehearsed on the CPU: `python -m hwlib.runner --profile rehearsal` (the full profile's
whole plan on a few images per class, one epoch) runs the three notebooks end to end.

Marked `rehearsal` (select with `-m rehearsal`, skip with `-m "not rehearsal"`); it takes minutes.
Its wall time and peak memory are printed (see them with -s) and recorded as test properties.
"""

import os
import resource
import shutil
import subprocess
import sys
import time

import pytest

from hwlib.config import PROFILES
from hwlib.paths import REPO_ROOT, RUNS_DIR
from hwlib.runner import NOTEBOOKS

pytestmark = pytest.mark.rehearsal

PUBLISHED = ("notebooks", "results", "figures")


def _published_state() -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for d in PUBLISHED for p in (REPO_ROOT / d).rglob("*") if p.is_file()}


def test_rehearsal_keeps_the_full_plan():
    full, reh = PROFILES["full"], PROFILES["rehearsal"]
    assert reh.dense.sizes == full.dense.sizes and reh.dense.models == full.dense.models
    assert reh.dense.budgets == full.dense.budgets and reh.dense.original_sizes == full.dense.original_sizes
    assert (reh.dense.batch_size, reh.dense.dense4_batch_size) == (full.dense.batch_size, full.dense.dense4_batch_size)
    assert reh.channels.batch_size == full.channels.batch_size and reh.data.image_size == full.data.image_size
    assert reh.data.train_per_class and reh.data.eval_per_class and reh.dense.epochs == reh.channels.epochs == 1
    assert reh.dense.train_per_class is None  # notebook 02 trains on the rehearsal's few images, not full's "all"
    assert reh.dense.speed_steps == 0 and full.dense.speed_steps > 0  # no minutes of 128 px timing
    assert reh.dense.latency_batches == () and full.dense.latency_batches


def test_rehearsal_report_runs_on_the_cpu(record_property):
    env = {k: v for k, v in os.environ.items() if k not in ("HWLIB_PROFILE", "HWLIB_DATA", "HWLIB_OUTPUT_DIR")}
    before = _published_state()
    t0 = time.perf_counter()
    try:
        r = subprocess.run(
            [sys.executable, "-m", "hwlib.runner", "--profile", "rehearsal", "--fresh"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    finally:  # its weights (about 1.5 GB, mostly ResNet34s) are not needed again: free the disk for later tests
        shutil.rmtree(RUNS_DIR / "synthetic10-rehearsal" / "checkpoints", ignore_errors=True)
    wall = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child process, Linux KiB
    record_property("rehearsal_wall_s", round(wall, 1))
    record_property("rehearsal_peak_rss_mib", round(peak_mib))
    print(f"rehearsal: {wall:.0f} s wall, peak memory {peak_mib:,.0f} MiB (largest child process)")
    assert r.returncode == 0, r.stderr[-3000:]
    out = RUNS_DIR / "synthetic10-rehearsal" / "notebooks"
    assert all((out / name).is_file() for name in NOTEBOOKS)
    assert _published_state() == before  # without --publish nothing published is touched
