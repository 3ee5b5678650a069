import numpy as np
import pytest

from hwlib import params
from hwlib.flexconv import MODES, PooledFlexConv2d, flex_conv2d
from hwlib.models import flex_cnn


def test_every_original_count_matches_torchinfo():
    checks = params.count_checks()
    by_name = {c.name: c for c in checks}
    assert all(c.match for c in checks), [c for c in checks if not c.match]
    assert by_name["Conv2d(3, 32, 3) 'same'"].measured == 896
    assert by_name["FlexConv2d original, 32 out, 128x128 (original's count)"].measured == 10 + 4_718_592 + 288
    assert by_name["Dense4, 50 classes"].measured == 5_375_538
    assert by_name["ResNet34 torchvision (1000 classes) vs its IMAGENET1K_V1 metadata"].measured == 21_797_672
    assert len(checks) >= 14
    flex = [c for c in checks if c.name.startswith(("FlexConv2d ", "flex_cnn "))]
    for words in ("original", "pooled,", "pooled + identity table", "hybrid"):  # every mode, layer and network
        assert sum(words in c.name for c in flex) == 2, words
    hybrid = by_name["flex_cnn hybrid (3 known channels), 32 px, 10 classes (the channel study's main model)"]
    assert hybrid.measured == n_params(flex_cnn(mode="hybrid", known_channels=3, image_size=32, num_classes=10))


def n_params(m) -> int:
    return sum(p.numel() for p in m.parameters())


def test_pooled_flexconv_closed_form_any_config():
    for out, grid, feats, known in ((1, 2, 1, 0), (16, 8, 4, 0), (7, 5, 3, 3), (16, 4, 4, 12)):
        layer = PooledFlexConv2d(out, 3, grid=grid, features=feats, known_channels=known)
        assert n_params(layer) == params.flexconv_params(out, 3, grid=grid, features=feats, known_channels=known)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("out", "k", "grid", "feats", "known", "size"), [(1, 1, 2, 1, 1, 4), (16, 3, 8, 4, 3, 32), (7, 5, 5, 3, 12, 9)]
)
def test_flexconv_closed_form_every_mode(mode, out, k, grid, feats, known, size):
    kw = {
        "in_size": (size, size + 1),
        "grid": grid,
        "features": feats,
        "known_channels": 0 if mode == "original" else known,
    }
    layer = flex_conv2d(mode=mode, out_channels=out, kernel_size=k, **kw)
    assert n_params(layer) == params.flexconv_params(out, k, mode=mode, **kw)
    if mode != "original":  # and without an identity table (hybrid needs one)
        kw["known_channels"] = int(mode == "hybrid")
        layer = flex_conv2d(mode=mode, out_channels=out, kernel_size=k, **kw)
        assert n_params(layer) == params.flexconv_params(out, k, mode=mode, **kw)


@pytest.mark.parametrize(
    ("mode", "known"), [("original", 0), ("pooled", 0), ("pooled", 3), ("hybrid", 3), ("hybrid", 1)]
)
@pytest.mark.parametrize(("size", "classes"), [(24, 2), (32, 10), (45, 50)])
def test_flex_cnn_closed_form_equals_torchinfo_every_mode(mode, known, size, classes):
    kw = {"mode": mode, "known_channels": known, "image_size": size, "num_classes": classes}
    model = flex_cnn(**kw)
    formula = params.flex_cnn_params(**kw)
    assert formula == n_params(model) == params.measure(model, (3, size, size)).params


def test_flexconv_params_rejects_impossible_configs():
    with pytest.raises(ValueError):
        params.flexconv_params(4, mode="original")  # no in_size
    with pytest.raises(ValueError):
        params.flexconv_params(4, mode="hybrid")  # no identity table
    with pytest.raises(ValueError):
        params.flexconv_params(4, mode="other")


def test_crossover_is_the_first_channel_count_where_conv_is_larger():
    for size in (4, 8, 16):
        flex = params.flexconv_params(32, mode="original", in_size=(size, size))
        c = params.crossover_channels(flex, out_channels=32)
        assert params.conv2d_params(c, 32, 3) > flex >= params.conv2d_params(c - 1, 32, 3)
        assert c == size * size + 1  # channels must outnumber the map's pixels


def test_macs_are_per_image_multiply_adds():
    m = params.measure(PooledFlexConv2d(4), (1, 8, 8))
    assert m.params == params.flexconv_params(4)
    # torchinfo's count of the modules (it counts biases as multiply-adds too), plus the functional grouped conv
    counted = params.summary(PooledFlexConv2d(4), input_size=(1, 1, 8, 8), verbose=0).total_mult_adds
    assert m.macs == counted + params.flexconv_grouped_macs(4, 1, 3, 8, 8) == counted + 4 * 9 * 64
    dense = params.measure(__import__("hwlib.models", fromlist=["dense4"]).dense4(), (3, 128, 128))
    assert round(dense.macs / 1e9, 2) == 3.86  # the original's torchinfo printout


def test_original_corrections_name_the_errors():
    rows = {r.what: r for r in params.original_corrections()}
    assert rows["FlexConv 1->1 extract conv"].correct.endswith("= 10")
    assert rows["FlexConv Linear bias"].correct.endswith("288")
    assert "0.246x" in rows["Dense4 vs ResNet34 parameters"].correct
    curves, cross = params.params_vs_channels(out_channels=32, channels=np.arange(1, 100), map_sizes=(4,))
    assert cross["FlexConv original, 4x4 maps"] == 17


def test_original_printouts_match_and_the_side_by_side_table():
    printouts = {c.what: c for c in params.original_printouts()}
    assert printouts["Dense4 parameters (50 classes)"].original == printouts["Dense4 parameters (50 classes)"].correct
    assert all(c.why == "correct" for c in printouts.values()), printouts
    assert printouts["ResNet34 multiply-adds at 128 px"].correct == "1.20 G"
    table = params.original_vs_correct_table()
    assert table.loc["FlexConv Linear bias", "original report"] == "32"
    assert table.loc["FlexConv Linear bias", "correct (computed here)"] == "3*3*32 = 288"
    assert table.loc["FlexConv Linear bias", "verdict"].startswith("wrong: ")
    assert table.loc["Conv2d(3, 32, 3) parameters", "verdict"] == "correct"
    assert table.loc["Dense4 vs ResNet34 multiply-adds at 128 px", "verdict"].startswith("incomplete: ")
    assert table.loc["ResNet34 + original head parameters (50 classes)", "original report"] == "21,847,722"
    assert len(table) == len(params.original_corrections()) + 4


def test_findings_and_limitations_markdown():
    checks = [params.Check("a", 1, 1), params.Check("b", 2, 3)]
    claims = params.original_corrections()
    macs = {64: {"dense4": 300, "resnet34": 100}, 128: {"dense4": 330, "resnet34": 100}}
    text = params.findings_markdown(checks=checks, claims=claims, macs=macs, crossovers={"FlexConv pooled": 258})
    assert "1 of 2 counts match; these do not: b." in text
    assert "Conv2d(3, 32, 3) parameters (864 + 32 = 896)" in text
    assert "FlexConv Linear bias: 32 -> 3*3*32 = 288" in text and "Dense4 about 2.5x ResNet34 -> " in text
    assert (
        "Dense4 has 0.246x ResNet34's parameters but 3.00x to 3.30x its multiply-adds per image (64 px, 128 px)" in text
    )
    assert "did not discuss them" in text and "pooled: from C = 258" in text
    assert "multiply-adds at 128 px: printed" not in text.split("Its errors")[1]  # an omission, not an error
    all_ok = params.findings_markdown(checks=checks[:1], claims=[], macs={}, crossovers={})
    assert (
        all_ok
        == "- **Closed form vs torchinfo**: 1 of 1 counts match, so the formulas below are the models' real counts."
    )
    limits = params.limitations_markdown()
    assert "**Speed**" in limits and "**Accuracy**" in limits and "(50 classes, 128 px)" in limits
