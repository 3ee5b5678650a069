import dataclasses
import inspect
import math
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import hwlib.config
import hwlib.train
from hwlib.data import BatchLoader, SplitTensors
from hwlib.models import cnn3, flex_cnn
from hwlib.seed import seed_everything
from hwlib.train import (
    TrainConfig,
    TrainingDiverged,
    compile_default,
    fit,
    load_checkpoint,
    start_training,
    train_one_epoch,
)

KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_s"}


def test_one_batch_fit_returns_history_and_checkpoints(tmp_path, make_split):
    seed_everything(0)
    data = make_split(8)
    model = flex_cnn(num_classes=3, image_size=24)
    history = fit(
        model,
        BatchLoader(data, batch_size=8, shuffle=True),
        BatchLoader(data, batch_size=8),
        config=TrainConfig(epochs=1),
        run_dir=tmp_path,
        name="t",
    )
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
    history = fit(
        model,
        BatchLoader(data, batch_size=16, shuffle=True),
        BatchLoader(data, batch_size=64),
        config=TrainConfig(epochs=6, lr=3e-3),
        name="sep",
    )
    assert history[-1]["val_acc"] == 1.0


def test_resume_gives_the_same_history_and_weights(tmp_path, make_split):
    data = make_split(24)

    lines = []

    def run(epochs, run_dir, resume=False, build=lambda: cnn3(num_classes=3, image_size=24)):
        seed_everything(0)
        model = build()
        h = fit(
            model,
            BatchLoader(data, batch_size=8, shuffle=True, seed=1),
            BatchLoader(data, batch_size=24),
            config=TrainConfig(epochs=epochs),
            run_dir=run_dir,
            resume=resume,
            restore_best=False,
            log=lines.append,
        )
        return h, model.state_dict()

    full_h, full_w = run(3, tmp_path / "a")
    run(1, tmp_path / "b")  # "interrupted" after epoch 1
    lines.clear()
    resumed_h, resumed_w = run(3, tmp_path / "b", resume=True)
    assert lines[0] == "model: resumed from epoch 1"
    assert [r["train_loss"] for r in resumed_h] == [r["train_loss"] for r in full_h]
    for k in full_w:
        torch.testing.assert_close(resumed_w[k], full_w[k])

    def with_dropout():  # draws from the global RNG every step: last.pt keeps its state
        net = tiny_net()
        return torch.nn.Sequential(torch.nn.Dropout(0.3), *net)

    full_h, full_w = run(3, tmp_path / "c", build=with_dropout)
    run(1, tmp_path / "d", build=with_dropout)
    resumed_h, resumed_w = run(3, tmp_path / "d", resume=True, build=with_dropout)
    assert [r["train_loss"] for r in resumed_h] == [r["train_loss"] for r in full_h]
    for k in full_w:
        assert torch.equal(resumed_w[k], full_w[k]), k


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


def test_nan_loss_names_epoch_and_batch_and_keeps_last_good_checkpoint(tmp_path, make_split):
    data = make_split(16)
    model = NaNAfter(cnn3(num_classes=3, image_size=24), at_call=4)  # 2 batches per epoch: epoch 2, batch 2
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch 2; last good checkpoint: .*last.pt"):
        fit(
            model,
            BatchLoader(data, batch_size=8),
            BatchLoader(data, batch_size=8),
            config=TrainConfig(epochs=3),
            run_dir=tmp_path,
            name="nan",
            log=lambda s: None,
        )
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())


def test_fit_with_ema_and_channel_identity(make_split):
    data = make_split(16, classes=2)
    model = flex_cnn(num_classes=2, image_size=24, known_channels=3)
    h = fit(
        model,
        BatchLoader(data, batch_size=8, combo="random", with_channels=True),
        BatchLoader(data, batch_size=16, with_channels=True),
        config=TrainConfig(epochs=2, optimizer="adamw", schedule="onecycle", ema_decay=0.9, label_smoothing=0.1),
        log=lambda s: None,
    )
    assert len(h) == 2 and all(0 <= r["val_acc"] <= 1 for r in h)


def test_an_epoch_reads_the_device_at_most_once_per_four_steps(make_split, monkeypatch):
    """Counted on the CPU: every host read of a tensor (item, float, int, bool, tolist, numpy) that
    hwlib.train makes in one epoch. (torch's own Adam reads its step counters, which live on the
    CPU whatever the device, so they never wait for a GPU; they are not counted.)"""
    data = make_split(64, classes=2, size=24)
    loader = BatchLoader(data, batch_size=2, shuffle=True)  # 32 steps
    state = start_training(
        cnn3(num_classes=2, image_size=24),
        config=TrainConfig(epochs=1),
        steps_per_epoch=len(loader),
        device=torch.device("cpu"),
    )
    reads = []
    for meth in ("item", "__float__", "__int__", "__bool__", "tolist", "numpy"):
        orig = getattr(torch.Tensor, meth)

        def counting(self, *a, _orig=orig, _name=meth, **k):
            if sys._getframe(1).f_globals.get("__name__") == "hwlib.train":
                reads.append(_name)
            return _orig(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, meth, counting)
    row = train_one_epoch(state, loader, name="sync")
    monkeypatch.undo()
    assert row["images"] == 64 and 0 <= row["train_acc"] <= 1
    assert 0 < len(reads) <= len(loader) / 4, reads


def test_fit_prints_one_line_per_run_and_logs_epochs_to_the_run_folder(tmp_path, make_split, capsys, monkeypatch):
    monkeypatch.setenv("HWLIB_PROGRESS", "line")
    data = make_split(16)
    fit(
        cnn3(num_classes=3, image_size=24),
        BatchLoader(data, batch_size=8),
        BatchLoader(data, batch_size=8),
        config=TrainConfig(epochs=3),
        run_dir=tmp_path,
        name="quiet",
    )
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and out.out.startswith("quiet: best epoch ") and "val acc" in out.out
    assert out.err == ""
    log = (tmp_path / "train.log").read_text().splitlines()
    assert [line.split(":")[0] for line in log] == ["quiet epoch 1/3", "quiet epoch 2/3", "quiet epoch 3/3"]


def tiny_net() -> torch.nn.Module:
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def test_compile_is_off_by_default_on_the_cpu():
    cpu = torch.device("cpu")
    assert not compile_default(cpu) and compile_default(torch.device("cuda"))
    assert start_training(tiny_net(), config=TrainConfig(), steps_per_epoch=1, device=cpu).compiled is None


def test_start_training_and_fit_default_to_compile_default(monkeypatch):
    """compile_model=None (both defaults) means compile_default(device); here forced True."""
    compiled = []
    monkeypatch.setattr(hwlib.train, "compile_default", lambda device: True)
    monkeypatch.setattr(torch, "compile", lambda model, **_: compiled.append(model) or model)
    for fn in (hwlib.train.start_training, hwlib.train.fit):
        assert inspect.signature(fn).parameters["compile_model"].default is None
    state = start_training(tiny_net(), config=TrainConfig(), steps_per_epoch=1, device=torch.device("cpu"))
    assert state.compiled is not None and compiled == [state.model]


def test_train_config_is_frozen_keyword_only_and_lives_in_config():
    assert hwlib.train.TrainConfig is hwlib.config.TrainConfig
    c = TrainConfig(epochs=3, lr=0.1)
    assert (c.epochs, c.lr, c.optimizer, c.schedule, c.ema_decay) == (3, 0.1, "adam", "constant", 0.0)
    assert TrainConfig() == TrainConfig(epochs=10, lr=1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.epochs = 4
    with pytest.raises(TypeError):
        TrainConfig(3)
    assert dataclasses.replace(c, epochs=5).epochs == 5 and c.epochs == 3


def test_config_imports_nothing_from_hwlib():
    """No import cycle: hwlib.config stands alone (train.py imports it, never the reverse)."""
    code = "import sys, hwlib.config; print(sorted(m for m in sys.modules if m.startswith('hwlib.')))"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.strip() == "['hwlib.config']"


def test_seed_everything_seeds_every_rng_and_returns_nothing():
    import random

    import numpy as np

    assert seed_everything(5) is None
    a = (random.random(), np.random.rand(), torch.rand(1))
    seed_everything(5)
    assert a == (random.random(), np.random.rand(), torch.rand(1))


def test_compile_that_fails_falls_back_to_eager_with_one_line(make_split, monkeypatch):
    data = make_split(16)

    class Broken(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("no C++ compiler\nsecond line")

    def run(compile_model):
        seed_everything(0)
        lines = []
        h = fit(
            tiny_net(),
            BatchLoader(data, batch_size=8, shuffle=True),
            BatchLoader(data, batch_size=16),
            config=TrainConfig(epochs=2),
            device=torch.device("cpu"),
            compile_model=compile_model,
            log=lines.append,
        )
        return h, lines

    monkeypatch.setattr(torch, "compile", lambda model, **_: Broken())
    h, lines = run(True)
    eager, _ = run(False)
    assert lines[0] == "torch.compile unavailable (RuntimeError: no C++ compiler); training eagerly"
    assert len(lines) == 2 and lines[1].startswith("model: best epoch")
    assert [r["train_loss"] for r in h] == [r["train_loss"] for r in eager]  # the failed step was redone eagerly

    def refuse(model, **_):
        raise RuntimeError("dynamo unsupported")

    monkeypatch.setattr(torch, "compile", refuse)
    h, lines = run(True)
    assert lines[0] == "torch.compile unavailable (RuntimeError: dynamo unsupported); training eagerly"
    assert [r["train_loss"] for r in h] == [r["train_loss"] for r in eager]


def test_compile_on_the_cpu_trains_or_falls_back(make_split):
    data = make_split(16)
    seed_everything(0)
    lines = []
    h = fit(
        tiny_net(),
        BatchLoader(data, batch_size=8),
        BatchLoader(data, batch_size=16),
        config=TrainConfig(epochs=1),
        device=torch.device("cpu"),
        compile_model=True,
        log=lines.append,
    )
    assert len(h) == 1 and set(h[0]) == KEYS and math.isfinite(h[0]["train_loss"])
    assert lines[-1].startswith("model: best epoch")
    assert len(lines) == 1 or lines[0].startswith("torch.compile unavailable (")


def test_fit_makes_batches_on_the_training_device(make_split):
    """A loader built without a device is handed fit's; one built with a device keeps it."""
    seen = []

    class Recording(BatchLoader):
        def __iter__(self):
            seen.append(self.device)
            yield from super().__iter__()

    data = make_split(8)
    loose = Recording(data, batch_size=8)
    fit(
        tiny_net(),
        loose,
        Recording(data, batch_size=8, device="cpu"),
        config=TrainConfig(epochs=1),
        device=torch.device("cpu"),
        log=lambda s: None,
    )
    assert seen == [torch.device("cpu"), torch.device("cpu")] and loose.device is None


def test_joint_loss_distills_the_partial_views_from_the_detached_first_view():
    from hwlib.train import joint_loss

    torch.manual_seed(0)
    ce = torch.nn.CrossEntropyLoss()
    out = torch.randn(3 * 4, 5, requires_grad=True)  # 3 views of 4 images
    y = torch.randint(0, 5, (4,)).repeat(3)
    assert torch.equal(joint_loss(ce, out, y, views=3, distill=0.0), ce(out, y))
    assert torch.equal(joint_loss(ce, out, y, views=1, distill=1.0), ce(out, y))
    loss = joint_loss(ce, out, y, views=3, distill=1.0)
    soft = torch.nn.functional.softmax(out[:4].detach(), 1).repeat(2, 1)
    want = (ce(out[:4], y[:4]) + 2 * -(soft * out[4:].log_softmax(1)).sum(1).mean()) / 3
    assert torch.allclose(loss, want)
    loss.backward()  # the first view's gradient comes from its labels only (the soft targets are detached)
    first = out.grad[:4].clone()
    out.grad = None
    (ce(out[:4], y[:4]) / 3).backward()
    assert torch.allclose(first, out.grad[:4])


def test_a_joint_batch_goes_through_the_model_call_so_a_compiled_model_stays_compiled():
    from hwlib.data.loader import COMBOS, Views, channel_indices
    from hwlib.models import flex_cnn
    from hwlib.train import forward

    calls = []

    class Wrapper(torch.nn.Module):  # as torch.compile's OptimizedModule: attributes pass through, calls are its own
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.inner, name)

        def forward(self, *args):
            calls.append(len(args))
            return self.inner(*args)

    m = flex_cnn(num_classes=4, image_size=32, mode="hybrid", known_channels=3)
    x = torch.rand(2, 3, 32, 32)
    views = Views((x[:, channel_indices(c)], torch.tensor(channel_indices(c))) for c in COMBOS)
    out = forward(Wrapper(m), views)
    assert calls == [1] and out.shape == (7 * 2, 4)


def test_subset_scale_and_shift_are_never_weight_decayed():
    from hwlib.models import flex_cnn
    from hwlib.train import make_optimizer

    m = flex_cnn(num_classes=4, image_size=32, mode="hybrid", known_channels=3, subset_affine=True)
    opt = make_optimizer(m, TrainConfig(optimizer="adamw", weight_decay=0.1))
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    assert decayed and not decayed & {id(p) for a in (m.affine0, m.affine1) for p in a.parameters()}
