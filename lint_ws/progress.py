"""The "files done / total" line on stderr during a long run (SPEC section 2).

Shown only when stderr is a terminal outside CI, and only once the run has taken a second:
a pre-commit run on a few files never flickers, and logs and pipes never get it. The line
is rewritten in place with a carriage return and erased when the run ends.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

DELAY_SECONDS = 1.0
REFRESH_SECONDS = 0.1


def wanted(stream: TextIO) -> bool:
    try:
        return stream.isatty() and not os.environ.get("CI")
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class Progress:
    """Counts finished files; a context manager that erases its line on exit."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None):
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = wanted(self.stream) if enabled is None else enabled
        self._started = time.monotonic()
        self._last_shown = 0.0
        self._width = 0  # length of the line on screen; 0 when nothing is shown

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._started < DELAY_SECONDS or now - self._last_shown < REFRESH_SECONDS:
            return
        self._last_shown = now
        line = f"lint-ws: {self.done}/{self.total} files"
        self._write("\r" + line.ljust(self._width))
        self._width = len(line)

    def close(self) -> None:
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False  # the terminal went away; the run goes on without it

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
