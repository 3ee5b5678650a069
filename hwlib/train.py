"""Training and evaluation: `fit` returns a per-epoch history and checkpoints every epoch.

Device: CUDA (bf16 autocast) when present, else CPU in float32; channels_last on both. Checkpoints are
written atomically (temporary file + rename) to `<run_dir>/last.pt` every epoch and `best.pt`
whenever validation accuracy improves; `fit(..., resume=True)` continues from `last.pt`. The best
epoch is chosen on validation, never on test, and its weights are restored at the end.
"""
from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data.loader import BatchLoader
from .metrics import ClassificationReport, accuracy, classification_report
from .progress import progress_bar


@dataclass
class TrainConfig:
    """One training recipe."""

    epochs: int = 10
    lr: float = 1e-3  # peak learning rate
    optimizer: str = "adam"  # "adam" (the report's) | "adamw" | "sgd" (Nesterov, momentum 0.9)
    weight_decay: float = 0.0  # not applied to norm weights and biases
    schedule: str = "constant"  # "constant" (the report's) | "onecycle" | "cosine"
    warmup_epochs: float = 0.0  # linear warm-up for "cosine"
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # > 0: validate, keep and return an exponential moving average of the weights


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names epoch and batch."""


def pick_device() -> torch.device:
    """CUDA if available (through torch.accelerator where present), else CPU."""
    acc = getattr(torch, "accelerator", None)
    if acc is not None and acc.is_available():
        dev = acc.current_accelerator()
        if dev is not None and dev.type == "cuda":
            return torch.device("cuda")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_for(device: torch.device):
    """bf16 autocast on CUDA; nothing on CPU (float32)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
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
    """Move a batch; x is a tensor or (tensor, channel indices) from BatchLoader(with_channels=True)."""
    if isinstance(x, (tuple, list)):
        return tuple(to_device(t, y, device)[0] for t in x), y.to(device, non_blocking=True)
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    if x.dim() == 4:  # channels_last: faster convolutions on GPU and (measured: Dense4 +16%) on CPU
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def forward(model: nn.Module, x) -> torch.Tensor:
    """model(x), or model(x, channels) for a batch that carries channel identities."""
    return model(*x) if isinstance(x, tuple) else model(x)


def atomic_save(obj: dict, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    return torch.load(path, map_location=device, weights_only=True)


@torch.no_grad()
def predict(model: nn.Module, loader: BatchLoader, *, device: torch.device | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """(y_true, y_pred, mean cross-entropy) over a loader, in eval mode."""
    device = device or next(model.parameters()).device
    model.eval()
    ys, ps, loss_sum, n = [], [], 0.0, 0
    for x, y in loader:
        x, y = to_device(x, y, device)
        with autocast_for(device):
            out = forward(model, x)
        loss_sum += nn.functional.cross_entropy(out.float(), y, reduction="sum").item()
        n += len(y)
        ys.append(y.cpu())
        ps.append(out.argmax(1).cpu())
    return torch.cat(ys).numpy(), torch.cat(ps).numpy(), loss_sum / max(1, n)


def evaluate(model: nn.Module, loader: BatchLoader, *, num_classes: int, device: torch.device | None = None) -> ClassificationReport:
    """Accuracy, macro precision/recall/F1 and the confusion matrix of `model` on a loader."""
    y_true, y_pred, _ = predict(model, loader, device=device)
    return classification_report(y_true, y_pred, num_classes)


def fit(model: nn.Module, train: BatchLoader, val: BatchLoader, *, config: TrainConfig, run_dir: str | Path | None = None,
        name: str = "model", device: torch.device | None = None, resume: bool = False, restore_best: bool = True,
        log=print) -> list[dict]:
    """Train `model`; return one dict per epoch: epoch, train_loss, train_acc, val_loss, val_acc,
    lr, seconds (whole epoch), images_per_s (training only).

    Args:
        run_dir: where `last.pt` / `best.pt` go (None: no checkpoints).
        resume: continue from `run_dir/last.pt` if it exists (same history, weights, optimizer).
        restore_best: load the weights of the best-validation epoch before returning.
        log: called with one line per epoch (progress bars come on top when enabled).
    """
    device = device or pick_device()
    model.to(device=device, memory_format=torch.channels_last)
    opt = make_optimizer(model, config)
    sched = make_scheduler(opt, config, len(train))
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    ema = (torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(
        config.ema_decay), use_buffers=True) if config.ema_decay else None)
    evaluated = ema.module if ema is not None else model  # what validation sees and `fit` returns
    run_dir = Path(run_dir) if run_dir is not None else None
    history: list[dict] = []
    best_acc, best_state, start = -1.0, None, 0
    if resume and run_dir is not None and (run_dir / "last.pt").exists():
        ck = load_checkpoint(run_dir / "last.pt", device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        if ema is not None:
            ema.load_state_dict(ck["ema"])
        history, best_acc, start = ck["history"], ck["best_val_acc"], ck["epoch"]
        if (run_dir / "best.pt").exists():
            best_state = load_checkpoint(run_dir / "best.pt", "cpu")["model"]
        log(f"{name}: resumed from {run_dir / 'last.pt'} after epoch {start}")
    for epoch in range(start, config.epochs):
        train.set_epoch(epoch)
        model.train()
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = progress_bar(train, total=len(train), desc=f"{name} {epoch + 1}/{config.epochs}", leave=False)
        for b, (x, y) in enumerate(bar):
            x, y = to_device(x, y, device)
            with autocast_for(device):
                out = forward(model, x)
                loss = criterion(out.float(), y)
            if not torch.isfinite(loss):
                kept = f"; last good checkpoint: {run_dir / 'last.pt'}" if run_dir and (run_dir / "last.pt").exists() else ""
                raise TrainingDiverged(f"{name}: loss is {loss.item()} at epoch {epoch + 1}, batch {b + 1}{kept}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")
        bar.close()
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_s = time.perf_counter() - t0
        y_true, y_pred, val_loss = predict(evaluated, val, device=device)
        val_acc = accuracy(y_true, y_pred)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen, "val_loss": val_loss,
               "val_acc": val_acc, "lr": opt.param_groups[0]["lr"], "seconds": time.perf_counter() - t0,
               "images_per_s": seen / train_s}
        history.append(row)
        log(f"{name} epoch {row['epoch']}/{config.epochs}: train loss {row['train_loss']:.3f} acc {row['train_acc']:.3f} | "
            f"val loss {val_loss:.3f} acc {val_acc:.3f} | lr {row['lr']:.2e} | {row['seconds']:.1f} s, "
            f"{row['images_per_s']:.0f} img/s")
        if val_acc > best_acc:
            best_acc = val_acc
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in evaluated.state_dict().items()})
            if run_dir is not None:
                atomic_save({"model": best_state, "epoch": epoch + 1, "val_acc": val_acc}, run_dir / "best.pt")
        if run_dir is not None:
            atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                         **({"ema": ema.state_dict()} if ema is not None else {}), "epoch": epoch + 1, "history": history, "best_val_acc": best_acc, "config": asdict(config)},
                        run_dir / "last.pt")
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    elif ema is not None:
        model.load_state_dict(ema.module.state_dict())
    return history


def history_best(history: list[dict]) -> dict:
    """The epoch with the highest validation accuracy (the one `fit` restores)."""
    return max(history, key=lambda r: r["val_acc"])


__all__ = ["TrainConfig", "TrainingDiverged", "autocast_for", "atomic_save", "evaluate", "fit", "forward",
           "history_best", "load_checkpoint", "make_optimizer", "pick_device", "predict", "to_device"]
