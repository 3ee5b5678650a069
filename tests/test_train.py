import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hwlib.data import BatchLoader, SplitTensors
from hwlib.metrics import accuracy, classification_report, confusion_matrix
from hwlib.models import cnn3, flex_cnn
from hwlib.seed import seed_everything
from hwlib.train import TrainConfig, TrainingDiverged, fit, load_checkpoint

KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_s"}


def tiny_data(n: int = 24, classes: int = 3, size: int = 24) -> SplitTensors:
    g = torch.Generator().manual_seed(0)
    return SplitTensors(torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g),
                        torch.arange(n) % classes)


def test_one_batch_fit_returns_history_and_checkpoints(tmp_path):
    seed_everything(0)
    data = tiny_data(8)
    model = flex_cnn(num_classes=3, image_size=24)
    history = fit(model, BatchLoader(data, batch_size=8, shuffle=True), BatchLoader(data, batch_size=8),
                  config=TrainConfig(epochs=1), run_dir=tmp_path, name="t")
    assert len(history) == 1 and set(history[0]) == KEYS
    assert history[0]["images_per_s"] > 0 and 0 <= history[0]["val_acc"] <= 1
    ck = load_checkpoint(tmp_path / "last.pt")  # weights_only=True
    assert ck["epoch"] == 1 and ck["history"][0]["train_loss"] == history[0]["train_loss"]
    assert (tmp_path / "best.pt").exists() and not list(tmp_path.glob(".*tmp*"))


def test_training_learns_a_separable_problem():
    seed_everything(0)
    x = torch.zeros(64, 3, 24, 24, dtype=torch.uint8)
    y = torch.arange(64) % 2
    x[y == 1, 0] = 255  # class 1: red
    data = SplitTensors(x, y)
    model = cnn3(num_classes=2, image_size=24)
    history = fit(model, BatchLoader(data, batch_size=16, shuffle=True), BatchLoader(data, batch_size=64),
                  config=TrainConfig(epochs=6, lr=3e-3), name="sep")
    assert history[-1]["val_acc"] == 1.0


def test_resume_gives_the_same_history_and_weights(tmp_path):
    data = tiny_data(24)

    def run(epochs, run_dir, resume=False):
        seed_everything(0)
        model = cnn3(num_classes=3, image_size=24)
        h = fit(model, BatchLoader(data, batch_size=8, shuffle=True, seed=1), BatchLoader(data, batch_size=24),
                config=TrainConfig(epochs=epochs), run_dir=run_dir, resume=resume, restore_best=False, log=lambda s: None)
        return h, model.state_dict()

    full_h, full_w = run(3, tmp_path / "a")
    run(1, tmp_path / "b")  # "interrupted" after epoch 1
    resumed_h, resumed_w = run(3, tmp_path / "b", resume=True)
    assert [r["train_loss"] for r in resumed_h] == [r["train_loss"] for r in full_h]
    for k in full_w:
        torch.testing.assert_close(resumed_w[k], full_w[k])


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    child = [sys.executable, str(Path(__file__).with_name("train_child.py"))]
    killed = subprocess.run(child + [str(tmp_path / "run"), "kill", str(tmp_path / "never.pt")], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 1  # epoch 1 saved, epoch 2 lost mid-way
    subprocess.run(child + [str(tmp_path / "run"), "resume", str(tmp_path / "resumed.pt")], check=True)
    subprocess.run(child + [str(tmp_path / "ref"), "full", str(tmp_path / "full.pt")], check=True)
    resumed, full = torch.load(tmp_path / "resumed.pt"), torch.load(tmp_path / "full.pt")
    assert [r["train_loss"] for r in resumed["history"]] == [r["train_loss"] for r in full["history"]]
    for k, v in full["model"].items():
        assert torch.equal(resumed["model"][k], v), k


class NaNAfter(torch.nn.Module):
    """Wraps a model; from the given (epoch, batch) of training on, its outputs become NaN."""

    def __init__(self, model, at_call: int):
        super().__init__()
        self.model, self.calls, self.at_call = model, 0, at_call

    def forward(self, x):
        out = self.model(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.at_call:
                return out * float("nan")
        return out


def test_nan_loss_names_epoch_and_batch_and_keeps_last_good_checkpoint(tmp_path):
    data = tiny_data(16)
    model = NaNAfter(cnn3(num_classes=3, image_size=24), at_call=4)  # 2 batches per epoch: epoch 2, batch 2
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch 2; last good checkpoint: .*last.pt"):
        fit(model, BatchLoader(data, batch_size=8), BatchLoader(data, batch_size=8), config=TrainConfig(epochs=3),
            run_dir=tmp_path, name="nan", log=lambda s: None)
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())


def test_metrics_on_a_hand_example():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 0, 2])
    assert accuracy(y, p) == pytest.approx(4 / 6)
    assert confusion_matrix(y, p, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    r = classification_report(y, p, 3)
    # precision: 1/2, 2/3, 1/1; recall: 1/2, 1, 1/2
    assert r.macro_precision == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert r.macro_recall == pytest.approx((0.5 + 1 + 0.5) / 3)
    f1 = [0.5, 0.8, 2 / 3]
    assert r.macro_f1 == pytest.approx(sum(f1) / 3)
