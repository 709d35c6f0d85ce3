"""lint-ws run with a test hook: the console script's entry point, with one function of
lint-ws wrapped so that a rare moment happens on cue instead of by timing.

The tests build the command with ``launcher(hook)``; the child process runs ``main()``,
which installs the hook named in its environment and then runs ``lint_ws.cli.main``
exactly as the installed ``lint-ws`` script does. Hooks:

- ``{"kind": "delete-after-discovery", "path": P}``: P is deleted once discovery has
  listed it, before any file is read.
- ``{"kind": "kill-in-fix-write", "point": POINT, "write": N}``: the process SIGKILLs
  itself during the Nth file write of ``--fix``: ``before-write`` (nothing of it written
  yet), ``partial-temp`` (half of the new content in the temporary file),
  ``before-rename`` (temporary file complete, not yet renamed over the source) or
  ``after-rename``.
- ``{"kind": "report-writes", "fd": FD}``: a line on descriptor FD after each completed
  file write, so a test can kill the process from outside once a write has happened.
- ``{"kind": "interrupt-after-first-batch"}``: once the first files are linted, SIGINT to
  the process group, as Ctrl-C in a terminal sends it (to the worker processes too).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

HOOK_VARIABLE = "LINT_WS_TEST_HOOK"
TESTS = Path(__file__).resolve().parent
KILL_POINTS = ("before-write", "partial-temp", "before-rename", "after-rename")


def launcher(hook: dict) -> tuple[list[str], dict]:
    """The command and the environment variables that run lint-ws with ``hook`` installed."""
    # ``-c`` would put the working directory (the linted tree) first on sys.path, where a
    # file named like a module lint-ws imports would shadow it.
    code = f"import sys; sys.path[0] = {str(TESTS)!r}; import cli_hooks; cli_hooks.main()"
    return [sys.executable, "-c", code], {HOOK_VARIABLE: json.dumps(hook)}


def main() -> None:
    hook = json.loads(os.environ.pop(HOOK_VARIABLE))
    kind = hook.pop("kind")
    {
        "delete-after-discovery": _delete_after_discovery,
        "kill-in-fix-write": _kill_in_fix_write,
        "report-writes": _report_writes,
        "interrupt-after-first-batch": _interrupt_after_first_batch,
    }[kind](**hook)
    sys.argv[0] = "lint-ws"
    from lint_ws.cli import main as lint_ws_main

    sys.exit(lint_ws_main())


def _delete_after_discovery(path: str) -> None:
    from lint_ws import discovery

    real_discover = discovery.discover

    def discover_then_delete(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        assert os.path.abspath(path) in found.files, "the file to delete was not discovered"
        os.unlink(path)
        return found

    discovery.discover = discover_then_delete


def _interrupt_after_first_batch() -> None:
    from lint_ws import progress

    real_advance = progress.Progress.advance

    def advance_then_interrupt(self, count: int = 1) -> None:
        real_advance(self, count)
        if self.done == count:
            os.killpg(os.getpgid(0), signal.SIGINT)

    progress.Progress.advance = advance_then_interrupt


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _OsSeenByFixes:
    """``os`` as lint_ws.fixes sees it: the real module, with ``fdopen`` and ``replace``
    wrapped to reach the moments inside one atomic write; the rest of lint-ws (the cache
    writes its entries with ``os.replace`` too) keeps the real module."""

    def __init__(self, before_replace, wrap_stream):
        self._before_replace = before_replace
        self._wrap_stream = wrap_stream

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, *args, **kwargs):
        return self._wrap_stream(os.fdopen(*args, **kwargs))

    def replace(self, source, target):
        self._before_replace()
        os.replace(source, target)


class _HalfWrite:
    """A binary stream whose first write stores half of its data, reaches the disk, and dies."""

    def __init__(self, stream):
        self._stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self._stream.__exit__(*exc_info)

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, data):
        self._stream.write(data[: len(data) // 2])
        self._stream.flush()
        os.fsync(self._stream.fileno())
        _die()


def _kill_in_fix_write(point: str, write: int) -> None:
    from lint_ws import fixes

    assert point in KILL_POINTS, point
    real_write = fixes.write_atomically
    count = 0

    def at(moment: str) -> bool:
        return point == moment and count == write

    def write_atomically(fs_path, expected, data):
        nonlocal count
        count += 1
        if at("before-write"):
            _die()
        real_write(fs_path, expected, data)
        if at("after-rename"):
            _die()

    def before_replace():
        if at("before-rename"):
            _die()

    def wrap_stream(stream):
        return _HalfWrite(stream) if at("partial-temp") else stream

    fixes.write_atomically = write_atomically
    fixes.os = _OsSeenByFixes(before_replace, wrap_stream)


def _report_writes(fd: int) -> None:
    from lint_ws import fixes

    real_write = fixes.write_atomically

    def write_atomically(fs_path, expected, data):
        real_write(fs_path, expected, data)
        os.write(fd, b"written\n")

    fixes.write_atomically = write_atomically
