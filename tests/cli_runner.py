"""Running the installed ``lint-ws`` console script as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
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


def cli_environment(env: dict | None = None) -> dict:
    """The tests' environment for a lint-ws process: what the user sees, not debug mode."""
    environment = {**os.environ, **(env or {})}
    environment.pop("LINT_WS_DEBUG", None)
    return environment


def run_cli(
    *args: str,
    cwd: Path | str = REPO,
    env: dict | None = None,
    timeout: float = 120,
    command: Sequence[str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``lint-ws ARGS``; ``command`` replaces the installed script (a wrapper around it,
    or a launcher that runs the same entry point with a test hook installed)."""
    return subprocess.run(
        [*(command or [lint_ws_executable()]), *args],
        cwd=cwd,
        env=cli_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
