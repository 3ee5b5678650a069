"""The notebooks as documents: clean, parameterised, and free of library code."""

import ast
import copy

import nbformat
import pytest

from hwlib.paths import REPO_ROOT
from hwlib.runner import NOTEBOOKS, SUMMARY_NOTEBOOKS, clean_notebook, output_problems


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_clean_and_parameterised(name):
    nb = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    assert clean_notebook(copy.deepcopy(nb)) == nb, "run the runner (make report PUBLISH=1) to clean it"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {
        t.id for node in ast.walk(ast.parse(tagged[0].source)) if isinstance(node, ast.Assign) for t in node.targets
    }
    assert {"PROFILE", "DATA", "SEED", "OUTPUT_DIR"} <= names
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))], (
                f"{name}: notebooks import, configure, call and plot; code belongs in hwlib"
            )
            if cell.outputs:
                assert cell.execution_count is not None  # nbval: 'Unrun reference cell has outputs'


def test_runner_names_notebook_and_cell_on_failure(tmp_path, monkeypatch, capsys):
    import hwlib.runner as runner

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('PROFILE = "smoke"\nDATA = ""\nSEED = 0\nOUTPUT_DIR = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('broken data')"),
    ]
    nbformat.write(nb, tmp_path / "99_broken.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", tmp_path)
    with pytest.raises(SystemExit) as exc:
        runner.run_notebook("99_broken.ipynb", out_path=tmp_path / "out.ipynb", parameters={"SEED": 1})
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "notebooks/99_broken.ipynb failed in cell" in err and "ValueError: broken data" in err


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_reads_well(name):
    """At most 40 printed lines per cell, no warnings or machine paths, and (01, 02) a Summary with numbers;
    the runner applies the same check to every notebook it executes, published or under runs/."""
    nb = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    assert output_problems(nb, name=name, summary=name in SUMMARY_NOTEBOOKS) == []


def test_output_problems_are_found():
    nb = nbformat.v4.new_notebook()
    noisy = nbformat.v4.new_code_cell("x")
    noisy.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="line\n" * 41),
        nbformat.v4.new_output("stream", name="stderr", text="/work/x.py:1: FutureWarning: old\n"),
    ]
    summary = nbformat.v4.new_code_cell("s")
    summary.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "**Summary**: filled in later"})]
    nb.cells = [noisy, summary]
    problems = output_problems(nb, name="x", summary=True)
    assert len(problems) == 4
    assert "prints 42 lines" in problems[0] and "warning" in problems[1] and "absolute path" in problems[2]
    assert "no numbers" in problems[3]
