"""hwlib.channel_layers: every channel-adaptive baseline takes any subset of the known channels."""

import pytest
import torch

from hwlib.channel_layers import ADAPTIVE_FIRST, channel_adaptive
from hwlib.data import COMBOS, channel_indices
from hwlib.models import adaptive_cnn


@pytest.mark.parametrize("name", ADAPTIVE_FIRST)
def test_every_subset_every_size(name):
    torch.manual_seed(0)
    layer = channel_adaptive(name, out_channels=8)
    for combo in COMBOS:
        ids = channel_indices(combo)
        for h, w in ((16, 16), (13, 21)):
            assert layer(torch.rand(2, len(ids), h, w), ids).shape == (2, 8, h, w)
    net = adaptive_cnn(first=name, num_classes=5, image_size=32)
    assert net(torch.rand(3, 2, 40, 36), torch.tensor([0, 2])).shape == (3, 5)


@pytest.mark.parametrize("name", ADAPTIVE_FIRST)
def test_batch_independence_and_unknown_channels(name):
    torch.manual_seed(0)
    layer = channel_adaptive(name, out_channels=4)
    x = torch.rand(4, 2, 12, 12)
    torch.testing.assert_close(layer(x, [1, 2])[:1], layer(x[:1], [1, 2]))
    with pytest.raises(ValueError, match="knows 3 channels"):
        layer(torch.rand(1, 2, 8, 8), [0, 3])


def test_slice_param_on_all_channels_is_a_plain_convolution():
    torch.manual_seed(0)
    layer = channel_adaptive("slice_param", out_channels=4)
    x = torch.rand(2, 3, 9, 9)
    ref = torch.nn.functional.conv2d(x, layer.weight.transpose(0, 1), layer.bias, padding="same")
    torch.testing.assert_close(layer(x, [0, 1, 2]), ref)
    # one channel: its own slice, scaled by 3 (the rescaling CHAMMI's SliceParam uses)
    ref_r = torch.nn.functional.conv2d(x[:, :1], 3 * layer.weight[:1].transpose(0, 1), layer.bias, padding="same")
    torch.testing.assert_close(layer(x[:, :1], [0]), ref_r)


def test_grey_mean_and_zero_fill_rescale_see_what_they_should():
    torch.manual_seed(0)
    grey = channel_adaptive("grey_mean", out_channels=4)
    x = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(grey(x, [0, 1, 2]), grey(x.mean(1, keepdim=True).expand(-1, 3, -1, -1), [0, 1, 2]))
    zf = channel_adaptive("zero_fill_rescale", out_channels=4)
    filled = torch.zeros(2, 3, 8, 8)
    filled[:, 2] = x[:, 0] * 3
    torch.testing.assert_close(zf(x[:, :1], [2]), zf.body(filled))


@pytest.mark.parametrize("name", ADAPTIVE_FIRST)
def test_known_channels_sets_the_table_and_forward_takes_channel_ids(name):
    torch.manual_seed(0)
    layer = channel_adaptive(name, out_channels=4, known_channels=5)
    assert layer.known_channels == 5
    x = torch.rand(2, 2, 9, 9)
    torch.testing.assert_close(layer(x, channel_ids=[3, 4]), layer(x, [3, 4]))
    with pytest.raises(ValueError):
        layer(x, channel_ids=[0, 5])
    net = adaptive_cnn(first=name, num_classes=3, image_size=32, known_channels=5)
    assert net.first_layer.known_channels == 5 and net.fixed_in_channels is None
    assert net(torch.rand(1, 2, 32, 32), channel_ids=[0, 4]).shape == (1, 3)


def test_target_param_has_a_private_conv_per_channel_subset():
    import torch

    from hwlib.channel_layers import channel_adaptive

    torch.manual_seed(0)
    layer = channel_adaptive("target_param", out_channels=4, known_channels=3)
    assert sorted(layer.convs) == ["0", "0_1", "0_1_2", "0_2", "1", "1_2", "2"]
    x = torch.rand(2, 2, 8, 8)
    y = layer(x, [0, 2])
    assert torch.allclose(y, layer.convs["0_2"](x))
    assert torch.allclose(layer(x.flip(1), [2, 0]), y)  # the channels' order does not matter, their ids do
    with pytest.raises(ValueError, match="knows 3 channels"):
        layer(torch.rand(1, 1, 8, 8), [3])
