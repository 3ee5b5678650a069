"""hwlib.runner: `--fresh` reaches the notebook kernels as HWLIB_FRESH; by default they resume."""

import os

import nbformat
import pytest

import hwlib.runner as runner


@pytest.mark.parametrize(("argv", "fresh"), [([], "0"), (["--fresh"], "1")])
def test_fresh_flag_reaches_the_kernels(tmp_path, list_dataset, monkeypatch, capsys, argv, fresh):
    seen = {}

    def fake_run(name, *, out_path, parameters):  # what a papermill kernel would inherit
        seen[name] = (os.environ.get("HWLIB_FRESH"), os.environ.get("HWLIB_PROGRESS"))
        nbformat.write(nbformat.v4.new_notebook(), out_path)

    monkeypatch.setattr(runner, "run_notebook", fake_run)
    monkeypatch.setattr(runner, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.setattr(runner, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("HWLIB_FRESH", "stale")  # main sets both; monkeypatch restores them
    monkeypatch.setenv("HWLIB_PROGRESS", "bar")
    monkeypatch.delenv("HWLIB_PROFILE", raising=False)
    assert runner.main(["--data", str(list_dataset), "--only", "03", *argv]) == 0
    assert seen == {"03_param_analysis.ipynb": (fresh, "line")}
    out = capsys.readouterr().out
    assert ("every run from scratch" in out) == (fresh == "1")
    assert ("interrupted ones resumed" in out) == (fresh == "0")


def test_a_data_problem_in_a_notebook_is_one_line(tmp_path, monkeypatch, capsys):
    import papermill as pm

    line = "data/x/images/a.png (val.txt:4): image too large (400,000,000 pixels, over the limit of 89,478,485)"

    def fail(*args, **kwargs):
        raise pm.PapermillExecutionError(3, 2, "setup_run(...)", "DatasetError", line, ["Traceback ..."])

    monkeypatch.setattr(pm, "execute_notebook", fail)
    with pytest.raises(SystemExit) as e:
        runner.run_notebook("01_flexconv.ipynb", out_path=tmp_path / "out.ipynb", parameters={})
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.count("\n") == 1 and line in err and "Traceback" not in err
