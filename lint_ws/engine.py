"""One lint run: read each file, parse it only if a selected rule may fire, check, collect."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from lint_ws.config import PerFileIgnores
from lint_ws.findings import FileResult, Finding, Problem, Severity
from lint_ws.source import SourceError, SourceFile, decode, language_of

if TYPE_CHECKING:
    from lint_ws import registry
    from lint_ws.cache import ResultCache


class RunOptions(NamedTuple):
    selected: frozenset[str]  # rule ids to run
    prefilter: bool = True  # skip rules whose triggers are absent from a file
    # Rules not run on some files (configuration); dropped before the parse, not after.
    per_file_ignores: PerFileIgnores = PerFileIgnores()
    report_unused_allows: bool = False  # allow comments that suppress nothing are problems

    def selected_for(self, path: str | os.PathLike) -> frozenset[str]:
        return self.selected - self.per_file_ignores.rules_ignored_for(path)


class RunResult(NamedTuple):
    files: list[FileResult]

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for result in self.files for f in result.findings), key=Finding.sort_key)

    @property
    def problems(self) -> list[Problem]:
        return [p for result in self.files for p in result.problems]

    @property
    def failed(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)


def lint_file(
    fs_path: str | os.PathLike, display: str, options: RunOptions, raw: bytes | None = None, cache: ResultCache | None = None
) -> FileResult:
    """Lint one file; ``raw`` is its content when the caller already has it (the fix
    loop lints each candidate text before writing it); ``cache`` holds earlier analyses.

    The file's project (``lint_ws.project_index``) is the run's when ``run`` prepared it,
    else it is assembled here: a file linted alone still sees its crate."""
    result = FileResult(display)
    fs_path = os.fspath(fs_path)
    language = language_of(os.path.basename(fs_path))
    try:
        if raw is None:
            raw = _read(fs_path)
        if language is None:
            raise SourceError("not a Rust or Python file; skipped")
        source = decode(display, raw, language)
        # Imported once a file is to be analysed: a warm run whose files are unchanged, or
        # cannot be decoded, imports neither.
        from lint_ws import registry, suppression

        selected = options.selected_for(fs_path)

        def project_has_connections() -> bool:
            from lint_ws import project_index

            project = project_index.project_for(language, fs_path, cache.summaries_directory if cache else None)
            return project is not None and bool(project.summaries)

        checks = [
            check
            for check in registry.checks_for(language, selected)
            if not options.prefilter or check.may_fire(source.text, project_has_connections)
        ]
        if checks:
            result.findings = _analyse(fs_path, source, checks, cache, options.prefilter)
        result.findings, allow_problems = suppression.apply(
            source, result.findings, selected, options.report_unused_allows
        )
        result.problems.extend(allow_problems)
    except SourceError as error:
        result.problems.append(Problem(display, str(error), error.severity, error.line))
    except RecursionError:
        result.findings = []
        result.problems.append(
            Problem(display, "nesting too deep for lint-ws's analysis; not linted", Severity.WARNING)
        )
    except Exception as error:  # a bug in lint-ws must not cost the user the other files
        if os.environ.get("LINT_WS_DEBUG"):
            raise
        result.findings = []
        result.problems.append(
            Problem(display, f"internal error in lint-ws ({type(error).__name__}: {error}); please report it")
        )
    return result


def _read(path: str) -> bytes:
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise SourceError("symbolic link loop; skipped") from None
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                raise SourceError("dangling symbolic link; skipped") from None
    if os.path.isdir(path):
        raise SourceError("is a directory; skipped")
    if os.path.exists(path) and not os.path.isfile(path):
        raise SourceError("not a regular file; skipped")
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        raise SourceError("file disappeared before it could be read") from None
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def _analyse(
    fs_path: str, source: SourceFile, checks: list[registry.RuleCheck], cache: ResultCache | None, prefilter: bool
) -> list[Finding]:
    from lint_ws import project_index, registry

    project = project_index.project_for(source.language, fs_path, cache.summaries_directory if cache else None)

    def analyse() -> list[Finding]:
        frontend = registry.frontend(source.language)
        if project is None:
            return frontend.analyse(source, checks, prefilter)
        return frontend.analyse(source, checks, prefilter, project=project, relative=project_index.relative_path(project, fs_path))

    if cache is None:
        return analyse()
    # The project's facts are part of the key: a finding can change when another file does.
    key = cache.key(source.path, source.raw, (check.rule_id for check in checks), project.digest if project else "")
    findings = cache.get(key)
    if findings is None:
        # Only a completed analysis gets here: a file that cannot be read, decoded or
        # parsed raised before, so its problem is reported afresh on every run.
        findings = analyse()
        cache.put(key, findings)
    return findings


def _lint_batch(batch: Sequence[tuple[str | os.PathLike, str]], options: RunOptions, cache: ResultCache | None) -> list[FileResult]:
    return [lint_file(path, display, options, cache=cache) for path, display in batch]


# Tasks are handed out to workers as they become free, so the workers finish within one
# task of each other: at least 8 tasks per worker, and at most 16 files per task, which
# keeps the per-task pickling round trip far below the work on a large tree.
MAX_FILES_PER_TASK = 16
WORKER_DIED = "a lint-ws worker process died while linting this file's batch; not linted (rerun with --jobs 1 to see which file)"


def run(
    files: Sequence[tuple[str | os.PathLike, str]],
    options: RunOptions,
    jobs: int | None = None,
    cache: ResultCache | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Lint ``files`` (filesystem path, display path) on ``jobs`` processes; ``progress``
    is called with the number of files each time some are done."""
    from lint_ws import project_index

    projects = project_index.prepare(files, cache.summaries_directory if cache else None, jobs or os.cpu_count() or 1)
    try:
        if cache is None:
            return RunResult(sorted(_lint_all(files, options, jobs, None, progress), key=lambda result: result.path))
        # A file's recorded result holds while the file and its project's facts are unchanged.
        facts = {display: project.digest for display, project in projects.items()}
        known, stamps = cache.unchanged(files, facts)
        if progress and known:
            progress(len(known))
        pending = [(path, display) for path, display in files if display not in known]
        fresh = _lint_all(pending, options, jobs, cache, progress)
        cache.remember(pending, stamps, fresh, facts)
        return RunResult(sorted([*known.values(), *fresh], key=lambda result: result.path))
    finally:
        project_index.use_projects(())


def _lint_all(
    files: Sequence[tuple[str | os.PathLike, str]],
    options: RunOptions,
    jobs: int | None,
    cache: ResultCache | None,
    progress: Callable[[int], None] | None,
) -> list[FileResult]:
    jobs = jobs or os.cpu_count() or 1
    # A process pool costs more to start than a handful of files take to lint.
    if jobs == 1 or len(files) < 4 * jobs:
        results = []
        for path, display in files:
            results.append(lint_file(path, display, options, cache=cache))
            if progress:
                progress(1)
        return results

    # Imported here: a pre-commit run on a few files never pays for multiprocessing.
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    per_task = max(1, min(MAX_FILES_PER_TASK, len(files) // (8 * jobs)))
    results = []
    from lint_ws import project_index

    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_start_worker, initargs=(tuple(project_index.current_projects()),)
    ) as pool:
        batches = {
            pool.submit(_lint_batch, batch, options, cache): batch
            for batch in (files[start : start + per_task] for start in range(0, len(files), per_task))
        }
        try:
            for task in as_completed(batches):
                try:
                    batch_results = task.result()
                except BrokenProcessPool:
                    # A worker died (a crash in a native parser, the OOM killer): every batch
                    # not yet done is lost with it. Say so per file, not with a traceback.
                    batch_results = [
                        FileResult(display, problems=[Problem(display, WORKER_DIED)]) for _, display in batches[task]
                    ]
                results.extend(batch_results)
                if progress:
                    progress(len(batch_results))
        except KeyboardInterrupt:
            # Ctrl-C: the batches not started are dropped; the running ones end soon.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results


def _start_worker(projects) -> None:
    """A worker knows the run's projects, and ignores Ctrl-C (which a terminal sends to the
    whole process group): the main process stops the run and says so once, instead of a
    traceback from every worker."""
    import signal

    from lint_ws import project_index

    project_index.use_projects(projects)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
