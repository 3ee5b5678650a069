"""hwlib.data.lists (list files, folders, zips, ImageFolder) and hwlib.data.synthetic."""

import zipfile

import numpy as np
import pytest
from PIL import Image

from hwlib.data import DatasetError, SyntheticSpec, decode_resize, generate, load_split, open_dataset, parse_list
from hwlib.data.check import check_dataset

from .conftest import make_list_dataset, write_image


# -- list parsing ------------------------------------------------------------------------------
def test_parse_list_crlf_lf_bom_blank_lines_and_spaces():
    text = "\ufeffimages/a 1.JPEG 0\r\n  images/b.JPEG   2  \r\n\r\nimages/c.JPEG 1\n\n\n"
    samples = parse_list(text, "train.txt")
    assert [(s.path, s.label) for s in samples] == [("images/a 1.JPEG", 0), ("images/b.JPEG", 2), ("images/c.JPEG", 1)]
    assert samples[1].origin == "train.txt:2"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("images/a.JPEG", "train.txt:2: expected"),
        ("images/a.JPEG x", "train.txt:2: label 'x' is not an integer"),
        ("/etc/passwd 0", "train.txt:2: absolute path"),
        ("../outside.JPEG 0", "train.txt:2: path '../outside.JPEG' escapes"),
        ("images/../../x.JPEG 0", "escapes"),
    ],
)
def test_parse_list_rejects_bad_lines_naming_file_and_line(line, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        parse_list(f"images/ok.JPEG 0\n{line}\n", "train.txt")


# -- layouts -----------------------------------------------------------------------------------
def test_open_folder_and_validation_txt(tmp_path):
    root = make_list_dataset(tmp_path / "ds", val_name="validation.txt", newline="\r\n")
    spec = open_dataset(root)
    assert spec.counts() == {"train": 12, "val": 6, "test": 6}
    assert spec.num_classes == 3 and spec.list_files["val"] == "validation.txt"


@pytest.mark.parametrize("top_folder", [True, False])
def test_open_zip_with_or_without_top_folder(tmp_path, top_folder):
    root = make_list_dataset(tmp_path / "ds")
    zpath = tmp_path / "images.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in root.rglob("*"):
            if p.is_file():
                zf.write(p, ("course/" if top_folder else "") + p.relative_to(root).as_posix())
    spec = open_dataset(zpath)
    assert spec.counts() == {"train": 12, "val": 6, "test": 6}
    split = load_split(spec, "val", 16, cache_dir=tmp_path / "cache")
    direct = decode_resize((root / spec.splits["val"][0].path).read_bytes(), 16)
    assert np.array_equal(split.images[0].numpy(), direct)
    assert check_dataset(zpath, workers=1).decoded == 24


def test_zip_member_escaping_root_is_rejected(tmp_path):
    zpath = tmp_path / "bad.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("train.txt", "a.jpg 0\n")
        zf.writestr("../evil.jpg", b"x")
    with pytest.raises(DatasetError, match="escapes the archive root"):
        open_dataset(zpath)


def test_imagefolder_layout(tmp_path):
    for split, n in (("train", 3), ("val", 2)):
        for cls in ("cat", "dog"):
            for i in range(n):
                write_image(tmp_path / "if" / split / cls / f"{i}.png", seed=i, fmt="PNG")
    spec = open_dataset(tmp_path / "if")
    assert spec.layout == "imagefolder" and spec.class_names == ["cat", "dog"]
    assert spec.counts() == {"train": 6, "val": 4}


def test_labels_must_cover_range_and_splits_must_not_be_empty(tmp_path):
    root = make_list_dataset(tmp_path / "ds")
    text = (root / "train.txt").read_text().replace(" 1\n", " 3\n")
    (root / "train.txt").write_text(text)
    (root / "val.txt").write_text((root / "val.txt").read_text().replace(" 1\n", " 3\n"))
    (root / "test.txt").write_text((root / "test.txt").read_text().replace(" 1\n", " 3\n"))
    with pytest.raises(DatasetError, match=r"train.txt: labels must cover 0..3; missing from every split: 1"):
        open_dataset(root)
    (root / "val.txt").write_text("\r\n\r\n")
    with pytest.raises(DatasetError, match="val split is empty"):
        open_dataset(root)


def test_leakage_is_warned_and_a_class_without_training_images_is_an_error(tmp_path):
    root = make_list_dataset(tmp_path / "ds")
    first_train = (root / "train.txt").read_text().splitlines()[0]
    with open(root / "test.txt", "a") as f:
        f.write(first_train + "\n")
    spec = open_dataset(root)
    assert any(w.startswith("leakage:") for w in spec.warnings)
    val = (root / "val.txt").read_text().splitlines()
    (root / "val.txt").write_text("\n".join(val + [val[0].rsplit(" ", 1)[0] + " 3"]) + "\n")
    with pytest.raises(DatasetError, match=r"train.txt.*class 3"):
        open_dataset(root)


# -- the embedded dataset ------------------------------------------------------------------------
def test_generated_dataset_is_deterministic_and_valid(tmp_path):
    spec = SyntheticSpec(num_classes=10, train_per_class=2, val_per_class=1, test_per_class=1, size=32)
    a, b = generate(tmp_path / "a", spec), generate(tmp_path / "b", spec)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    checked = check_dataset(a, workers=1)
    assert checked.spec.num_classes == 10 and checked.decoded == 40
    img = np.asarray(Image.open(a / checked.spec.splits["train"][0].path))
    assert img.shape == (32, 32, 3)


# -- class names -------------------------------------------------------------------------------
def test_classes_txt_names_the_labels_crlf_and_bom(tmp_path):
    root = make_list_dataset(tmp_path / "ds")
    (root / "classes.txt").write_bytes("\ufeffc0 red fox\r\nc1 tabby\r\n\r\nc2 ice bear\r\n".encode())
    spec = open_dataset(root)
    assert spec.class_names == ["red fox", "tabby", "ice bear"] and spec.class_names_from == "classes.txt"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("c0 a\nc1\nc2 c\n", r"classes.txt:2: expected '<id> <name>', got 'c1' \(no name\)"),
        ("c0 a\nc0 b\nc2 c\n", r"classes.txt:2: class id 'c0' is already on line 1"),
        ("c0 a\nc1 b\n", r"classes.txt: lists 2 classes but the dataset has 3"),
    ],
)
def test_bad_classes_txt_is_one_line_naming_file_and_line(tmp_path, text, message):
    root = make_list_dataset(tmp_path / "ds")
    (root / "classes.txt").write_text(text)
    with pytest.raises(DatasetError, match=message) as exc:
        open_dataset(root)
    assert "\n" not in str(exc.value) and str(root / "classes.txt") in str(exc.value)


def test_list_layout_without_names_falls_back_to_indices(tmp_path):
    spec = open_dataset(make_list_dataset(tmp_path / "ds"))
    assert spec.class_names == ["class 0", "class 1", "class 2"]
    assert spec.class_names_from.startswith("none given")


def _wnid_lists(root, wnids):
    root.mkdir(parents=True)
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text("".join(f"images/{w}/{w}_{split}.JPEG {i}\r\n" for i, w in enumerate(wnids)))
    return root


def test_course_wnids_get_torchvision_imagenet_names(tmp_path):
    from hwlib.data.classes import COURSE_WNIDS

    spec = open_dataset(_wnid_lists(tmp_path / "ncku", COURSE_WNIDS))
    assert spec.num_classes == 50 and spec.class_names_from.startswith("the course's wnids")
    assert spec.class_names[0] == "Newfoundland" and spec.class_names[49] == "dung beetle"
    assert spec.class_names[25] == "tabby" and len(set(spec.class_names)) == 50
    # the same folders in another label order are not the course's label space: no names guessed
    shuffled = open_dataset(_wnid_lists(tmp_path / "other", COURSE_WNIDS[1:] + COURSE_WNIDS[:1]))
    assert shuffled.class_names[0] == "class 0"


def test_imagefolder_names_and_a_classes_txt_that_must_match_its_folders(tmp_path):
    for split in ("train", "val"):
        for cls in ("cat", "dog"):
            write_image(tmp_path / "if" / split / cls / "0.png", seed=1, fmt="PNG")
    (tmp_path / "if" / "classes.txt").write_text("cat house cat\ndog good dog\n")
    spec = open_dataset(tmp_path / "if")
    assert spec.class_names == ["house cat", "good dog"]
    (tmp_path / "if" / "classes.txt").write_text("dog good dog\ncat house cat\n")
    with pytest.raises(DatasetError, match="ids are not the class folders"):
        open_dataset(tmp_path / "if")


def test_generated_dataset_writes_classes_txt_without_touching_images(tmp_path):
    from hwlib.data.cache import cache_key
    from hwlib.data.synthetic import classes_text

    spec = SyntheticSpec(num_classes=4, train_per_class=1, val_per_class=1, test_per_class=1, size=16)
    root = generate(tmp_path / "g", spec)
    opened = open_dataset(root)
    assert opened.class_names == ["red circle", "green circle", "blue circle", "red square"]
    assert (root / "classes.txt").read_text() == classes_text(4)
    # a dataset generated before classes.txt existed gets it on the next call; images and cache keys unchanged
    before = {p: p.read_bytes() for p in root.rglob("*.jpg")}
    key = cache_key(opened, "train", opened.splits["train"], 16)
    (root / "classes.txt").unlink()
    generate(root, spec)
    assert (root / "classes.txt").exists() and {p: p.read_bytes() for p in root.rglob("*.jpg")} == before
    assert cache_key(open_dataset(root), "train", opened.splits["train"], 16) == key


def test_loaded_data_facts(tmp_path, monkeypatch):
    from hwlib.data import load_dataset
    from hwlib.data.prepare import photo_size_text

    monkeypatch.setenv("HWLIB_CACHE", str(tmp_path / "cache"))
    root = make_list_dataset(tmp_path / "ds")
    (root / "classes.txt").write_text("c0 a\nc1 b\nc2 c\n")
    facts = load_dataset(root, size=16, train_per_class=2).facts()
    assert facts.class_names == ["a", "b", "c"] and facts.num_classes == 3
    assert facts.used == {"train": 6, "val": 6, "test": 6} and facts.available == {"train": 12, "val": 6, "test": 6}
    assert facts.image_size == 16 and facts.photo_size == "40x30 px"  # conftest writes 40x30 images
    assert photo_size_text([(10, 10), (30, 20), (20, 20)]) == "from 10x10 to 30x20 px (median 20x20)"


def test_shared_data_class_names(shared_data, tmp_path):
    from hwlib.data.classes import COURSE_WNIDS

    imagenette = open_dataset(shared_data / "imagenette10")
    assert imagenette.class_names[0] == "tench" and imagenette.class_names[9] == "parachute"
    ncku = open_dataset(shared_data / "ncku50")
    listed = [line.split(None, 1) for line in (shared_data / "ncku50" / "classes.txt").read_text().splitlines()]
    assert tuple(w for w, _ in listed) == COURSE_WNIDS
    assert ncku.class_names == [n for _, n in listed]
    # without its classes.txt, the course's lists still get the same names (from torchvision's categories)
    for name in ("train.txt", "val.txt", "test.txt"):
        (tmp_path / name).write_bytes((shared_data / "ncku50" / name).read_bytes())
    bare = open_dataset(tmp_path)
    assert bare.class_names == ncku.class_names and bare.class_names_from != "classes.txt"
