"""Training and evaluation: `fit` returns a per-epoch history and checkpoints every epoch.

`fit` is four small steps, each usable alone (the benchmark times :func:`train_step` itself):
:func:`start_training` (model on the device, optimizer, schedule, EMA), :func:`resume_from` (from
`last.pt`), :func:`train_one_epoch` (which calls :func:`train_step` per batch) and
:func:`save_checkpoint`. The device is :mod:`hwlib.device`'s (bf16 autocast on CUDA, float32 on
the CPU; channels_last on both).

A training epoch keeps its running loss, accuracy and a non-finite-loss flag on the device and
reads them back every `sync_every` steps and at the end of the epoch, not after every step: on a
GPU each read drains the queue. A non-finite loss stops the run naming the epoch, the batch and
the last good checkpoint. Checkpoints are written atomically (temporary file + rename) to
`<run_dir>/last.pt` every epoch and `best.pt` whenever validation accuracy improves. The best epoch
is chosen on validation, never on test, and its weights are restored at the end.

`fit(compile_model=...)` and `start_training(compile_model=...)` run the training step through
torch.compile (default None: :func:`compile_default`, on CUDA, not on the CPU), falling back to
eager with one line when it cannot compile. Loaders built without a device are handed the
training device, so on CUDA batches come from the split copied there once.
`last.pt` also keeps the global RNG state, so a resumed run draws what an uninterrupted one would.

Output: the per-epoch lines go to `<run_dir>/train.log` (and into the returned history); the
console gets one progress bar per run in interactive use, and one line per run when it finishes.
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import TrainConfig
from .data.loader import BatchLoader, Views
from .device import autocast_for, pick_device, synchronize
from .metrics import ClassificationMetrics, accuracy, classification_metrics
from .progress import progress_bar

SYNC_EVERY = 32  # steps between host reads of the running loss (>= 4: at most one sync per 4 steps)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names epoch and batch."""


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []  # type: ignore[var-annotated]  # lists of parameters; a tuple assignment takes no annotation
    for p in model.parameters():
        if p.requires_grad:  # vectors (norm weights, biases) and parameters flagged no_weight_decay: not decayed
            (no_decay if p.ndim <= 1 or getattr(p, "no_weight_decay", False) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    groups = _param_groups(model, cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int):
    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total)
    if cfg.schedule == "cosine":
        warm = int(cfg.warmup_epochs * steps_per_epoch)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def to_device(x, y: torch.Tensor, device: torch.device):
    """Move a batch; x is a tensor, (tensor, channel indices) from BatchLoader(with_channels=True),
    or the :class:`~hwlib.data.loader.Views` of a joint batch (kept a Views)."""
    if isinstance(x, (tuple, list)):
        moved = (to_device(t, y, device)[0] for t in x)
        return (Views(moved) if isinstance(x, Views) else tuple(moved)), y.to(device, non_blocking=True)
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    if x.dim() == 4:  # channels_last: faster convolutions on GPU and (measured: Dense4 +16%) on CPU
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def forward(model: nn.Module, x) -> torch.Tensor:
    """model(x), or model(x, channels) for a batch that carries channel identities; for a joint
    batch (:class:`~hwlib.data.loader.Views`) the logits of every view, concatenated (7B, classes)."""
    if isinstance(x, Views):
        if getattr(model, "takes_views", False):  # one call over every view (hwlib.models.SmallCNN); compiled
            return model(x)  # stays compiled: a torch.compile wrapper passes the attribute through
        return torch.cat([forward(model, v) for v in x])
    return model(*x) if isinstance(x, tuple) else model(x)


def atomic_save(obj: dict, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    return torch.load(path, map_location=device, weights_only=True)


def _on_device(loader, device: torch.device):
    """A BatchLoader built without a device makes its batches on `device` (resident split on CUDA)."""
    return loader.for_device(device) if isinstance(loader, BatchLoader) else loader


@torch.no_grad()
def predict(
    model: nn.Module, loader: BatchLoader, *, device: torch.device | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(y_true, y_pred, mean cross-entropy) over a loader, in eval mode; one host read at the end."""
    device = device or next(model.parameters()).device
    loader = _on_device(loader, device)
    model.eval()
    ys, ps, n = [], [], 0
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    for x, y in loader:
        x, y = to_device(x, y, device)
        with autocast_for(device):
            out = forward(model, x)
        loss_sum += nn.functional.cross_entropy(out.float(), y, reduction="sum").double()
        n += len(y)
        ys.append(y)
        ps.append(out.argmax(1))
    return torch.cat(ys).cpu().numpy(), torch.cat(ps).cpu().numpy(), float(loss_sum) / max(1, n)


def evaluate(
    model: nn.Module, loader: BatchLoader, *, num_classes: int, device: torch.device | None = None
) -> ClassificationMetrics:
    """Accuracy, macro precision/recall/F1 and the confusion matrix of `model` on a loader."""
    y_true, y_pred, _ = predict(model, loader, device=device)
    return classification_metrics(y_true, y_pred, num_classes)


# -- fit, in four steps ---------------------------------------------------------------------------


@dataclass
class TrainingState:
    """Everything `fit` carries from epoch to epoch (and saves in `last.pt`)."""

    model: nn.Module
    config: TrainConfig
    device: torch.device
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    criterion: nn.Module
    ema: torch.optim.swa_utils.AveragedModel | None
    history: list[dict] = field(default_factory=list)
    best_val_acc: float = -1.0
    best_state: dict | None = None  # weights of the best validation epoch (on the CPU)
    epoch: int = 0  # epochs finished
    compiled: nn.Module | None = None  # torch.compile(model), used by train_step only; None: eager
    log: Callable[[str], object] = print  # where the compile fallback line goes

    @property
    def evaluated(self) -> nn.Module:
        """What validation sees and `fit` returns: the EMA weights when the recipe keeps them."""
        return self.ema.module if self.ema is not None else self.model


def compile_default(device: torch.device) -> bool:
    """Whether `fit` compiles the training step when not told: on CUDA yes, on the CPU no (compiling
    costs tens of seconds per model there, and was not measured faster on 2 cores)."""
    return device.type == "cuda"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:120]}" if text else type(e).__name__


def start_training(
    model: nn.Module,
    *,
    config: TrainConfig,
    steps_per_epoch: int,
    device: torch.device | None = None,
    compile_model: bool | None = None,
    log: Callable[[str], object] = print,
) -> TrainingState:
    """Model on the device (channels_last), optimizer, schedule, loss and EMA for `config`.

    compile_model: wrap the model in torch.compile for :func:`train_step` (None: :func:`compile_default`);
    if torch.compile itself raises here, or the first compiled step does, `log` gets one line
    "torch.compile unavailable (<reason>); training eagerly" and training goes on eagerly.
    """
    device = device or pick_device()
    model.to(device=device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch stubs: no overload with both
    opt = make_optimizer(model, config)
    ema = (
        torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(config.ema_decay), use_buffers=True
        )
        if config.ema_decay
        else None
    )
    state = TrainingState(
        model,
        config,
        device,
        opt,
        make_scheduler(opt, config, steps_per_epoch),
        nn.CrossEntropyLoss(label_smoothing=config.label_smoothing),
        ema,
        log=log,
    )
    if compile_default(device) if compile_model is None else compile_model:
        try:
            state.compiled = torch.compile(model)  # type: ignore[assignment]  # torch stubs: Callable; for a Module it is an OptimizedModule
        except Exception as e:  # any failure to compile means: train eagerly
            _compile_failed(state, e)
    return state


def _compile_failed(state: TrainingState, e: BaseException) -> None:
    state.compiled = None
    state.log(f"torch.compile unavailable ({_first_line(e)}); training eagerly")


def _rng_state(device: torch.device) -> dict:
    """The global torch RNG states (CPU, and the device's on CUDA): a resumed run draws what an
    uninterrupted one would."""
    out = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def _set_rng_state(rng: dict, device: torch.device) -> None:
    torch.set_rng_state(rng["cpu"].cpu())
    if "cuda" in rng and device.type == "cuda":
        torch.cuda.set_rng_state(rng["cuda"].cpu(), device)


def resume_from(state: TrainingState, run_dir: Path) -> bool:
    """Load `run_dir/last.pt` (weights, optimizer, schedule, EMA, history) into `state`; False if absent."""
    if not (run_dir / "last.pt").exists():
        return False
    ck = load_checkpoint(run_dir / "last.pt", state.device)
    state.model.load_state_dict(ck["model"])
    state.optimizer.load_state_dict(ck["optimizer"])
    state.scheduler.load_state_dict(ck["scheduler"])
    if state.ema is not None:
        state.ema.load_state_dict(ck["ema"])
    state.history, state.best_val_acc, state.epoch = ck["history"], ck["best_val_acc"], ck["epoch"]
    if "rng" in ck:
        _set_rng_state(ck["rng"], state.device)
    if (run_dir / "best.pt").exists():
        state.best_state = load_checkpoint(run_dir / "best.pt", "cpu")["model"]
    return True


def train_step(state: TrainingState, x, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on a batch already on the device; returns (loss, logits), both still on
    the device: nothing here waits for the device. Runs the compiled model when `state.compiled` is
    set; if compiling it fails (compilation happens on the first calls), the step is redone eagerly."""
    if state.compiled is not None:
        try:
            with warnings.catch_warnings():  # inductor's one-time TF32 advice would land on a notebook's stderr
                warnings.filterwarnings("ignore", message=".*TensorFloat32 tensor cores.*")
                loss, out = _forward_backward(state, state.compiled, x, y)
        except Exception as e:  # compiling failed; the optimizer has not stepped: redo this step eagerly
            _compile_failed(state, e)
            loss, out = _forward_backward(state, state.model, x, y)
    else:
        loss, out = _forward_backward(state, state.model, x, y)
    state.optimizer.step()
    state.scheduler.step()
    if state.ema is not None:
        state.ema.update_parameters(state.model)
    return loss.detach(), out.detach()


def joint_loss(criterion: nn.Module, out: torch.Tensor, y: torch.Tensor, *, views: int, distill: float) -> torch.Tensor:
    """The training loss of V views of one batch (logits out: (V*B, classes), views in order, the
    first the largest, RGB) with in-place distillation (slimmable networks, Yu et al. 2019): the first
    view learns from the labels; each other view from the first view's detached predictions with
    weight `distill` (soft cross-entropy) and from the labels with 1 - distill; averaged over the V*B
    predictions as the plain loss is. distill 0 or one view: criterion(out, y)."""
    if not distill or views < 2:
        return criterion(out, y)
    b = len(y) // views
    teacher, students = out[:b], out[b:]  # (B, classes), ((V-1)*B, classes)
    soft_targets = teacher.detach().softmax(1).repeat(views - 1, 1)  # ((V-1)*B, classes)
    soft = -(soft_targets * students.log_softmax(1)).sum(1).mean()
    hard = criterion(students, y[b:])
    return (criterion(teacher, y[:b]) + (views - 1) * (distill * soft + (1 - distill) * hard)) / views


def _forward_backward(state: TrainingState, model: nn.Module, x, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward, loss and gradients (set afresh); (loss, logits) on the device."""
    with autocast_for(state.device):
        out = forward(model, x)
        views = len(x) if isinstance(x, Views) else 1
        loss = joint_loss(state.criterion, out.float(), y, views=views, distill=state.config.distill)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    return loss, out


def _diverged(name: str, epoch: int, batch: int, loss: float, run_dir: Path | None) -> TrainingDiverged:
    kept = f"; last good checkpoint: {run_dir / 'last.pt'}" if run_dir and (run_dir / "last.pt").exists() else ""
    return TrainingDiverged(f"{name}: loss is {loss} at epoch {epoch}, batch {batch}{kept}")


def train_one_epoch(
    state: TrainingState,
    loader: BatchLoader,
    *,
    name: str = "model",
    run_dir: Path | None = None,
    bar=None,
    sync_every: int = SYNC_EVERY,
) -> dict:
    """Train one epoch; return {"train_loss", "train_acc", "images", "seconds"} (seconds: training only).

    Running sums stay on the device; the host reads them every `sync_every` steps (to stop a
    diverged run early and update the progress bar) and once at the end.
    """
    epoch = state.epoch + 1
    loader.set_epoch(state.epoch)
    state.model.train()
    dev = state.device
    loss_sum = torch.zeros((), dtype=torch.float64, device=dev)  # sum of loss * batch size
    correct = torch.zeros((), dtype=torch.int64, device=dev)
    first_bad = torch.full((), -1, dtype=torch.int64, device=dev)  # first batch with a non-finite loss
    bad_loss = torch.zeros((), device=dev)
    seen, t0 = 0, time.perf_counter()

    def check() -> None:
        b = int(first_bad)
        if b >= 0:
            raise _diverged(name, epoch, b + 1, float(bad_loss), run_dir)
        if bar is not None:
            bar.set_postfix(epoch=f"{epoch}/{state.config.epochs}", loss=f"{float(loss_sum) / max(1, seen):.3f}")

    for b, (x, y) in enumerate(loader):
        x, y = to_device(x, y, dev)
        loss, out = train_step(state, x, y)
        newly_bad = (first_bad < 0) & ~torch.isfinite(loss)
        first_bad = torch.where(newly_bad, b, first_bad)
        bad_loss = torch.where(newly_bad, loss, bad_loss)
        loss_sum += loss.double() * len(y)
        correct += (out.argmax(1) == y).sum()
        seen += len(y)
        if bar is not None:
            bar.update(1)
        if (b + 1) % sync_every == 0:
            check()
    check()
    synchronize(dev)
    return {
        "train_loss": float(loss_sum) / seen,
        "train_acc": int(correct) / seen,
        "images": seen,
        "seconds": time.perf_counter() - t0,
    }


def save_checkpoint(state: TrainingState, run_dir: Path) -> None:
    """`last.pt`: everything needed to resume after `state.epoch` epochs."""
    atomic_save(
        {
            "model": state.model.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "scheduler": state.scheduler.state_dict(),
            **({"ema": state.ema.state_dict()} if state.ema is not None else {}),
            "epoch": state.epoch,
            "history": state.history,
            "best_val_acc": state.best_val_acc,
            "config": asdict(state.config),
            "rng": _rng_state(state.device),
        },
        run_dir / "last.pt",
    )


def _append_log(run_dir: Path | None, line: str) -> None:
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "train.log", "a") as f:
            f.write(line + "\n")


def fit(
    model: nn.Module,
    train: BatchLoader,
    val: BatchLoader,
    *,
    config: TrainConfig,
    run_dir: str | Path | None = None,
    name: str = "model",
    device: torch.device | None = None,
    resume: bool = False,
    restore_best: bool = True,
    log: Callable[[str], object] = print,
    compile_model: bool | None = None,
) -> list[dict]:
    """Train `model`; return one dict per epoch: epoch, train_loss, train_acc, val_loss, val_acc,
    lr, seconds (whole epoch), images_per_s (training only).

    Args:
        run_dir: where `last.pt`, `best.pt` and `train.log` (one line per epoch) go (None: nowhere).
        resume: continue from `run_dir/last.pt` if it exists (same history, weights, optimizer).
        restore_best: load the weights of the best-validation epoch before returning.
        log: called with one line when the run finishes (and one when it resumes, "<name>: resumed
            from epoch E", and one if torch.compile falls back to eager).
        compile_model: torch.compile the model for the training step (validation runs eagerly);
            None: on CUDA, not on the CPU (:func:`compile_default`). Falls back to eager with a line.

    Loaders built without a device make their batches on the training device (on CUDA: from the
    split copied to the device once, when it fits).
    """
    run_dir = Path(run_dir) if run_dir is not None else None
    state = start_training(
        model, config=config, steps_per_epoch=len(train), device=device, compile_model=compile_model, log=log
    )
    train, val = _on_device(train, state.device), _on_device(val, state.device)
    if resume and run_dir is not None and resume_from(state, run_dir):
        log(f"{name}: resumed from epoch {state.epoch}")
    t_start = time.perf_counter()
    bar = progress_bar(
        total=config.epochs * len(train), initial=state.epoch * len(train), desc=name, leave=True, lines=False
    )
    while state.epoch < config.epochs:
        t0 = time.perf_counter()
        tr = train_one_epoch(state, train, name=name, run_dir=run_dir, bar=bar)
        y_true, y_pred, val_loss = predict(state.evaluated, val, device=state.device)
        state.epoch += 1
        row = {
            "epoch": state.epoch,
            "train_loss": tr["train_loss"],
            "train_acc": tr["train_acc"],
            "val_loss": val_loss,
            "val_acc": accuracy(y_true, y_pred),
            "lr": state.optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - t0,
            "images_per_s": tr["images"] / tr["seconds"],
        }
        state.history.append(row)
        _append_log(
            run_dir,
            f"{name} epoch {row['epoch']}/{config.epochs}: train loss {row['train_loss']:.3f} "
            f"acc {row['train_acc']:.3f} | val loss {val_loss:.3f} acc {row['val_acc']:.3f} | "
            f"lr {row['lr']:.2e} | {row['seconds']:.1f} s, {row['images_per_s']:.0f} img/s",
        )
        bar.set_postfix(epoch=f"{state.epoch}/{config.epochs}", val_acc=f"{row['val_acc']:.3f}")
        if row["val_acc"] > state.best_val_acc:
            state.best_val_acc = row["val_acc"]
            state.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in state.evaluated.state_dict().items()})
            if run_dir is not None:
                atomic_save(
                    {"model": state.best_state, "epoch": state.epoch, "val_acc": row["val_acc"]}, run_dir / "best.pt"
                )
        if run_dir is not None:
            save_checkpoint(state, run_dir)
    bar.close()
    if restore_best and state.best_state is not None:
        model.load_state_dict(state.best_state)
    elif state.ema is not None:
        model.load_state_dict(state.ema.module.state_dict())
    if state.history:
        best = history_best(state.history)
        log(
            f"{name}: best epoch {best['epoch']}/{config.epochs}, val acc {best['val_acc']:.3f}, "
            f"{time.perf_counter() - t_start:.0f} s"
        )
    return state.history


def history_best(history: list[dict]) -> dict:
    """The epoch with the highest validation accuracy (the one `fit` restores)."""
    return max(history, key=lambda r: r["val_acc"])


__all__ = [
    "SYNC_EVERY",
    "TrainConfig",
    "TrainingDiverged",
    "TrainingState",
    "atomic_save",
    "compile_default",
    "evaluate",
    "fit",
    "forward",
    "history_best",
    "joint_loss",
    "load_checkpoint",
    "make_optimizer",
    "predict",
    "resume_from",
    "save_checkpoint",
    "start_training",
    "to_device",
    "train_one_epoch",
    "train_step",
]
