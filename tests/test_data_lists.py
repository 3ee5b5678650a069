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


def test_leakage_and_classes_without_training_images_are_warned(tmp_path):
    root = make_list_dataset(tmp_path / "ds")
    first_train = (root / "train.txt").read_text().splitlines()[0]
    with open(root / "test.txt", "a") as f:
        f.write(first_train + "\n")
    val = (root / "val.txt").read_text().splitlines()
    (root / "val.txt").write_text("\n".join(val + [val[0].rsplit(" ", 1)[0] + " 3"]) + "\n")
    spec = open_dataset(root)
    assert any(w.startswith("leakage:") for w in spec.warnings)
    assert any("classes with no training images: 3" in w for w in spec.warnings)


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
