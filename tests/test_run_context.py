"""hwlib.run_context: the environment wins over a notebook's parameters, so nbval never writes published folders."""

from hwlib.paths import REPO_ROOT, RUNS_DIR
from hwlib.run_context import setup_run


def test_environment_overrides_keep_test_runs_out_of_the_published_folders(monkeypatch):
    monkeypatch.setenv("HWLIB_PROFILE", "smoke")
    monkeypatch.setenv("HWLIB_OUTPUT_DIR", "")  # as `make test` sets it
    run = setup_run(
        notebook="03_param_analysis",
        profile="cpu-real",
        data="../nowhere",
        seed=0,
        output_dir=".",
        needs_data=False,
        quiet=True,
    )
    assert run.profile.name == "smoke"
    assert run.base == RUNS_DIR / "params-smoke" and run.base != REPO_ROOT
    monkeypatch.delenv("HWLIB_OUTPUT_DIR")
    run = setup_run(
        notebook="03_param_analysis", profile="cpu", data="", seed=0, output_dir="runs/x", needs_data=False, quiet=True
    )
    assert run.base == REPO_ROOT / "runs" / "x"
