import json
from dataclasses import replace

import numpy as np
import pytest

from hwlib import params, publish
from hwlib.flexconv import MODES, PooledFlexConv2d, flex_conv2d
from hwlib.models import flex_cnn
from hwlib.studies import params as study_params


def test_every_original_count_matches_torchinfo():
    checks = params.count_checks()
    by_name = {c.name: c for c in checks}
    assert all(c.match for c in checks), [c for c in checks if not c.match]
    assert by_name["Conv2d(3, 32, 3) 'same'"].measured == 896
    assert by_name["OriginalFlexConv2d, 32 out, 128x128 (original's count)"].measured == 10 + 4_718_592 + 288
    assert by_name["Dense4, 50 classes"].measured == 5_375_538
    assert by_name["ResNet34 torchvision (1000 classes) vs its IMAGENET1K_V1 metadata"].measured == 21_797_672
    assert len(checks) >= 14
    flex = [
        c.name.lower().replace("flexconv2d", "")
        for c in checks
        if "FlexConv2d" in c.name or c.name.startswith("flex_cnn ")
    ]
    for words in ("original", "pooled", "pooled + identity table", "hybrid"):  # every mode, layer and network
        assert sum(words in name for name in flex) >= 2, words
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
    assert m.macs == counted + params.flexconv_kernel_macs(4, 1, 3, 8, 8) == counted + 4 * 9 * 64
    dense = params.measure(__import__("hwlib.dense_models", fromlist=["dense4"]).dense4(), (3, 128, 128))
    assert round(dense.macs / 1e9, 2) == 3.86  # the original's torchinfo printout


# Dense4's and ResNet34's (original head) costs at the original's setting, as measured (tests that
# need no model build pass them in)
D4 = params.Measured(5_375_538, 3_855_550_002)
R34 = params.Measured(21_847_722, 1_196_743_146)


def test_original_corrections_name_the_errors():
    rows = {r.what: r for r in params.original_corrections(dense4_cost=D4, resnet34_cost=R34)}
    assert rows["FlexConv 1->1 extract conv"].correct_value == 10
    assert rows["FlexConv Linear bias"].correct_value == 288 and rows["FlexConv Linear bias"].original_value == 32
    assert rows["FlexConv layer total"].correct_value == 10 + 4_718_592 + 288
    assert rows["Dense4 vs ResNet34 parameters"].correct_value == pytest.approx(0.246, abs=5e-4)
    verdicts = {w: r.verdict for w, r in rows.items()}
    assert verdicts == {
        "Conv2d(3, 32, 3) parameters": "correct",
        "FlexConv 1->1 extract conv": "wrong",
        "FlexConv Linear weights": "correct",
        "FlexConv Linear bias": "wrong",
        "FlexConv Linear total": "wrong",
        "FlexConv layer total": "wrong",
        "Dense4 vs ResNet34 parameters": "wrong",
        "Dense4 vs ResNet34 multiply-adds at 128 px": "incomplete",
    }
    curves, cross = params.params_vs_channels(out_channels=32, channels=np.arange(1, 100), map_sizes=(4,))
    assert cross["FlexConv original, 4x4 maps"] == 17


def test_claim_verdict_is_decided_by_its_values_and_stated_flag():
    claim = params.OriginalClaim(what="x", original="2.5", correct="0.246", original_value=2.5, correct_value=0.246,
                                 digits=1)  # fmt: skip
    assert claim.verdict == "wrong" and not claim.value_right
    same = replace(claim, original_value=0.25)  # equal at the original's precision (one decimal)
    assert same.verdict == "correct"
    assert replace(same, stated=False).verdict == "incomplete"  # right numbers, no conclusion drawn
    assert replace(claim, stated=False).verdict == "wrong"  # a wrong number is wrong, stated or not
    # the text plays no part in the verdict
    assert replace(same, original="printed, not discussed").verdict == "correct"
    assert claim.as_dict()["verdict"] == "wrong" and claim.as_dict()["stated"] is True


def test_original_printouts_match_this_librarys_models():
    # the costs as measured (test_param_study_result_and_its_json measures them)
    printouts = {c.what: c for c in params.original_printouts(dense4_cost=D4, resnet34_cost=R34)}
    assert len(printouts) == 4
    assert all(c.verdict == "correct" for c in printouts.values()), printouts
    assert printouts["Dense4 parameters (50 classes)"].correct_value == 5_375_538
    assert printouts["ResNet34 multiply-adds at 128 px"].correct == "1.20 G"
    off = params.original_printouts(dense4_cost=params.Measured(D4.params + 1, D4.macs), resnet34_cost=R34)
    assert [c.verdict for c in off] == ["wrong", "correct", "correct", "correct"]


def test_channel_crossovers():
    layers = params.channel_crossovers(out_channels=32, map_sizes=(4, 8))
    assert [(x.mode, x.map_size, x.crossover) for x in layers] == [
        ("original", 4, 17), ("original", 8, 65), ("pooled", None, 258)
    ]  # fmt: skip
    assert layers[-1].params == params.flexconv_params(32, mode="pooled")
    curves, cross = params.params_vs_channels(out_channels=32, channels=np.arange(1, 10), map_sizes=(4, 8))
    assert list(curves) == [params.conv_label(32), *(x.name for x in layers)]
    assert cross == {x.name: x.crossover for x in layers}
    assert curves[params.conv_label(32)][0] == params.conv2d_params(1, 32, 3)


def test_param_study_result_and_its_json(monkeypatch, tmp_path):
    """run_param_study at one extra size, with the count checks stubbed (they are tested above): the
    JSON's structure, its numbers, and the README's line read from it."""
    monkeypatch.setattr(study_params, "count_checks", lambda: [params.Check("a", 1, 1), params.Check("b", 2, 3)])
    res = study_params.run_param_study(profile="smoke", sizes=(32, 128), channels=np.arange(1, 300))
    assert res.candidate == "dense4" and res.baseline == "resnet34"
    assert res.matching == 1 and not res.all_match and res.goals() == []
    assert res.models["dense4"].params == 5_375_538 and res.models["resnet34"].params == 21_847_722
    assert res.models["dense4"].macs[128] == D4.macs and res.models["resnet34"].macs[128] == R34.macs
    assert res.params_ratio == pytest.approx(D4.params / R34.params)
    assert {v: len(res.claims_by(v)) for v in ("correct", "wrong", "incomplete")} == {
        "correct": 6, "wrong": 5, "incomplete": 1
    }  # fmt: skip
    assert res.crossovers["FlexConv original, 16x16 maps"] == 257

    path = res.save(tmp_path / "03_param_analysis.json")
    d = json.loads(path.read_text())
    assert d["schema_version"] == publish.SCHEMA_VERSION
    assert {"checks", "check_counts", "corrections", "original_printouts", "claim_counts", "models", "comparison",
            "crossover_channels", "dataset", "profile", "image_size", "num_classes"} <= set(d)  # fmt: skip
    assert set(d["models"]) == {"dense4", "resnet34"}
    assert d["models"]["dense4"]["macs_per_image"] == {"32": res.models["dense4"].macs[32], "128": D4.macs}
    assert d["comparison"]["macs_ratio"]["128"] == pytest.approx(D4.macs / R34.macs)
    assert d["check_counts"] == {"match": 1, "total": 2}
    assert d["claim_counts"] == {"correct": 6, "wrong": 5, "incomplete": 1, "total": 12}
    cross = d["crossover_channels"]
    assert cross["out_channels"] == 32 and cross["channels"] == {"min": 1, "max": 299}
    assert cross["layers"]["FlexConv pooled (any size)"] == {
        "name": "FlexConv pooled (any size)", "mode": "pooled", "map_size": None, "params": 74_088, "crossover": 258
    }  # fmt: skip
    assert [c["verdict"] for c in d["corrections"]].count("wrong") == 5
    assert "1 of 2 closed-form counts match" in publish.results_markdown(tmp_path)
