"""`make lab`: JupyterLab from the venv serves the three notebooks with a python3 kernel that imports hwlib."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hwlib.paths import REPO_ROOT
from hwlib.runner import NOTEBOOKS

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
STARTUP_TIMEOUT_S = 60
# jupyter_client starts a kernelspec whose argv[0] is one of these with the server's own Python
PYTHON_ALIASES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str, timeout: float = 10) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


def _log_tail(log: Path, n: int = 40) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-n:])


@pytest.fixture
def lab_server(tmp_path: Path):
    """A JupyterLab server on a free local port; its runtime, config and data dirs are temporary."""
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        env[var] = str(tmp_path / var.lower())
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={NOTEBOOK_DIR}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root; the server only listens on 127.0.0.1
    log = tmp_path / "lab.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{_log_tail(log)}")
            try:
                if _get(f"{base}/api/status", token, timeout=2)[0] == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer within {STARTUP_TIMEOUT_S} s:\n{_log_tail(log)}")
            time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_lab_serves_notebooks_with_hwlib_kernel(lab_server, tmp_path):
    base, token = lab_server

    status, body = _get(f"{base}/api/contents", token)
    assert status == 200
    listed = {item["name"]: item["type"] for item in json.loads(body)["content"]}
    for name in NOTEBOOKS:
        assert listed.get(name) == "notebook", f"{name} not served as a notebook; root lists {sorted(listed)}"

    status, body = _get(f"{base}/api/kernelspecs", token)
    assert status == 200
    kernelspecs = json.loads(body)["kernelspecs"]
    kernel_names = {
        json.loads((NOTEBOOK_DIR / name).read_text())["metadata"]["kernelspec"]["name"] for name in NOTEBOOKS
    }
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # hwlib must come from the editable install
    for kernel in sorted(kernel_names):
        assert kernel in kernelspecs, f"notebooks use kernel {kernel!r}; the server offers {sorted(kernelspecs)}"
        python = kernelspecs[kernel]["spec"]["argv"][0]
        if python in PYTHON_ALIASES:
            python = sys.executable  # what jupyter_client launches for a bare 'python' (the server runs on it)
        probe = subprocess.run(
            [python, "-c", "import hwlib; print(*hwlib.__path__, sep=chr(10))"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert probe.returncode == 0, f"kernel {kernel!r} ({python}) cannot import hwlib:\n{probe.stderr}"
        found = {Path(p).resolve() for p in probe.stdout.splitlines()}
        assert REPO_ROOT / "hwlib" in found, f"kernel {kernel!r} imports another hwlib: {sorted(found)}"

    status, body = _get(f"{base}/lab", token)
    assert status == 200
    assert b"JupyterLab" in body
