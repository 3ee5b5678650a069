"""The experiment steps the notebooks share: seed, build, train, pick the best epoch on
validation, test. Notebooks configure and call these; they define no training code themselves."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .data.cache import SplitTensors
from .data.loader import COMBOS, BatchLoader
from .data.prepare import LoadedData
from .metrics import ClassificationReport, accuracy
from .seed import seed_everything
from .train import TrainConfig, evaluate, fit, history_best, pick_device, predict

EVAL_BATCH = 256


@dataclass
class RunResult:
    """One trained model: its history, best (validation) epoch and test-split report."""

    name: str
    history: list[dict]
    best_epoch: int
    test: ClassificationReport
    split: str  # the split `test` was measured on
    seconds: float
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"best_epoch": self.best_epoch, "split": self.split, "seconds": round(self.seconds, 1),
                **{k: round(v, 4) for k, v in self.test.as_dict().items()}}


def train_and_test(name: str, build: Callable[[], nn.Module], data: LoadedData, *, config: TrainConfig, batch_size: int,
                   seed: int, run_dir: Path | None, combo: str = "RGB", zero_fill: bool = False,
                   flip: bool = False, crop_pad: int = 0, with_channels: bool = False) -> tuple[nn.Module, RunResult]:
    """Seed, build, fit (best epoch by validation accuracy), then evaluate on the test split.

    combo="random" trains on a random channel subset per batch; validation and test then use RGB.
    with_channels passes the channel identities to the model (FlexConv with a channel table).
    """
    seed_everything(seed)
    model = build()
    eval_combo = "RGB" if combo == "random" else combo
    view = {"zero_fill": zero_fill, "with_channels": with_channels}
    train = BatchLoader(data.splits["train"], batch_size=batch_size, shuffle=True, seed=seed, combo=combo, flip=flip,
                        crop_pad=crop_pad, **view)
    val = BatchLoader(data.splits["val"], batch_size=EVAL_BATCH, combo=eval_combo, **view)
    t0 = time.perf_counter()
    history = fit(model, train, val, config=config, run_dir=run_dir / name if run_dir else None, name=name)
    test = evaluate(model, BatchLoader(data.splits[data.eval_split], batch_size=EVAL_BATCH, combo=eval_combo, **view),
                    num_classes=data.num_classes)
    return model, RunResult(name, history, history_best(history)["epoch"], test, data.eval_split, time.perf_counter() - t0)


def accuracy_by_combo(model: nn.Module, split: SplitTensors, *, zero_fill: bool, combos: tuple[str, ...] = COMBOS,
                      with_channels: bool = False, device: torch.device | None = None) -> dict[str, float]:
    """Accuracy on each channel combination: the present channels only (zero_fill=False) or
    zero-filled to 3 channels (zero_fill=True); with_channels also tells the model which they are."""
    device = device or pick_device()
    out = {}
    for combo in combos:
        loader = BatchLoader(split, batch_size=EVAL_BATCH, combo=combo, zero_fill=zero_fill, with_channels=with_channels)
        y, p, _ = predict(model, loader, device=device)
        out[combo] = accuracy(y, p)
    return out
