"""The progress line: only on a terminal, only after a second, erased at the end."""

from __future__ import annotations

import io

from cli_runner import run_cli

from lint_ws import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    for index in range(12):
        (tmp_path / f"m{index}.py").write_text("x = 1\n")
    completed = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    assert "\r" not in completed.stderr
    assert "files" not in completed.stderr.replace("12 files", "")


def test_pipe_and_ci_disable_it(monkeypatch):
    assert not progress.wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted(FakeTerminal())
    monkeypatch.delenv("CI")
    assert progress.wanted(FakeTerminal())


def test_line_appears_after_the_delay_and_is_erased(monkeypatch):
    monkeypatch.delenv("CI", raising=False)  # CI runs this suite with CI set
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    terminal = FakeTerminal()
    with progress.Progress(10, stream=terminal) as bar:
        bar.advance(3)
        assert terminal.getvalue() == ""  # a short run shows nothing
        clock[0] += progress.DELAY_SECONDS + 0.01
        bar.advance(4)
        assert terminal.getvalue().endswith("lint-ws: 7/10 files")
    shown = terminal.getvalue()
    assert shown.endswith("\r" + " " * len("lint-ws: 7/10 files") + "\r")


def test_short_run_writes_nothing():
    terminal = FakeTerminal()
    with progress.Progress(2, stream=terminal) as bar:
        bar.advance(2)
    assert terminal.getvalue() == ""
