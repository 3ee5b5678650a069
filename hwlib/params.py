"""Parameter arithmetic in closed form, and the same numbers measured with torchinfo.

Every count the original report states is recomputed here; :func:`count_checks` builds the models,
measures them and returns `formula vs measured` rows. MACs are multiply-adds per image at a
stated input size (torchinfo's "mult-adds"), not FLOPs and not per batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd
import torch
from torch import nn
from torchinfo import summary

from .flexconv import FlexConvBase, FlexMode, flex_conv2d
from .models import cnn3, dense4, flex_cnn, resnet34_baseline, small_cnn_map_size
from .original import ORIGINAL_DENSE


# -- closed forms per layer type --------------------------------------------------------------
def conv2d_params(in_channels: int, out_channels: int, kernel_size: int, *, bias: bool = True, groups: int = 1) -> int:
    """out * (in / groups) * k * k weights, + out biases."""
    return out_channels * (in_channels // groups) * kernel_size * kernel_size + (out_channels if bias else 0)


def batchnorm2d_params(channels: int) -> int:
    """gamma and beta per channel (running mean/var are buffers, not parameters)."""
    return 2 * channels


def linear_params(in_features: int, out_features: int, *, bias: bool = True) -> int:
    return in_features * out_features + (out_features if bias else 0)


def flexconv_params(
    out_channels: int,
    kernel_size: int = 3,
    *,
    mode: FlexMode = "pooled",
    in_size: tuple[int, int] | None = None,
    grid: int = 8,
    features: int = 4,
    known_channels: int = 0,
    embed_dim: int = 8,
    hidden: int = 64,
) -> int:
    """Parameters of the FlexConv layer of `mode` (hwlib.flexconv.flex_conv2d's arguments), with
    k*k*out = kernel_size^2 * out_channels generated values per channel:

    * original: 1 -> 1 3x3 extractor (10) + Linear(H*W -> k*k*out); grows with the image area,
      not with the input channels.
    * pooled: 1 -> F_c 3x3 extractor + Linear(F_c*grid^2 [+ embed_dim] -> k*k*out) + out biases,
      with an identity table of known_channels x embed_dim when known_channels > 0; independent of
      both the image size and the channel count.
    * hybrid: the same extractor and biases, a table of (known_channels + 1) x embed_dim, static
      kernels (known_channels + 1) x out x k x k, and the MLP Linear(F_c*grid^2 + 2*embed_dim + 2 ->
      hidden) + Linear(hidden -> k*k*out).
    """
    kk_out = kernel_size * kernel_size * out_channels
    if mode == "original":
        if in_size is None:
            raise ValueError("original mode needs in_size")
        if known_channels:
            raise ValueError("original mode has no channel-identity table (known_channels must be 0)")
        return conv2d_params(1, 1, 3) + linear_params(in_size[0] * in_size[1], kk_out)
    extractor = conv2d_params(1, features, 3) + out_channels  # + the per-output bias
    content = features * grid * grid
    if mode == "pooled":
        identity = known_channels * embed_dim
        return extractor + identity + linear_params(content + (embed_dim if known_channels else 0), kk_out)
    if mode == "hybrid":
        if known_channels < 1:
            raise ValueError("hybrid mode needs known_channels >= 1")
        rows = known_channels + 1  # the last row: any unknown channel
        mlp = linear_params(content + 2 * embed_dim + 2, hidden) + linear_params(hidden, kk_out)
        return extractor + rows * embed_dim + rows * kk_out + mlp
    raise ValueError(f"unknown FlexConv mode {mode!r}")


def _small_cnn_body(first_out: int, num_classes: int, image_size: int) -> int:
    s = small_cnn_map_size(image_size)
    return (
        conv2d_params(first_out, 32, 3)
        + conv2d_params(32, 32, 3)
        + linear_params(32 * s * s, 128)
        + linear_params(128, num_classes)
    )


def flex_cnn_params(
    *,
    num_classes: int = 50,
    image_size: int = 128,
    mode: FlexMode = "pooled",
    out_channels: int = 16,
    grid: int = 8,
    features: int = 4,
    known_channels: int = 0,
) -> int:
    """hwlib.models.flex_cnn's parameters (same arguments), in every mode: the FlexConv layer
    (:func:`flexconv_params`; original mode at image_size x image_size) plus the 3-layer body."""
    layer = flexconv_params(
        out_channels,
        3,
        mode=mode,
        in_size=(image_size, image_size),
        grid=grid,
        features=features,
        known_channels=known_channels,
    )
    return layer + _small_cnn_body(out_channels, num_classes, image_size)


def cnn3_params(*, num_classes: int = 50, image_size: int = 128, in_channels: int = 3, out_channels: int = 16) -> int:
    return conv2d_params(in_channels, out_channels, 3) + _small_cnn_body(out_channels, num_classes, image_size)


def dense4_params(*, num_classes: int = 50, growth_rate: int = 512, init_channels: int = 512) -> int:
    """conv1 7x7 + BN, bottleneck (3x3 + BN), transition (1x1 + BN), bottleneck, BN, fc."""
    k0, k = init_channels, growth_rate
    c1 = k0 + k  # after the first concatenation
    t = c1 // 2  # after the transition
    c2 = t + k
    return (
        conv2d_params(3, k0, 7, bias=False)
        + batchnorm2d_params(k0)
        + conv2d_params(k0, k, 3, bias=False)
        + batchnorm2d_params(k)
        + conv2d_params(c1, t, 1, bias=False)
        + batchnorm2d_params(t)
        + conv2d_params(t, k, 3, bias=False)
        + batchnorm2d_params(k)
        + batchnorm2d_params(c2)
        + linear_params(c2, num_classes)
    )


def resnet34_params(*, num_classes: int = 1000, head: Literal["imagenet", "original", "plain"] = "imagenet") -> int:
    """torchvision ResNet34 (BasicBlock x [3, 4, 6, 3]); head "imagenet" = fc 512->num_classes as
    shipped, "original" = the original report's 1000-way fc + Linear(1000, num_classes), "plain" = fc
    512->num_classes."""
    total = conv2d_params(3, 64, 7, bias=False) + batchnorm2d_params(64)
    inplanes = 64
    for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            s = stride if i == 0 else 1
            total += conv2d_params(inplanes, planes, 3, bias=False) + batchnorm2d_params(planes)
            total += conv2d_params(planes, planes, 3, bias=False) + batchnorm2d_params(planes)
            if s != 1 or inplanes != planes:
                total += conv2d_params(inplanes, planes, 1, bias=False) + batchnorm2d_params(planes)
            inplanes = planes
    if head == "original":
        return total + linear_params(512, 1000) + linear_params(1000, num_classes)
    if head in ("plain", "imagenet"):
        return total + linear_params(512, num_classes)
    raise ValueError(head)


# -- measured ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measured:
    params: int  # trainable + non-trainable parameters
    macs: int  # multiply-adds per image at the input size


def flexconv_grouped_macs(out_channels: int, in_channels: int, kernel_size: int, height: int, width: int) -> int:
    """Multiply-adds per image of a FlexConv layer's generated-kernel convolution ('same' padding)."""
    return out_channels * in_channels * kernel_size * kernel_size * height * width


def measure(model: nn.Module, input_size: tuple[int, ...]) -> Measured:
    """Parameters and multiply-adds for one image of `input_size` (C, H, W), by torchinfo.

    torchinfo counts modules only; a FlexConv layer applies its generated kernels with the functional
    conv2d, so those multiply-adds are added here from each FlexConv layer's actual input shape.
    """
    extra: list[int] = []

    def hook(mod: FlexConvBase, args, _out) -> None:
        b, c, h, w = args[0].shape
        extra.append(flexconv_grouped_macs(mod.out_channels, c, mod.kernel_size, h, w))  # per image (b = 1)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, FlexConvBase)]
    try:
        info = summary(model, input_size=(1, *input_size), verbose=0, device="cpu")
    finally:
        for h in handles:
            h.remove()
    return Measured(int(info.total_params), int(info.total_mult_adds) + sum(extra))  # torchinfo runs one forward


@dataclass(frozen=True)
class Check:
    name: str
    formula: int
    measured: int

    @property
    def match(self) -> bool:
        return self.formula == self.measured

    def as_dict(self) -> dict:
        return {**asdict(self), "match": self.match}


def count_checks() -> list[Check]:
    """Every parameter count the original report (and the issues) state, and every FlexConv mode's
    (original, pooled with and without a channel-identity table, hybrid): closed form vs torchinfo."""

    def m(model: nn.Module, size: tuple[int, ...]) -> int:
        return measure(model, size).params

    torch.manual_seed(0)
    rows = [
        Check(
            "Conv2d(3, 32, 3) 'same'", conv2d_params(3, 32, 3), m(nn.Conv2d(3, 32, 3, padding="same"), (3, 128, 128))
        ),
        Check(
            "FlexConv2d original, 32 out, 128x128 (original's count)",
            flexconv_params(32, 3, mode="original", in_size=(128, 128)),
            m(flex_conv2d(mode="original", out_channels=32, in_size=(128, 128)), (3, 128, 128)),
        ),
        Check(
            "FlexConv2d pooled, 32 out (any size)",
            flexconv_params(32, 3, mode="pooled"),
            m(flex_conv2d(mode="pooled", out_channels=32), (3, 128, 128)),
        ),
        Check(
            "FlexConv2d pooled + identity table (3 channels), 32 out",
            flexconv_params(32, 3, mode="pooled", known_channels=3),
            m(flex_conv2d(mode="pooled", out_channels=32, known_channels=3), (3, 128, 128)),
        ),
        Check(
            "FlexConv2d hybrid (3 known channels), 32 out",
            flexconv_params(32, 3, mode="hybrid", known_channels=3),
            m(flex_conv2d(mode="hybrid", out_channels=32, known_channels=3), (3, 128, 128)),
        ),
        Check(
            "flex_cnn original, 128 px, 50 classes (original's Question1_CNN)",
            flex_cnn_params(mode="original"),
            m(flex_cnn(mode="original"), (3, 128, 128)),
        ),
        Check(
            "flex_cnn pooled, 128 px, 50 classes",
            flex_cnn_params(mode="pooled"),
            m(flex_cnn(mode="pooled"), (3, 128, 128)),
        ),
        Check(
            "flex_cnn pooled + identity table (3 channels), 32 px, 10 classes",
            flex_cnn_params(mode="pooled", known_channels=3, image_size=32, num_classes=10),
            m(flex_cnn(mode="pooled", known_channels=3, image_size=32, num_classes=10), (3, 32, 32)),
        ),
        Check(
            "flex_cnn hybrid (3 known channels), 32 px, 10 classes (the channel study's main model)",
            flex_cnn_params(mode="hybrid", known_channels=3, image_size=32, num_classes=10),
            m(flex_cnn(mode="hybrid", known_channels=3, image_size=32, num_classes=10), (3, 32, 32)),
        ),
        Check("cnn3, 128 px, 50 classes", cnn3_params(), m(cnn3(), (3, 128, 128))),
        Check("Dense4, 50 classes", dense4_params(), m(dense4(), (3, 128, 128))),
        Check(
            "ResNet34 + original head (fc 1000 + ReLU + Linear(1000, 50))",
            resnet34_params(num_classes=50, head="original"),
            m(resnet34_baseline(head="original"), (3, 128, 128)),
        ),
        Check(
            "ResNet34, fc replaced (50 classes)",
            resnet34_params(num_classes=50, head="plain"),
            m(resnet34_baseline(head="plain"), (3, 128, 128)),
        ),
        Check(
            "ResNet34 torchvision (1000 classes) vs its IMAGENET1K_V1 metadata",
            resnet34_params(),
            _torchvision_resnet34_num_params(),
        ),
    ]
    return rows


def _torchvision_resnet34_num_params() -> int:
    """The external anchor: torchvision's published count (metadata only, nothing downloaded)."""
    from torchvision.models import ResNet34_Weights

    return int(ResNet34_Weights.IMAGENET1K_V1.meta["num_params"])


@dataclass(frozen=True)
class OriginalClaim:
    """A number as the original report states it, and the correct one."""

    what: str
    original: str
    correct: str
    why: str


def original_corrections() -> list[OriginalClaim]:
    """The original report's parameter arithmetic, item by item, with the errors named."""
    lin_w = 128 * 128 * 3 * 3 * 32
    lin_b = 3 * 3 * 32
    conv = conv2d_params(1, 1, 3)
    d4, r34 = dense4_params(), resnet34_params(num_classes=50, head="original")
    d4_m, r34_m = measure(dense4(), (3, 128, 128)).macs, measure(resnet34_baseline(head="original"), (3, 128, 128)).macs
    return [
        OriginalClaim("Conv2d(3, 32, 3) parameters", "864 + 32 = 896", f"{conv2d_params(3, 32, 3):,}", "correct"),
        OriginalClaim(
            "FlexConv 1->1 extract conv",
            "3*3*32 + 32 = 320",
            f"1*1*3*3 + 1 = {conv}",
            "one shared 1->1 3x3 conv: 9 weights and 1 bias, not one per output channel",
        ),
        OriginalClaim("FlexConv Linear weights", "128*128*3*3*32 = 4,718,592", f"{lin_w:,}", "correct"),
        OriginalClaim(
            "FlexConv Linear bias", "32", f"3*3*32 = {lin_b}", "the Linear outputs k*k*out = 288 values, one bias each"
        ),
        OriginalClaim("FlexConv Linear total", "4,718,624", f"{lin_w + lin_b:,}", "follows from the bias"),
        OriginalClaim(
            "FlexConv layer total",
            "320 + 4,718,624 = 4,718,944",
            f"{conv} + {lin_w + lin_b:,} = {flexconv_params(32, 3, mode='original', in_size=(128, 128)):,}",
            "both errors above",
        ),
        OriginalClaim(
            "Dense4 vs ResNet34 parameters",
            "Dense4 about 2.5x ResNet34",
            f"{d4:,} / {r34:,} = {d4 / r34:.3f}x",
            "Dense4 has about a quarter of ResNet34's parameters",
        ),
        OriginalClaim(
            "Dense4 vs ResNet34 multiply-adds at 128 px",
            "printed (3.86 G, 1.20 G), not discussed",
            f"{d4_m / 1e9:.2f} G / {r34_m / 1e9:.2f} G = {d4_m / r34_m:.2f}x",
            "Dense4 costs more compute per image: it is wide where maps are large",
        ),
    ]


def crossover_channels(flex_params: int, *, out_channels: int, kernel_size: int = 3) -> int:
    """Smallest C at which a standard Conv2d(C, out, k) has more parameters than a FlexConv layer
    with `flex_params` (whose count does not depend on C): 9*out*C + out > P_flex."""
    per_channel = out_channels * kernel_size * kernel_size
    return (flex_params - out_channels) // per_channel + 1


def params_vs_channels(*, out_channels: int, channels, map_sizes: tuple[int, ...]) -> tuple[dict, dict]:
    """Closed-form curves (name -> parameters at each C) and crossovers (name -> C) for a
    standard conv, original-mode FlexConv at each map size, and pooled FlexConv."""
    import numpy as np

    channels = np.asarray(channels)
    conv_name = f"Conv2d(C, {out_channels}, 3)"
    curves = {conv_name: out_channels * 9 * channels + out_channels}
    crossovers = {}
    flexes = {
        f"FlexConv original, {s}x{s} maps": flexconv_params(out_channels, mode="original", in_size=(s, s))
        for s in map_sizes
    }
    flexes["FlexConv pooled (any size)"] = flexconv_params(out_channels, mode="pooled")
    for name, p in flexes.items():
        curves[name] = np.full(channels.shape, p)
        crossovers[name] = crossover_channels(p, out_channels=out_channels)
    return curves, crossovers


# -- the report: the original's counts side by side with the correct ones, findings, limitations ------
def original_printouts() -> list[OriginalClaim]:
    """The original report's torchinfo printouts (hwlib.original) against this library's models at
    its setting (50 classes, 128 px)."""
    o = ORIGINAL_DENSE
    size = (3, o.image_size, o.image_size)
    d4 = measure(dense4(num_classes=o.num_classes), size)
    r34 = measure(resnet34_baseline(num_classes=o.num_classes, head="original"), size)

    def verdict(original: str, correct: str) -> str:
        return "correct" if original == correct else "differs"

    rows = []
    for what, original, correct in (
        (f"Dense4 parameters ({o.num_classes} classes)", f"{o.dense4_params:,}", f"{d4.params:,}"),
        (f"ResNet34 + original head parameters ({o.num_classes} classes)", f"{o.resnet34_params:,}", f"{r34.params:,}"),
        (f"Dense4 multiply-adds at {o.image_size} px", f"{o.dense4_macs_g:.2f} G", f"{d4.macs / 1e9:.2f} G"),
        (f"ResNet34 multiply-adds at {o.image_size} px", f"{o.resnet34_macs_g:.2f} G", f"{r34.macs / 1e9:.2f} G"),
    ):
        rows.append(OriginalClaim(what, original, correct, verdict(original, correct)))
    return rows


def claim_verdict(claim: OriginalClaim) -> str:
    """'correct', 'incomplete' (right numbers the original printed but did not discuss) or 'wrong'."""
    if claim.why == "correct":
        return "correct"
    return "incomplete" if "not discussed" in claim.original else "wrong"


def original_vs_correct_table(*, claims: list[OriginalClaim] | None = None) -> pd.DataFrame:
    """A DataFrame: every count the original report states, the correct value, and the verdict
    ("correct", "wrong: why" or "incomplete: why"); default rows: :func:`original_corrections` and
    :func:`original_printouts`."""
    claims = claims if claims is not None else original_corrections() + original_printouts()
    return pd.DataFrame(
        [
            {
                "count": c.what,
                "original report": c.original,
                "correct (computed here)": c.correct,
                "verdict": "correct" if claim_verdict(c) == "correct" else f"{claim_verdict(c)}: {c.why}",
            }
            for c in claims
        ]
    ).set_index("count")


def findings_markdown(
    *,
    checks: list[Check],
    claims: list[OriginalClaim],
    macs: dict[int, dict[str, int]],
    crossovers: dict[str, int],
    out_channels: int = 32,
) -> str:
    """Notebook 03's Findings, every number from its arguments (count_checks, the original's claims,
    multiply-adds per image size, crossover channel counts); wording chosen by the outcome."""
    lines = []
    ok = [c for c in checks if c.match]
    bad = [c.name for c in checks if not c.match]
    lines.append(
        f"- **Closed form vs torchinfo**: {len(ok)} of {len(checks)} counts match"
        + (f"; these do not: {', '.join(bad)}." if bad else ", so the formulas below are the models' real counts.")
    )
    right = [f"{c.what} ({c.original})" for c in claims if claim_verdict(c) == "correct"]
    wrong = [c for c in claims if claim_verdict(c) == "wrong"]
    untold = [c for c in claims if claim_verdict(c) == "incomplete"]
    if right:
        lines.append(f"- **The original's counts that are right**: {'; '.join(right)}.")
    if wrong:
        fixes = "; ".join(f"{c.what}: {c.original} -> {c.correct} ({c.why})" for c in wrong)
        lines.append(f"- **Its errors, with the correct values**: {fixes}.")
    if macs:
        ratios = {s: row["dense4"] / row["resnet34"] for s, row in macs.items()}
        lo, hi = min(ratios.values()), max(ratios.values())
        sizes = ", ".join(f"{s} px" for s in ratios)
        d4, r34 = dense4_params(), resnet34_params(num_classes=50, head="original")
        lines.append(
            f"- **Fewer parameters, more compute**: Dense4 has {d4 / r34:.3f}x ResNet34's parameters but "
            f"{lo:.2f}x to {hi:.2f}x its multiply-adds per image ({sizes}): a parameter count does not measure cost"
            + (" (the original printed both multiply-add counts but did not discuss them)." if untold else ".")
        )
    if crossovers:
        parts = [f"{name.removeprefix('FlexConv ')}: from C = {c:,}" for name, c in crossovers.items()]
        lines.append(
            f"- **Where FlexConv saves parameters** ({out_channels} output channels; Conv2d(C, {out_channels}, 3) "
            "has more parameters than FlexConv from): "
            + "; ".join(parts)
            + ". In original mode the input channels must outnumber the map's pixels, so the saving is real only "
            "deep in a network, where maps are small and channels many, as the original argues."
        )
    return "\n".join(lines)


def limitations_markdown() -> str:
    """Notebook 03's Limitations: what closed-form counting cannot tell."""
    o = ORIGINAL_DENSE
    return "\n".join(
        [
            "- **Speed**: parameters and multiply-adds are not time. Memory traffic, layer shapes, the kernels a "
            "library picks and the device decide how fast a model runs; notebook 02 measures images/s and latency "
            "on the machine that ran it.",
            "- **Accuracy**: a count says nothing about how well a model learns or generalises; only training "
            "and testing it does (notebooks 01 and 02).",
            f"- **Setting**: the counts are at the original's setting ({o.num_classes} classes, {o.image_size} px); "
            "the heads grow with the class count and the multiply-adds with the image area, so a run at another "
            "setting has other numbers (notebook 02 prints its own).",
            "- **What is counted**: multiply-adds of one forward pass per image (torchinfo's modules, plus "
            "FlexConv's functional grouped convolution added by a hook); the backward pass, the optimizer and data "
            "loading are not counted.",
        ]
    )
