"""One report at a time per runs folder: `with run_lock(RUNS_DIR / "<data>-<profile>"): ...`.

`make report` (:mod:`hwlib.runner`) and :mod:`hwlib.pretrain` train into runs/<data>-<profile>/;
two of them at once on the same folder would write the same checkpoints. The lock is the file
`<folder>/.lock`, held with an exclusive `flock` for as long as the process runs (the kernel drops
it when the process dies, however it dies) and holding the holder's pid, start time and command.

- A second process on the same folder stops at once: :class:`RunLocked`, whose message is one line
  naming the running process (pid, start time, command) and what to do.
- A lock file left by a process that is gone (killed: its pid no longer runs, or its flock is
  free) is taken over, with a one-line note naming the process that left it.

On a system without `fcntl` (Windows) the pid alone decides whether the holder still runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class RunLocked(RuntimeError):
    """Another running process holds the runs folder's lock; the message is one line."""


def pid_running(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return True


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    try:
        info = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"unreadable": True}
    return info if isinstance(info, dict) else {"unreadable": True}


def _describe(info: dict) -> str:
    pid = info.get("pid", "?")
    started = info.get("started", "an unknown time")
    command = info.get("command")
    return f"pid {pid}, started {started}" + (f", command: {command}" if command else "")


def _locked_message(folder: Path, info: dict) -> str:
    pid = info.get("pid", "?")
    return (
        f"{folder} is in use by another report ({_describe(info)}); wait for it to finish, or stop it "
        f"(kill {pid}) and run again: finished runs are kept and an interrupted one resumes"
    )


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike, *, log: Callable[[str], object] = print) -> Iterator[Path]:
    """Hold `folder`'s lock for the duration of the block; raise :class:`RunLocked` at once when a
    running process holds it. Yields the lock file's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunLocked(_locked_message(folder, _read(fd))) from None
        previous = _read(fd)
        old_pid = previous.get("pid")
        if isinstance(old_pid, int) and old_pid != os.getpid():
            if fcntl is None and pid_running(old_pid):
                raise RunLocked(_locked_message(folder, previous))
            log(f"note: {path} was left by a process that is gone ({_describe(previous)}); taking it over")
        elif previous.get("unreadable"):
            log(f"note: {path} held no readable owner; taking it over")
        info = {
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300],
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (json.dumps(info) + "\n").encode())
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # empty: nobody holds it (the file stays: unlinking it would race)
    finally:
        os.close(fd)  # drops the flock


__all__ = ["LOCK_NAME", "RunLocked", "pid_running", "run_lock"]
