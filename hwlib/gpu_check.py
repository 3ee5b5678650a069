"""`python -m hwlib.gpu_check` (`make gpu-check`): the CUDA paths against their CPU twins, in <= 10 minutes.

For a user with a CUDA GPU, before a `full` report. It checks, on the embedded dataset (or DATA):

1. loader: the device-resident loader (`BatchLoader(resident=True)`) and the streaming one
   (`resident=False`) give exactly the CPU loader's pixels and labels (flips, crops, random
   channel subsets included);
2. compile: the compiled training step (`start_training(compile_model=True)`) gives the eager
   step's losses within a tolerance, without falling back to eager;
3. bf16: training under bf16 autocast (what `fit` does on CUDA) runs steps with finite losses and
   bf16 logits;
4. bench: `python -m hwlib.bench --quick`'s measurements (skip with --no-bench);
5. full slice: a couple of runs of the `full` profile's notebook 02 plan (its models, 128 px, the
   strong recipe, its batch size), one epoch each over every training image.

It writes one JSON (through :func:`hwlib.publish.write_json`) with the device's name to
results/gpu_check.json (--out elsewhere) and exits 0 when every check passed, 1 otherwise. On a
machine without CUDA it stops at once with one line and exit code 2, and writes nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from functools import partial

import torch

from .config import PROFILES, RECIPES, TrainConfig
from .data.cache import load_split
from .data.lists import DatasetError, open_dataset
from .data.loader import BatchLoader
from .data.prepare import load_dataset, per_class_subset, resolve_data
from .data.split import SplitTensors
from .dense_models import dense4
from .device import device_name
from .paths import REPO_ROOT, display_path
from .publish import write_json
from .studies.dense import MODELS, PlannedRun, plan_runs, resolve_recipe
from .studies.runs import train_and_test
from .train import TrainingDiverged, start_training, train_step

DEFAULT_OUT = REPO_ROOT / "results" / "gpu_check.json"
COMPILE_RTOL = 0.05  # compiled vs eager loss, relative, per step (bf16 autocast: ~3 significant digits)
CHECK_STEPS = 5
NO_CUDA_EXIT = 2


def no_cuda_reason() -> str | None:
    """Why this machine cannot run the check (None: it can)."""
    if torch.cuda.is_available():
        return None
    built = torch.version.cuda or "none (a CPU-only build)"
    return (
        f"make gpu-check needs a CUDA GPU, and this machine has none that torch can use "
        f"(torch {torch.__version__}, built for CUDA {built}); nothing was run or written"
    )


def _same(a: torch.Tensor | tuple[torch.Tensor, ...], b: torch.Tensor | tuple[torch.Tensor, ...]) -> bool:
    """Equal values (on the CPU), for a tensor or a loader's (images, channel ids) pair."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and all(_same(u, v) for u, v in zip(a, b, strict=True))
    return torch.equal(a.cpu(), b.cpu())


def check_loader(split: SplitTensors, device: torch.device) -> dict:
    """Resident and streaming CUDA loaders against the CPU loader: equal pixels and labels, every batch."""

    def loader_on(dev: torch.device, resident: bool | None) -> BatchLoader:
        return BatchLoader(
            split,
            batch_size=32,
            shuffle=True,
            seed=3,
            flip=True,
            crop_pad=4,
            combo="random",
            zero_fill=True,
            device=dev,
            resident=resident,
        )

    cpu = list(loader_on(torch.device("cpu"), None))
    out: dict = {"batches": len(cpu)}
    for name, resident in (("resident", True), ("streaming", False)):
        loader = loader_on(device, resident)
        equal = [_same(x, cx) and _same(y, cy) for (x, y), (cx, cy) in zip(loader, cpu, strict=True)]
        out[name] = {"uses_resident": loader.uses_resident(), "equal_batches": sum(equal)}
    out["ok"] = (
        all(out[n]["equal_batches"] == len(cpu) for n in ("resident", "streaming")) and out["resident"]["uses_resident"]
    )
    return out


def _losses(split: SplitTensors, device: torch.device, *, compile_model: bool, num_classes: int) -> dict:
    notes: list[str] = []
    torch.manual_seed(0)
    model = dense4(num_classes=num_classes)
    loader = BatchLoader(split, batch_size=64, shuffle=True, seed=0, device=device, drop_last=True)
    state = start_training(
        model,
        config=TrainConfig(epochs=1),
        steps_per_epoch=len(loader),
        device=device,
        compile_model=compile_model,
        log=notes.append,
    )
    losses, dtypes = [], set()
    for (x, y), _ in zip(loader, range(CHECK_STEPS)):
        loss, logits = train_step(state, x, y)
        losses.append(float(loss))
        dtypes.add(str(logits.dtype).removeprefix("torch."))
    return {"losses": losses, "logits_dtype": sorted(dtypes), "compiled": state.compiled is not None, "notes": notes}


def check_compile_and_bf16(split: SplitTensors, device: torch.device, *, num_classes: int) -> tuple[dict, dict]:
    """(compile check, bf16 check): the same Dense4, weights and batches, eager and compiled."""
    t0 = time.perf_counter()
    eager = _losses(split, device, compile_model=False, num_classes=num_classes)
    compiled = _losses(split, device, compile_model=True, num_classes=num_classes)
    diffs = [abs(a - b) / max(abs(a), 1e-6) for a, b in zip(eager["losses"], compiled["losses"])]
    comp = {
        "eager_losses": eager["losses"],
        "compiled_losses": compiled["losses"],
        "max_relative_difference": max(diffs, default=math.inf),
        "rtol": COMPILE_RTOL,
        "compiled": compiled["compiled"],
        "notes": compiled["notes"],
        "seconds": time.perf_counter() - t0,
    }
    comp["ok"] = bool(compiled["compiled"] and diffs and comp["max_relative_difference"] <= COMPILE_RTOL)
    all_losses = eager["losses"] + compiled["losses"]
    bf16 = {
        "steps": len(all_losses),
        "finite": all(math.isfinite(v) for v in all_losses),
        "logits_dtype": sorted(set(eager["logits_dtype"]) | set(compiled["logits_dtype"])),
    }
    bf16["ok"] = bool(all_losses) and bf16["finite"] and bf16["logits_dtype"] == ["bfloat16"]
    return comp, bf16


def full_slice(data: str, *, runs: int, log) -> dict:
    """`runs` runs of the full profile's notebook 02 plan at its largest size (strong recipe, its
    batch size), one epoch each over every training image."""
    prof = PROFILES["full"]
    size = max(prof.dense.sizes)
    plan = [p for p in plan_runs(prof.dense, seeds=[0]) if p.image_size == size and p.recipe == "strong"]
    first: dict[str, PlannedRun] = {}
    for p in plan:
        first.setdefault(p.model, p)
    chosen = list(first.values())[:runs]  # each model's first run at that size
    loaded = load_dataset(data, size=size, eval_per_class=prof.data.eval_per_class)
    out: dict = {"profile": "full", "image_size": size, "data": loaded.name, "runs": []}
    for p in chosen:
        n_train = len(loaded.splits["train"])
        r = resolve_recipe(
            RECIPES[p.recipe],
            model=MODELS[p.model],
            settings=prof.dense,
            image_size=size,
            train_images=n_train,
            epochs=1,
        )
        t0 = time.perf_counter()
        try:
            _, run = train_and_test(
                f"gpu-check-{p.model}-{size}px-1ep",
                partial(MODELS[p.model].build, loaded.num_classes),
                loaded,
                config=r.config,
                batch_size=r.batch_size,
                seed=p.seed,
                run_dir=None,
                flip=r.flip,
                crop_pad=r.crop_pad,
                log=log,
            )
        except TrainingDiverged as e:
            out["runs"].append({"model": p.model, "ok": False, "error": str(e)})
            continue
        seconds = time.perf_counter() - t0
        loss = run.history[-1].get("train_loss", math.nan) if run.history else math.nan
        out["runs"].append(
            {
                "model": p.model,
                "recipe": p.recipe,
                "batch_size": r.batch_size,
                "train_images": run.train_images,
                "seconds": seconds,
                "train_images_per_s": run.train_images / seconds if seconds else None,
                "train_loss": loss,
                "test_accuracy": run.test.accuracy,
                "ok": math.isfinite(loss),
            }
        )
    out["ok"] = bool(out["runs"]) and all(r["ok"] for r in out["runs"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hwlib.gpu_check", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="", help="dataset folder or .zip (default: the embedded generated dataset)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="the results JSON (default: results/gpu_check.json)")
    ap.add_argument("--no-bench", action="store_true", help="skip hwlib.bench --quick's measurements")
    ap.add_argument("--runs", type=int, default=2, help="runs of the full profile's notebook 02 plan (default 2)")
    args = ap.parse_args(argv)
    reason = no_cuda_reason()
    if reason is not None:
        print(f"error: {reason}", file=sys.stderr)
        return NO_CUDA_EXIT
    device = torch.device("cuda")
    t_start = time.perf_counter()

    def log(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    try:
        spec = open_dataset(resolve_data(args.data))
        split = load_split(spec, "train", 64, samples=per_class_subset(spec.splits["train"], 32))
        result: dict = {"device": device_name(device), "gpu": torch.cuda.get_device_name(device)}
        result.update(torch=torch.__version__, cuda=torch.version.cuda, data=spec.name)
        result["loader"] = check_loader(split, device)
        log(f"loader: resident and streaming equal to the CPU loader: {result['loader']['ok']}")
        result["compile"], result["bf16"] = check_compile_and_bf16(split, device, num_classes=spec.num_classes)
        log(
            f"compile: max relative loss difference {result['compile']['max_relative_difference']:.2e}, "
            f"ok {result['compile']['ok']}; bf16: ok {result['bf16']['ok']}"
        )
        if not args.no_bench:
            from . import bench

            result["bench"] = bench.run(quick=True, data=args.data or None)
        result["full_slice"] = full_slice(args.data, runs=args.runs, log=log)
        log(f"full profile slice: {len(result['full_slice']['runs'])} runs, ok {result['full_slice']['ok']}")
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    checks = ("loader", "compile", "bf16", "full_slice")
    result["ok"] = all(result[c]["ok"] for c in checks)
    result["failed"] = [c for c in checks if not result[c]["ok"]]
    result["seconds"] = time.perf_counter() - t_start
    path = write_json(args.out, result)
    log(
        f"gpu check {'passed' if result['ok'] else 'FAILED: ' + ', '.join(result['failed'])} "
        f"in {result['seconds']:.0f} s on {result['gpu']} -> {display_path(path)}"
    )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
