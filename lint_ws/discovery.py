"""Which files to lint: directories walked recursively, named files always taken."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lint_ws.source import language_of

if TYPE_CHECKING:
    import pathspec

SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", "target", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".lint-ws-cache"})


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)  # sorted, unique
    missing: list[str] = field(default_factory=list)  # named paths that do not exist


def display_path(path: Path, cwd: Path) -> str:
    """The path users see: relative to the working directory when below it, '/'-separated."""
    if path.parts[: len(cwd.parts)] == cwd.parts and path != cwd:
        return "/".join(path.parts[len(cwd.parts) :])
    return path.as_posix()


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file() or (directory / "conda-meta").is_dir()


def _read_gitignore(directory: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    # Imported on first use: a tree without .gitignore files never needs it.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


IgnoreRules = tuple[tuple[Path, "pathspec.GitIgnoreSpec"], ...]


def _inherited_gitignores(directory: Path) -> IgnoreRules:
    """The .gitignore files above ``directory`` up to its repository root, outermost first."""
    chain = []
    for parent in directory.parents:
        spec = _read_gitignore(parent)
        if spec is not None:
            chain.append((parent, spec))
        if (parent / ".git").exists():
            return tuple(reversed(chain))
    return ()  # not in a repository: ignore files above the walked directory do not apply


def _ignored(path: Path, is_dir: bool, rules: IgnoreRules) -> bool:
    ignored = False
    for base, spec in rules:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        result = spec.check_file(relative)
        if result.include is not None:
            ignored = result.include
    return ignored


def discover(paths: Iterable[str], excluded: Callable[[Path], bool] = lambda path: False) -> Discovery:
    """Files to lint under ``paths``, deterministic order.

    ``excluded`` is the user's exclude configuration. Unlike .gitignore and the built-in
    skips, it applies to named files too: pre-commit names every staged file, and a file
    the configuration excludes must not block a commit it would not fail in a whole-tree run.
    """
    found: set[Path] = set()
    discovery = Discovery()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            root = path.absolute()
            found.update(_walk(root, _inherited_gitignores(root), excluded))
        elif path.is_file() or path.is_symlink():
            if language_of(path.name) is not None and not excluded(path.absolute()):
                found.add(path.absolute())
        elif os.path.lexists(given):
            if not excluded(path.absolute()):
                found.add(path.absolute())  # e.g. a socket or fifo: reported as unreadable
        else:
            discovery.missing.append(given)
    discovery.files = sorted(found, key=lambda path: path.parts)  # Path order, compared in C
    return discovery


def _walk(directory: Path, rules: IgnoreRules, excluded: Callable[[Path], bool]) -> Iterable[Path]:
    own = _read_gitignore(directory)
    if own is not None:
        rules = rules + ((directory, own),)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if entry.name in SKIPPED_DIRECTORIES:
                continue
            path = Path(entry.path)
            if _is_virtualenv(path) or _ignored(path, True, rules) or excluded(path):
                continue
            yield from _walk(path, rules, excluded)
        elif language_of(entry.name) is not None:
            path = Path(entry.path)
            if not _ignored(path, False, rules) and not excluded(path):
                yield path
