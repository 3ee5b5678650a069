"""The channel study (notebook 01): one FlexConv model for every channel combination, compared
fairly with a zero-filling CNN and with seven per-combination experts, plus ablations and cost.

Every model here gets the same data, recipe (optimizer, learning rate, epochs, batch) and seed;
they differ only in architecture and in which channels they see while training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .data.loader import COMBOS
from .data.prepare import LoadedData
from .experiments import RunResult, accuracy_by_combo, train_and_test
from .models import cnn3, flex_cnn
from .params import measure
from .timing import inference_latency
from .train import TrainConfig, pick_device


@dataclass(frozen=True)
class Variant:
    """One model of the study: how it is built and trained, and how it is given partial input."""

    name: str
    what: str  # one line for the tables
    kind: str  # "flex" or "cnn3"
    train_combo: str = "RGB"  # "random" = channel-subset training (how many channels, then which)
    mode: str = "pooled"
    grid: int = 8
    channel_ids: int = 0  # 3 = R, G, B identity table

    @property
    def zero_fill(self) -> bool:  # naive CNNs get 3 channels, absent ones zeroed
        return self.kind == "cnn3"

    @property
    def with_channels(self) -> bool:
        return self.channel_ids > 0

    def build(self, *, num_classes: int, image_size: int) -> nn.Module:
        if self.kind == "flex":
            return flex_cnn(num_classes=num_classes, image_size=image_size, mode=self.mode, grid=self.grid,
                            channel_ids=self.channel_ids)
        return cnn3(num_classes=num_classes, image_size=image_size)


# The main model. Channel identity was measured worse than none on imagenette10 (RGB 0.318 vs 0.351
# at 32 px, 8 epochs): told which channels it got, the generator leans on per-channel static kernels
# that transfer less across subsets. It stays in the study as an ablation.
MAIN = Variant("flex", "FlexConv pooled (8x8 grid), random channel subsets, no channel identity", "flex", "random")
VARIANTS: tuple[Variant, ...] = (
    MAIN,
    Variant("cnn3_zero_fill", "3-layer CNN trained on RGB, absent channels zero-filled", "cnn3"),
    Variant("flex_rgb_only", "as flex, trained on RGB only", "flex", "RGB"),
    Variant("flex_identity", "as flex, with a learned R/G/B channel identity", "flex", "random", channel_ids=3),
    Variant("flex_grid4", "as flex, features pooled to 4x4 instead of 8x8", "flex", "random", grid=4),
    Variant("flex_seed_mode", "the report's seed-mode layer (fixed size), random channel subsets", "flex", "random", mode="seed"),
    Variant("flex_seed_mode_rgb_only", "the report's seed-mode layer, trained on RGB only (the report's setup)", "flex",
            mode="seed"),
    Variant("cnn3_channel_dropout", "3-layer CNN trained on random channel subsets, zero-filled", "cnn3", "random"),
)


@dataclass
class StudyResult:
    """Accuracy by combination for every model, plus runs, costs and latencies."""

    data_name: str
    profile: str
    split: str
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> combo -> accuracy
    runs: dict[str, RunResult] = field(default_factory=dict)
    params: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> {"batch1", "batch64"}
    what: dict[str, str] = field(default_factory=dict)
    models: dict[str, nn.Module] = field(default_factory=dict, repr=False)


def run_channel_study(data: LoadedData, *, profile: str, config: TrainConfig, batch_size: int, seed: int,
                      run_dir: Path | None, variants: tuple[Variant, ...] = VARIANTS, experts: bool = True,
                      latency_repeats: int = 5) -> StudyResult:
    """Train every variant (and the seven experts), evaluate each on all seven combinations of the
    test split, and measure its cost at the run's image size."""
    size = data.size
    test = data.splits[data.eval_split]
    res = StudyResult(data.name, profile, data.eval_split)
    device = pick_device()
    for v in variants:
        model, run = train_and_test(v.name, lambda v=v: v.build(num_classes=data.num_classes, image_size=size), data,
                                    config=config, batch_size=batch_size, seed=seed, run_dir=run_dir, combo=v.train_combo,
                                    zero_fill=v.zero_fill, with_channels=v.with_channels)
        res.accuracy[v.name] = accuracy_by_combo(model, test, zero_fill=v.zero_fill, with_channels=v.with_channels,
                                                 device=device)
        res.runs[v.name], res.what[v.name], res.models[v.name] = run, v.what, model
    if experts:
        res.accuracy["experts"], res.what["experts"] = {}, "seven 3-layer CNNs, each trained and tested on its own combination"
        for combo in COMBOS:
            name = f"expert_{combo}"
            model, run = train_and_test(name, lambda c=combo: cnn3(num_classes=data.num_classes, image_size=size,
                                                                   in_channels=len(c)),
                                        data, config=config, batch_size=batch_size, seed=seed, run_dir=run_dir, combo=combo)
            res.accuracy["experts"][combo] = run.test.accuracy
            res.runs[name], res.models[name] = run, model
    _measure_costs(res, size=size, device=device, repeats=latency_repeats)
    return res


def _measure_costs(res: StudyResult, *, size: int, device: torch.device, repeats: int) -> None:
    """Params and multiply-adds per image (3 channels in, at `size` px; experts: summed over the
    seven), and inference latency per image at batch 1 and 64 on `device`."""
    for name, model in res.models.items():
        c = model.conv0.in_channels if hasattr(model, "conv0") else 3
        m = measure(model, (c, size, size))
        res.params[name], res.macs[name] = m.params, m.macs
        res.latency_ms[name] = {f"batch{b}": 1e3 * inference_latency(model, (c, size, size), batch=b, device=device,
                                                                     repeats=repeats) for b in (1, 64)}
    expert_names = [n for n in res.models if n.startswith("expert_")]
    if expert_names:
        res.params["experts"] = sum(res.params[n] for n in expert_names)
        res.macs["experts"] = max(res.macs[n] for n in expert_names)  # one expert runs per image


def study_goals(res: StudyResult) -> list[tuple[str, bool, str]]:
    """The channel study's four goals, each with whether it is met and the numbers behind it."""
    f, z = res.accuracy["flex"], res.accuracy["cnn3_zero_fill"]
    single = sum(f[c] for c in "RGB") / 3
    rows = [("flex: mean accuracy over R, G, B >= 0.95 x its RGB accuracy", single >= 0.95 * f["RGB"],
             f"{single:.3f} vs 0.95 x {f['RGB']:.3f} = {0.95 * f['RGB']:.3f}")]
    beaten = [c for c in COMBOS[1:] if f[c] > z[c]]
    rows.append(("flex beats cnn3_zero_fill on all six partial combinations", len(beaten) == 6,
                 f"beats it on {len(beaten)} of 6" + (f" (not on {', '.join(c for c in COMBOS[1:] if c not in beaten)})"
                                                      if len(beaten) < 6 else "")))
    if "experts" in res.accuracy:
        e = res.accuracy["experts"]
        gap = sum(e[c] - f[c] for c in COMBOS) / len(COMBOS)
        rows.append(("flex within 2 points of the experts on average over the seven combinations", gap <= 0.02,
                     f"experts {sum(e.values()) / 7:.3f}, flex {sum(f.values()) / 7:.3f}: gap {100 * gap:+.1f} points"))
    rows.append(("flex RGB accuracy >= cnn3 RGB accuracy (same budget)", f["RGB"] >= z["RGB"],
                 f"flex {f['RGB']:.3f}, cnn3 {z['RGB']:.3f}"))
    return rows
