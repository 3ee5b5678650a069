"""Child process for the resumable-report test: `python run_cache_child.py RUN_DIR OUT MODE [LR]`.

Trains three short runs through `train_and_test` into RUN_DIR, like a study in a notebook. MODE
"kill" SIGKILLs the process in the middle of run2's epoch 2; any other MODE runs to the end. OUT
gets, per run, its RunResult numbers, a hash of the returned weights and the test metrics the
returned model scores when evaluated again; plus the training steps taken and the seconds spent
(wall clock, and CPU time: what the test compares, as other processes may share the cores).
"""

import hashlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field

import torch
from conftest import random_split

import hwlib.train
from hwlib.data import BatchLoader, SplitTensors
from hwlib.models import cnn3
from hwlib.studies.runs import EVAL_BATCH, train_and_test
from hwlib.train import TrainConfig, evaluate

RUNS = ("run1", "run2", "run3")
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")  # not its timings


@dataclass
class TinyData:
    """What train_and_test needs of a LoadedData: name, size, classes, splits and the eval split."""

    name: str = "tiny"
    size: int = 24
    num_classes: int = 4
    eval_split: str = "test"
    splits: dict[str, SplitTensors] = field(
        default_factory=lambda: {
            "train": random_split(480, classes=4, seed=1),
            "val": random_split(24, classes=4, seed=2),
            "test": random_split(24, classes=4, seed=3),
        }
    )


def weights_hash(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode() + v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(run_dir: str, out: str, mode: str, lr: str = "3e-3") -> None:
    torch.set_num_threads(1)
    data = TinyData()
    current = {"name": None, "steps": 0, "in_epoch2": 0}
    step = hwlib.train.train_step

    def counting_step(state, x, y):
        current["steps"] += 1
        if mode == "kill" and current["name"] == "run2" and state.epoch == 1:
            current["in_epoch2"] += 1
            if current["in_epoch2"] == 3:  # run2's epoch 1 is saved; epoch 2 is lost after 2 of its steps
                os.kill(os.getpid(), signal.SIGKILL)
        return step(state, x, y)

    hwlib.train.train_step = counting_step  # train_one_epoch looks it up in hwlib.train
    results, t0, cpu0 = {}, time.perf_counter(), time.process_time()
    for i, name in enumerate(RUNS):
        current["name"] = name
        model, run = train_and_test(
            name,
            lambda: cnn3(num_classes=4, image_size=24),
            data,
            config=TrainConfig(epochs=3, lr=float(lr)),
            batch_size=8,
            seed=i,
            run_dir=run_dir,
            flip=name == "run3",
        )
        again = evaluate(model, BatchLoader(data.splits["test"], batch_size=EVAL_BATCH), num_classes=4)
        results[name] = {
            "best_epoch": run.best_epoch,
            "split": run.split,
            "test": run.test.as_dict(),
            "confusion": run.test.confusion.tolist(),
            "history": [
                {k: r[k] for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")} for r in run.history
            ],
            "weights": weights_hash(model),
            "reevaluated": {**again.as_dict(), "confusion": again.confusion.tolist()},
            "training": model.training,
        }
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    with open(out, "w") as f:
        json.dump({"runs": results, "steps": current["steps"], "seconds": seconds, "cpu_seconds": cpu_seconds}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
