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

    def per_class_sample(self, per_class: int | None, *, seed: int) -> SplitTensors:
        """`per_class` images of each class drawn without replacement by a generator seeded with
        `seed` (kept in split order), so each seed trains on its own subset; the whole split when
        `per_class` is None or no class has more. A class with fewer images gives all it has."""
        if per_class is None:
            return self
        labels = self.labels
        g = torch.Generator().manual_seed(seed)
        keep = []
        for c in torch.unique(labels).tolist():
            idx = torch.nonzero(labels == c).flatten()  # (n_c,) positions of class c
            keep.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
        order = torch.sort(torch.cat(keep)).values  # (<= classes * per_class,)
        if len(order) == len(labels):
            return self
        return SplitTensors(self.images[order], labels[order])
