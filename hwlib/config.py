"""Run profiles: how big a run is (image size, images per class, epochs, batch, learning rates).

A notebook's `parameters` cell names a profile; the environment variable HWLIB_PROFILE wins over it
(nbval cannot inject parameters, so `make test` sets HWLIB_PROFILE=smoke).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Profile:
    """The size of a run. Same recipe in every profile: Adam, constant lr, no augmentation (the report's)."""

    name: str
    image_size: int  # images are resized to image_size x image_size px
    train_per_class: int | None  # first N training images of each class (None: all)
    eval_per_class: int | None  # first N val/test images of each class (None: all)
    epochs: int
    batch_size: int  # flex_cnn, cnn3, ResNet34
    lr: float  # flex_cnn, cnn3, ResNet34 (Adam)
    dense4_batch_size: int
    dense4_lr: float
    note: str  # what the profile is for

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", 32, 4, 4, 1, 16, 1e-3, 16, 3e-3,
                     "CI: proves the notebooks run end to end; its numbers mean nothing"),
    "cpu": Profile("cpu", 32, 400, None, 8, 64, 1e-3, 64, 1e-3,
                   "2-core CPU: 32 px, up to 400 training images per class, all val/test images, 8 epochs"),
    "full": Profile("full", 128, None, None, 10, 128, 1e-3, 256, 3e-3,
                    "the report's setting (128 px, all images, 10 epochs, Adam 1e-3 / Dense4 3e-3 batch 256); for a GPU"),
}


def resolve_profile(name: str) -> Profile:
    """The profile to run: $HWLIB_PROFILE if set, else `name`."""
    chosen = os.environ.get("HWLIB_PROFILE") or name
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[chosen]


__all__ = ["PROFILES", "Profile", "replace", "resolve_profile"]
