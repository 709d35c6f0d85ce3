"""Which files to lint: directories walked recursively, named files always taken."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from lint_ws import snapshot
from lint_ws.source import language_of

if TYPE_CHECKING:
    import pathspec

SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", "target", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".lint-ws-cache"})


class Discovery(NamedTuple):
    # Absolute paths, sorted, unique. Strings, not Path objects: on a large tree, building a
    # Path per file costs more than a warm run's whole look-up of unchanged files.
    files: list[str]
    missing: list[str]  # named paths that do not exist


def display_path(path: str, cwd: str) -> str:
    """The path users see: relative to the working directory when below it, '/'-separated."""
    below = cwd.rstrip(os.sep) + os.sep
    shown = path[len(below) :] if path.startswith(below) else path
    return shown.replace(os.sep, "/")


def _is_virtualenv(entries: dict[str, os.DirEntry]) -> bool:
    """A directory holding a ``pyvenv.cfg`` file or a ``conda-meta`` directory, judged from its listing."""
    marker, conda = entries.get("pyvenv.cfg"), entries.get("conda-meta")
    return (marker is not None and marker.is_file()) or (conda is not None and conda.is_dir())


def _read_gitignore(directory: str) -> pathspec.GitIgnoreSpec | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as stream:
            lines = stream.read().splitlines()
    except OSError:
        return None
    # Imported on first use: a tree without .gitignore files never needs it.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


IgnoreRules = tuple[tuple[str, "pathspec.GitIgnoreSpec"], ...]  # (directory, its .gitignore)


def _inherited_gitignores(directory: str) -> IgnoreRules:
    """The .gitignore files above the absolute ``directory`` up to its repository root,
    outermost first."""
    chain = []
    below, parent = directory, os.path.dirname(directory)
    while parent != below:
        spec = _read_gitignore(parent)
        if spec is not None:
            chain.append((parent, spec))
        if os.path.exists(os.path.join(parent, ".git")):
            return tuple(reversed(chain))
        below, parent = parent, os.path.dirname(parent)
    return ()  # not in a repository: ignore files above the walked directory do not apply


def _ignored(path: str, is_dir: bool, rules: IgnoreRules) -> bool:
    ignored = False
    for base, spec in rules:
        # ``path`` lies below ``base``: what follows it and its separator.
        relative = path[len(base.rstrip(os.sep)) + 1 :].replace(os.sep, "/") + ("/" if is_dir else "")
        result = spec.check_file(relative)
        if result.include is not None:
            ignored = result.include
    return ignored


def discover(paths: Iterable[str], excluded: Callable[[str], bool] | None = None) -> Discovery:
    """Files to lint under ``paths``, deterministic order.

    ``excluded`` is the user's exclude configuration. Unlike .gitignore and the built-in
    skips, it applies to named files too: pre-commit names every staged file, and a file
    the configuration excludes must not block a commit it would not fail in a whole-tree run.
    """
    found: set[str] = set()
    missing: list[str] = []
    for given in paths:
        absolute = os.path.abspath(given)
        if os.path.isdir(given):
            _walk(absolute, _inherited_gitignores(absolute), excluded, found, named=True)
        elif os.path.isfile(given) or os.path.islink(given):
            if language_of(os.path.basename(given)) is not None and not (excluded and excluded(absolute)):
                found.add(absolute)
        elif os.path.lexists(given):
            if not (excluded and excluded(absolute)):
                found.add(absolute)  # e.g. a socket or fifo: reported as unreadable
        else:
            missing.append(given)
    # Directory by directory: NUL sorts before any character a path can hold, so this
    # orders paths as comparing their components would, at the cost of one string copy.
    return Discovery(sorted(found, key=lambda path: path.replace(os.sep, "\0")), missing)


def _walk(
    directory: str, rules: IgnoreRules, excluded: Callable[[str], bool] | None, found: set[str], named: bool = False
) -> None:
    """Add the source files under ``directory`` to ``found``. (A loop that appends, not a
    generator: on a large tree, every file would otherwise be passed up through a
    ``yield from`` per directory level.) A virtualenv is skipped unless it is the directory
    the user named. What a directory holds is judged from its listing, so that most
    directories cost one system call, not four."""
    try:
        entries = snapshot.listing(directory)
    except OSError:
        return
    by_name = {entry.name: entry for entry in entries}
    if not named and _is_virtualenv(by_name):
        return
    if ".gitignore" in by_name:
        own = _read_gitignore(directory)
        if own is not None:
            rules = rules + ((directory, own),)
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        path = entry.path
        if is_dir:
            if entry.name in SKIPPED_DIRECTORIES:
                continue
            if (rules and _ignored(path, True, rules)) or (excluded and excluded(path)):
                continue
            _walk(path, rules, excluded, found)
        elif language_of(entry.name) is not None:
            if not (rules and _ignored(path, False, rules)) and not (excluded and excluded(path)):
                found.add(path)
