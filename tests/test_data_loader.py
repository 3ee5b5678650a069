"""hwlib.data.loader: channel subsets, zero-fill, flips and crops, deterministic order, resident vs streaming."""

import numpy as np
import pytest
import torch

from hwlib.data import COMBOS, BatchLoader, SplitTensors, channel_indices, sample_combo, select_channels
from hwlib.data.loader import flip_crop, resident_split
from hwlib.train import to_device


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


# -- where batches are made: resident split vs streaming, same pixels ------------------------------
def reference_batches(loader: BatchLoader) -> list:
    """The loader's batches as it made them before it learnt devices (its former __iter__, verbatim)."""
    n = len(loader.data)
    g = torch.Generator().manual_seed(loader.seed * 100_003 + loader.epoch)
    order = torch.randperm(n, generator=g) if loader.shuffle else torch.arange(n)
    out = []
    for b in range(len(loader)):
        idx = order[b * loader.batch_size : (b + 1) * loader.batch_size]
        if loader.shuffle:
            idx, _ = idx.sort()
        x = loader.data.images[idx]
        y = loader.data.labels[idx]
        flip = torch.rand(len(idx), generator=g) < 0.5 if loader.flip else None
        offsets = torch.randint(0, 2 * loader.crop_pad + 1, (len(idx), 2), generator=g) if loader.crop_pad else None
        if flip is not None or offsets is not None:
            x = flip_crop(x, flip=flip, offsets=offsets, pad=loader.crop_pad)
        x = x.float().div_(255.0)
        combo = sample_combo(g) if loader.combo == "random" else loader.combo
        x = select_channels(x, combo, zero_fill=loader.zero_fill)
        out.append(((x, torch.tensor(channel_indices(combo))) if loader.with_channels else x, y))
    return out


def assert_same_batches(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(ya, yb)
        if isinstance(xa, tuple):
            assert torch.equal(xa[0], xb[0]) and torch.equal(xa[1], xb[1])
        else:
            assert xa.dtype == xb.dtype == torch.float32 and torch.equal(xa, xb)


@pytest.mark.parametrize(
    "view",
    [
        {"shuffle": True, "flip": True, "crop_pad": 3},
        {"shuffle": True, "combo": "random", "with_channels": True},
        {"combo": "GB", "zero_fill": True, "flip": True, "drop_last": True},
        {},
    ],
)
def test_resident_and_streaming_paths_give_the_pixels_of_the_former_loader(make_split, view):
    data = make_split(21, classes=3, size=10)
    cpu = torch.device("cpu")
    for epoch in (0, 3):
        loaders = [BatchLoader(data, batch_size=4, seed=5, device=cpu, resident=r, **view) for r in (True, False, None)]
        for loader in loaders:
            loader.set_epoch(epoch)
        ref = reference_batches(loaders[0])
        for loader in loaders:
            assert_same_batches(list(loader), ref)
    assert not loaders[2].uses_resident()  # auto on the CPU: streaming, as before


def test_resident_split_on_the_cpu_is_the_memory_map_itself(tmp_path):
    arr = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.uint8, shape=(6, 3, 4, 4))
    arr[:] = np.arange(arr.size, dtype=np.uint8).reshape(arr.shape)
    arr.flush()
    data = SplitTensors(torch.from_numpy(np.load(tmp_path / "x.npy", mmap_mode="c")), torch.arange(6))
    images, labels = resident_split(data, torch.device("cpu"))
    assert images.data_ptr() == data.images.data_ptr() and labels is data.labels  # no copy into RAM
    x, y = next(iter(BatchLoader(data, batch_size=6, device="cpu", resident=True)))
    assert torch.equal(x, data.images.float() / 255) and torch.equal(y, torch.arange(6))


def test_for_device_hands_an_unplaced_loader_the_training_device(make_split):
    data = make_split(8)
    loose = BatchLoader(data, batch_size=4, shuffle=True)
    placed = loose.for_device(torch.device("cpu"))
    assert loose.device is None and placed.device == torch.device("cpu") and placed is not loose
    assert placed.for_device(torch.device("meta")) is placed  # a loader given a device keeps it
    assert_same_batches(list(placed), list(loose))


def test_to_device_accepts_batches_already_on_the_device(make_split):
    data = make_split(8, size=6)
    cpu = torch.device("cpu")
    (x, ids), y = next(iter(BatchLoader(data, batch_size=4, combo="RB", with_channels=True, device=cpu)))
    (x2, ids2), y2 = to_device((x, ids), y, cpu)
    assert torch.equal(x2, x) and x2.is_contiguous(memory_format=torch.channels_last)
    assert ids2 is ids and y2 is y


def test_joint_batches_hold_all_seven_views_of_the_same_augmented_images(make_split):
    from hwlib.data.loader import ALL, Views

    data = make_split(8, size=8)
    kw = {"batch_size": 4, "shuffle": True, "seed": 3, "flip": True, "crop_pad": 2}
    joint = list(BatchLoader(data, combo=ALL, with_channels=True, **kw))
    rgb = list(BatchLoader(data, combo="RGB", **kw))  # the same draws of images, flips and crops
    assert len(joint) == len(rgb) == 2
    for (views, y7), (x, y) in zip(joint, rgb):
        assert isinstance(views, Views) and len(views) == len(COMBOS)
        assert torch.equal(y7, y.repeat(7))
        for combo, (v, ids) in zip(COMBOS, views):
            assert ids.tolist() == channel_indices(combo)
            assert torch.equal(v, select_channels(x, combo, zero_fill=False))
    (zviews, _), *_ = BatchLoader(data, combo=ALL, zero_fill=True, batch_size=4)
    assert all(v.shape == (4, 3, 8, 8) for v in zviews)  # zero-filled views keep 3 channels
    moved, _ = to_device(joint[0][0], joint[0][1], torch.device("cpu"))
    assert isinstance(moved, Views) and len(moved) == 7


def test_accuracy_on_a_joint_loader_is_the_mean_of_the_seven(make_split):
    from hwlib.data.loader import ALL
    from hwlib.models import flex_cnn
    from hwlib.train import predict

    data = make_split(20, classes=3, size=32)
    torch.manual_seed(0)
    model = flex_cnn(num_classes=3, image_size=32, mode="hybrid", known_channels=3)
    y, p, _ = predict(model, BatchLoader(data, batch_size=8, combo=ALL, with_channels=True))
    per_combo = []
    for combo in COMBOS:
        yc, pc, _ = predict(model, BatchLoader(data, batch_size=8, combo=combo, with_channels=True))
        per_combo.append(float((yc == pc).mean()))
    assert len(y) == 7 * 20
    assert float((y == p).mean()) == pytest.approx(np.mean(per_combo))


# -- more than three channels (hwlib.data.derived's L and E) --------------------------------------
def test_channel_letters_beyond_rgb_and_their_subsets():
    from hwlib.data.loader import combos_of

    assert channel_indices("RGBLE") == [0, 1, 2, 3, 4] and channel_indices("GE") == [1, 4]
    assert combos_of(3) == COMBOS
    five = combos_of(5)
    assert len(five) == 31 and len(set(five)) == 31 and five[0] == "RGBLE"
    assert all(channel_indices(c) == sorted(channel_indices(c)) for c in five)
    with pytest.raises(ValueError, match="order"):
        channel_indices("LR")
    with pytest.raises(ValueError, match="needs 4 channels"):
        select_channels(torch.rand(2, 3, 4, 4), "RGBL", zero_fill=False)
    x = torch.rand(2, 5, 4, 4) + 0.1
    zf = select_channels(x, "RL", zero_fill=True)
    assert zf.shape == x.shape and torch.equal(zf[:, [1, 2, 4]], torch.zeros(2, 3, 4, 4))
    torch.testing.assert_close(zf[:, [0, 3]], select_channels(x, "RL", zero_fill=False))


def test_random_subsets_draw_from_the_splits_channels_and_keep_rgb_draws():
    from hwlib.data.loader import combos_of

    g = torch.Generator().manual_seed(0)
    drawn = [sample_combo(g, 5) for _ in range(3000)]
    assert set(drawn) <= set(combos_of(5)) and {len(c) for c in drawn} == {1, 2, 3, 4, 5}
    sizes = np.bincount([len(c) for c in drawn])[1:] / len(drawn)
    assert np.allclose(sizes, 0.2, atol=0.03)  # how many channels: uniform over 1..5
    g3, g_default = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert [sample_combo(g3, 3) for _ in range(50)] == [sample_combo(g_default) for _ in range(50)]
    split = SplitTensors(torch.randint(0, 256, (16, 5, 8, 8), dtype=torch.uint8), torch.arange(16) % 2)
    loader = BatchLoader(split, batch_size=4, shuffle=True, combo="random", with_channels=True)
    for (x, ids), _ in loader:
        assert x.shape[1] == len(ids) and int(ids.max()) < 5
