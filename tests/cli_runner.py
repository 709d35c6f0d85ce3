"""Running the installed ``lint-ws`` console script as a subprocess."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass
class InProcessRun:
    exit_code: int
    stdout_bytes: bytes
    stderr: str

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8")

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_in_process(*args: str) -> InProcessRun:
    """``lint-ws ARGS`` through ``lint_ws.cli.main`` in this process, so that rules the test
    registers apply; stdout is kept as bytes (a diff's CRLF lines must stay CRLF)."""
    from lint_ws.cli import main

    stdout_bytes = io.BytesIO()
    stdout, stderr = io.TextIOWrapper(stdout_bytes, encoding="utf-8", newline=""), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            exit_code = main(list(args))
        except SystemExit as exit:  # argparse's usage errors
            exit_code = exit.code
        stdout.flush()
    return InProcessRun(exit_code, stdout_bytes.getvalue(), stderr.getvalue())
