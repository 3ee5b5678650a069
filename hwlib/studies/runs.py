"""The experiment steps both studies share: seed, draw the seed's training subset, build, train,
pick the best epoch on validation, test (resumable, :func:`train_and_test`); which test images a
model gets right on each channel combination (:func:`correct_by_combo`).

This module decides a run's numbers, so it is one of the run key's sources
(:data:`hwlib.run_cache.TRAINING_SOURCES`); what a study reports about its runs is elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from ..data.loader import ALL, COMBOS, RANDOM, BatchLoader
from ..data.prepare import LoadedData
from ..data.split import SplitTensors
from ..device import pick_device
from ..metrics import ClassificationMetrics, classification_metrics
from ..run_cache import TRAINING_SOURCES, RunFolder, data_identity, fresh_requested, model_signature, run_key
from ..seed import seed_everything
from ..train import TrainConfig, fit, history_best, load_checkpoint, predict

EVAL_BATCH = 256
RunSource = Literal["trained", "resumed", "loaded"]  # how a run's numbers came to be here


def pack_bits(correct: np.ndarray) -> str:
    """(N,) booleans as a hex string (4 images per digit, first image in the top bit), for JSON."""
    bits = np.packbits(np.asarray(correct, dtype=bool))
    return f"{len(correct)}:" + bits.tobytes().hex()


def unpack_bits(text: str) -> np.ndarray:
    """The (N,) booleans :func:`pack_bits` wrote."""
    n, hexdigits = text.split(":", 1)
    return np.unpackbits(np.frombuffer(bytes.fromhex(hexdigits), dtype=np.uint8))[: int(n)].astype(bool)


@dataclass
class RunResult:
    """One trained model: its history, best (validation) epoch, test-split metrics and which test
    images it got right."""

    name: str
    history: list[dict]
    best_epoch: int
    test: ClassificationMetrics
    split: str  # the split `test` was measured on
    seconds: float  # wall time of training and testing (on a shared machine: not a speed figure)
    correct: np.ndarray  # (N,) bool: test image i classified correctly
    predicted: np.ndarray  # (N,) int: the label predicted for test image i
    train_images: int  # size of this seed's training subset
    source: RunSource = "trained"

    @property
    def steps(self) -> int:
        """Optimizer steps taken (sum over epochs of the batches seen)."""
        return int(sum(h.get("steps", 0) for h in self.history))

    def summary(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "split": self.split,
            "seconds": round(self.seconds, 1),
            "train_images": self.train_images,
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
        "train_images": run.train_images,
        "correct": pack_bits(run.correct),
        "predicted": run.predicted.tolist(),
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
    return RunResult(
        rec["name"],
        rec["history"],
        rec["best_epoch"],
        test,
        rec["split"],
        rec["seconds"],
        unpack_bits(rec["correct"]),
        np.asarray(rec["predicted"], dtype=np.int64),
        rec["train_images"],
        "loaded",
    )


def _run_folder(
    name: str,
    run_dir: Path,
    *,
    model: nn.Module,
    data: LoadedData,
    device: torch.device,
    settings: dict,
    sources: tuple[str, ...],
) -> RunFolder:
    """`run_dir/name` with the run's key: name, settings (config, batch size, seed, subset, view),
    data, model shapes and device type (run_key adds torch's version and hwlib's source hash; the
    profile is the folder's: runs/<data>-<profile>/checkpoints)."""
    parts = {
        "name": name,
        **settings,
        "eval_batch": EVAL_BATCH,
        "data": data_identity(data),
        "model": model_signature(model),
        "device": device.type,
    }
    return RunFolder(run_dir / name, run_key(parts, sources=sources), parts)


def train_and_test(
    name: str,
    build: Callable[[], nn.Module],
    data: LoadedData,
    *,
    config: TrainConfig,
    batch_size: int,
    seed: int,
    run_dir: Path | None,
    train_per_class: int | None = None,
    combo: str = "RGB",
    val_combo: str | None = None,
    zero_fill: bool = False,
    flip: bool = False,
    crop_pad: int = 0,
    with_channels: bool = False,
    sources: tuple[str, ...] = TRAINING_SOURCES,
    log: Callable[[str], object] = print,
) -> tuple[nn.Module, RunResult]:
    """Seed, draw this seed's training subset (`train_per_class` images per class, None: all),
    build, fit (best epoch by validation accuracy), then evaluate on the test split.

    combo="random" trains on a random channel subset per batch, combo="all" on all seven
    combinations every batch (joint training); the test split is then read on RGB (the study scores
    every combination itself with :func:`correct_by_combo`). val_combo: what the best epoch is chosen
    on (None: the training combination, RGB for "random" and "all"); "all" chooses it on the mean of
    the seven combinations' validation accuracies.
    with_channels passes the channel identities to the model (FlexConv with a channel table).
    sources: the hwlib modules the run key hashes (the study's: run_cache.CHANNEL_SOURCES or
    DENSE_SOURCES; default every training source).

    With a run_dir the run is resumable (see :mod:`hwlib.run_cache`): a finished run with the same
    key is loaded (the best epoch's weights and its recorded numbers; `log` gets "<name>: loaded
    (finished)"), an interrupted one continues from its last.pt, anything else (another key, or
    HWLIB_FRESH=1) is cleared and trained from scratch. The returned run's `source` says which.
    """
    seed_everything(seed)
    train_split = data.splits["train"].per_class_sample(train_per_class, seed=seed)
    model = build()
    device = pick_device()
    eval_combo = "RGB" if combo in (RANDOM, ALL) else combo
    val_combo = val_combo or eval_combo
    view = {"zero_fill": zero_fill, "with_channels": with_channels, "device": device}
    folder = state = None
    if run_dir is not None:
        settings = {
            "config": asdict(config),
            "batch_size": batch_size,
            "seed": seed,
            "train_per_class": train_per_class,
            "combo": combo,
            "val_combo": val_combo,
            "zero_fill": zero_fill,
            "flip": flip,
            "crop_pad": crop_pad,
            "with_channels": with_channels,
        }
        folder = _run_folder(
            name, Path(run_dir), model=model, data=data, device=device, settings=settings, sources=sources
        )
        state = folder.prepare(fresh=fresh_requested())
    if folder is not None and state == "finished":
        model.to(device=device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch stubs: no overload with both  # where fit leaves a model
        model.load_state_dict(load_checkpoint(folder.path / "best.pt", device)["model"])  # what fit returned
        model.eval()  # as evaluate leaves it
        log(f"{name}: loaded (finished)")
        return model, _run_from_record(folder.read_finished())
    train = BatchLoader(
        train_split,
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
        combo=combo,
        flip=flip,
        crop_pad=crop_pad,
        **view,  # type: ignore[arg-type]  # view is a dict[str, object] to mypy
    )
    val = BatchLoader(data.splits["val"], batch_size=EVAL_BATCH, combo=val_combo, **view)  # type: ignore[arg-type]  # (as above)
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
        log=log,
    )
    for row in history:  # steps per epoch, for budget tables (every epoch sees the whole subset)
        row.setdefault("steps", len(train))
    y_true, y_pred, _ = predict(
        model, BatchLoader(data.splits[data.eval_split], batch_size=EVAL_BATCH, combo=eval_combo, **view),  # type: ignore[arg-type]  # (as above)
        device=device,
    )  # fmt: skip
    run = RunResult(
        name,
        history,
        history_best(history)["epoch"],
        classification_metrics(y_true, y_pred, data.num_classes),
        data.eval_split,
        time.perf_counter() - t0,
        y_true == y_pred,
        y_pred.astype(np.int64),
        len(train_split),
        "resumed" if state == "partial" else "trained",
    )
    if folder is not None:
        folder.write_finished(_run_record(run))
    return model, run


def correct_by_combo(
    model: nn.Module,
    split: SplitTensors,
    *,
    zero_fill: bool,
    combos: tuple[str, ...] = COMBOS,
    with_channels: bool = False,
    device: torch.device | None = None,
) -> dict[str, np.ndarray]:
    """combo -> (N,) bool, test image i classified correctly, given the present channels only
    (zero_fill=False) or zero-filled to 3 channels (zero_fill=True); with_channels also tells the
    model which channels they are."""
    device = device or pick_device()
    out = {}
    for combo in combos:
        loader = BatchLoader(
            split, batch_size=EVAL_BATCH, combo=combo, zero_fill=zero_fill, with_channels=with_channels
        )
        y, p, _ = predict(model, loader, device=device)
        out[combo] = y == p
    return out


__all__ = ["EVAL_BATCH", "RunResult", "RunSource", "correct_by_combo", "pack_bits", "train_and_test", "unpack_bits"]
