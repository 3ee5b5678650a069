"""Real-data tests on ../shared/data (the course's list files and real ImageNet photos).
They skip, saying so, on a machine without it (a user's fresh clone)."""

from collections import Counter

import pytest

from hwlib.data import load_split, open_dataset, parse_list
from hwlib.data.check import check_dataset
from hwlib.data.decode import decode_sample

pytestmark = pytest.mark.real_data


def test_course_lists_parse_at_full_scale(shared_data):
    root = shared_data / "ncku50"
    raw = (root / "train.txt").read_bytes()
    assert b"\r\n" in raw  # the course's CRLF endings
    counts = {s: len(parse_list((root / f"{s}.txt").read_text(), f"{s}.txt")) for s in ("train", "val", "test")}
    assert counts == {"train": 63_325, "val": 450, "test": 450}
    spec = open_dataset(root)
    assert spec.num_classes == 50 and not spec.warnings
    per = Counter(s.label for s in spec.splits["train"])
    assert per[6] == 1052 and per[12] == 737 and per[0] == 1282
    assert set(Counter(s.label for s in spec.splits["val"]).values()) == {9}


def test_course_sample_photos_decode_with_course_labels(shared_data):
    root = shared_data / "ncku50"
    spec = open_dataset(root)
    samples = parse_list((root / "sample.txt").read_text(), "sample.txt")
    assert len(samples) == 50 and sorted(s.label for s in samples) == list(range(50))
    for s in samples:
        assert decode_sample(spec.source, s, 32).shape == (3, 32, 32)


def test_imagenette_passes_check_and_loads(shared_data, tmp_path):
    checked = check_dataset(shared_data / "imagenette10")
    assert checked.decoded == 13_394 and checked.spec.num_classes == 10 and not checked.warnings
    assert checked.spec.counts() == {"train": 9_469, "val": 1_966, "test": 1_959}
    test = load_split(checked.spec, "test", 32, cache_dir=tmp_path)
    assert test.images.shape == (1_959, 3, 32, 32)
