"""Resumable runs: what makes a run "the same run", and its folder's state (finished, partial, new).

Every training run of a study lives in `runs/<data>-<profile>/checkpoints/<name>/`:

* `run_key.json` - the run's key: a hash over everything that decides its numbers (the run's
  name and config, batch size, seed, channel view and augmentation, the data's identity, the
  model's parameter shapes, the device type, torch's version and a hash of the code of the hwlib
  modules that decide a run's numbers, TRAINING_SOURCES), with the parts it was computed from, for
  a reader. The code is hashed as a normalised syntax tree (:func:`normalised_source`): docstrings,
  comments, type annotations and layout are left out, so rewording a docstring or fixing a type
  hint keeps every finished run, while any change to what the code does retrains;
* `last.pt`, `best.pt`, `train.log` - written by :func:`hwlib.train.fit` every epoch;
* `finished.json` - written once the run was tested: history, best epoch, test metrics; `last.pt`
  (only needed to resume) is then deleted.

A folder whose key differs from the run's (or `HWLIB_FRESH=1`, set by `python -m hwlib.runner
--fresh` / `make report FRESH=1`) is emptied before training: a changed profile, dataset, config or
library never reuses a stale run. A matching folder with `finished.json` is loaded instead of
trained; one with only `last.pt` is resumed. The studies use this through
:func:`hwlib.studies.runs.train_and_test`.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from .data.split import SplitTensors

FRESH_ENV = "HWLIB_FRESH"  # "1": every run starts from scratch (its folder emptied)
HWLIB_DIR = Path(__file__).resolve().parent
FULL_HASH_BYTES = 64 * 2**20  # splits up to this size are hashed pixel for pixel, larger ones sampled
SAMPLED_IMAGES = 64  # images hashed, evenly spaced, from a larger split (all of its labels always)

RunState = Literal["finished", "partial", "new"]

# The hwlib modules whose code decides a trained run's numbers beyond what the key states directly:
# batching and augmentation, the seed's training subset, the models and layers, the training loop,
# seeding, device choice, metrics, this key and train_and_test. Each study hashes the shared ones
# and its own models only (CHANNEL_SOURCES, DENSE_SOURCES), so a change to notebook 02's networks
# keeps notebook 01's finished runs and the other way round. Decoding and the cache are left
# out: what they produce is in the key itself (the data's identity hashes the decoded pixels and
# labels), so fixing an error message there retrains nothing. Tables, plots, statistics, prose and
# the runner are left out on purpose, so that rewording a report does not retrain it; what a study
# trains reaches the key through the run's name, config, batch size, seed, subset, view, data and
# model shapes.
SHARED_SOURCES: tuple[str, ...] = (
    "data/loader.py",
    "data/split.py",
    "train.py",
    "seed.py",
    "device.py",
    "metrics.py",
    "run_cache.py",
    "studies/runs.py",
    "image_checks.py",
)
CHANNEL_SOURCES: tuple[str, ...] = (*SHARED_SOURCES, "models.py", "flexconv.py", "channel_layers.py")
DENSE_SOURCES: tuple[str, ...] = (*SHARED_SOURCES, "dense_models.py")
OWN4_SOURCES: tuple[str, ...] = (*SHARED_SOURCES, "own4.py")  # notebook 02's own design, hashed apart
TRAINING_SOURCES: tuple[str, ...] = tuple(dict.fromkeys((*CHANNEL_SOURCES, *DENSE_SOURCES, *OWN4_SOURCES)))


def fresh_requested() -> bool:
    """Whether `HWLIB_FRESH` asks for every run to start from scratch."""
    return os.environ.get(FRESH_ENV, "").strip().lower() in ("1", "true", "yes")


class _Normalise(ast.NodeTransformer):
    """Strips what does not change what code does: docstrings and type annotations (an annotation
    becomes the placeholder `...`, so a dataclass field's name still counts)."""

    @staticmethod
    def _drop_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):  # noqa: SIM102 (two conditions read apart)
            if isinstance(body[0].value.value, str):
                return body[1:] or [ast.Pass()]
        return body

    def _scope(self, node):
        self.generic_visit(node)
        node.body = self._drop_docstring(node.body)
        if hasattr(node, "returns"):
            node.returns = None
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _scope  # noqa: N815 (ast.NodeTransformer names)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AnnAssign:
        self.generic_visit(node)
        node.annotation = ast.Constant(...)
        return node


def normalised_source(text: str, *, filename: str = "<source>") -> str:
    """The code of a module as a canonical string: its syntax tree without docstrings, comments,
    type annotations, line numbers or layout. Two sources that differ only in those give the same
    string; any other change (a number, a name, a statement) gives another."""
    tree = _Normalise().visit(ast.parse(text, filename=filename))
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


@functools.cache
def source_hash(root: Path = HWLIB_DIR, patterns: tuple[str, ...] = TRAINING_SOURCES) -> str:
    """16 hex digits over the modules under `root` matching `patterns` (sorted relative paths and
    each one's :func:`normalised_source`); computed once per process. A change to what any of them
    does changes every run's key; a changed docstring, comment or type hint does not."""
    h = hashlib.sha256()
    for path in sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()}):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(normalised_source(path.read_text(), filename=str(path)).encode() + b"\0")
    return h.hexdigest()[:16]


def split_identity(split: SplitTensors) -> dict:
    """What identifies a decoded split: image count and shape, the labels (sum and hash) and a hash
    of its pixels (all of them up to FULL_HASH_BYTES, else SAMPLED_IMAGES evenly spaced images)."""
    images, labels = split.images, split.labels
    h = hashlib.sha256(labels.contiguous().numpy().tobytes())
    n = len(images)
    if images.numel() * images.element_size() <= FULL_HASH_BYTES:
        h.update(images.contiguous().numpy())  # type: ignore[arg-type]  # numpy stubs: ndarray is a Buffer only from 3.12  # (N, 3, S, S) uint8, every pixel
    else:
        for i in sorted({round(i * (n - 1) / (SAMPLED_IMAGES - 1)) for i in range(SAMPLED_IMAGES)}):
            h.update(images[i].contiguous().numpy())  # type: ignore[arg-type]  # (as above)  # (3, S, S) uint8, read from the memory map one at a time
    return {
        "images": n,
        "shape": list(images.shape[1:]),
        "label_sum": int(labels.sum()),
        "sha256": h.hexdigest()[:16],
    }


def data_identity(data) -> dict:
    """Name, image size, class count and each split's identity of a LoadedData (or any object with
    `name`, `size`, `num_classes`, `eval_split` and `splits`)."""
    return {
        "name": data.name,
        "size": data.size,
        "num_classes": data.num_classes,
        "eval_split": data.eval_split,
        "splits": {k: split_identity(v) for k, v in sorted(data.splits.items())},
    }


def model_signature(model: nn.Module) -> str:
    """16 hex digits over the model's class and its state's names, shapes and dtypes (not values)."""
    parts = [type(model).__qualname__] + [f"{k}:{tuple(v.shape)}:{v.dtype}" for k, v in model.state_dict().items()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def run_key(parts: dict, *, sources: tuple[str, ...] = TRAINING_SOURCES) -> str:
    """16 hex digits over `parts` (JSON with sorted keys), with torch's version and the hash of the
    hwlib modules `sources` (a study's: CHANNEL_SOURCES or DENSE_SOURCES)."""
    full = {**parts, "torch": torch.__version__, "hwlib_source": source_hash(patterns=sources)}
    return hashlib.sha256(json.dumps(full, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _write_json(path: Path, obj: dict) -> None:
    """Atomically (temporary file + rename): a killed process never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@dataclass
class RunFolder:
    """One run's folder and the key the run has now."""

    path: Path
    key: str
    parts: dict

    KEY_FILE = "run_key.json"
    FINISHED_FILE = "finished.json"

    def stored_key(self) -> str | None:
        """The key of what the folder holds (None: no key file)."""
        rec = _read_json(self.path / self.KEY_FILE)
        return rec.get("key") if rec else None

    def state(self) -> RunState:
        """finished: tested, with best.pt and this key; partial: last.pt with this key; new: neither."""
        if self.stored_key() != self.key:
            return "new"
        fin = _read_json(self.path / self.FINISHED_FILE)
        if fin is not None and fin.get("key") == self.key and (self.path / "best.pt").exists():
            return "finished"
        return "partial" if (self.path / "last.pt").exists() else "new"

    def prepare(self, *, fresh: bool = False) -> RunState:
        """Empty the folder when `fresh` or when it holds another key's run; record this key; return
        what the folder now holds for this run."""
        if self.path.exists() and (fresh or self.stored_key() != self.key):
            self.clear()
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(self.path / self.KEY_FILE, {"key": self.key, "parts": self.parts})
        return self.state()

    def clear(self) -> None:
        """Delete everything in the folder (the folder itself stays)."""
        for child in self.path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def write_finished(self, record: dict) -> None:
        """`finished.json`: the tested run's record (plain JSON), tagged with this key. `last.pt`
        (weights, optimizer and EMA state for resuming) is then deleted: a finished run is loaded
        from `best.pt`, and a ResNet34's `last.pt` alone is about 330 MB."""
        _write_json(self.path / self.FINISHED_FILE, {**record, "key": self.key})
        (self.path / "last.pt").unlink(missing_ok=True)

    def read_finished(self) -> dict:
        rec = _read_json(self.path / self.FINISHED_FILE)
        if rec is None or rec.get("key") != self.key:
            raise RuntimeError(f"{self.path / self.FINISHED_FILE}: no finished run with key {self.key}")
        return rec


__all__ = [
    "FRESH_ENV",
    "RunFolder",
    "RunState",
    "TRAINING_SOURCES",
    "data_identity",
    "fresh_requested",
    "model_signature",
    "normalised_source",
    "run_key",
    "source_hash",
    "CHANNEL_SOURCES",
    "DENSE_SOURCES",
    "SHARED_SOURCES",
    "split_identity",
]
