"""Progress reporting: tqdm bars in interactive use, plain lines under papermill/nbval/CI.

`HWLIB_PROGRESS=line` (set by the report runner and `make test`) or a non-interactive CI
environment turns bars off; widget bars break papermill logs and bloat committed notebooks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tqdm.auto import tqdm


def bars_enabled() -> bool:
    mode = os.environ.get("HWLIB_PROGRESS", "").lower()
    if mode in ("line", "off", "none"):
        return False
    if mode == "bar":
        return True
    return not os.environ.get("CI")


class _Lines:
    """Stand-in for a bar: one line at every 25% of `total` (long jobs still show progress)."""

    def __init__(self, iterable=None, *, total: int | None = None, desc: str = "", **_):
        self.iterable, self.total, self.desc, self.n, self._next = iterable, total, desc, 0, 0.25

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.total and self.total >= 1000 and self.n >= self._next * self.total:
            print(f"{self.desc}: {self.n}/{self.total}", flush=True)
            while self._next * self.total <= self.n:
                self._next += 0.25

    def set_postfix(self, *_, **__) -> None:
        pass

    def close(self) -> None:
        pass


class _Silent(_Lines):
    """Stand-in for a bar that prints nothing (the caller prints its own summary line)."""

    def update(self, n: int = 1) -> None:
        self.n += n


def progress_bar(iterable=None, *, lines: bool = True, **kwargs):
    """A tqdm.auto bar, or when bars are off: a few plain lines (`lines=True`) or nothing."""
    if bars_enabled():
        return tqdm(iterable, file=sys.stderr, dynamic_ncols=True, **kwargs)
    return _Lines(iterable, **kwargs) if lines else _Silent(iterable, **kwargs)


class RunLog:
    """A `log` callable for the studies: every line (one per training run) goes to a file under the
    run folder instead of the notebook; the study's result carries the counts a notebook prints."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")

    def __call__(self, line: str) -> None:
        with open(self.path, "a") as f:
            f.write(line + "\n")
