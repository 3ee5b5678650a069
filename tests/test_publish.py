"""hwlib.publish: the README's generated sections match the committed results."""

import shutil

from hwlib import publish
from hwlib.paths import REPO_ROOT


def test_readme_results_table_is_generated_from_results(tmp_path):
    readme = tmp_path / "README.md"
    shutil.copy(REPO_ROOT / "README.md", readme)
    publish.update_readme(readme, REPO_ROOT / "results")
    assert readme.read_text() == (REPO_ROOT / "README.md").read_text(), (
        "README table is stale: run the runner with --publish"
    )


def test_write_json_sorts_keys_converts_numpy_writes_nan_as_null_and_a_schema_version(tmp_path):
    import numpy as np

    path = publish.write_json(
        tmp_path / "x" / "r.json", {"b": np.int64(2), "a": np.float32(0.5), "c": np.arange(2), "d": float("nan")}
    )
    assert path.read_text() == (
        '{\n  "a": 0.5,\n  "b": 2,\n  "c": [\n    0,\n    1\n  ],\n  "d": null,\n'
        f'  "schema_version": {publish.SCHEMA_VERSION}\n}}\n'
    )


def test_dense_section_comes_from_the_runs_with_verdicts_and_limits(tmp_path):
    import json

    runs = [
        {
            "model": m,
            "recipe": "strong",
            "image_size": 32,
            "train_images": 3000,
            "epochs": 3,
            "steps": 141,
            "seed": s,
            "test_accuracy": a,
            "best_epoch": 3,
            "train_seconds": 1.0,
        }
        for m, accs in (("dense4", [0.5, 0.52, 0.54]), ("resnet34", [0.5, 0.5, 0.5]))
        for s, a in enumerate(accs)
    ]
    part = {
        "goal": "32 px",
        "outcome": "not shown",
        "estimate": 1.04,
        "interval": [0.95, 1.13],
        "bar": 0.9,
        "direction": ">=",
        "reason": "resnet34 had not converged",
        "image_size": 32,
    }
    goal = {**part, "goal": "Dense4 reaches >= 90% of ResNet34", "parts": [part], "settled_by": None}
    goal.pop("reason")
    payload = {
        "dataset": "d",
        "split": "test",
        "profile": "p",
        "device": "cpu",
        "image_size": 32,
        "seeds": [0, 1, 2],
        "runs": runs,
        "goals": [goal],
        "data": {"num_classes": 10},
        "models": {"dense4": {"label": "Dense4"}, "resnet34": {"label": "ResNet34"}},
        "verdict": {
            "baseline": "resnet34",
            "image_size": 32,
            "steps": 141,
            "epochs": 3,
            "ratio": 1.04,
            "interval": [0.95, 1.13],
            "outcome": "not shown",
            "reason": "resnet34 had not converged",
        },
    }
    (tmp_path / "02_dense4_vs_resnet34.json").write_text(json.dumps(payload))
    text = publish.results_markdown(tmp_path)
    assert "| 32 px | strong | 141 | Dense4 | 3 | 0.520 ± 0.020 |" in text
    assert "**not shown**" in text and "1.040 [0.950, 1.130]" in text and "resnet34 had not converged" in text
    assert "- Limits: 10 classes of d, 300 training images per class drawn per seed" in text


def test_the_benchmark_table_is_shown_only_when_measured_on_an_idle_machine():
    res = {"device": "cpu", "quick": True, "torch": "2", "flexconv_batched_vs_loop": {"speedup": 1.2},
           "flexconv_vs_conv2d": {"ratio": 0.8}, "train_mfu": {"dense4": 1.0, "resnet34": 1.0},
           "data_stall": {"dense4": 0.001, "resnet34": 0.003}}  # fmt: skip
    assert publish.bench_markdown(res).startswith("Not shown")
    assert publish.bench_markdown({**res, "others_busy": 0.4}).startswith("Not shown")
    assert "| 1.20x |" in publish.bench_markdown({**res, "others_busy": 0.02})


def test_the_flexconv_section_gives_goal_ones_budget_curve_from_the_results(tmp_path):
    from .test_studies_channels import _budget_result, channel_result

    cur = _budget_result(channel_result(), sub_converged=True)
    publish.write_json(tmp_path / "01_flexconv.json", cur.to_json())
    text = publish.results_markdown(tmp_path)
    sub = cur.at_budget[20]
    line = next(x for x in text.splitlines() if x.startswith("Goal 1's budget curve"))
    assert f"20 epochs: flex {sub.mean_of_seven('flex'):.3f}, experts {sub.mean_of_seven('experts'):.3f}" in line
    assert line.count("(goal 1 judged here)") == 1 and line.index("10 epochs") < line.index("20 epochs")
    low, high = (100 * x for x in sub.diff("flex", "experts", "mean of 7").as_list())
    assert f"[{low:+.1f}, {high:+.1f}] points (goal 1 judged here)" in line
