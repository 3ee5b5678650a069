import pytest
import torch
from torch import nn

from hwlib.flexconv import FlexConv2d, kernel_diversity, original_loop_forward


@pytest.mark.parametrize(("c", "h", "w"), [(3, 16, 16), (1, 13, 17), (5, 9, 11)])
def test_original_mode_equals_original_loop(c, h, w):
    torch.manual_seed(0)
    layer = FlexConv2d(6, 3, mode="original", in_size=(h, w))
    x = torch.randn(4, c, h, w)
    torch.testing.assert_close(layer(x), original_loop_forward(layer, x), rtol=1e-4, atol=1e-5)


def test_original_mode_gradients_equal_original_loop():
    torch.manual_seed(1)
    layer = FlexConv2d(4, 3, mode="original", in_size=(10, 10))
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
    layer = FlexConv2d(16, 3, mode="original", in_size=(128, 128))
    layer.load_state_dict(original.state_dict())  # strict: same keys and shapes
    assert set(layer.state_dict()) == set(original.state_dict())


@pytest.mark.parametrize("c", [1, 2, 3, 5])
@pytest.mark.parametrize("hw", [(7, 7), (15, 33), (31, 20), (64, 64)])
def test_pooled_mode_any_channels_any_size(c, hw):
    layer = FlexConv2d(8, 3, mode="pooled")
    y = layer(torch.randn(2, c, *hw))
    assert y.shape == (2, 8, *hw)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("mode", ["original", "pooled"])
def test_batch_independence(mode):
    torch.manual_seed(0)
    layer = FlexConv2d(5, 3, mode=mode, in_size=(12, 12))
    x = torch.randn(6, 3, 12, 12)
    alone = layer(x[2:3])
    with_others = layer(x)[2:3]
    other_batch = layer(torch.cat([torch.randn(3, 3, 12, 12), x[2:3]]))[3:4]
    torch.testing.assert_close(alone, with_others, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(alone, other_batch, rtol=1e-5, atol=1e-6)


def test_pooled_output_scale_independent_of_channel_count():
    """Kernels are averaged over channels: C copies of one channel give the same output as 1 copy."""
    torch.manual_seed(0)
    layer = FlexConv2d(4, 3, mode="pooled")
    x1 = torch.randn(2, 1, 20, 20)
    torch.testing.assert_close(layer(x1), layer(x1.repeat(1, 3, 1, 1)), rtol=1e-5, atol=1e-5)


def test_clear_errors_for_bad_input():
    layer = FlexConv2d(4, mode="original", in_size=(8, 8))
    with pytest.raises(ValueError, match="4-D"):
        layer(torch.randn(3, 8, 8))
    with pytest.raises(ValueError, match="at least one input channel"):
        layer(torch.randn(2, 0, 8, 8))
    with pytest.raises(ValueError, match="built for 8x8"):
        layer(torch.randn(2, 3, 9, 8))
    with pytest.raises(ValueError, match="in_size"):
        FlexConv2d(4, mode="original")
    with pytest.raises(ValueError, match="mode"):
        FlexConv2d(4, mode="other")


def test_channel_identity_table():
    torch.manual_seed(0)
    layer = FlexConv2d(4, mode="pooled", channel_ids=3)
    x = torch.randn(2, 2, 12, 12)
    rb, rg = layer(x, [0, 2]), layer(x, [0, 1])
    assert rb.shape == (2, 4, 12, 12) and not torch.allclose(rb, rg)  # the layer knows which channels it got
    torch.testing.assert_close(layer(x), rg)  # default identities 0..C-1
    with pytest.raises(ValueError, match=r"table knows 3 channels \(0..2\); got channel indices \[3\]"):
        layer(torch.randn(2, 1, 12, 12), [3])
    with pytest.raises(ValueError, match="knows 3 channels"):
        layer(torch.randn(2, 4, 12, 12))
    with pytest.raises(ValueError, match="2 channels but"):
        layer(x, [0])
    with pytest.raises(ValueError, match="pooled-mode option"):
        FlexConv2d(4, mode="original", in_size=(8, 8), channel_ids=3)


def test_without_identity_the_layer_is_blind_to_channel_order():
    """The mean over identically-treated channels makes the layer permutation-invariant: it cannot
    tell which channel is which (so not red from green); a channel-identity table breaks the symmetry."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16)
    perm = x[:, [2, 0, 1]]
    blind = FlexConv2d(4, mode="pooled")
    torch.testing.assert_close(blind(x), blind(perm), rtol=1e-5, atol=1e-6)
    seeing = FlexConv2d(4, mode="pooled", channel_ids=3)
    assert not torch.allclose(seeing(x, [0, 1, 2]), seeing(perm, [0, 1, 2]))


def test_hybrid_takes_any_channels_and_unknown_ones():
    torch.manual_seed(0)
    layer = FlexConv2d(8, 3, mode="hybrid", channel_ids=3)
    for c in (1, 2, 3, 6):
        assert layer(torch.rand(2, c, 17, 23)).shape == (2, 8, 17, 23)
    x = torch.rand(1, 2, 16, 16)
    torch.testing.assert_close(layer(x, [3, 5]), layer(x, [4, 7]))  # every index beyond R, G, B: "unknown"
    with pytest.raises(ValueError, match="needs channel_ids"):
        FlexConv2d(8, 3, mode="hybrid")


def test_hybrid_starts_as_static_per_channel_kernels_and_sees_colour():
    torch.manual_seed(0)
    layer = FlexConv2d(4, 3, mode="hybrid", channel_ids=3)
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
    pooled = kernel_diversity(FlexConv2d(4, 3, mode="pooled"), x)
    hybrid = kernel_diversity(FlexConv2d(4, 3, mode="hybrid", channel_ids=3), x, [0, 1, 2])
    assert hybrid["between_images_share"] == pytest.approx(0.0, abs=1e-12)  # static at init: no image dependence
    assert pooled["between_images_share"] > 0.5 and pooled["cosine_across_channels"] > 0.8
    assert abs(hybrid["cosine_across_channels"]) < 0.5
    for d in (pooled, hybrid):
        assert d["between_images_share"] + d["between_channels_share"] == pytest.approx(1.0)
