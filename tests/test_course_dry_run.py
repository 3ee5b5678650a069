"""hwlib.course_dry_run on a miniature of the course's lists (the real run is `make dry-run-course`)."""

import json

from hwlib import course_dry_run

from .conftest import write_image

WNIDS = ("n02111277", "n02111500", "n02111889")


def course_lists(root):
    """The course's layout in miniature: CRLF lists naming images that are not there, one sample per class."""
    root.mkdir()
    for split, n in (("train", 3), ("val", 1), ("test", 1)):
        lines = [f"images/{w}/{w}_{split}{i}.JPEG {label}" for label, w in enumerate(WNIDS) for i in range(n)]
        (root / f"{split}.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    for label, w in enumerate(WNIDS):
        write_image(root / "images" / w / f"{w}_sample.JPEG", seed=label, size=(60, 45))
    samples = [f"images/{w}/{w}_sample.JPEG {label}" for label, w in enumerate(WNIDS)]
    (root / "sample.txt").write_text("\n".join(samples) + "\n")
    return root


def test_dry_run_builds_checks_caches_and_trains(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HWLIB_PROGRESS", "line")  # main sets it by default; restored after the test
    lists, out = course_lists(tmp_path / "ncku"), tmp_path / "built"
    argv = ["--lists", str(lists), "--out", str(out), "--cache-dir", str(tmp_path / "cache")]
    argv += ["--report", str(tmp_path / "r.json"), "--steps", "2", "--batch", "2", "--size", "32"]
    assert course_dry_run.main(argv) == 0
    assert (out / "train.txt").read_bytes() == (lists / "train.txt").read_bytes()  # CRLF kept
    linked = out / "images" / WNIDS[1] / f"{WNIDS[1]}_train2.JPEG"
    assert linked.read_bytes() == (lists / "images" / WNIDS[1] / f"{WNIDS[1]}_sample.JPEG").read_bytes()
    stages = json.loads((tmp_path / "r.json").read_text())["stages"]
    assert list(stages) == ["build", "check", "cache", "train", "total"]
    assert stages["build"]["linked"] == 15 and stages["check"]["decoded"] == 15
    assert stages["cache"]["images"] == {"train": 9, "val": 3, "test": 3}
    assert stages["cache"]["cache_gb"] == round(15 * 3 * 32 * 32 / 1e9, 2) and stages["train"]["steps"] == 2
    assert stages["total"]["peak_rss_gib"] > 0
    assert "course dry run:" in capsys.readouterr().out
    assert course_dry_run.main(argv) == 0  # again: links and cache reused
    assert json.loads((tmp_path / "r.json").read_text())["stages"]["build"]["already_there"] == 15


def test_dry_run_without_the_lists_says_so_in_one_line(tmp_path, capsys):
    assert course_dry_run.main(["--lists", str(tmp_path / "absent")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: the course's lists are not at ")
