"""The experiment steps both studies share: seed, build, train, pick the best epoch on
validation, test (resumable, :func:`train_and_test`); accuracy per channel combination. What a
study reports about its runs (costs, intervals, goals, results JSON) is in :mod:`.results`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.loader import COMBOS, BatchLoader
from ..data.prepare import LoadedData
from ..data.split import SplitTensors
from ..device import pick_device
from ..metrics import ClassificationMetrics, accuracy
from ..run_cache import RunFolder, data_identity, fresh_requested, model_signature, run_key
from ..seed import seed_everything
from ..train import TrainConfig, evaluate, fit, history_best, load_checkpoint, predict

EVAL_BATCH = 256


@dataclass
class RunResult:
    """One trained model: its history, best (validation) epoch and test-split metrics."""

    name: str
    history: list[dict]
    best_epoch: int
    test: ClassificationMetrics
    split: str  # the split `test` was measured on
    seconds: float

    def summary(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "split": self.split,
            "seconds": round(self.seconds, 1),
            **{k: round(v, 4) for k, v in self.test.as_dict().items()},
        }


def _run_record(run: RunResult) -> dict:
    """A tested run as plain JSON (`finished.json`); floats round-trip exactly."""
    return {
        "name": run.name,
        "history": run.history,
        "best_epoch": run.best_epoch,
        "split": run.split,
        "seconds": run.seconds,
        "test": {**run.test.as_dict(), "confusion": run.test.confusion.tolist()},
    }


def _run_from_record(rec: dict) -> RunResult:
    """The RunResult a `finished.json` was written from, number for number."""
    t = rec["test"]
    test = ClassificationMetrics(
        t["accuracy"],
        t["macro_precision"],
        t["macro_recall"],
        t["macro_f1"],
        np.asarray(t["confusion"], dtype=np.int64),
    )
    return RunResult(rec["name"], rec["history"], rec["best_epoch"], test, rec["split"], rec["seconds"])


def _run_folder(
    name: str, run_dir: Path, *, model: nn.Module, data: LoadedData, device: torch.device, settings: dict
) -> RunFolder:
    """`run_dir/name` with the run's key: name, settings (config, batch size, seed, view), data,
    model shapes and device type (run_key adds torch's version and hwlib's source hash; the profile
    is the folder's: runs/<data>-<profile>/checkpoints)."""
    parts = {
        "name": name,
        **settings,
        "eval_batch": EVAL_BATCH,
        "data": data_identity(data),
        "model": model_signature(model),
        "device": device.type,
    }
    return RunFolder(run_dir / name, run_key(parts), parts)


def train_and_test(
    name: str,
    build: Callable[[], nn.Module],
    data: LoadedData,
    *,
    config: TrainConfig,
    batch_size: int,
    seed: int,
    run_dir: Path | None,
    combo: str = "RGB",
    zero_fill: bool = False,
    flip: bool = False,
    crop_pad: int = 0,
    with_channels: bool = False,
) -> tuple[nn.Module, RunResult]:
    """Seed, build, fit (best epoch by validation accuracy), then evaluate on the test split.

    combo="random" trains on a random channel subset per batch; validation and test then use RGB.
    with_channels passes the channel identities to the model (FlexConv with a channel table).

    With a run_dir the run is resumable (see :mod:`hwlib.run_cache`): a finished run with the same
    key is loaded (the best epoch's weights and its recorded numbers; prints "<name>: loaded
    (finished)"), an interrupted one continues from its last.pt ("<name>: resumed from epoch E"),
    anything else (another key, or HWLIB_FRESH=1) is cleared and trained from scratch.
    """
    seed_everything(seed)
    model = build()
    device = pick_device()
    eval_combo = "RGB" if combo == "random" else combo
    view = {"zero_fill": zero_fill, "with_channels": with_channels, "device": device}
    folder = state = None
    if run_dir is not None:
        settings = {
            "config": asdict(config),
            "batch_size": batch_size,
            "seed": seed,
            "combo": combo,
            "zero_fill": zero_fill,
            "flip": flip,
            "crop_pad": crop_pad,
            "with_channels": with_channels,
        }
        folder = _run_folder(name, Path(run_dir), model=model, data=data, device=device, settings=settings)
        state = folder.prepare(fresh=fresh_requested())
    if folder is not None and state == "finished":
        model.to(device=device, memory_format=torch.channels_last)  # where fit leaves a model
        model.load_state_dict(load_checkpoint(folder.path / "best.pt", device)["model"])  # what fit returned
        model.eval()  # as evaluate leaves it
        print(f"{name}: loaded (finished)")
        return model, _run_from_record(folder.read_finished())
    train = BatchLoader(
        data.splits["train"],
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
        combo=combo,
        flip=flip,
        crop_pad=crop_pad,
        **view,
    )
    val = BatchLoader(data.splits["val"], batch_size=EVAL_BATCH, combo=eval_combo, **view)
    t0 = time.perf_counter()
    history = fit(
        model,
        train,
        val,
        config=config,
        run_dir=folder.path if folder else None,
        name=name,
        device=device,
        resume=state == "partial",
    )
    test = evaluate(
        model,
        BatchLoader(data.splits[data.eval_split], batch_size=EVAL_BATCH, combo=eval_combo, **view),
        num_classes=data.num_classes,
        device=device,
    )
    run = RunResult(name, history, history_best(history)["epoch"], test, data.eval_split, time.perf_counter() - t0)
    if folder is not None:
        folder.write_finished(_run_record(run))
    return model, run


def accuracy_by_combo(
    model: nn.Module,
    split: SplitTensors,
    *,
    zero_fill: bool,
    combos: tuple[str, ...] = COMBOS,
    with_channels: bool = False,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Accuracy on each channel combination: the present channels only (zero_fill=False) or
    zero-filled to 3 channels (zero_fill=True); with_channels also tells the model which they are."""
    device = device or pick_device()
    out = {}
    for combo in combos:
        loader = BatchLoader(
            split, batch_size=EVAL_BATCH, combo=combo, zero_fill=zero_fill, with_channels=with_channels
        )
        y, p, _ = predict(model, loader, device=device)
        out[combo] = accuracy(y, p)
    return out
