"""Configuration: ``[tool.lint-ws]`` in pyproject.toml, or top-level keys in lint-ws.toml.

Without ``--config``, the configuration is found by walking up from the common parent
directory of the paths given on the command line (so ``lint-ws check ~/proj`` finds
``~/proj/pyproject.toml`` from anywhere, and pre-commit, which runs at the repository root,
finds the root configuration). In each directory a ``lint-ws.toml`` wins over a
``pyproject.toml``; a ``pyproject.toml`` without a ``[tool.lint-ws]`` table is passed over.
The walk stops at the repository root (the directory holding ``.git``).

Globs (``exclude``, ``per-file-ignores``) are gitignore-style and relative to the directory
of the configuration file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from lint_ws import catalogue

if TYPE_CHECKING:
    import pathspec

PYPROJECT = "pyproject.toml"
LINT_WS_TOML = "lint-ws.toml"
KEYS = ("select", "ignore", "exclude", "per-file-ignores", "report-unused-allows")


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line naming the file and key."""


class PerFileIgnores(NamedTuple):
    """Rules not to run on the files matching a glob; the engine drops them before parsing."""

    root: str = ""  # the directory the globs are relative to
    entries: tuple[tuple[str, frozenset[str]], ...] = ()

    def rules_ignored_for(self, path: str | os.PathLike) -> frozenset[str]:
        if not self.entries:
            return frozenset()
        relative = _relative(path, self.root)
        if relative is None:
            return frozenset()
        ignored: frozenset[str] = frozenset()
        for glob, rule_ids in self.entries:
            if _gitignore_spec((glob,)).match_file(relative):
                ignored |= rule_ids
        return ignored


class Config(NamedTuple):
    path: str | None = None  # the file it was read from, absolute; None: no configuration file
    select: frozenset[str] | None = None  # None: every rule
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    per_file_ignores: PerFileIgnores = PerFileIgnores()
    report_unused_allows: bool = False

    def is_excluded(self, path: str | os.PathLike) -> bool:
        """Whether ``exclude`` matches ``path`` (a file, or a directory the walk would enter)."""
        if not self.exclude or self.path is None:
            return False
        relative = _relative(path, os.path.dirname(self.path))
        if relative is None:
            return False
        if os.path.isdir(path):
            relative += "/"
        return _gitignore_spec(self.exclude).match_file(relative)

    def selected_rules(self, cli_select: frozenset[str] | None, cli_ignore: frozenset[str] | None) -> frozenset[str]:
        """The rules to run: command-line options override the configuration.

        ``--select`` replaces the configured selection *and* its ignore list (an id the user
        names on the command line runs even when the configuration ignores it); ``--ignore``
        adds to whatever is selected.
        """
        if cli_select is not None:
            selected = cli_select
        else:
            selected = (catalogue.rule_ids() if self.select is None else self.select) - self.ignore
        return frozenset(selected) - (cli_ignore or frozenset())


@cache
def _gitignore_spec(lines: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    import pathspec  # on first use: a run without globs in its configuration never pays for it

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _relative(path: str | os.PathLike, root: str) -> str | None:
    relative = os.path.relpath(os.path.abspath(path), root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return relative.replace(os.sep, "/")


def find(paths: Sequence[str]) -> str | None:
    """The configuration file for a run over ``paths`` (absolute), or None."""
    absolute = [os.path.abspath(path) for path in paths] or [os.getcwd()]
    try:
        directory = os.path.commonpath(absolute)
    except ValueError:  # paths on different drives have no common parent
        directory = os.getcwd()
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        candidate = os.path.join(directory, LINT_WS_TOML)
        if os.path.isfile(candidate):
            return candidate
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _has_tool_table(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if os.path.exists(os.path.join(directory, ".git")) or parent == directory:
            return None
        directory = parent


def _has_tool_table(pyproject: str) -> bool:
    try:
        text = _read_text(pyproject)
    except (OSError, UnicodeDecodeError):
        return False
    # Parsing every pyproject.toml on the way up costs start-up time; only one that
    # mentions the table is read for real (and then must be valid).
    return "lint-ws" in text and "lint-ws" in _load_toml(pyproject, text).get("tool", {})


def load(path: str | os.PathLike) -> Config:
    """Read and validate a configuration file; raise ConfigError with a one-line message."""
    path = os.path.abspath(path)  # globs stay anchored whatever the working directory
    try:
        text = _read_text(path)
    except FileNotFoundError:
        raise ConfigError(f"{_shown(path)}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{_shown(path)}: cannot read: {getattr(error, 'strerror', None) or error}") from None
    document = _load_toml(path, text)
    if os.path.basename(path) == PYPROJECT:
        table = document.get("tool", {}).get("lint-ws")
        if table is None:
            raise ConfigError(f"{_shown(path)}: no [tool.lint-ws] table")
        where = f"{_shown(path)}: [tool.lint-ws]"
    else:
        table = document
        where = _shown(path)
    return _validate(path, table, where)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _load_toml(path: str, text: str) -> dict:
    # Imported here: most runs find no configuration file to parse.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{_shown(path)}: invalid TOML: {error}") from None


def _shown(path: str) -> str:
    return _relative(path, os.getcwd()) or path.replace(os.sep, "/")


def _validate(path: str, table: object, where: str) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    select = _rule_list(table, "select", where) if "select" in table else None
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [rule ids]")
    entries = tuple((glob, _rule_list(per_file, glob, f"{where} per-file-ignores")) for glob in per_file)
    report_unused = table.get("report-unused-allows", False)
    if not isinstance(report_unused, bool):
        raise ConfigError(f"{where}: report-unused-allows must be true or false")
    return Config(
        path=path,
        select=select,
        ignore=_rule_list(table, "ignore", where),
        exclude=_string_list(table, "exclude", where),
        per_file_ignores=PerFileIgnores(os.path.dirname(path), entries),
        report_unused_allows=report_unused,
    )


def _string_list(table: dict, key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _rule_list(table: dict, key: str, where: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: {key} must be a list of rule ids (strings)")
    ids = frozenset(item.strip().upper() for item in value)
    unknown = sorted(ids - catalogue.rule_ids())
    if unknown:
        raise ConfigError(
            f"{where}: {key}: unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(catalogue.rule_ids()))})"
        )
    return ids


def resolve(config_option: str | None, paths: Sequence[str]) -> Config:
    """The configuration of a run: ``--config FILE``, else the one found, else defaults."""
    if config_option is not None:
        return load(config_option)
    found = find(paths)
    return Config() if found is None else load(found)
