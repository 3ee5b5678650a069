"""Class names: what each integer label means, for confusion matrices, per-class accuracy and samples.

Where the names come from, first match wins (:func:`resolve_class_names`):

1. a ``classes.txt`` beside the lists (or beside ``train/``): ``<id> <name>`` per line, in label
   order (the shared data's imagenette10 and ncku50 have one; the generated dataset writes one);
2. ImageFolder: the class folder names;
3. the course's 50 wnids (:data:`COURSE_WNIDS`, ImageNet-1k classes 256..305) as the list paths'
   folder names, label i in folder ``COURSE_WNIDS[i]``: torchvision's ImageNet category names
   (metadata only; nothing is downloaded);
4. otherwise ``"class <i>"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

CLASSES_FILE = "classes.txt"
IMAGENET_FIRST_COURSE_CLASS = 256  # the course's 50 classes are ImageNet-1k classes 256..305

# The course's 50 classes in label order (= sorted wnid), as in ../shared/data/ncku50/classes.txt.
COURSE_WNIDS: tuple[str, ...] = (
    "n02111277", "n02111500", "n02111889", "n02112018", "n02112137", "n02112350", "n02112706", "n02113023",
    "n02113186", "n02113624", "n02113712", "n02113799", "n02113978", "n02114367", "n02114548", "n02114712",
    "n02114855", "n02115641", "n02115913", "n02116738", "n02117135", "n02119022", "n02119789", "n02120079",
    "n02120505", "n02123045", "n02123159", "n02123394", "n02123597", "n02124075", "n02125311", "n02127052",
    "n02128385", "n02128757", "n02128925", "n02129165", "n02129604", "n02130308", "n02132136", "n02133161",
    "n02134084", "n02134418", "n02137549", "n02138441", "n02165105", "n02165456", "n02167151", "n02168699",
    "n02169497", "n02172182",
)  # fmt: skip


class ClassesFileError(ValueError):
    """A bad classes.txt line; the message is one line naming the file and line."""


def parse_classes(text: str, file_name: str) -> list[tuple[str, str]]:
    """``(id, name)`` per non-blank line of a classes.txt (``<id> <name>``; the name may contain
    spaces; CRLF or LF and a UTF-8 BOM are accepted). Raises :class:`ClassesFileError` naming
    ``file_name:line`` for a line without a name or an id listed twice."""
    rows: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise ClassesFileError(f"{file_name}:{lineno}: expected '<id> <name>', got {line!r} (no name)")
        ident, name = parts[0], parts[1].strip()
        if ident in seen:
            raise ClassesFileError(f"{file_name}:{lineno}: class id {ident!r} is already on line {seen[ident]}")
        seen[ident] = lineno
        rows.append((ident, name))
    return rows


def imagenet_course_names() -> list[str]:
    """The 50 course classes' names from torchvision's ImageNet category list (metadata only)."""
    from torchvision.models import ResNet34_Weights

    categories = ResNet34_Weights.IMAGENET1K_V1.meta["categories"]
    first = IMAGENET_FIRST_COURSE_CLASS
    return list(categories[first : first + len(COURSE_WNIDS)])


def label_folders(samples: Sequence[tuple[str, int]], num_classes: int) -> list[str] | None:
    """The folder name each label's images sit in (``images/<folder>/<file>``), or None when a
    label has images in more than one folder or none."""
    folders: dict[int, set[str]] = {}
    for path, label in samples:
        folders.setdefault(label, set()).add(PurePosixPath(path).parent.name)
    if sorted(folders) != list(range(num_classes)) or any(len(f) != 1 for f in folders.values()):
        return None
    return [next(iter(folders[i])) for i in range(num_classes)]


def resolve_class_names(
    *,
    num_classes: int,
    classes_file: list[tuple[str, str]] | None,
    classes_file_name: str = CLASSES_FILE,
    folder_names: list[str] | None = None,
    imagefolder: bool = False,
) -> tuple[list[str], str]:
    """``(names, where they came from)`` for labels 0..num_classes-1, in the order described in the
    module docstring. ``classes_file`` is the parsed classes.txt (None when absent); ``folder_names``
    the class folder of each label (ImageFolder's folders, or the list paths' folders when each
    label has exactly one). A classes.txt whose length differs from the class count, or (ImageFolder)
    whose ids are not the folder names, raises :class:`ClassesFileError` naming the file."""
    if classes_file is not None:
        if len(classes_file) != num_classes:
            raise ClassesFileError(
                f"{classes_file_name}: lists {len(classes_file)} classes but the dataset has {num_classes}"
            )
        if imagefolder and folder_names is not None and [i for i, _ in classes_file] != folder_names:
            raise ClassesFileError(
                f"{classes_file_name}: its ids are not the class folders in sorted order "
                f"({', '.join(folder_names[:3])}{' ...' if len(folder_names) > 3 else ''})"
            )
        return [name for _, name in classes_file], CLASSES_FILE
    if folder_names is not None and tuple(folder_names) == COURSE_WNIDS:
        return imagenet_course_names(), "the course's wnids (torchvision's ImageNet categories 256-305)"
    if imagefolder and folder_names is not None:
        return list(folder_names), "folder names"
    return [f"class {i}" for i in range(num_classes)], "none given (class indices)"


__all__ = [
    "CLASSES_FILE",
    "COURSE_WNIDS",
    "ClassesFileError",
    "imagenet_course_names",
    "label_folders",
    "parse_classes",
    "resolve_class_names",
]
