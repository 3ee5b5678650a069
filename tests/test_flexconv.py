import pytest
import torch
from torch import nn

from hwlib.flexconv import (
    MODES,
    HybridFlexConv2d,
    OriginalFlexConv2d,
    PooledFlexConv2d,
    flex_conv2d,
    kernel_diversity,
    original_loop_forward,
)


@pytest.mark.parametrize(("c", "h", "w"), [(3, 16, 16), (1, 13, 17), (5, 9, 11)])
def test_original_mode_equals_original_loop(c, h, w):
    torch.manual_seed(0)
    layer = OriginalFlexConv2d(6, 3, in_size=(h, w))
    x = torch.randn(4, c, h, w)
    torch.testing.assert_close(layer(x), original_loop_forward(layer, x), rtol=1e-4, atol=1e-5)


def test_original_mode_gradients_equal_original_loop():
    torch.manual_seed(1)
    layer = OriginalFlexConv2d(4, 3, in_size=(10, 10))
    x = torch.randn(3, 2, 10, 10)
    layer(x).square().sum().backward()
    fast = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    original_loop_forward(layer, x).square().sum().backward()
    for a, p in zip(fast, layer.parameters()):
        torch.testing.assert_close(a, p.grad, rtol=1e-4, atol=1e-5)


def test_original_mode_loads_original_state_dict():
    original = nn.Module()  # the original report's flex_channel_CNN(output_channel=16, width=128, height=128)
    original.extract_conv = nn.Conv2d(1, 1, 3, padding="same")
    original.feature2kernel = nn.Linear(128 * 128, 3 * 3 * 16)
    layer = OriginalFlexConv2d(16, 3, in_size=(128, 128))
    layer.load_state_dict(original.state_dict())  # strict: same keys and shapes
    assert set(layer.state_dict()) == set(original.state_dict())


@pytest.mark.parametrize("c", [1, 2, 3, 5])
@pytest.mark.parametrize("hw", [(7, 7), (15, 33), (31, 20), (64, 64)])
def test_pooled_mode_any_channels_any_size(c, hw):
    layer = PooledFlexConv2d(8, 3)
    y = layer(torch.randn(2, c, *hw))
    assert y.shape == (2, 8, *hw)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("mode", MODES)
def test_batch_independence(mode):
    torch.manual_seed(0)
    layer = flex_conv2d(mode=mode, out_channels=5, in_size=(12, 12), known_channels=3 if mode == "hybrid" else 0)
    x = torch.randn(6, 3, 12, 12)
    alone = layer(x[2:3])
    with_others = layer(x)[2:3]
    other_batch = layer(torch.cat([torch.randn(3, 3, 12, 12), x[2:3]]))[3:4]
    torch.testing.assert_close(alone, with_others, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(alone, other_batch, rtol=1e-5, atol=1e-6)


def test_pooled_output_scale_independent_of_channel_count():
    """Kernels are averaged over channels: C copies of one channel give the same output as 1 copy."""
    torch.manual_seed(0)
    layer = PooledFlexConv2d(4, 3)
    x1 = torch.randn(2, 1, 20, 20)
    torch.testing.assert_close(layer(x1), layer(x1.repeat(1, 3, 1, 1)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_bad_input_is_a_value_error(mode):
    layer = flex_conv2d(mode=mode, out_channels=4, in_size=(8, 8), known_channels=3 if mode == "hybrid" else 0)
    assert layer(torch.randn(2, 3, 8, 8)).shape == (2, 4, 8, 8)
    for bad in (torch.randn(3, 8, 8), torch.randn(2, 0, 8, 8)):
        with pytest.raises(ValueError):
            layer(bad)
    with pytest.raises(ValueError):
        layer.trace(torch.randn(1, 0, 8, 8))
    if mode == "original":
        with pytest.raises(ValueError):  # built for 8x8 only
            layer(torch.randn(2, 3, 9, 8))
    else:
        assert layer(torch.randn(2, 3, 9, 8)).shape == (2, 4, 9, 8)


def test_bad_construction_is_a_value_error():
    for kw in (
        {"mode": "original"},  # no in_size
        {"mode": "other"},
        {"mode": "hybrid"},  # no identity table
        {"mode": "original", "in_size": (8, 8), "known_channels": 3},  # original mode has no table
        {"mode": "pooled", "kernel_size": 0},
    ):
        with pytest.raises(ValueError):
            flex_conv2d(out_channels=4, **kw)
    with pytest.raises(ValueError):
        HybridFlexConv2d(4, known_channels=0)
    with pytest.raises(ValueError):
        PooledFlexConv2d(0)


def test_factory_builds_the_class_of_each_mode():
    built = {m: flex_conv2d(mode=m, out_channels=4, in_size=(8, 8), known_channels=int(m == "hybrid")) for m in MODES}
    assert {m: type(layer) for m, layer in built.items()} == {
        "original": OriginalFlexConv2d,
        "pooled": PooledFlexConv2d,
        "hybrid": HybridFlexConv2d,
    }
    assert all(layer.mode == m and layer.takes_channel_ids for m, layer in built.items())
    # the factory draws the same initial weights as the class itself
    torch.manual_seed(0)
    a = flex_conv2d(mode="hybrid", out_channels=4, known_channels=3, grid=4, features=2)
    torch.manual_seed(0)
    b = HybridFlexConv2d(4, known_channels=3, grid=4, features=2)
    assert a.state_dict().keys() == b.state_dict().keys()
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_channel_identity_table():
    torch.manual_seed(0)
    layer = PooledFlexConv2d(4, known_channels=3)
    x = torch.randn(2, 2, 12, 12)
    rb, rg = layer(x, [0, 2]), layer(x, [0, 1])
    assert rb.shape == (2, 4, 12, 12) and not torch.allclose(rb, rg)  # the layer knows which channels it got
    torch.testing.assert_close(layer(x), rg)  # default ids 0..C-1
    torch.testing.assert_close(layer(x, torch.tensor([0, 2])), rb)  # a tensor of ids works as a list
    for bad_x, bad_ids in (
        (torch.randn(2, 1, 12, 12), [3]),  # beyond the table
        (torch.randn(2, 4, 12, 12), None),  # the default ids 0..3 too
        (x, [0]),  # one id for two channels
        (x, [0, -1]),
    ):
        with pytest.raises(ValueError):
            layer(bad_x, bad_ids)
    assert layer.channel_embed.num_embeddings == 3 and PooledFlexConv2d(4).channel_embed is None


def test_without_identity_the_layer_is_blind_to_channel_order():
    """The mean over identically-treated channels makes the layer permutation-invariant: it cannot
    tell which channel is which (so not red from green); a channel-identity table breaks the symmetry."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16)
    perm = x[:, [2, 0, 1]]
    blind = PooledFlexConv2d(4)
    torch.testing.assert_close(blind(x), blind(perm), rtol=1e-5, atol=1e-6)
    seeing = PooledFlexConv2d(4, known_channels=3)
    assert not torch.allclose(seeing(x, [0, 1, 2]), seeing(perm, [0, 1, 2]))


def test_hybrid_takes_any_channels_and_unknown_ones():
    torch.manual_seed(0)
    layer = HybridFlexConv2d(8, 3, known_channels=3)
    for c in (1, 2, 3, 6):
        assert layer(torch.rand(2, c, 17, 23)).shape == (2, 8, 17, 23)
    x = torch.rand(1, 2, 16, 16)
    torch.testing.assert_close(layer(x, [3, 5]), layer(x, [4, 7]))  # every id beyond R, G, B: "unknown"
    assert layer.channel_embed.num_embeddings == 4 and layer.static.shape == (4, 8, 3, 3)  # + the unknown row
    with pytest.raises(ValueError):
        layer(x, [0, -1])


def test_hybrid_starts_as_static_per_channel_kernels_and_sees_colour():
    torch.manual_seed(0)
    layer = HybridFlexConv2d(4, 3, known_channels=3)
    x = torch.rand(3, 3, 16, 16)
    k = layer.generate_kernels(x, [0, 1, 2])  # (B, out, C, k, k)
    torch.testing.assert_close(k, layer.static[:3].transpose(0, 1).expand_as(k))  # residual starts at 0
    # on a subset: the RGB convolution of the image with the absent channel replaced by the present ones' mean
    filled = x.clone()
    filled[:, 1] = x[:, [0, 2]].mean(1)
    ref = torch.nn.functional.conv2d(filled, layer.static[:3].transpose(0, 1), layer.bias, padding="same")
    torch.testing.assert_close(layer(x[:, [0, 2]], [0, 2]), ref, rtol=1e-4, atol=1e-5)
    swapped = layer(x[:, [1, 0, 2]], [0, 1, 2])
    assert not torch.allclose(swapped, layer(x, [0, 1, 2]))  # unlike pooled mode, not blind to channel order


def test_kernel_diversity_tells_static_from_generated_kernels():
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16)
    pooled = kernel_diversity(PooledFlexConv2d(4, 3), x)
    hybrid = kernel_diversity(HybridFlexConv2d(4, 3, known_channels=3), x, [0, 1, 2])
    assert hybrid["between_images_share"] == pytest.approx(0.0, abs=1e-12)  # static at init: no image dependence
    assert pooled["between_images_share"] > 0.5 and pooled["cosine_across_channels"] > 0.8
    assert abs(hybrid["cosine_across_channels"]) < 0.5
    for d in (pooled, hybrid):
        assert d["between_images_share"] + d["between_channels_share"] == pytest.approx(1.0)


@pytest.mark.parametrize("mode", MODES)
def test_trace_returns_each_stage_of_one_sample(mode):
    torch.manual_seed(0)
    layer = flex_conv2d(
        mode=mode, out_channels=5, in_size=(16, 16), grid=4, features=2, known_channels=int(mode == "hybrid") * 3
    )
    x = torch.rand(1, 3, 16, 16)
    t = layer.trace(x, [0, 1, 2])
    assert set(t) == {"input", "features", "pooled", "kernels", "output"}
    assert t["input"].shape == (3, 16, 16) and t["kernels"].shape == (5, 3, 3, 3) and t["output"].shape == (5, 16, 16)
    if mode == "original":
        assert t["features"].shape == (3, 1, 16, 16) and t["pooled"] is None
    else:
        assert t["features"].shape == (3, 2, 8, 8) and t["pooled"].shape == (3, 2, 4, 4)
    torch.testing.assert_close(t["kernels"], layer.generate_kernels(x, [0, 1, 2])[0])
    torch.testing.assert_close(t["output"], layer(x, [0, 1, 2])[0])


def test_original_loop_forward_takes_the_original_layer_only():
    with pytest.raises(ValueError):
        original_loop_forward(PooledFlexConv2d(4), torch.rand(1, 3, 8, 8))


def test_the_readme_snippet_runs_on_1_2_3_and_5_channels(capsys):
    """The README's "FlexConv in your own model" lines, run as they stand there."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## FlexConv in your own model", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{c} channels -> (2, 10)" for c in (3, 2, 1, 5)]


# -- the hybrid layer's switches (notebook 01's ablations) ------------------------------------------
def _hybrid(**off):
    torch.manual_seed(0)
    return flex_conv2d(mode="hybrid", out_channels=4, known_channels=3, ablate=tuple(off))


def test_without_the_residual_the_layer_is_its_static_part_as_one_convolution():
    full, static = _hybrid(), _hybrid(residual=False)
    static.load_state_dict({k: v for k, v in full.state_dict().items() if k in static.state_dict()})
    x = torch.rand(2, 2, 12, 12)
    # the MLP's last layer starts at zero: untrained, the full layer is its static part
    assert torch.allclose(full(x, [0, 2]), static(x, [0, 2]), atol=1e-6)
    generator = ("feature2kernel", "extract_conv", "channel_embed")
    assert not any(n.startswith(generator) for n, _ in static.named_parameters())
    k = static.generate_kernels(x, [0, 2])
    assert k.shape == (2, 4, 2, 3, 3) and torch.equal(k[0], k[1])  # the same kernels for every image


def test_without_redistribution_absent_kernels_are_dropped():
    on, off = _hybrid(), _hybrid(redistribution=False)
    off.load_state_dict(on.state_dict())
    rows = torch.tensor([0])
    assert torch.equal(off.static_kernels(rows), on.static[:1])
    assert torch.allclose(on.static_kernels(rows), on.static[:3].sum(0, keepdim=True))  # R gets G's and B's share
    full = torch.arange(3)
    assert torch.equal(off.static_kernels(full), on.static_kernels(full))  # nothing absent: the same


def test_context_and_stats_switches_remove_their_inputs():
    full = _hybrid()
    n_in = full.feature2kernel[0].in_features
    assert _hybrid(context=False).feature2kernel[0].in_features == n_in - 8  # embed_dim
    assert _hybrid(stats=False).feature2kernel[0].in_features == n_in - 2  # mean and std
    for off in ({"context": False}, {"stats": False}, {"redistribution": False}, {"residual": False}):
        layer = _hybrid(**off)
        assert layer(torch.rand(2, 5, 9, 11), [0, 1, 2, 3, 4]).shape == (2, 4, 9, 11)
    with pytest.raises(ValueError, match="ablate"):
        flex_conv2d(mode="hybrid", out_channels=4, known_channels=3, ablate=("colour",))
    with pytest.raises(ValueError, match="ablate"):
        flex_conv2d(mode="pooled", out_channels=4, ablate=("stats",))


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_batched_conv_equals_each_sample_convolved_with_its_own_kernels(k):
    from hwlib.flexconv import batched_conv

    torch.manual_seed(0)
    x, kernels, bias = torch.randn(3, 2, 7, 6), torch.randn(3, 4, 2, k, k), torch.randn(4)
    want = torch.cat([nn.functional.conv2d(x[i : i + 1], kernels[i], bias, padding="same") for i in range(3)])
    got = batched_conv(x, kernels, bias)
    assert got.shape == (3, 4, 7, 6)
    assert torch.allclose(got, want, atol=1e-5)
    assert torch.allclose(batched_conv(x, kernels, None), want - bias.view(1, -1, 1, 1), atol=1e-5)
