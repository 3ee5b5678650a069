"""The decoded split: what the cache produces and the loader consumes."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SplitTensors:
    """A decoded split: images (N, 3, S, S) uint8 (memory-mapped from the cache) and labels (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)
