"""hwlib.run_lock: one report per runs folder; a lock left by a killed process is taken over."""

import json
import subprocess
import sys
import time

import pytest

import hwlib.runner as runner
from hwlib.run_lock import LOCK_NAME, RunLocked, run_lock

HOLD = """
import sys, time
from hwlib.run_lock import run_lock
with run_lock(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def holder(tmp_path):
    """A child process holding the lock of tmp_path/runs/ds-smoke (as a running report would)."""
    folder = tmp_path / "runs" / "ds-smoke"
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    yield folder, child
    child.kill()
    child.wait(timeout=30)


def test_second_process_stops_at_once_naming_the_first(holder):
    folder, child = holder
    t0 = time.perf_counter()
    with pytest.raises(RunLocked) as e, run_lock(folder):
        pass
    assert time.perf_counter() - t0 < 5
    msg = str(e.value)
    assert "\n" not in msg and f"pid {child.pid}" in msg and "started" in msg and "kill" in msg


def test_second_runner_on_the_same_folder_exits_with_one_line(holder, list_dataset, tmp_path, monkeypatch, capsys):
    folder, child = holder  # list_dataset is named "ds": runs/ds-smoke is the held folder
    ran = []
    monkeypatch.setattr(runner, "run_notebook", lambda *a, **k: ran.append(a))
    monkeypatch.setattr(runner, "RUNS_DIR", folder.parent)
    monkeypatch.setattr(runner, "REPO_ROOT", tmp_path)
    monkeypatch.delenv("HWLIB_PROFILE", raising=False)
    assert runner.main(["--data", str(list_dataset), "--profile", "smoke", "--only", "03"]) == 3
    err = capsys.readouterr().err
    assert not ran and err.count("\n") == 1 and f"pid {child.pid}" in err and "Traceback" not in err


def test_stale_lock_of_a_dead_process_is_taken_over_with_a_note(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "runs" / "x"
    folder.mkdir(parents=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "started": "2026-01-01 00:00:00", "command": "x"}))
    notes: list[str] = []
    with run_lock(folder, log=notes.append) as path:
        held = json.loads(path.read_text())
        assert held["pid"] != dead.pid
    assert len(notes) == 1 and f"pid {dead.pid}" in notes[0]
    with run_lock(folder, log=notes.append):  # released cleanly: the next one takes it without a note
        pass
    assert len(notes) == 1
