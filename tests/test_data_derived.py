"""hwlib.data.derived: the luminance and edge-strength channels computed from RGB photos."""

import pytest
import torch

from hwlib.data.derived import LUMA, derived_channels


def test_flat_colour_gives_its_luma_and_no_edges():
    rgb = torch.tensor([200, 100, 50], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 6, 6).contiguous()
    out = derived_channels(rgb)
    assert out.shape == (2, 2, 6, 6) and out.dtype == torch.uint8
    expected = round(sum(w * v for w, v in zip(LUMA, (200, 100, 50), strict=True)))
    assert torch.all(out[:, 0] == expected) and torch.all(out[:, 1] == 0)


def test_a_vertical_step_is_an_edge_of_its_height_per_pixel():
    grey = torch.zeros(1, 3, 6, 6, dtype=torch.uint8)
    grey[..., 3:] = 80  # a step of 80 grey levels between columns 2 and 3
    e = derived_channels(grey)[0, 1]
    # Sobel on a step: 4 x 80 at both columns beside it, divided by 4: 80 per pixel; flat elsewhere
    assert torch.all(e[:, 2:4] == 80) and torch.all(e[:, :2] == 0) and torch.all(e[:, 4:] == 0)
    white_black = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    white_black[..., 2:] = 255
    assert int(derived_channels(white_black)[0, 1].max()) == 255  # clipped to uint8


def test_only_rgb_uint8_batches_are_accepted():
    with pytest.raises(ValueError, match="uint8 RGB"):
        derived_channels(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match="uint8 RGB"):
        derived_channels(torch.zeros(1, 3, 4, 4))
