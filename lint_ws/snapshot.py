"""One look at the file system per run: each directory listed once, each file stamped once.

Discovery lists the directories it walks; the project index lists its project's directories
and stamps its files; the results cache stamps the files to lint. On a warm run over an
unchanged tree these system calls are most of the work, and the stages ask about the same
directories and files: inside ``taken()`` the first answer is kept and given to the others.

A stamp kept from before a file is read is what the caches need (a change made while a run
reads the file shows in the next run's stamp). Outside ``taken()`` (the language server,
a fix's re-lint, which follow edits) every question goes to the file system.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

Stamp = tuple[int, int, int, int, int, int]  # device, inode, size, mode, mtime_ns, ctime_ns

_listings: dict[str, list[os.DirEntry] | OSError] | None = None
_stamps: dict[str, Stamp | None] | None = None


@contextmanager
def taken() -> Iterator[None]:
    """Keep the listings and stamps asked for until the block ends."""
    global _listings, _stamps
    _listings, _stamps = {}, {}
    try:
        yield
    finally:
        _listings = _stamps = None


def listing(directory: str) -> list[os.DirEntry]:
    """The entries of ``directory``; raises OSError as ``os.scandir`` does."""
    if _listings is None:
        return list(os.scandir(directory))
    found = _listings.get(directory)
    if found is None:
        try:
            found = list(os.scandir(directory))
        except OSError as error:
            found = error
        _listings[directory] = found
    if isinstance(found, OSError):
        raise found
    return found


def stamp(path: str) -> Stamp | None:
    """What tells a file's content unchanged without reading it, or None when it cannot be
    stat'ed."""
    if _stamps is None:
        return _stat(path)
    if path not in _stamps:
        _stamps[path] = _stat(path)
    return _stamps[path]


def _stat(path: str) -> Stamp | None:
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mode, stat.st_mtime_ns, stat.st_ctime_ns)
