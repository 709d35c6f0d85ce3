"""The project index: per-file summaries of facts, cached by content, assembled per project.

Rules decide from facts about the whole project a file belongs to (a Rust crate or
workspace, a Python package), not only the file at hand: what a call reaches, who calls a
function, a field's type, whether a task is a pump. Those facts come from one *summary* per
file: plain data (marshal-able: None, bool, int, str, tuples, lists, dicts) extracted from
the file's parse tree. This module is language-neutral: it finds a file's project, lists
its files, keeps their summaries and assembles them. What a summary holds and what the
assembled facts answer is each language's business (``lint_ws/rust/summary.py`` and
``lint_ws/rust/crate.py`` for Rust).

A language plugs in with a module registered in ``LANGUAGES`` that defines:

- ``SUFFIXES``: the file name endings of its sources (``(".rs",)``);
- ``project_root(directory: str) -> str | None``: the directory of the project the files
  in the absolute ``directory`` belong to (Rust: the workspace's ``Cargo.toml`` directory,
  else the crate's), or None for files that belong to no project (each is then a project of
  its own);
- ``project_files(root: str) -> Iterable[str]``: the paths of the source files of that
  project;
- ``names_connection(text: str) -> bool``: a cheap test of a file's text: does it name a
  connection library or type? A project in which no file does needs no facts, and none of
  its files is summarised (rust-analyzer parses no file for the index);
- ``may_contribute(text: str) -> bool``: a cheap test of a file's text; a file that fails
  it can contribute no fact any rule asks about and is never summarised;
- ``summarize(path: str, text: str) -> data``: the file's summary; ``path`` is relative to
  the project root (it names the module).

Registering the module is all the engine needs; the language's front end then receives the
project: ``analyse(source, checks, prefilter, project=Project, relative=str)`` (``relative``
names the file among ``project.summaries``; a file whose project has no summary for it, or a
file of no project, summarises itself from its own parse). The Python side plugs in as
``LANGUAGES["python"] = "lint_ws.python.summary"``.

What the engine gets is a ``Project``: the root, the summary keys by relative path (the
summaries load on first use), and a digest of them. The digest is part of every results-cache key and file-index entry of the
project's files: a finding in one file can change when another file's facts change, and
summaries hold no positions, so an edit that changes no fact (a comment, a reformatted
body) leaves every other file's cached results valid.

Summaries are cached like results (``lint_ws.cache``): by the tool's fingerprint, the
language and the file's content, one marshal file per entry; in front of them a per-project
stat index (path -> stamp, summary key) spares reading unchanged files on a warm run. A run
over named files (pre-commit) builds the whole project of each named file this way, so the
named files see their crate while every unchanged file costs one ``stat``.
"""

from __future__ import annotations

import importlib
import marshal
import os
from collections.abc import Iterable, Mapping
from functools import cache, cached_property
from typing import Any, NamedTuple

from lint_ws import snapshot

# Language -> the module that plugs it into the index (see the module doc).
LANGUAGES = {"rust": "lint_ws.rust.summary", "python": "lint_ws.python.summary"}

SUMMARY_FORMAT = "2"  # bump when what summaries hold changes incompatibly
_EMPTY_DIGEST = "-"


class Project(NamedTuple):
    language: str
    root: str  # absolute directory, or the file itself for a file of no project (no summaries then)
    keys: dict[str, str]  # relative path -> summary key, for the files that may contribute
    digest: str  # identifies the summaries: part of every cache key of the project's files
    directory: str | None = None  # where the summaries are cached
    inline: dict[str, Any] | None = None  # the summaries themselves, when there is no cache

    @property
    def summaries(self) -> dict[str, Any]:
        """Relative path -> summary; loaded on first use in each process (a warm run whose
        files are all unchanged needs only the digest)."""
        return _summaries_of(self)


_loaded: dict[str, dict[str, Any]] = {}  # project digest -> its summaries, in this process


def _summaries_of(project: Project) -> dict[str, Any]:
    if project.inline is not None or not project.keys:
        return project.inline or {}
    if project.digest not in _loaded:
        _loaded.clear()  # one project at a time keeps memory flat
        store = _SummaryStore(project.language, project.root, project.directory, index=False)
        found = {relative: store.load(key) for relative, key in project.keys.items()}
        _loaded[project.digest] = {relative: summary for relative, summary in found.items() if summary is not None}
    return _loaded[project.digest]


@cache
def plugin(language: str):
    module = LANGUAGES.get(language)
    return importlib.import_module(module) if module else None


# Projects assembled in this process, by (language, root); ``prepare`` fills it for a run
# (and a worker's initializer with the main process's projects).
_assembled: dict[tuple[str, str], Project] = {}


def use_projects(projects: Iterable[Project]) -> None:
    """Make ``projects`` the ones ``project_for`` answers (a run's, in each worker)."""
    _assembled.clear()
    _assembled.update(((project.language, project.root), project) for project in projects)


def current_projects() -> list[Project]:
    return list(_assembled.values())


def assembled(language: str, root: str) -> Project | None:
    """The project at ``root`` as this run assembled it, if it did."""
    return _assembled.get((language, root))


def assembled_summary(language: str, root: str, relative: str) -> Any:
    """The summary of ``relative`` in the project at ``root`` as this run assembled it, or
    None (not assembled, or a file that cannot contribute)."""
    project = assembled(language, root)
    return project.summaries.get(relative) if project is not None and relative in project.keys else None


def relative_path(project: Project, path: str | os.PathLike) -> str:
    """``path`` as the project's summaries name it."""
    absolute = os.path.abspath(path)
    if absolute == project.root:
        return os.path.basename(absolute)
    return os.path.relpath(absolute, project.root).replace(os.sep, "/")


def prepare(files: Iterable[tuple[str | os.PathLike, str]], cache_directory: str | None, jobs: int = 1) -> dict[str, Project]:
    """Assemble the project of every file to lint; returns display path -> project (files of
    a language without an index plugin, and files of no project, are left out)."""
    from lint_ws.source import language_of

    by_file: dict[str, Project] = {}
    roots: dict[tuple[str, str], list[str]] = {}
    found: dict[tuple[str | None, str], str | None] = {}  # (language, directory) -> project root
    for path, display in files:
        directory, separator, name = os.fspath(path).rpartition(os.sep)
        directory = directory or separator  # "/" for a file at the file system's root
        language = language_of(name)
        where = (language, directory)
        if where not in found:
            module = plugin(language) if language else None
            found[where] = _cached_root(module.__name__, directory) if module is not None else None
        root = found[where]
        if root is not None:  # a file of no project: its facts are its own content, which every key holds
            roots.setdefault((language, root), []).append(display)
    projects = []
    for (language, root), displays in roots.items():
        project = build(language, root, cache_directory, jobs)
        projects.append(project)
        by_file.update((display, project) for display in displays)
    use_projects(projects)
    return by_file


def project_for(language: str, path: str | os.PathLike, cache_directory: str | None = None) -> Project | None:
    """The project of ``path``: the run's when prepared, else assembled now."""
    module = plugin(language)
    if module is None:
        return None
    root = _project_directory(module, path)
    if root is None:
        return Project(language, os.path.abspath(path), {}, "")  # the front end summarises the file from its own parse
    found = _assembled.get((language, root))
    return found if found is not None else build(language, root, cache_directory)


def with_overlay(
    language: str, path: str | os.PathLike, overlay: Mapping[str, bytes], cache_directory: str | None = None
) -> Project | None:
    """The project of ``path`` as an editor has it: the files of ``overlay`` (absolute path ->
    content, the open buffers) read from there, the others from disk (known by their stat in
    ``cache_directory``'s index). None when ``path`` belongs to no project of an indexed
    language."""
    module = plugin(language)
    root = _project_directory(module, os.path.abspath(path)) if module is not None else None
    return build(language, root, cache_directory, overlay=overlay) if root is not None else None


def _project_directory(module, path: str | os.PathLike) -> str | None:
    return _cached_root(module.__name__, os.path.dirname(path))


@cache
def _cached_root(module_name: str, directory: str) -> str | None:
    """The project directory of the files in ``directory`` (as the run names it)."""
    return importlib.import_module(module_name).project_root(os.path.abspath(directory or "."))


def build(
    language: str, root: str, cache_directory: str | None, jobs: int = 1, overlay: Mapping[str, bytes] | None = None
) -> Project:
    """The project at ``root``, from cached summaries where the files are unchanged.

    ``overlay`` (absolute path -> content) stands in for those files on disk: the editor's
    unsaved buffers, for the language server."""
    module = plugin(language)
    store = _SummaryStore(language, root, cache_directory)
    facts: dict[str, tuple[bool, str | None]] = {}  # relative path -> (names a connection, summary key)
    unknown: list[tuple[str, str, bytes | None]] = []  # (relative path, path, content when a buffer's)
    prefix = len(root) + 1
    for member in sorted(map(str, module.project_files(root))):
        relative = member[prefix:].replace(os.sep, "/")
        raw = overlay.get(member) if overlay else None
        if raw is None:
            known = store.known(relative, member)
            if known is not None:
                facts[relative] = known
                continue
        unknown.append((relative, member, raw))
    # Stamped before they are read: a change made while the scan reads a file shows next time.
    # (A buffer's content is not the file's: it gets no stamp.)
    stamps = [snapshot.stamp(member) if raw is None else None for _, member, raw in unknown]
    texts: dict[str, str] = {}  # the contents the scan kept, for the summaries to make
    scanned = _scan_all(module.__name__, store.scope, unknown, jobs)
    for (relative, _, _), stamp, (found, text) in zip(unknown, stamps, scanned):
        if found is None:
            continue  # unreadable or not UTF-8: the file's own lint reports it; it contributes nothing
        facts[relative] = found
        if text is not None:
            texts[relative] = text
        if stamp is not None:
            store.learn(relative, stamp, found)
    store.flush()
    if not any(names for names, _ in facts.values()):
        return Project(language, root, {}, _EMPTY_DIGEST)  # no connection anywhere: no summaries
    keys = {relative: key for relative, (_, key) in sorted(facts.items()) if key is not None}
    # Known by their stamps but never summarised (or pruned since), or scanned in a worker:
    # the summary's task reads the file.
    missing = [relative for relative, key in keys.items() if not store.has(key)]
    made = _summarize_all(module.__name__, [(relative, texts.get(relative), os.path.join(root, relative)) for relative in missing], jobs)
    for relative, summary in zip(missing, made):
        if summary is not None:
            store.save(keys[relative], summary)
        else:
            del keys[relative]  # unreadable, too deep or odd to summarise: no facts
    digest = _digest(repr(sorted(keys.items())))
    if cache_directory is None:
        return Project(language, root, keys, digest, None, {relative: store.load(key) for relative, key in keys.items()})
    return Project(language, root, keys, digest, cache_directory)


# Below this many files to scan, starting worker processes costs more than it saves.
_PARALLEL_SCAN_FILES = 256


def _scan_all(module_name: str, scope: str, unknown: list[tuple[str, str, bytes | None]], jobs: int) -> list[tuple]:
    """(names a connection, summary key) of each file, or None when it cannot be read or
    decoded, with its text when scanned in this process (workers do not send theirs back:
    the few a summary needs are read again there)."""
    tasks = [(module_name, scope, member, raw) for _, member, raw in unknown]
    if jobs <= 1 or len(tasks) < _PARALLEL_SCAN_FILES:
        return [_scan(task) for task in tasks]
    return _on_workers(_scan_in_worker, tasks, jobs)


def _scan(task: tuple[str, str, str, bytes | None]) -> tuple[tuple[bool, str | None] | None, str | None]:
    module_name, scope, path, raw = task
    try:
        if raw is None:
            with open(path, "rb") as stream:
                raw = stream.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None, None
    module = importlib.import_module(module_name)
    return (module.names_connection(text), content_key(scope, raw) if module.may_contribute(text) else None), text


def _scan_in_worker(task: tuple[str, str, str, bytes | None]) -> tuple[tuple[bool, str | None] | None, str | None]:
    found, text = _scan(task)
    return found, text if task[3] is not None else None  # a buffer's text: the disk does not have it


def _summarize_all(module_name: str, missing: list[tuple[str, str | None, str]], jobs: int) -> list[Any]:
    tasks = [(module_name, relative, text, path) for relative, text, path in missing]
    if jobs <= 1 or len(tasks) < 4 * jobs:
        return [_summarize(task) for task in tasks]
    return _on_workers(_summarize, tasks, jobs)


def _on_workers(function, tasks: list, jobs: int) -> list:
    """``function`` over ``tasks`` on ``jobs`` worker processes, results in order."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, tasks, chunksize=max(1, len(tasks) // (8 * jobs))))


def _summarize(task: tuple[str, str, str | None, str]) -> Any:
    module_name, relative, text, path = task
    try:
        if text is None:
            with open(path, encoding="utf-8") as stream:
                text = stream.read()
        return importlib.import_module(module_name).summarize(relative, text)
    except (OSError, UnicodeDecodeError):
        return None  # gone or changed since the scan: the file's own lint reports it
    except (RecursionError, ValueError):
        return None  # too deep or odd for the summary: the file contributes no fact


class _SummaryStore:
    """Summaries by content key, in the cache directory and in this process."""

    _memory: dict[str, Any] = {}  # key -> summary, shared by every store of the process

    def __init__(self, language: str, root: str, directory: str | None, index: bool = True):
        self.language = language
        self.root = root
        self.directory = directory
        self._index = self._load_index() if directory is not None and index else {}
        self._learned: dict[str, tuple] = {}

    @cached_property
    def scope(self) -> str:
        """What a summary's key holds besides the content: the format, language and tool."""
        from lint_ws.cache import tool_fingerprint

        return _scope_digest(SUMMARY_FORMAT, self.language, tool_fingerprint())

    def _entry(self, key: str) -> str:
        return os.path.join(self.directory, "summaries", key[:2], key[2:])

    def load(self, key: str) -> Any:
        if key in self._memory:
            return self._memory[key]
        if self.directory is None:
            return None
        try:
            with open(self._entry(key), "rb") as stream:
                summary = marshal.loads(stream.read())
        except Exception:  # absent, unreadable or corrupt: a miss
            return None
        self._memory[key] = summary
        return summary

    def has(self, key: str) -> bool:
        return key in self._memory or (self.directory is not None and os.path.isfile(self._entry(key)))

    def save(self, key: str, summary: Any) -> None:
        self._memory[key] = summary
        if self.directory is not None:
            from lint_ws.cache import _store

            _store(self._entry(key), marshal.dumps(summary))

    # -- the stat index: unchanged files are not read ----------------------------------

    def _index_file(self) -> str:
        return os.path.join(self.directory, "projects", _scope_digest(self.scope, self.root)[:24])

    def _load_index(self) -> dict:
        try:
            with open(self._index_file(), "rb") as stream:
                loaded = marshal.loads(stream.read())
        except Exception:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def known(self, relative: str, path: str) -> tuple[bool, str | None] | None:
        """What an unchanged file told last time (names a connection, summary key), or None."""
        entry = self._index.get(relative)
        if entry is None or entry[0] != snapshot.stamp(path):
            return None
        return entry[1]

    def learn(self, relative: str, stamp: snapshot.Stamp, facts: tuple[bool, str | None]) -> None:
        """Record what the file stamped ``stamp`` before it was read told."""
        if self.directory is not None and not _racily_clean(stamp):
            self._learned[relative] = (stamp, facts)

    def flush(self) -> None:
        if self.directory is None or not self._learned:
            return
        from lint_ws.cache import _store

        index = self._load_index()
        index.update(self._learned)
        _store(self._index_file(), marshal.dumps(index))


def _racily_clean(stamp: tuple) -> bool:
    import time

    from lint_ws.cache import _RACY_COARSE_NS, _RACY_NS

    modified = max(stamp[4], stamp[5])
    margin = _RACY_COARSE_NS if modified % 1_000_000_000 == 0 else _RACY_NS
    return time.time_ns() - modified <= margin


def content_key(scope: str, raw: bytes) -> str:
    """The key of the summary of a file whose content is ``raw``."""
    digest = blake2b_hash(scope.encode(), digest_size=20)
    digest.update(raw)
    return digest.hexdigest()


def _scope_digest(*parts: str) -> str:
    return _digest("\0".join(parts))


def blake2b_hash(data: bytes, digest_size: int):
    try:  # the built-in module: `import hashlib` loads OpenSSL, a tenth of a warm run
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b
    return blake2b(data, digest_size=digest_size)


def _digest(text: str) -> str:
    return blake2b_hash(text.encode("utf-8", "surrogateescape"), 16).hexdigest()
