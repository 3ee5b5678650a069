"""One seeding helper for Python, NumPy, torch and DataLoader workers."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = False) -> torch.Generator:
    """Seed every RNG the project uses; returns a torch.Generator for DataLoader(generator=...).

    deterministic=True also asks torch for deterministic kernels (slower; some ops then raise).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def worker_init_fn(worker_id: int) -> None:
    """DataLoader workers: derive Python and NumPy seeds from torch's per-worker seed."""
    s = torch.initial_seed() % 2**32
    random.seed(s)
    np.random.seed(s)
