"""One lint run: read each file, parse it only if a selected rule may fire, check, collect."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lint_ws import registry, suppression
from lint_ws.config import PerFileIgnores
from lint_ws.findings import FileResult, Finding, Problem, Severity
from lint_ws.source import SourceError, decode, language_of


@dataclass(frozen=True)
class RunOptions:
    selected: frozenset[str]  # rule ids to run
    prefilter: bool = True  # skip rules whose triggers are absent from a file
    # Rules not run on some files (configuration); dropped before the parse, not after.
    per_file_ignores: PerFileIgnores = PerFileIgnores()
    report_unused_allows: bool = False  # allow comments that suppress nothing are problems

    def selected_for(self, path: Path) -> frozenset[str]:
        return self.selected - self.per_file_ignores.rules_ignored_for(path)


@dataclass
class RunResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for result in self.files for f in result.findings), key=Finding.sort_key)

    @property
    def problems(self) -> list[Problem]:
        return [p for result in self.files for p in result.problems]

    @property
    def failed(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)


def lint_file(fs_path: Path, display: str, options: RunOptions, raw: bytes | None = None) -> FileResult:
    """Lint one file; ``raw`` is its content when the caller already has it (the fix
    loop lints each candidate text before writing it)."""
    result = FileResult(display)
    language = language_of(fs_path.name)
    try:
        if raw is None:
            raw = _read(fs_path)
        if language is None:
            raise SourceError("not a Rust or Python file; skipped")
        source = decode(display, raw, language)
        selected = options.selected_for(fs_path)
        checks = [
            check
            for check in registry.checks_for(language, selected)
            if not options.prefilter or check.may_fire(source.text)
        ]
        if checks:
            result.findings = registry.frontend(language).analyse(source, checks)
        result.findings, allow_problems = suppression.apply(
            source, result.findings, selected, options.report_unused_allows
        )
        result.problems.extend(allow_problems)
    except SourceError as error:
        result.problems.append(Problem(display, str(error), error.severity, error.line))
    except Exception as error:  # a bug in lint-ws must not cost the user the other files
        if os.environ.get("LINT_WS_DEBUG"):
            raise
        result.findings = []
        result.problems.append(
            Problem(display, f"internal error in lint-ws ({type(error).__name__}: {error}); please report it")
        )
    return result


def _read(path: Path) -> bytes:
    if path.is_symlink() and not path.exists():
        raise SourceError("dangling symbolic link; skipped")
    if path.is_dir():
        raise SourceError("is a directory; skipped")
    if path.exists() and not path.is_file():
        raise SourceError("not a regular file; skipped")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError("file disappeared before it could be read") from None
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def _lint_batch(batch: Sequence[tuple[Path, str]], options: RunOptions) -> list[FileResult]:
    return [lint_file(path, display, options) for path, display in batch]


def run(files: Sequence[tuple[Path, str]], options: RunOptions, jobs: int | None = None) -> RunResult:
    """Lint ``files`` (filesystem path, display path) on ``jobs`` processes."""
    jobs = jobs or os.cpu_count() or 1
    # A process pool costs more to start than a handful of files take to lint.
    if jobs == 1 or len(files) < 4 * jobs:
        return RunResult(_lint_batch(files, options))
    batches = [files[index::jobs * 4] for index in range(jobs * 4)]
    results: list[FileResult] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for batch_results in pool.map(_lint_batch, batches, [options] * len(batches)):
            results.extend(batch_results)
    results.sort(key=lambda result: result.path)
    return RunResult(results)
