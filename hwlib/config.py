"""Run profiles: how big a run is (image size, images per class, epochs, batch, learning rates).

A notebook's `parameters` cell names a profile; the environment variable HWLIB_PROFILE wins over it
(nbval cannot inject parameters, so `make test` sets HWLIB_PROFILE=smoke).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    """The size of a run. The `seed` recipe is the report's (Adam, constant lr, no augmentation)."""

    name: str
    image_size: int  # images are resized to image_size x image_size px
    train_per_class: int | None  # first N training images of each class (None: all)
    eval_per_class: int | None  # first N val/test images of each class (None: all)
    study_epochs: int  # notebook 01: FlexConv and 3-layer CNN models (about 20x cheaper than Dense4)
    epochs: int  # notebook 02: Dense4 and ResNet34, every recipe and seed
    batch_size: int  # flex_cnn, cnn3, ResNet34 (seed recipe); both models (strong recipe)
    lr: float  # flex_cnn, cnn3, ResNet34 (seed recipe, Adam)
    dense4_batch_size: int  # Dense4 (seed recipe)
    dense4_lr: float  # Dense4 (seed recipe, Adam)
    seeds: int  # notebook 02: seeds per model and recipe (SEED, SEED+1, ...)
    note: str  # what the profile is for

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", 32, 4, 4, 1, 1, 16, 1e-3, 16, 3e-3, 1,
                     "CI: proves the notebooks run end to end; its numbers mean nothing"),
    "cpu": Profile("cpu", 32, 100, None, 10, 5, 64, 1e-3, 64, 1e-3, 3,
                   "make report's default on 2 CPU cores: 32 px, 100 training images per class, 3 seeds"),
    "cpu-real": Profile("cpu-real", 32, 300, None, 15, 6, 64, 1e-3, 64, 1e-3, 3,
                        "real photos on 2 CPU cores (about 35 min): 32 px, 300 training images per class, 3 seeds"),
    "full": Profile("full", 128, None, None, 10, 10, 128, 1e-3, 256, 3e-3, 3,
                    "the report's setting (128 px, all images, 10 epochs, Adam 1e-3 / Dense4 3e-3 batch 256); for a GPU"),
}


def resolve_profile(name: str) -> Profile:
    """The profile to run: $HWLIB_PROFILE if set, else `name`."""
    chosen = os.environ.get("HWLIB_PROFILE") or name
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[chosen]


__all__ = ["PROFILES", "Profile", "resolve_profile"]
