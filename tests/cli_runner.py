"""Running the installed ``lint-ws`` console script as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def lint_ws_executable() -> str:
    """The console script of the environment running the tests."""
    beside_python = Path(sys.executable).parent / "lint-ws"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("lint-ws")
    assert found, "the lint-ws console script is not installed (pip install -e '.[test]')"
    return found


def run_cli(*args: str, cwd: Path | str = REPO, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment.pop("LINT_WS_DEBUG", None)
    return subprocess.run(
        [lint_ws_executable(), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
