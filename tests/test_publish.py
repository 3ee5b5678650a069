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
