"""Run profiles: how big a run is, grouped by what each setting is for.

A profile is built with keyword arguments only: its data settings (image size, images per class),
the channel study's (notebook 01) and the Dense4 study's (notebook 02). A notebook's `parameters`
cell names a profile; the environment variable HWLIB_PROFILE wins over it (nbval cannot inject
parameters, so `make test` sets HWLIB_PROFILE=smoke).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class DataSettings:
    """Which images a run uses, at what size."""

    image_size: int  # images are resized to image_size x image_size px
    train_per_class: int | None  # first N training images of each class (None: all)
    eval_per_class: int | None  # first N val/test images of each class (None: all)


@dataclass(frozen=True, kw_only=True)
class ChannelStudySettings:
    """Notebook 01: FlexConv and 3-layer CNN models, one recipe (the original's: Adam, constant lr)."""

    epochs: int
    seeds: int  # seeds per model: SEED, SEED+1, ...
    batch_size: int
    lr: float  # Adam


@dataclass(frozen=True, kw_only=True)
class DenseStudySettings:
    """Notebook 02: Dense4 and ResNet34 under every recipe and seed, over a sweep of image sizes.

    The original recipe gives ResNet34 `batch_size` / `lr` and Dense4 its own `dense4_batch_size` /
    `dense4_lr`, as the original report did; the strong recipe gives both models `batch_size`.
    The strong recipe runs at every size in `sizes`, the original recipe at `original_sizes`; the
    plain-head ResNet34 runs at the smallest size (strong recipe, every seed) and ResNet34 with twice
    the epochs at the largest (strong recipe, `resnet34_2x_seeds` seeds).
    """

    epochs: int
    seeds: int  # seeds per model, recipe and size: SEED, SEED+1, ...
    batch_size: int
    lr: float  # Adam, original recipe (ResNet34)
    dense4_batch_size: int
    dense4_lr: float  # Adam, original recipe (Dense4)
    sizes: tuple[int, ...] = (32,)  # image sizes of the sweep (px), strong recipe
    original_sizes: tuple[int, ...] = (32,)  # sizes the original recipe also runs at
    resnet34_2x_seeds: int = 1  # seeds of ResNet34 trained 2 x epochs at the largest size (0: none)
    train_per_class: int | None = None  # training images per class for notebook 02 (None: the profile's)


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The size of a run: a name, what it is for, and one group of settings per concern."""

    name: str
    note: str  # what the profile is for
    data: DataSettings
    channels: ChannelStudySettings
    dense: DenseStudySettings

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """Two lines for the top of a notebook."""
        d, c, s = self.data, self.channels, self.dense
        return (
            f"profile {self.name!r} ({self.note})\n"
            f"  image {d.image_size} px, train {d.train_per_class or 'all'} / eval {d.eval_per_class or 'all'} "
            f"images per class; epochs: {c.epochs} (notebook 01, {c.seeds} seed{'s' if c.seeds > 1 else ''}), "
            f"{s.epochs} (notebook 02, {s.seeds} seed{'s' if s.seeds > 1 else ''}, "
            f"{s.train_per_class or d.train_per_class or 'all'} train images per class, sizes "
            f"{', '.join(map(str, s.sizes))} px); batch {c.batch_size} (Dense4 {s.dense4_batch_size}), "
            f"Adam lr {c.lr:g} (Dense4 {s.dense4_lr:g})"
        )


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        note="CI: proves the notebooks run end to end on 4 images per class, 1 epoch, 1 seed, 24 and 32 px "
        "(the published run: 3 seeds, 32 and 64 px); its numbers mean nothing",
        data=DataSettings(image_size=32, train_per_class=4, eval_per_class=4),
        channels=ChannelStudySettings(epochs=1, seeds=1, batch_size=16, lr=1e-3),
        dense=DenseStudySettings(
            epochs=1,
            seeds=1,
            batch_size=16,
            lr=1e-3,
            dense4_batch_size=16,
            dense4_lr=3e-3,
            sizes=(24, 32),
            original_sizes=(32,),
        ),
    ),
    "cpu": Profile(
        name="cpu",
        note="make report's default on 2 CPU cores: 32 px, 100 training images per class; fewer seeds (1), "
        "image sizes (32 px only) and models (no 2x-epoch ResNet34) than the published cpu-real run (3 seeds; "
        "32 and 64 px in notebook 02)",
        data=DataSettings(image_size=32, train_per_class=100, eval_per_class=None),
        channels=ChannelStudySettings(epochs=10, seeds=1, batch_size=64, lr=1e-3),
        dense=DenseStudySettings(
            epochs=5,
            seeds=1,
            batch_size=64,
            lr=1e-3,
            dense4_batch_size=64,
            dense4_lr=1e-3,
            sizes=(32,),
            resnet34_2x_seeds=0,
        ),
    ),
    "cpu-real": Profile(
        name="cpu-real",
        note="the published run: real photos on 2 CPU cores, 3 seeds; notebook 01 at 32 px with 300 training "
        "images per class, notebook 02 at 32 and 64 px with 100",
        data=DataSettings(image_size=32, train_per_class=300, eval_per_class=None),
        channels=ChannelStudySettings(epochs=20, seeds=3, batch_size=64, lr=1e-3),
        dense=DenseStudySettings(
            epochs=5,
            seeds=3,
            batch_size=64,
            lr=1e-3,
            dense4_batch_size=64,
            dense4_lr=1e-3,
            sizes=(32, 64),
            original_sizes=(32,),
            train_per_class=100,
        ),
    ),
    "full": Profile(
        name="full",
        note="the original report's setting (128 px, all images, 10 epochs, Adam 1e-3 / Dense4 3e-3 batch 256); "
        "for a GPU",
        data=DataSettings(image_size=128, train_per_class=None, eval_per_class=None),
        channels=ChannelStudySettings(epochs=20, seeds=3, batch_size=128, lr=1e-3),
        dense=DenseStudySettings(
            epochs=10,
            seeds=3,
            batch_size=128,
            lr=1e-3,
            dense4_batch_size=256,
            dense4_lr=3e-3,
            sizes=(32, 64, 128),
            original_sizes=(128,),
        ),
    ),
}


def resolve_profile(name: str) -> Profile:
    """The profile to run: $HWLIB_PROFILE if set, else `name`."""
    chosen = os.environ.get("HWLIB_PROFILE") or name
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[chosen]


__all__ = ["PROFILES", "ChannelStudySettings", "DataSettings", "DenseStudySettings", "Profile", "resolve_profile"]
