"""The device: which one runs, how it computes (bf16 autocast on CUDA, float32 on CPU), how to
wait for it, and how to name it in a notebook or a results file. Every module that touches a device uses these."""

from __future__ import annotations

import contextlib
import platform

import torch


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


def synchronize(device: torch.device | None) -> None:
    """Wait for queued work on `device` (a no-op on the CPU), so that clocks read after it are honest."""
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    """How notebooks and results name the device and its number format, e.g. 'cpu (x86_64, 2 threads, float32)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}, bf16 autocast)"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, float32)"


__all__ = ["autocast_for", "device_name", "pick_device", "synchronize"]
