"""`python -m hwlib.course_dry_run [--steps 150] [--batch 8]` (`make dry-run-course`): the course's
own scale on the CPU, end to end, with time and memory per stage.

The course's 50-class lists (63,325 train, 450 val, 450 test lines, CRLF; ../shared/data/ncku50)
are laid out under data/ncku50-dryrun/ with every listed image path a hard link to its class's one
real sample photo (`images/<wnid>/<wnid>_sample.JPEG`; copied once, linked ~1,300 times). Then:

1. `check` (every listed file opened and decoded, as `python -m hwlib.data check` does);
2. the 128 px uint8 cache of every split (the train split is 3.1 GB on disk, memory-mapped);
3. a few hundred training steps of Dense4 (`hwlib.train.train_step`, Adam) from that cache.

It reports each stage's wall time, the peak RSS of this process and of the decode workers
(`resource.getrusage`), the peak anonymous (heap) memory sampled from /proc/self/status -
memory-mapped cache pages are file-backed, so the anonymous figure shows what is really held in
RAM - and the cache's size on disk; and writes them to runs/course_dry_run.json. The numbers mean
time and memory, not accuracy: each class is one photo repeated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .data.cache import cache_key, default_cache_dir, load_split
from .data.check import check_dataset
from .data.lists import SPLITS, DatasetError, open_dataset
from .data.loader import BatchLoader
from .dense_models import dense4
from .device import device_name
from .paths import DATA_DIR, REPO_ROOT, RUNS_DIR, display_path
from .train import TrainConfig, start_training, to_device, train_step

LISTS_DIR = REPO_ROOT.parent / "shared" / "data" / "ncku50"
OUT_DIR = DATA_DIR / "ncku50-dryrun"
REPORT = RUNS_DIR / "course_dry_run.json"
LIST_FILES = ("train.txt", "val.txt", "test.txt")
SAMPLES = "_samples"  # inside the built dataset: the 50 photos every listed path links to
GIB = 2**30


def _status_kib() -> dict[str, int]:
    """VmRSS, RssAnon and RssFile of this process in KiB (empty where /proc is absent)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


class MemoryWatch:
    """Samples /proc/self/status every `every` s in a thread; the peak of each figure since the last
    :meth:`reset` (one stage) and overall."""

    def __init__(self, every: float = 0.2):
        self.every = every
        self.stage: dict[str, int] = {}  # figure -> peak KiB since the last reset
        self.overall: dict[str, int] = {}  # figure -> peak KiB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for k, v in _status_kib().items():
            self.stage[k] = max(self.stage.get(k, 0), v)
            self.overall[k] = max(self.overall.get(k, 0), v)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def start(self) -> MemoryWatch:
        self._sample()
        self._thread.start()
        return self

    def reset(self) -> dict[str, int]:
        """End a stage: its peaks (KiB), and start counting the next one."""
        self._sample()
        stage, self.stage = self.stage, {}
        return stage

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def peak_rss_gib() -> tuple[float, float]:
    """(this process, the largest child process) peak resident set size in GiB (getrusage; KiB on Linux)."""
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / GIB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / GIB
    return own, children


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_bytes().decode().splitlines() if line.strip()]


def build_dataset(*, lists: Path, out: Path) -> dict:
    """Lay the course's lists out under `out`: list files copied byte for byte, every listed path a
    hard link (a copy where links are refused) to its class's sample photo. Idempotent."""
    samples = {}
    for line in _read_lines(lists / "sample.txt"):
        rel = line.rsplit(maxsplit=1)[0]
        samples[Path(rel).parent.name] = lists / rel  # wnid -> images/<wnid>/<wnid>_sample.JPEG
    src_dir = out / SAMPLES
    src_dir.mkdir(parents=True, exist_ok=True)
    for photo in samples.values():
        target = src_dir / photo.name
        if not target.exists():
            shutil.copyfile(photo, target)
    linked = existing = 0
    for name in LIST_FILES:
        for line in _read_lines(lists / name):
            rel = line.rsplit(maxsplit=1)[0]
            wnid = Path(rel).parent.name
            if wnid not in samples:
                raise DatasetError(f"{lists / name}: no sample photo for class folder {wnid!r} ({rel})")
            dest = out / rel
            if dest.exists():
                existing += 1
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src_dir / samples[wnid].name, dest)
            except OSError:
                shutil.copyfile(src_dir / samples[wnid].name, dest)
            linked += 1
        shutil.copyfile(lists / name, out / name)  # CRLF kept
    for extra in ("classes.txt",):
        if (lists / extra).exists():
            shutil.copyfile(lists / extra, out / extra)
    return {"linked": linked, "already_there": existing, "photos": len(samples)}


def _dir_bytes(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


@dataclass
class DryRun:
    """What the dry run measured, stage by stage."""

    machine: dict
    stages: dict[str, dict] = field(default_factory=dict)

    def add(self, name: str, seconds: float, memory: dict[str, int], **extra) -> None:
        own, children = peak_rss_gib()
        self.stages[name] = {
            "seconds": round(seconds, 1),
            "peak_rss_gib_so_far": round(own, 2),
            "peak_worker_rss_gib_so_far": round(children, 2),
            "peak_vmrss_gib": round(memory.get("VmRSS", 0) / 2**20, 2),
            "peak_anon_gib": round(memory.get("RssAnon", 0) / 2**20, 2),
            "peak_file_backed_gib": round(memory.get("RssFile", 0) / 2**20, 2),
            **extra,
        }
        s = self.stages[name]
        print(
            f"[{name}] {s['seconds']:.1f} s; peak RSS {s['peak_vmrss_gib']:.2f} GiB "
            f"(anonymous {s['peak_anon_gib']:.2f}, file-backed {s['peak_file_backed_gib']:.2f})"
            + "".join(f"; {k} {v}" for k, v in extra.items()),
            flush=True,
        )


def run(*, lists: Path, out: Path, cache_dir: Path, steps: int, batch: int, size: int) -> DryRun:
    """The four stages (build, check, cache, train); prints a line per stage, returns the numbers."""
    torch.manual_seed(0)
    dry = DryRun(
        {
            "device": device_name(torch.device("cpu")),
            "cpus": os.cpu_count(),
            "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
            "python": platform.python_version(),
            "torch": torch.__version__,
        }
    )
    watch = MemoryWatch().start()
    try:
        t0 = time.perf_counter()
        built = build_dataset(lists=lists, out=out)
        dry.add("build", time.perf_counter() - t0, watch.reset(), **built)

        t0 = time.perf_counter()
        summary = check_dataset(out)
        print(summary.summary(), flush=True)
        dry.add("check", time.perf_counter() - t0, watch.reset(), decoded=summary.decoded)

        t0 = time.perf_counter()
        spec = open_dataset(out)
        splits, files = {}, []
        for split in SPLITS:
            if split in spec.splits:
                splits[split] = load_split(spec, split, size, cache_dir=cache_dir)
                key = cache_key(spec, split, spec.splits[split], size)
                files.append(cache_dir / f"{spec.name}-{split}-{size}px-{key}.npy")
        cache_gb = _dir_bytes(files) / 1e9
        dry.add(
            "cache",
            time.perf_counter() - t0,
            watch.reset(),
            cache_gb=round(cache_gb, 2),
            images={k: len(v) for k, v in splits.items()},
        )

        t0 = time.perf_counter()
        cpu = torch.device("cpu")
        loader = BatchLoader(splits["train"], batch_size=batch, shuffle=True, flip=True, crop_pad=size // 8, device=cpu)
        model = dense4(num_classes=spec.num_classes)
        state = start_training(model, config=TrainConfig(), steps_per_epoch=len(loader), device=cpu)
        state.model.train()
        it, first, timed = iter(loader), 0.0, 0.0
        for step in range(steps):
            ts = time.perf_counter()
            x, y = to_device(*next(it), cpu)
            train_step(state, x, y)
            if step == 0:
                first = time.perf_counter() - ts
            else:
                timed += time.perf_counter() - ts
        images_per_s = (steps - 1) * batch / timed if steps > 1 else 0.0
        dry.add(
            "train",
            time.perf_counter() - t0,
            watch.reset(),
            steps=steps,
            batch=batch,
            images_per_s=round(images_per_s, 2),
            first_step_s=round(first, 2),
        )
    finally:
        watch.stop()
    own, children = peak_rss_gib()
    dry.stages["total"] = {
        "seconds": round(sum(s["seconds"] for s in dry.stages.values()), 1),
        "peak_rss_gib": round(own, 2),
        "peak_worker_rss_gib": round(children, 2),
        "peak_anon_gib": round(watch.overall.get("RssAnon", 0) / 2**20, 2),
        "cache_gb": dry.stages["cache"]["cache_gb"],
    }
    return dry


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hwlib.course_dry_run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--steps", type=int, default=150, help="Dense4 training steps (about 2 s each at batch 8 here)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=128, help="image size of the cache and the training")
    ap.add_argument("--lists", default=str(LISTS_DIR), help="folder with the course's train/val/test.txt and samples")
    ap.add_argument("--out", default=str(OUT_DIR), help="where the linked dataset is built (git-ignored data/)")
    ap.add_argument("--cache-dir", default=None, help="uint8 cache folder (default: data/cache or $HWLIB_CACHE)")
    ap.add_argument("--report", default=str(REPORT), help="JSON with the measured numbers")
    args = ap.parse_args(argv)
    lists = Path(args.lists)
    if not all((lists / f).is_file() for f in (*LIST_FILES, "sample.txt")):
        print(
            f"error: the course's lists are not at {display_path(lists)} (train.txt, val.txt, test.txt, sample.txt; "
            "see ../shared/data/README.md): nothing to dry-run",
            file=sys.stderr,
        )
        return 1
    os.environ.setdefault("HWLIB_PROGRESS", "line")
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    try:
        dry = run(
            lists=lists, out=Path(args.out), cache_dir=cache_dir, steps=args.steps, batch=args.batch, size=args.size
        )
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    t = dry.stages["total"]
    print(
        f"course dry run: {t['seconds']:.0f} s in all; peak RSS {t['peak_rss_gib']:.2f} GiB (anonymous "
        f"{t['peak_anon_gib']:.2f} GiB; decode workers {t['peak_worker_rss_gib']:.2f} GiB); "
        f"cache {t['cache_gb']:.2f} GB on disk; {dry.machine['device']}"
    )
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"machine": dry.machine, "stages": dry.stages}, indent=2) + "\n")
    print(f"numbers written to {display_path(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
