"""A workspace folder as the language server sees it: its configuration and the overlay of
open buffers.

Every lint and fix of an editor buffer goes through ``Project``: it is the one place the
server calls the engine. The overlay (``buffers``) is what the editor has that the disk may
not: a cross-file analysis must read a file from here when it is open and from disk
otherwise. ``generation`` counts the changes to the overlay and the configuration, so a
result computed before another buffer changed is known to be out of date.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from lint_ws import config, engine
from lint_ws.catalogue import rule_ids
from lint_ws.findings import FileResult

CONFIG_FILES = (config.PYPROJECT, config.LINT_WS_TOML)


class Buffer(NamedTuple):
    uri: str
    path: Path  # where the document lives (or will be saved) on disk
    text: str
    version: int | None


class Settings(NamedTuple):
    """What the editor's ``initializationOptions`` say; ``select`` and ``ignore`` override
    the configuration file as the command line's ``--select`` / ``--ignore`` do."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] | None = None


def settings_from(options: object) -> tuple[Settings, list[str]]:
    """Settings from ``initializationOptions`` and the one-line complaints about them."""
    if options is None:
        return Settings(), []
    if not isinstance(options, dict):
        return Settings(), ["initializationOptions must be an object; ignored"]
    complaints = [
        f"unknown initialization option {key!r} (known: select, ignore); ignored"
        for key in options
        if key not in ("select", "ignore")
    ]
    lists = {}
    for key in ("select", "ignore"):
        if key not in options:
            continue
        value = options[key]
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            complaints.append(f"initialization option {key!r} must be a list of rule ids; ignored")
            continue
        ids = frozenset(item.strip().upper() for item in value if item.strip())
        unknown = sorted(ids - rule_ids())
        if unknown:
            known = ", ".join(sorted(rule_ids()))
            complaints.append(f"initialization option {key!r}: unknown rule id {', '.join(unknown)} (known: {known}); ignored")
            continue
        lists[key] = ids
    return Settings(**lists), complaints


class Project:
    def __init__(self, root: Path, settings: Settings):
        self.root = root
        self.settings = settings
        self.buffers: dict[str, Buffer] = {}
        self.generation = 0
        self.config = config.Config()
        self.options = engine.RunOptions(selected=rule_ids())

    def reload_config(self) -> str | None:
        """Read the configuration as ``lint-ws check`` run in ``root`` does; on an error, run
        with the defaults (and the editor's settings) and return the error's one line."""
        self.generation += 1
        error = None
        try:
            self.config = config.resolve(None, [str(self.root)])
        except config.ConfigError as problem:
            self.config, error = config.Config(), str(problem)
        self.options = engine.RunOptions(
            selected=self.config.selected_rules(self.settings.select, self.settings.ignore),
            per_file_ignores=self.config.per_file_ignores,
            report_unused_allows=self.config.report_unused_allows,
        )
        return error

    def contains(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def update(self, buffer: Buffer) -> None:
        self.buffers[buffer.uri] = buffer
        self.generation += 1

    def close(self, uri: str) -> None:
        if self.buffers.pop(uri, None) is not None:
            self.generation += 1

    def display_path(self, path: Path) -> str:
        if self.contains(path):
            return path.relative_to(self.root).as_posix()
        return path.as_posix()

    def lint(self, buffer: Buffer) -> FileResult:
        display = self.display_path(buffer.path)
        if self.config.is_excluded(buffer.path):
            return FileResult(display)
        self._assemble_from_buffers(buffer)
        return engine.lint_file(buffer.path, display, self.options, raw=_saved_bytes(buffer))

    def _assemble_from_buffers(self, buffer: Buffer) -> None:
        """Make the buffer's project (crate, package) the one the engine answers from, with
        every open buffer in place of its file: a finding that depends on another file
        follows that file's unsaved edits."""
        from lint_ws import cache, project_index
        from lint_ws.source import language_of

        language = language_of(buffer.path.name)
        overlay = {os.path.abspath(open_buffer.path): _saved_bytes(open_buffer) for open_buffer in self.buffers.values()}
        # The summaries are cached as a CLI run caches them: an edit re-summarises the edited
        # buffer, not the whole project.
        project = project_index.with_overlay(language, buffer.path, overlay, cache.summaries_directory()) if language else None
        project_index.use_projects([project] if project is not None else [])

    def fix_all(self, buffer: Buffer) -> str | None:
        """The buffer's text with every safe fix applied, as ``lint-ws check --fix`` would
        write it; None when there is nothing to fix."""
        from lint_ws import fixes

        if self.config.is_excluded(buffer.path):
            return None
        display = self.display_path(buffer.path)
        self._assemble_from_buffers(buffer)
        fixed = fixes.fix_file(buffer.path, display, self.options, unsafe=False, raw=_saved_bytes(buffer))
        return fixed.fixed.text if fixed is not None and fixed.changed else None


def _saved_bytes(buffer: Buffer) -> bytes:
    """The bytes the buffer would be saved as, which the engine decodes back to the same
    text (a Python file keeps its coding cookie's encoding, so offsets agree)."""
    # A lone surrogate from the client becomes one "?": the text keeps its length.
    data = buffer.text.encode("utf-8", errors="replace")
    if buffer.path.suffix in (".py", ".pyi"):
        import io
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:
            return data  # a bad cookie: the engine reports it
        if encoding not in ("utf-8", "utf-8-sig"):
            try:
                return buffer.text.encode(encoding)
            except (UnicodeEncodeError, LookupError):
                return data
    return data


def is_config_file(path: str) -> bool:
    return os.path.basename(path) in CONFIG_FILES
