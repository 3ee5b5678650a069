"""hwlib.data.loader: channel subsets, zero-fill, flips and crops, deterministic order."""

import pytest
import torch

from hwlib.data import COMBOS, BatchLoader, channel_indices, sample_combo, select_channels
from hwlib.data.loader import flip_crop


# -- channels and loaders ------------------------------------------------------------------------
def test_subset_and_zero_fill_views_agree_on_present_channels():
    x = torch.rand(4, 3, 8, 8) + 0.1
    for combo in COMBOS:
        idx = channel_indices(combo)
        sub = select_channels(x, combo, zero_fill=False)
        zf = select_channels(x, combo, zero_fill=True)
        assert sub.shape[1] == len(combo) and zf.shape[1] == 3
        torch.testing.assert_close(zf[:, idx], sub)
        absent = [i for i in range(3) if i not in idx]
        assert (zf[:, absent] == 0).all()
    with pytest.raises(ValueError):
        channel_indices("BR")


def test_random_channel_subsets_cover_all_seven():
    g = torch.Generator().manual_seed(0)
    assert {sample_combo(g) for _ in range(300)} == set(COMBOS)


def test_loader_order_depends_only_on_seed_and_epoch(make_split):
    data = make_split(20, classes=20, size=2)
    a = BatchLoader(data, batch_size=6, shuffle=True, seed=3)
    b = BatchLoader(data, batch_size=6, shuffle=True, seed=3)
    a.set_epoch(2)
    b.set_epoch(2)
    assert [y.tolist() for _, y in a] == [y.tolist() for _, y in b]
    assert sorted(sum((y.tolist() for _, y in a), [])) == list(range(20))
    assert len(a) == 4


def test_flip_crop_gather_equals_flip_pad_slice():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (6, 3, 9, 7), dtype=torch.uint8, generator=g)
    flip = torch.tensor([True, False, True, False, True, False])
    offsets = torch.randint(0, 2 * 3 + 1, (6, 2), generator=g)
    ref = []
    for i in range(6):
        img = x[i].float().flip(-1) if flip[i] else x[i].float()
        padded = torch.nn.functional.pad(img[None], (3, 3, 3, 3), mode="reflect")[0]
        oy, ox = offsets[i].tolist()
        ref.append(padded[:, oy : oy + 9, ox : ox + 7])
    out = flip_crop(x, flip=flip, offsets=offsets, pad=3)
    assert out.dtype == torch.uint8 and torch.equal(out.float(), torch.stack(ref))
    assert torch.equal(flip_crop(x, flip=None, offsets=None, pad=0), x)


def test_loader_with_channels_yields_identities(make_split):
    data = make_split(8, size=4)
    (x, ids), _ = next(iter(BatchLoader(data, batch_size=4, combo="RB", with_channels=True)))
    assert x.shape == (4, 2, 4, 4) and ids.tolist() == [0, 2]
    with pytest.raises(ValueError):
        BatchLoader(data, batch_size=4, with_channels=True, zero_fill=True)
