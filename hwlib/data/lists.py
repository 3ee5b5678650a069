"""Dataset layouts: the course's list files and ImageFolder, from a folder or a .zip.

A dataset is opened into a :class:`DatasetSpec`: the split lists (relative image path, integer
label, and where that came from) plus a :class:`Source` that reads image bytes. Nothing is decoded
here; :mod:`hwlib.data.cache` decodes. Every problem with the layout raises :class:`DatasetError`
whose message is one line naming the file (and line number) at fault.
"""

from __future__ import annotations

import os
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .classes import CLASSES_FILE, ClassesFileError, label_folders, parse_classes, resolve_class_names

SPLITS = ("train", "val", "test")
LIST_NAMES = {"train": ("train.txt",), "val": ("val.txt", "validation.txt"), "test": ("test.txt",)}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


class DatasetError(ValueError):
    """A dataset problem, reported as one line that names the file (and line) at fault."""


@dataclass(frozen=True)
class Sample:
    """One image: its path relative to the dataset root, its label, and its origin for messages."""

    path: str  # POSIX, relative to the dataset root
    label: int
    origin: str  # "train.txt:17" or "train/<class>/<file>"


@dataclass
class Source:
    """Reads files of a dataset that is either a folder or a .zip (with or without a top folder)."""

    location: Path  # the folder, or the .zip file
    prefix: str = ""  # inside a zip: the folder holding the lists ("" or "name/")
    _zip: zipfile.ZipFile | None = field(default=None, repr=False, compare=False)

    @property
    def is_zip(self) -> bool:
        return self.location.is_file()

    def _zipfile(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.location)
        return self._zip

    def __getstate__(self) -> dict:  # zip handles do not pickle; workers reopen lazily
        return {"location": self.location, "prefix": self.prefix, "_zip": None}

    def describe(self, rel: str) -> str:
        """How to name `rel` in a message: a real path, or `archive.zip:member`."""
        if self.is_zip:
            return f"{self.location}:{self.prefix}{rel}"
        return str(self.location / rel)

    def exists(self, rel: str) -> bool:
        if self.is_zip:
            try:
                self._zipfile().getinfo(self.prefix + rel)
                return True
            except KeyError:
                return False
        return (self.location / rel).is_file()

    def read_bytes(self, rel: str) -> bytes:
        if self.is_zip:
            return self._zipfile().read(self.prefix + rel)
        return (self.location / rel).read_bytes()

    def stamp(self, rel: str) -> tuple[int, int]:
        """(size, mtime or CRC) of a file: changes when the file changes, for cache keys."""
        if self.is_zip:
            info = self._zipfile().getinfo(self.prefix + rel)
            return info.file_size, info.CRC
        st = (self.location / rel).stat()
        return st.st_size, st.st_mtime_ns

    def names(self) -> list[str]:
        """All file paths below the root (relative, POSIX)."""
        if self.is_zip:
            n = len(self.prefix)
            return [m[n:] for m in self._zipfile().namelist() if m.startswith(self.prefix) and not m.endswith("/")]
        root = self.location
        return [p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file()]


@dataclass
class DatasetSpec:
    """An opened dataset: its split lists, class count, class names (one per label, see
    :mod:`hwlib.data.classes`) and a :class:`Source` for the bytes."""

    name: str
    source: Source
    layout: str  # "lists" or "imagefolder"
    splits: dict[str, list[Sample]]
    list_files: dict[str, str]  # split -> list file name ("" for ImageFolder)
    num_classes: int
    class_names: list[str]  # one per label 0..num_classes-1
    warnings: list[str] = field(default_factory=list)
    class_names_from: str = ""  # "classes.txt", "folder names", "the course's wnids (...)" or "none given ..."

    def counts(self) -> dict[str, int]:
        return {s: len(v) for s, v in self.splits.items()}


def check_relative(path: str, where: str) -> str:
    """Normalise a list entry to a POSIX path inside the root, or raise naming `where`."""
    p = path.replace("\\", "/")
    if p.startswith("/") or PurePosixPath(p).is_absolute() or (len(p) > 1 and p[1] == ":"):
        raise DatasetError(
            f"{where}: absolute path {path!r} is not allowed; paths must be relative to the dataset root"
        )
    norm = posixpath.normpath(p)
    if norm == ".." or norm.startswith("../"):
        raise DatasetError(f"{where}: path {path!r} escapes the dataset root")
    return norm


def parse_list(text: str, file_name: str) -> list[Sample]:
    """Parse a list file: `<relative path> <integer label>` per line.

    CRLF or LF, a UTF-8 BOM, blank lines and surrounding spaces are accepted. A path may contain
    spaces (the label is the last field).
    """
    samples: list[Sample] = []
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"{file_name}:{lineno}"
        parts = line.rsplit(None, 1)
        if len(parts) != 2:
            raise DatasetError(f"{where}: expected '<relative path> <integer label>', got {line!r} (no label)")
        path, label_text = parts
        try:
            label = int(label_text)
        except ValueError:
            raise DatasetError(f"{where}: label {label_text!r} is not an integer") from None
        if label < 0:
            raise DatasetError(f"{where}: label {label} is negative")
        samples.append(Sample(check_relative(path, where), label, where))
    return samples


def _open_source(path: Path) -> Source:
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset folder or .zip")
    if path.is_dir():
        return Source(path)
    if not zipfile.is_zipfile(path):
        raise DatasetError(f"{path}: not a folder and not a .zip archive")
    with zipfile.ZipFile(path) as zf:
        members = zf.namelist()
    for m in members:
        if m.startswith("/") or ".." in PurePosixPath(m).parts:
            raise DatasetError(f"{path}: member {m!r} escapes the archive root")
    # The lists (or the train/ folder) sit at the top or inside exactly one top-level folder.
    for prefix in [""] + sorted({m.split("/", 1)[0] + "/" for m in members if "/" in m}):
        if f"{prefix}train.txt" in members or any(m.startswith(f"{prefix}train/") for m in members):
            return Source(path, prefix)
    raise DatasetError(f"{path}: no train.txt or train/ folder at the top of the archive or in one top-level folder")


def _find_list(source: Source, split: str) -> str | None:
    for name in LIST_NAMES[split]:
        if source.exists(name):
            return name
    return None


def _imagefolder_split(source: Source, split: str, classes: list[str], names: list[str]) -> list[Sample]:
    index = {c: i for i, c in enumerate(classes)}
    out = []
    for rel in names:
        parts = rel.split("/")
        if len(parts) == 3 and parts[0] == split and Path(parts[2]).suffix.lower() in IMAGE_SUFFIXES:
            if parts[1] not in index:
                raise DatasetError(f"{source.describe(rel)}: class folder {parts[1]!r} has no counterpart in train/")
            out.append(Sample(rel, index[parts[1]], rel))
    return out


def open_dataset(path: str | os.PathLike, *, name: str | None = None) -> DatasetSpec:
    """Open a dataset folder or .zip in list layout (train.txt, val.txt|validation.txt, test.txt)
    or ImageFolder layout (train/ val/ [test/] with one subfolder per class).

    Validates the lists (format, relative paths, non-empty splits, labels covering 0..N-1) but does
    not read images; see :func:`hwlib.data.check.check_dataset` for the full check.
    """
    path = Path(path)
    source = _open_source(path)
    ds_name = name or (path.stem if path.is_file() else path.resolve().name)
    splits: dict[str, list[Sample]] = {}
    list_files: dict[str, str] = {}
    folders: list[str] | None = None
    if _find_list(source, "train"):
        layout = "lists"
        for split in SPLITS:
            fname = _find_list(source, split)
            if fname is None:
                if split == "test":
                    continue
                raise DatasetError(f"{source.describe(LIST_NAMES[split][0])}: missing list file for the {split} split")
            try:
                text = source.read_bytes(fname).decode("utf-8")
            except UnicodeDecodeError as e:
                raise DatasetError(f"{source.describe(fname)}: not UTF-8 text ({e.reason} at byte {e.start})") from None
            samples = parse_list(text, source.describe(fname))
            if not samples:
                raise DatasetError(f"{source.describe(fname)}: the {split} split is empty")
            splits[split], list_files[split] = samples, fname
    else:
        layout = "imagefolder"
        names = source.names()
        classes = sorted({n.split("/")[1] for n in names if n.startswith("train/") and n.count("/") == 2})
        if not classes:
            raise DatasetError(f"{source.describe('')}: neither train.txt nor train/<class>/ images found")
        for empty in _empty_train_folders(source, classes):
            raise DatasetError(
                f"{source.describe(f'train/{empty}')}: class folder has no images; every class needs training images"
            )
        for split in SPLITS:
            samples = _imagefolder_split(source, split, classes, names)
            if not samples:
                if split == "test":
                    continue
                raise DatasetError(f"{source.describe(split)}: the {split} split is empty or missing")
            splits[split], list_files[split] = samples, ""
        folders = classes
    num_classes, warnings = _validate_labels(source, splits, list_files)
    if layout == "lists":
        folders = label_folders([(x.path, x.label) for samples in splits.values() for x in samples], num_classes)
    class_names, names_from = _class_names(source, num_classes, folders, imagefolder=layout == "imagefolder")
    warnings += _empty_classes(source, splits, list_files, class_names)
    return DatasetSpec(ds_name, source, layout, splits, list_files, num_classes, class_names, warnings, names_from)


def _class_names(
    source: Source, num_classes: int, folders: list[str] | None, *, imagefolder: bool
) -> tuple[list[str], str]:
    """The class names and where they came from (see :mod:`hwlib.data.classes`); a bad classes.txt
    is a one-line DatasetError naming the file and line."""
    parsed, where = None, source.describe(CLASSES_FILE)
    try:
        if source.exists(CLASSES_FILE):
            try:
                text = source.read_bytes(CLASSES_FILE).decode("utf-8")
            except UnicodeDecodeError as e:
                raise DatasetError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
            parsed = parse_classes(text, where)
        return resolve_class_names(
            num_classes=num_classes,
            classes_file=parsed,
            classes_file_name=where,
            folder_names=folders,
            imagefolder=imagefolder,
        )
    except ClassesFileError as e:
        raise DatasetError(str(e)) from None


def _validate_labels(
    source: Source, splits: dict[str, list[Sample]], list_files: dict[str, str]
) -> tuple[int, list[str]]:
    """The class count N; errors for labels that do not cover 0..N-1, warnings for leakage (classes
    without images in a split: :func:`_empty_classes`)."""
    n = max(s.label for samples in splits.values() for s in samples) + 1
    where = source.describe(list_files["train"] or "train")
    missing = sorted(set(range(n)) - {s.label for samples in splits.values() for s in samples})
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise DatasetError(f"{where}: labels must cover 0..{n - 1}; missing from every split: {shown}")
    warnings = []
    seen: dict[str, str] = {}
    for split, samples in splits.items():
        for s in samples:
            other = seen.setdefault(s.path, split)
            if other != split:
                warnings.append(f"leakage: {s.path} is in both {other} and {split} ({s.origin})")
    return n, warnings


def _class_text(label: int, names: list[str]) -> str:
    """'class 3' or 'class 3 (n01440764)': the label, and its name when it has one of its own."""
    name = names[label] if label < len(names) else ""
    return f"class {label}" + (f" ({name})" if name and name != f"class {label}" else "")


def _split_where(source: Source, split: str, list_files: dict[str, str]) -> str:
    return source.describe(list_files.get(split) or f"{split}/")


def _empty_classes(
    source: Source, splits: dict[str, list[Sample]], list_files: dict[str, str], names: list[str]
) -> list[str]:
    """Classes with no image in a split: a one-line DatasetError for train (a class it never saw
    cannot be learned), a warning per class and split for val and test (its accuracy is not measured)."""
    warnings = []
    n = len(names)
    for split, samples in splits.items():
        empty = sorted(set(range(n)) - {s.label for s in samples})
        if not empty:
            continue
        where = _split_where(source, split, list_files)
        shown = ", ".join(_class_text(c, names) for c in empty[:5]) + (
            f" and {len(empty) - 5} more" if len(empty) > 5 else ""
        )
        if split == "train":
            raise DatasetError(f"{where}: no images in the train split for {shown}; every class needs training images")
        warnings += [f"{where}: {_class_text(c, names)} has no images in the {split} split" for c in empty]
    return warnings


def _empty_train_folders(source: Source, classes: list[str]) -> list[str]:
    """ImageFolder: folders under train/ holding no file at all (a class without training images)."""
    if source.is_zip:
        head = source.prefix + "train/"
        members = source._zipfile().namelist()
        folders = {
            m[len(head) :].split("/", 1)[0]
            for m in members
            if m.startswith(head) and m.count("/") >= head.count("/") + 1
        }
    else:
        train = source.location / "train"
        folders = {d.name for d in train.iterdir() if d.is_dir()} if train.is_dir() else set()
    return sorted(f for f in folders - set(classes) if f and not f.startswith("."))
