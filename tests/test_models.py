import pytest
import torch
from torch import nn

from hwlib.channel_layers import ChannelAdaptive
from hwlib.data import COMBOS, channel_indices
from hwlib.dense_models import DenseLayer, dense4, resnet34_baseline
from hwlib.flexconv import HybridFlexConv2d, OriginalFlexConv2d, PooledFlexConv2d
from hwlib.image_checks import check_images
from hwlib.models import adaptive_cnn, cnn3, flex_cnn


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_dense4_is_the_original_model():
    m = dense4(num_classes=50)
    assert n_params(m) == 5_375_538
    assert sum(isinstance(x, nn.Conv2d) for x in m.modules()) == 4
    assert m(torch.randn(2, 3, 64, 64)).shape == (2, 50)


def test_resnet34_heads():
    assert n_params(resnet34_baseline(num_classes=50, head="original")) == 21_847_722
    assert n_params(resnet34_baseline(num_classes=50, head="plain")) == 21_310_322
    with pytest.raises(ValueError):
        resnet34_baseline(head="other")


def test_flex_cnn_original_matches_question1_cnn():
    m = flex_cnn(num_classes=50, image_size=128, mode="original")
    keys = set(m.state_dict())
    assert keys == {
        "flex_layer.extract_conv.weight",
        "flex_layer.extract_conv.bias",
        "flex_layer.feature2kernel.weight",
        "flex_layer.feature2kernel.bias",
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    }
    assert m.fc1.in_features == 32 * 14 * 14  # the original's 6272
    assert m(torch.randn(2, 3, 128, 128)).shape == (2, 50)


@pytest.mark.parametrize("combo", COMBOS)
@pytest.mark.parametrize("size", [32, 37, 53])
def test_flex_cnn_every_combination_and_odd_sizes(combo, size):
    torch.manual_seed(0)
    m = flex_cnn(num_classes=7, image_size=32)
    x = torch.rand(2, 3, size, size)[:, channel_indices(combo)]
    assert m(x).shape == (2, 7)


def test_cnn3_fixed_channels():
    assert cnn3(num_classes=5, image_size=32)(torch.rand(2, 3, 40, 40)).shape == (2, 5)
    assert cnn3(num_classes=5, image_size=32, in_channels=1)(torch.rand(2, 1, 32, 32)).shape == (2, 5)
    with pytest.raises(ValueError, match="built for 3 input channels, got 2"):
        cnn3(num_classes=5, image_size=32)(torch.rand(2, 2, 32, 32))
    with pytest.raises(ValueError, match="4-D"):
        dense4(num_classes=5)(torch.rand(3, 32, 32))


def test_too_small_image_is_a_clear_error():
    with pytest.raises(ValueError, match="too small"):
        flex_cnn(image_size=16)


def test_flex_cnn_sample_output_independent_of_batch():
    torch.manual_seed(0)
    m = flex_cnn(num_classes=4, image_size=32).eval()
    x = torch.rand(5, 2, 35, 35)
    torch.testing.assert_close(m(x)[3:4], m(x[3:4]), rtol=1e-5, atol=1e-6)


def test_dense4_ablation_switches():
    assert sum(isinstance(m, torch.nn.Conv2d) for m in dense4(num_classes=10, transition=False).modules()) == 3
    for kw in ({"concat": False}, {"transition": False}, {"growth_rate": 128, "init_channels": 128}):
        assert dense4(num_classes=10, **kw)(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_first_layer_and_fixed_in_channels():
    cases = [
        (flex_cnn(num_classes=3, image_size=32, mode="original"), OriginalFlexConv2d, None, "flex_layer"),
        (flex_cnn(num_classes=3, image_size=32), PooledFlexConv2d, None, "flex_layer"),
        (flex_cnn(num_classes=3, image_size=32, mode="hybrid", known_channels=3), HybridFlexConv2d, None, "flex_layer"),
        (cnn3(num_classes=3, image_size=32), nn.Conv2d, 3, "conv0"),
        (cnn3(num_classes=3, image_size=32, in_channels=2), nn.Conv2d, 2, "conv0"),
        (adaptive_cnn(first="replicate", num_classes=3, image_size=32), ChannelAdaptive, None, "first"),
    ]
    for model, kind, fixed, name in cases:
        assert isinstance(model.first_layer, kind) and model.first_layer is getattr(model, name)
        assert model.fixed_in_channels == fixed
        assert next(iter(model.state_dict())).startswith(name + ".")  # submodule names (state_dict keys) kept


def test_forward_takes_channel_ids():
    torch.manual_seed(0)
    m = flex_cnn(num_classes=4, image_size=32, mode="hybrid", known_channels=3).eval()
    x = torch.rand(2, 2, 32, 32)
    torch.testing.assert_close(m(x, channel_ids=[0, 2]), m(x, [0, 2]))
    assert not torch.allclose(m(x, channel_ids=[0, 2]), m(x, channel_ids=[0, 1]))
    assert m.flex_layer.known_channels == 3
    c = cnn3(num_classes=4, image_size=32)
    torch.testing.assert_close(c(torch.ones(1, 3, 32, 32), channel_ids=[0, 1, 2]), c(torch.ones(1, 3, 32, 32)))


def test_check_images_in_channels():
    check_images(torch.rand(1, 3, 8, 8), who="m", in_channels=3)
    check_images(torch.rand(1, 5, 8, 8), who="m", in_channels=None)
    for x, c in ((torch.rand(1, 2, 8, 8), 3), (torch.rand(3, 8, 8), None), (torch.rand(1, 0, 8, 8), None)):
        with pytest.raises(ValueError):
            check_images(x, who="m", in_channels=c)


def test_dense_layer_is_one_conv_bn_relu_and_keeps_the_state_dict_keys():
    layer = DenseLayer(8, 4)
    assert [type(m) for m in layer.children()] == [nn.Conv2d, nn.BatchNorm2d]
    assert layer(torch.rand(2, 8, 6, 6)).shape == (2, 12, 6, 6)
    assert DenseLayer(8, 4, concat=False)(torch.rand(2, 8, 6, 6)).shape == (2, 4, 6, 6)
    keys = set(dense4(num_classes=10, growth_rate=8, init_channels=8).state_dict())
    assert {"features.0.0.conv.weight", "features.0.0.bn.weight", "features.1.conv.weight"} <= keys


@pytest.mark.parametrize("subset_affine", [False, True])
def test_forward_views_equals_each_view_on_its_own(subset_affine):
    from hwlib.data.loader import Views

    torch.manual_seed(0)
    m = flex_cnn(num_classes=5, image_size=32, mode="hybrid", known_channels=3, subset_affine=subset_affine).eval()
    if subset_affine:  # away from the identity it starts at, so that each subset's own row shows
        with torch.no_grad():
            for a in (m.affine0, m.affine1):
                a.scale.uniform_(0.5, 1.5)
                a.shift.normal_()
    x = torch.rand(4, 3, 32, 32)
    views = Views((x[:, channel_indices(c)], torch.tensor(channel_indices(c))) for c in COMBOS)
    with torch.no_grad():
        one_by_one = torch.cat([m(*v) for v in views])
        assert torch.allclose(m.forward_views(views), one_by_one, atol=1e-5)
        assert not torch.allclose(one_by_one[:4], one_by_one[4:8])  # RGB and RG differ


def test_subset_affine_rows_are_bitmasks_of_the_known_channels_and_start_as_identity():
    from hwlib.models import SubsetAffine

    a = SubsetAffine(known_channels=3, width=2)
    rows = {ids: int(a.row(list(ids), len(ids), torch.device("cpu"))) for ids in [(0, 1, 2), (0, 2), (1,), (0, 5)]}
    assert rows == {(0, 1, 2): 7, (0, 2): 5, (1,): 2, (0, 5): 1}  # id 5 is not a known channel
    x = torch.randn(3, 2, 4, 4)
    assert torch.equal(a(x, torch.tensor([7, 5, 0])), x)
    with pytest.raises(ValueError, match="known_channels"):
        flex_cnn(mode="pooled", subset_affine=True)
