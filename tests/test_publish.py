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


def test_write_json_sorts_keys_and_converts_numpy(tmp_path):
    import numpy as np

    path = publish.write_json(tmp_path / "x" / "r.json", {"b": np.int64(2), "a": np.float32(0.5), "c": np.arange(2)})
    assert path.read_text() == '{\n  "a": 0.5,\n  "b": 2,\n  "c": [\n    0,\n    1\n  ]\n}\n'


def test_dense_table_comes_from_the_sweep_with_unsettled_verdicts_marked(tmp_path):
    import json

    sweep = [
        {"image_size": 64, "recipe": "strong", "seeds": [0, 1, 2], "epochs": 6, "epochs_by_model": {"resnet34_2x": 12},
         "train_images": 1000, "dense4": [0.5, 0.52, 0.54], "resnet34": [0.5, 0.5, 0.5], "resnet34_2x": [0.55],
         "best_epoch": {}, "ratio": {"resnet34": 1.04, "resnet34_2x": 0.945}, "ratio_per_seed": {},
         "macs_per_image": {}}
    ]  # fmt: skip
    goals = [{"goal": "64 px, strong recipe: Dense4 >= 0.90 x ResNet34", "met": True, "settled": False, "numbers": "x"}]
    payload = {"dataset": "d", "split": "test", "profile": "p", "device": "cpu", "image_size": 64, "sweep": sweep,
               "goals": goals, "params": {"dense4": 5, "resnet34": 20},
               "macs": {"dense4": 3e9, "resnet34": 1e9}}  # fmt: skip
    (tmp_path / "02_dense4_vs_resnet34.json").write_text(json.dumps(payload))
    text = publish.results_markdown(tmp_path)
    assert "| 64 px | strong | dense4 | 6 | 3 | 0.520 ± 0.020 |  |" in text
    assert "| 64 px | strong | resnet34_2x | 12 | 1 | 0.550 | 0.945 |" in text
    assert "- met (not settled by the 95% interval): 64 px, strong recipe" in text
