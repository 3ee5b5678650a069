"""Resumable report runs (hwlib.run_cache through train_and_test): a killed report reruns to the same
numbers in less time; a changed config or HWLIB_FRESH=1 never reuses a run."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hwlib import run_cache
from hwlib.run_cache import RunFolder, data_identity, source_hash, split_identity

CHILD = [sys.executable, str(Path(__file__).with_name("run_cache_child.py"))]


def run_child(run_dir: Path, out: Path, mode: str, *, lr: str = "3e-3", fresh: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "HWLIB_PROGRESS": "line", "HWLIB_FRESH": fresh}
    return subprocess.run(CHILD + [str(run_dir), str(out), mode, lr], capture_output=True, text=True, env=env)


def numbers(res: dict) -> dict:
    """What a rerun must reproduce: every run's numbers and returned weights (not its timings)."""
    keep = ("best_epoch", "split", "test", "confusion", "history", "weights", "training")
    return {name: {k: r[k] for k in keep} for name, r in res["runs"].items()}


def test_a_killed_report_reruns_to_the_same_numbers_in_less_time(tmp_path):
    runs = tmp_path / "runs"
    killed = run_child(runs, tmp_path / "never.json", "kill")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert killed.stdout.startswith("run1: best epoch") and "run2" not in killed.stdout
    assert (runs / "run1" / "finished.json").exists() and not (runs / "run2" / "finished.json").exists()

    rerun = run_child(runs, tmp_path / "rerun.json", "rerun")
    assert rerun.returncode == 0, rerun.stderr
    lines = rerun.stdout.splitlines()
    assert lines[0] == "run1: loaded (finished)"
    assert lines[1] == "run2: resumed from epoch 1" and lines[2].startswith("run2: best epoch")
    assert lines[3].startswith("run3: best epoch") and len(lines) == 4

    full = run_child(tmp_path / "ref", tmp_path / "ref.json", "full")  # the uninterrupted reference
    assert full.returncode == 0, full.stderr
    res, ref = (json.loads((tmp_path / f).read_text()) for f in ("rerun.json", "ref.json"))
    assert numbers(res) == numbers(ref)
    for r in res["runs"].values():  # the loaded model scores exactly the numbers recorded for it
        assert r["reevaluated"] == {**r["test"], "confusion": r["confusion"]}
    assert res["steps"] == ref["steps"] * 5 // 9  # run2's 2 remaining epochs and run3's 3, of 9
    assert res["cpu_seconds"] < ref["cpu_seconds"], (res["cpu_seconds"], ref["cpu_seconds"])  # cores may be shared

    changed = run_child(runs, tmp_path / "lr.json", "full", lr="1e-3")  # another config: nothing reused
    assert changed.returncode == 0, changed.stderr
    assert all(line.split(": ")[1].startswith("best epoch") for line in changed.stdout.splitlines())
    lr_res = json.loads((tmp_path / "lr.json").read_text())
    assert lr_res["steps"] == ref["steps"] and numbers(lr_res)["run1"] != numbers(ref)["run1"]

    fresh = run_child(runs, tmp_path / "fresh.json", "full", lr="1e-3", fresh="1")  # same key, HWLIB_FRESH=1
    assert fresh.returncode == 0, fresh.stderr
    assert len(fresh.stdout.splitlines()) == 3 and "loaded" not in fresh.stdout and "resumed" not in fresh.stdout
    fresh_res = json.loads((tmp_path / "fresh.json").read_text())
    assert fresh_res["steps"] == ref["steps"] and numbers(fresh_res) == numbers(lr_res)


def test_run_folder_is_new_partial_or_finished_and_cleared_on_another_key(tmp_path):
    folder = RunFolder(tmp_path / "r", "k1", {"lr": 1})
    assert folder.prepare() == "new" and json.loads((folder.path / "run_key.json").read_text())["key"] == "k1"
    torch.save({}, folder.path / "last.pt")
    assert folder.prepare() == "partial"
    torch.save({}, folder.path / "best.pt")
    folder.write_finished({"history": [{"val_acc": 0.1 + 0.2}]})
    assert folder.prepare() == "finished" and folder.read_finished()["history"][0]["val_acc"] == 0.1 + 0.2
    assert not (folder.path / "last.pt").exists()  # only resuming needs it: deleted once finished
    other = RunFolder(tmp_path / "r", "k2", {"lr": 2})
    assert other.state() == "new"
    (other.path / "sub").mkdir()
    assert other.prepare() == "new" and sorted(p.name for p in other.path.iterdir()) == ["run_key.json"]
    torch.save({}, other.path / "last.pt")
    assert other.prepare(fresh=True) == "new" and not (other.path / "last.pt").exists()
    with pytest.raises(RuntimeError, match="no finished run with key k2"):
        other.read_finished()


def test_fresh_is_asked_by_the_environment(monkeypatch):
    for value, fresh in (("1", True), ("", False), ("0", False), ("true", True)):
        monkeypatch.setenv("HWLIB_FRESH", value)
        assert run_cache.fresh_requested() is fresh


def test_source_hash_covers_the_training_sources_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    (tmp_path / "plots.py").write_text("z = 1\n")
    compute = source_hash.__wrapped__
    patterns = ("a.py", "sub/*.py")
    before = compute(tmp_path, patterns)
    (tmp_path / "notes.txt").write_text("not code")
    (tmp_path / "plots.py").write_text("z = 2\n")  # not a training source: the key stays
    assert compute(tmp_path, patterns) == before
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert compute(tmp_path, patterns) != before
    assert source_hash() == source_hash() and len(source_hash()) == 16


def test_source_hash_ignores_docstrings_comments_and_hints_but_not_code(tmp_path):
    base = '''"""Module docstring."""
import torch


def step(x: torch.Tensor, lr: float = 0.1) -> torch.Tensor:
    """Doc."""
    return x - lr * x  # a comment
'''
    reworded = '''"""Another module docstring,
over two lines."""
import torch


def step(x, lr: "float" = 0.1):
    """Reworded docstring."""
    # another comment
    return x - lr * x
'''
    changed_number = base.replace("lr: float = 0.1", "lr: float = 0.2")
    changed_code = base.replace("x - lr * x", "x + lr * x")
    compute = source_hash.__wrapped__
    (tmp_path / "m.py").write_text(base)
    before = compute(tmp_path, ("m.py",))
    (tmp_path / "m.py").write_text(reworded)
    assert compute(tmp_path, ("m.py",)) == before  # rewording does not retrain
    for text in (changed_number, changed_code):
        (tmp_path / "m.py").write_text(text)
        assert compute(tmp_path, ("m.py",)) != before  # a code change does
    field = "from dataclasses import dataclass\n\n\n@dataclass\nclass C:\n    a: int = 1\n"
    assert run_cache.normalised_source(field) == run_cache.normalised_source(field.replace("int", "float"))
    assert run_cache.normalised_source(field) != run_cache.normalised_source(field.replace("a:", "b:"))


def test_training_sources_name_existing_modules_and_leave_out_the_report():
    hashed = {
        p.relative_to(run_cache.HWLIB_DIR).as_posix()
        for g in run_cache.TRAINING_SOURCES
        for p in run_cache.HWLIB_DIR.glob(g)
    }
    assert all(any(run_cache.HWLIB_DIR.glob(g)) for g in run_cache.TRAINING_SOURCES)
    assert {"train.py", "models.py", "flexconv.py", "data/loader.py", "studies/runs.py"} <= hashed
    report_side = {p.relative_to(run_cache.HWLIB_DIR).as_posix() for p in run_cache.HWLIB_DIR.glob("report*/*.py")}
    assert not hashed & (report_side | {"plots.py", "publish.py", "runner.py", "stats.py", "studies/dense.py",
                                        "studies/channels.py"})  # fmt: skip


@pytest.mark.parametrize("full_hash_bytes", [2**30, 0])  # every pixel hashed, or a sample of images
def test_data_identity_sees_a_changed_pixel_or_label(make_split, monkeypatch, full_hash_bytes):
    monkeypatch.setattr(run_cache, "FULL_HASH_BYTES", full_hash_bytes)
    split = make_split(24)
    base = split_identity(split)
    assert base["images"] == 24 and base["shape"] == [3, 24, 24] and base["label_sum"] == int(split.labels.sum())
    split.images[23, 1, 2, 3] += 1  # the last image is always among the sampled ones
    assert split_identity(split) != base
    split.images[23, 1, 2, 3] -= 1
    split.labels[0] = 1
    assert split_identity(split)["sha256"] != base["sha256"]

    class Data:
        name, size, num_classes, eval_split = "d", 24, 3, "val"
        splits = {"val": split}

    assert data_identity(Data())["splits"]["val"] == split_identity(split)


def test_each_study_hashes_the_shared_sources_and_its_own_models_only():
    assert set(run_cache.SHARED_SOURCES) <= set(run_cache.CHANNEL_SOURCES) & set(run_cache.DENSE_SOURCES)
    assert "dense_models.py" not in run_cache.CHANNEL_SOURCES  # notebook 02's networks do not retrain notebook 01
    assert not {"models.py", "flexconv.py", "channel_layers.py"} & set(run_cache.DENSE_SOURCES)
    assert "own4.py" not in run_cache.DENSE_SOURCES and "dense_models.py" not in run_cache.OWN4_SOURCES
    assert set(run_cache.TRAINING_SOURCES) == (
        set(run_cache.CHANNEL_SOURCES) | set(run_cache.DENSE_SOURCES) | set(run_cache.OWN4_SOURCES)
    )
    assert all((run_cache.HWLIB_DIR / p).is_file() for p in run_cache.TRAINING_SOURCES)
    key = {"name": "x"}
    assert run_cache.run_key(key, sources=run_cache.CHANNEL_SOURCES) != run_cache.run_key(
        key, sources=run_cache.DENSE_SOURCES
    )


def test_the_modules_each_study_imports_to_train_are_in_its_sources():
    """What a study's training code imports from hwlib (transitively, among the modules that decide
    numbers) is hashed in its key: no model or layer escapes the key."""
    import ast

    def hwlib_imports(rel: str) -> set[str]:
        path = run_cache.HWLIB_DIR / rel
        tree = ast.parse(path.read_text())
        pkg = path.parent.relative_to(run_cache.HWLIB_DIR).parts
        out = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = list(pkg[: len(pkg) - node.level + 1])
                mod = "/".join(base + (node.module.split(".") if node.module else []))
                for cand in (f"{mod}.py", f"{mod}/__init__.py"):
                    if (run_cache.HWLIB_DIR / cand).is_file():
                        out.add(cand)
        return out

    for sources, models in ((run_cache.CHANNEL_SOURCES, "models.py"), (run_cache.DENSE_SOURCES, "dense_models.py")):
        for rel in (models, "train.py", "studies/runs.py"):
            deciding = {m for m in hwlib_imports(rel) if m in run_cache.TRAINING_SOURCES}
            assert deciding <= set(sources), (rel, deciding - set(sources))
