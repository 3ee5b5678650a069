"""Parameter arithmetic in closed form, and the same numbers measured with torchinfo.

Every count the original report states is recomputed here; :func:`count_checks` builds the models,
measures them and returns `formula vs measured` rows. MACs are multiply-adds per image at a
stated input size (torchinfo's "mult-adds"), not FLOPs and not per batch.

The original report's claims are data here (:class:`OriginalClaim`, with the verdict computed from
their values); notebook 03's numbers are :mod:`hwlib.studies.params`'s and its prose
:mod:`hwlib.report.params`'s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torchinfo import summary

from .dense_models import dense4, resnet34_baseline
from .flexconv import FlexConvBase, FlexMode, flex_conv2d
from .models import cnn3, flex_cnn, small_cnn_map_size
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
    """hwlib.models.flex_cnn's parameters (same arguments, no subset_affine), in every mode: the FlexConv layer
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


def flexconv_kernel_macs(out_channels: int, in_channels: int, kernel_size: int, height: int, width: int) -> int:
    """Multiply-adds per image of a FlexConv layer's generated-kernel convolution ('same' padding)."""
    return out_channels * in_channels * kernel_size * kernel_size * height * width


def measure(model: nn.Module, input_size: tuple[int, ...]) -> Measured:
    """Parameters and multiply-adds for one image of `input_size` (C, H, W), by torchinfo.

    torchinfo counts modules only; a FlexConv layer applies its generated kernels with a batched
    matrix product (:func:`hwlib.flexconv.batched_conv`), so those multiply-adds are added here from
    each FlexConv layer's actual input shape.
    """
    extra: list[int] = []

    def hook(mod: FlexConvBase, args, _out) -> None:
        b, c, h, w = args[0].shape
        extra.append(flexconv_kernel_macs(mod.out_channels, c, mod.kernel_size, h, w))  # per image (b = 1)

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
    """Every parameter count the original report states, and every FlexConv mode's
    (original, pooled with and without a channel-identity table, hybrid): closed form vs torchinfo."""

    def m(model: nn.Module, size: tuple[int, ...]) -> int:
        return measure(model, size).params

    torch.manual_seed(0)
    rows = [
        Check(
            "Conv2d(3, 32, 3) 'same'", conv2d_params(3, 32, 3), m(nn.Conv2d(3, 32, 3, padding="same"), (3, 128, 128))
        ),
        Check(
            "OriginalFlexConv2d, 32 out, 128x128 (original's count)",
            flexconv_params(32, 3, mode="original", in_size=(128, 128)),
            m(flex_conv2d(mode="original", out_channels=32, in_size=(128, 128)), (3, 128, 128)),
        ),
        Check(
            "PooledFlexConv2d, 32 out (any size)",
            flexconv_params(32, 3, mode="pooled"),
            m(flex_conv2d(mode="pooled", out_channels=32), (3, 128, 128)),
        ),
        Check(
            "PooledFlexConv2d + identity table (3 channels), 32 out",
            flexconv_params(32, 3, mode="pooled", known_channels=3),
            m(flex_conv2d(mode="pooled", out_channels=32, known_channels=3), (3, 128, 128)),
        ),
        Check(
            "HybridFlexConv2d (3 known channels), 32 out",
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


ClaimVerdict = Literal["correct", "wrong", "incomplete"]


@dataclass(frozen=True, kw_only=True)
class OriginalClaim:
    """A number as the original report states it, and the correct one.

    The verdict is computed, never read from the text: the original's value against the correct one
    at the precision the original gives (`digits` decimals), and whether the original drew a
    conclusion from it (`stated`) or only printed it.
    """

    what: str
    original: str  # as the original report writes it
    correct: str  # the correct value, computed here
    original_value: float  # the number it states (not stated: the one its printouts give)
    correct_value: float
    digits: int = 0  # decimals of original_value; both values are compared rounded to them
    stated: bool = True  # False: the original printed the numbers but drew no conclusion from them
    why: str = ""  # what is wrong or left out; read only when the verdict is not "correct"

    @property
    def value_right(self) -> bool:
        return round(self.correct_value, self.digits) == round(self.original_value, self.digits)

    @property
    def verdict(self) -> ClaimVerdict:
        """'correct', 'wrong' (the value differs) or 'incomplete' (right numbers the original printed
        but did not discuss)."""
        if not self.value_right:
            return "wrong"
        return "correct" if self.stated else "incomplete"

    def as_dict(self) -> dict:
        return {**asdict(self), "value_right": self.value_right, "verdict": self.verdict}


def _at_setting(dense4_cost: Measured | None, resnet34_cost: Measured | None) -> tuple[Measured, Measured]:
    """Dense4's and ResNet34's (original head) parameters and multiply-adds at the original's setting,
    measured unless given."""
    o = ORIGINAL_DENSE
    size = (3, o.image_size, o.image_size)
    d4 = dense4_cost or measure(dense4(num_classes=o.num_classes), size)
    r34 = resnet34_cost or measure(resnet34_baseline(num_classes=o.num_classes, head="original"), size)
    return d4, r34


def original_corrections(
    *, dense4_cost: Measured | None = None, resnet34_cost: Measured | None = None
) -> list[OriginalClaim]:
    """The original report's parameter arithmetic, item by item, with the errors named. Dense4's and
    ResNet34's costs at the original's setting (50 classes, 128 px) are measured unless given."""
    o = ORIGINAL_DENSE
    lin_w = 128 * 128 * 3 * 3 * 32
    lin_b = 3 * 3 * 32
    conv = conv2d_params(1, 1, 3)
    layer = flexconv_params(32, 3, mode="original", in_size=(128, 128))
    d4, r34 = _at_setting(dense4_cost, resnet34_cost)
    macs_ratio = d4.macs / r34.macs
    return [
        OriginalClaim(
            what="Conv2d(3, 32, 3) parameters",
            original="864 + 32 = 896",
            correct=f"{conv2d_params(3, 32, 3):,}",
            original_value=896,
            correct_value=conv2d_params(3, 32, 3),
        ),
        OriginalClaim(
            what="FlexConv 1->1 extract conv",
            original="3*3*32 + 32 = 320",
            correct=f"1*1*3*3 + 1 = {conv}",
            original_value=320,
            correct_value=conv,
            why=f"one shared 1->1 3x3 conv: {conv - 1} weights and 1 bias, not one per output channel",
        ),
        OriginalClaim(
            what="FlexConv Linear weights",
            original="128*128*3*3*32 = 4,718,592",
            correct=f"{lin_w:,}",
            original_value=4_718_592,
            correct_value=lin_w,
        ),
        OriginalClaim(
            what="FlexConv Linear bias",
            original="32",
            correct=f"3*3*32 = {lin_b}",
            original_value=32,
            correct_value=lin_b,
            why=f"the Linear outputs k*k*out = {lin_b} values, one bias each",
        ),
        OriginalClaim(
            what="FlexConv Linear total",
            original="4,718,624",
            correct=f"{lin_w + lin_b:,}",
            original_value=4_718_624,
            correct_value=lin_w + lin_b,
            why="follows from the bias",
        ),
        OriginalClaim(
            what="FlexConv layer total",
            original="320 + 4,718,624 = 4,718,944",
            correct=f"{conv} + {lin_w + lin_b:,} = {layer:,}",
            original_value=4_718_944,
            correct_value=layer,
            why="both errors above",
        ),
        OriginalClaim(
            what="Dense4 vs ResNet34 parameters",
            original="Dense4 about 2.5x ResNet34",
            correct=f"{d4.params:,} / {r34.params:,} = {d4.params / r34.params:.3f}x",
            original_value=2.5,
            correct_value=d4.params / r34.params,
            digits=1,
            why=f"Dense4 has {'fewer' if d4.params < r34.params else 'more'} parameters than ResNet34",
        ),
        OriginalClaim(
            what=f"Dense4 vs ResNet34 multiply-adds at {o.image_size} px",
            original=f"printed ({o.dense4_macs_g:.2f} G, {o.resnet34_macs_g:.2f} G), not discussed",
            correct=f"{d4.macs / 1e9:.2f} G / {r34.macs / 1e9:.2f} G = {macs_ratio:.2f}x",
            original_value=o.dense4_macs_g / o.resnet34_macs_g,
            correct_value=macs_ratio,
            digits=2,
            stated=False,
            why="Dense4 costs more compute per image: it is wide where maps are large"
            if macs_ratio > 1
            else "Dense4 costs less compute per image",
        ),
    ]


def original_printouts(
    *, dense4_cost: Measured | None = None, resnet34_cost: Measured | None = None
) -> list[OriginalClaim]:
    """The original report's torchinfo printouts (hwlib.original) against this library's models at
    its setting (50 classes, 128 px; measured unless given)."""
    o = ORIGINAL_DENSE
    d4, r34 = _at_setting(dense4_cost, resnet34_cost)
    why = "this library's model measures otherwise at the original's setting"
    return [
        OriginalClaim(
            what=f"Dense4 parameters ({o.num_classes} classes)",
            original=f"{o.dense4_params:,}",
            correct=f"{d4.params:,}",
            original_value=o.dense4_params,
            correct_value=d4.params,
            why=why,
        ),
        OriginalClaim(
            what=f"ResNet34 + original head parameters ({o.num_classes} classes)",
            original=f"{o.resnet34_params:,}",
            correct=f"{r34.params:,}",
            original_value=o.resnet34_params,
            correct_value=r34.params,
            why=why,
        ),
        OriginalClaim(
            what=f"Dense4 multiply-adds at {o.image_size} px",
            original=f"{o.dense4_macs_g:.2f} G",
            correct=f"{d4.macs / 1e9:.2f} G",
            original_value=o.dense4_macs_g,
            correct_value=d4.macs / 1e9,
            digits=2,
            why=why,
        ),
        OriginalClaim(
            what=f"ResNet34 multiply-adds at {o.image_size} px",
            original=f"{o.resnet34_macs_g:.2f} G",
            correct=f"{r34.macs / 1e9:.2f} G",
            original_value=o.resnet34_macs_g,
            correct_value=r34.macs / 1e9,
            digits=2,
            why=why,
        ),
    ]


# -- where FlexConv saves parameters ----------------------------------------------------------
def crossover_channels(flex_params: int, *, out_channels: int, kernel_size: int = 3) -> int:
    """Smallest C at which a standard Conv2d(C, out, k) has more parameters than a FlexConv layer
    with `flex_params` (whose count does not depend on C): 9*out*C + out > P_flex."""
    per_channel = out_channels * kernel_size * kernel_size
    return (flex_params - out_channels) // per_channel + 1


@dataclass(frozen=True)
class ChannelCrossover:
    """A FlexConv layer (its count does not depend on the input channels C) and the smallest C at
    which a standard Conv2d(C, out, 3) has more parameters."""

    name: str
    mode: FlexMode
    map_size: int | None  # the square map original mode is built for; None: any size
    params: int
    crossover: int

    def as_dict(self) -> dict:
        return asdict(self)


def conv_label(out_channels: int) -> str:
    return f"Conv2d(C, {out_channels}, 3)"


def channel_crossovers(*, out_channels: int, map_sizes: tuple[int, ...]) -> list[ChannelCrossover]:
    """Original-mode FlexConv at each square map size, then pooled FlexConv (any size)."""
    layers: list[tuple[str, FlexMode, int | None]] = [
        (f"FlexConv original, {s}x{s} maps", "original", s) for s in map_sizes
    ]
    layers.append(("FlexConv pooled (any size)", "pooled", None))
    out = []
    for name, mode, s in layers:
        p = flexconv_params(out_channels, mode=mode, in_size=None if s is None else (s, s))
        out.append(ChannelCrossover(name, mode, s, p, crossover_channels(p, out_channels=out_channels)))
    return out


def params_vs_channels(
    *, out_channels: int, channels: ArrayLike, map_sizes: tuple[int, ...]
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Closed-form curves (name -> parameters at each C) and crossovers (name -> C) for a
    standard conv (:func:`conv_label`), original-mode FlexConv at each map size, and pooled FlexConv."""
    c = np.asarray(channels)
    curves = {conv_label(out_channels): out_channels * 9 * c + out_channels}
    crossovers = {}
    for layer in channel_crossovers(out_channels=out_channels, map_sizes=map_sizes):
        curves[layer.name] = np.full(c.shape, layer.params)
        crossovers[layer.name] = layer.crossover
    return curves, crossovers
