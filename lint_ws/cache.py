"""The results cache: a re-run on unchanged files skips the parse and the rule checks.

What is cached is the output of a front end's ``analyse(source, checks)``, the costly step:
the findings (with their fixes) of one file. Everything around it runs every time because
it costs less than a cache look-up: reading and decoding the file, the trigger prefilter
(most files never reach the parse, so they never touch the cache), suppression comments
and per-file configuration. A file that cannot be read, decoded or parsed raises before
``analyse`` returns, so its problem is never cached and is reported afresh on every run.

The key of an entry is a hash of
- the file: its display path (findings carry it) and its content;
- its project's facts: the digest of the summaries of its crate's files
  (``lint_ws.project_index``), since a finding can change when another file changes;
- the run: every field of ``RunOptions`` and the rule ids left after the prefilter;
- the tool: the lint-ws version, the Python version, the size and modification time of
  every module of the installed ``lint_ws`` package (so editing a rule in a development
  install invalidates what it cached, without waiting for a version bump) and of the
  parsers' installed packages (an upgraded parser may parse a file differently).

Entries live in the user cache directory (``$LINT_WS_CACHE_DIR``, else
``$XDG_CACHE_HOME/lint-ws``, else ``~/.cache/lint-ws``; ``~/Library/Caches/lint-ws`` on
macOS, ``%LOCALAPPDATA%\\lint-ws\\Cache`` on Windows), not in the repository: a cache
directory committed to a repository could otherwise tell a CI run that a file has no
findings. One file per entry, in 256 shard directories, written to a private temporary
file and moved into place with ``os.replace``, so two runs writing at once each leave a
complete entry. An entry that cannot be read or decoded is a miss and gets rewritten.
Entries not used for ``MAX_AGE_DAYS`` are deleted, at most once a day.

In front of the entries sits the file index, which makes a re-run on an unchanged tree
near-instant: per run scope, the whole result of every cleanly linted file, under the
file's stat (device, inode, size, mode, modification and change times in nanoseconds) and
its project's digest, the way git's index and ruff's cache know a file is unchanged without
reading it. A file is
recorded only when it was last modified well before it was examined ("racily clean" files,
whose next change could keep the same timestamp, are left to the content-keyed entries).
The index is one file per scope, rewritten atomically after a run that learned something;
two runs writing at once lose at most the other's additions, never correctness. It is
written with ``marshal`` (built in, so a warm run imports no pickle); the result of a file
with findings sits in it pickled, and is unpickled, as entries are, allowing only the types
of ``lint_ws.findings``.
"""

from __future__ import annotations

import enum
import functools
import marshal
import os
import sys
import time
from collections.abc import Iterable

from lint_ws import __version__, findings, snapshot
from lint_ws.snapshot import Stamp


FORMAT = "3"  # bump when the layout or the pickled types change incompatibly
MAX_AGE_DAYS = 30
# A file modified this recently before it was examined may change again within the same
# timestamp tick; it is not recorded in the file index. Filesystems with whole-second
# timestamps need the longer margin.
_RACY_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000
MAX_INDEX_FILES = 200_000  # beyond this, an index keeps only the files of the latest run
_DAY = 24 * 3600
# Installed packages whose version can change what a front end reports.
_PARSER_PACKAGES = ("libcst", "tree_sitter", "tree_sitter_rust")


# Paths are strings here, as in the rest of a run's start: importing pathlib costs a warm run
# a twentieth of its time.


def default_directory() -> str:
    override = os.environ.get("LINT_WS_CACHE_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "lint-ws", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "lint-ws")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "lint-ws")


def summaries_directory(directory: str | os.PathLike | None = None) -> str:
    """Where the project index keeps its summaries in a cache ``directory`` (default: the
    user's cache directory)."""
    return os.path.join(directory or default_directory(), f"v{FORMAT}")


class ResultCache:
    """Findings of ``analyse`` per file, for one run's options; picklable for the workers."""

    def __init__(self, directory: str | os.PathLike, options: object):
        self.directory = os.fspath(directory)
        self.options = options

    @functools.cached_property
    def _scope_text(self) -> str:
        """Everything an entry depends on besides the file: format, tool and options."""
        return repr([FORMAT, tool_fingerprint(), canonical(self.options)])

    @functools.cached_property
    def _scope(self) -> str:
        # Computed on the first look-up: a run whose files the prefilter all rejects (a
        # typical pre-commit run) never pays for it, nor for importing hashlib or pickle.
        return _digest(self._scope_text)

    @property
    def summaries_directory(self) -> str:
        """Where the project index keeps its summaries (``lint_ws.project_index``)."""
        return summaries_directory(self.directory)

    def key(self, path: str, content: bytes, rule_ids: Iterable[str], project: str = "") -> str:
        """``project`` is the digest of the facts of the file's project (``Project.digest``)."""
        import hashlib

        digest = hashlib.blake2b(digest_size=20)
        for part in (self._scope, path, ",".join(sorted(rule_ids)), project):
            digest.update(part.encode("utf-8", "surrogateescape"))
            digest.update(b"\0")
        digest.update(content)
        return digest.hexdigest()

    def _entry(self, key: str) -> str:
        return os.path.join(self.directory, f"v{FORMAT}", key[:2], key[2:])

    def get(self, key: str) -> list[findings.Finding] | None:
        """The cached findings, or None on a miss (absent, unreadable or corrupt entry)."""
        entry = self._entry(key)
        try:
            with open(entry, "rb") as stream:
                data = stream.read()
                modified = os.fstat(stream.fileno()).st_mtime
            loaded = _unpickle(data)
        except Exception:  # absent, unreadable, truncated or foreign data: all are misses
            return None
        if not isinstance(loaded, list) or not all(isinstance(f, findings.Finding) for f in loaded):
            return None
        if time.time() - modified > _DAY:
            _touch(entry)  # mark it as in use, so pruning keeps it
        return loaded

    def put(self, key: str, value: list[findings.Finding]) -> None:
        """Store ``value``; a cache that cannot be written only makes the next run slower."""
        _store(self._entry(key), _pickle(value))

    # -- the file index -------------------------------------------------------------------

    def _index_file(self) -> str:
        # Named by a checksum and holding its full scope text, which a load compares: a warm
        # run needs no cryptographic hash (importing hashlib loads OpenSSL).
        import zlib

        checksum = zlib.crc32(self._scope_text.encode("utf-8", "surrogateescape"))
        return os.path.join(self.directory, f"v{FORMAT}", "index", f"{checksum:08x}")

    def unchanged(
        self, files: Iterable[tuple[str | os.PathLike, str]], projects: dict[str, str] | None = None
    ) -> tuple[dict[str, findings.FileResult], dict[str, Stamp]]:
        """The results of the files the index knows unchanged, by display path, and the
        stamps of the other files, taken before they are read (for ``remember``).
        ``projects`` gives the digest of each file's project facts: a file is unchanged
        only while its project's facts are too."""
        projects = projects or {}
        index = self._load_index()
        known: dict[str, findings.FileResult] = {}
        stamps: dict[str, Stamp] = {}
        for path, display in files:
            stamp = snapshot.stamp(os.fspath(path))
            if stamp is None:
                continue
            entry = index.get(_index_key(path, display))
            if isinstance(entry, tuple) and len(entry) == 3 and entry[0] == stamp and entry[2] == projects.get(display, ""):
                if entry[1] is None:  # most files: linted clean, nothing found
                    known[display] = findings.FileResult(display)
                    continue
                result = _result_of(entry[1])
                if result is not None:
                    known[display] = result
                    continue
            stamps[display] = stamp
        return known, stamps

    def remember(
        self,
        files: Iterable[tuple[str | os.PathLike, str]],
        stamps: dict[str, Stamp],
        results: Iterable[findings.FileResult],
        projects: dict[str, str] | None = None,
    ) -> None:
        """Record the clean results of files stamped by ``unchanged`` (not racily clean)."""
        projects = projects or {}
        paths = {display: path for path, display in files}
        now = time.time_ns()
        learned = {}
        for result in results:
            stamp = stamps.get(result.path)
            if stamp is None or result.problems or result.path not in paths:
                continue
            modified = max(stamp[4], stamp[5])
            margin = _RACY_COARSE_NS if modified % 1_000_000_000 == 0 else _RACY_NS
            if now - modified > margin:
                learned[_index_key(paths[result.path], result.path)] = (
                    stamp, _pickle(result) if result.findings else None, projects.get(result.path, "")
                )
        if not learned:
            return
        index = self._load_index()  # the latest, in case another run wrote it meanwhile
        if len(index) + len(learned) > MAX_INDEX_FILES:
            index = {}
        index.update(learned)
        _store(self._index_file(), marshal.dumps((self._scope_text, index)))

    def _load_index(self) -> dict:
        path = self._index_file()
        try:
            with open(path, "rb") as stream:
                loaded = marshal.loads(stream.read())  # marshal.load reads a stream piecemeal: 10x slower
                modified = os.fstat(stream.fileno()).st_mtime
        except Exception:  # absent, unreadable, truncated or foreign: an empty index
            return {}
        if not (isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == self._scope_text):
            return {}  # another scope's index under the same checksum, or foreign data
        if time.time() - modified > _DAY:
            _touch(path)  # in use: pruning keeps it even when no run has added to it lately
        return loaded[1] if isinstance(loaded[1], dict) else {}

    def prune(self) -> None:
        """Delete entries unused for MAX_AGE_DAYS; does the walk at most once a day."""
        root = os.path.join(self.directory, f"v{FORMAT}")
        marker = os.path.join(root, "last-pruned")
        now = time.time()
        try:
            if now - os.stat(marker).st_mtime < _DAY:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            os.makedirs(root, exist_ok=True)
            with open(marker, "ab"):
                pass
            os.utime(marker)
            shards = list(os.scandir(root))
            summaries = os.path.join(root, "summaries")
            if os.path.isdir(summaries):  # the project index's summaries, sharded alike
                shards.extend(os.scandir(summaries))
        except OSError:
            return
        for shard in shards:
            if not shard.is_dir(follow_symlinks=False):
                continue
            try:
                entries = list(os.scandir(shard.path))
            except OSError:
                continue
            for entry in entries:
                try:
                    if now - entry.stat(follow_symlinks=False).st_mtime > MAX_AGE_DAYS * _DAY:
                        os.unlink(entry.path)
                except OSError:
                    continue  # another run pruned or replaced it first


def _store(target: str, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically: a private temporary file, then
    ``os.replace``, so a reader sees the old or the new content, never a part."""
    temporary = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(temporary, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except OSError:  # a cache that cannot be written only makes the next run slower
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _index_key(path: str | os.PathLike, display: str) -> str:
    # A relative path means another file from another directory: the stamp's device and
    # inode tell them apart.
    return f"{os.fspath(path)}\0{display}"


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _pickle(value: object) -> bytes:
    import pickle

    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickle(data: bytes) -> object:
    import io

    return _unpickler_class()(io.BytesIO(data)).load()


def _result_of(data: object) -> findings.FileResult | None:
    """The result an index entry holds pickled, or None when it holds anything else."""
    try:
        result = _unpickle(data) if isinstance(data, bytes) else None
    except Exception:  # truncated or foreign data: the file is linted again
        return None
    return result if isinstance(result, findings.FileResult) else None


@functools.cache
def _unpickler_class() -> type:
    import pickle

    class Unpickler(pickle.Unpickler):
        """Loads only the finding types: an entry can never make lint-ws run other code."""

        def find_class(self, module: str, name: str):
            if module == findings.__name__:
                value = getattr(findings, name, None)
                if isinstance(value, type) and value.__module__ == findings.__name__:
                    return value
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")

    return Unpickler


def _digest(text: str) -> str:
    import hashlib

    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=20).hexdigest()


def canonical(value: object) -> object:
    """A form of ``value`` made of plain values, whose ``repr`` is the same in every process.

    Sets are sorted (their iteration order changes with the string hash seed) and
    records (NamedTuples) are taken field by field, named.
    """
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"__class__": type(value).__qualname__, **{name: canonical(item) for name, item in zip(value._fields, value)}}
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(item) for item in value), key=repr)
    if isinstance(value, dict):
        return sorted(([canonical(k), canonical(v)] for k, v in value.items()), key=repr)
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


@functools.cache
def tool_fingerprint() -> str:
    """What identifies the code that produced an entry (see the module doc)."""
    parts = [__version__, sys.version, *_stamps(os.path.dirname(os.path.abspath(__file__)))]
    parts.extend(_package_stamp(name) for name in _PARSER_PACKAGES)
    return "\n".join(parts)


def _stamps(directory: str) -> list[str]:
    stamps = []
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return stamps
    for entry in entries:
        if entry.is_dir() and entry.name != "__pycache__":
            stamps.extend(_stamps(entry.path))
        elif entry.name.endswith(".py"):
            stat = entry.stat()
            stamps.append(f"{entry.path} {stat.st_size} {stat.st_mtime_ns}")
    return stamps


def _package_stamp(name: str) -> str:
    # find_spec locates the package without importing it: a run over Rust files must not
    # pay for importing libcst just to name its version.
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
        stat = os.stat(spec.origin) if spec and spec.origin else None
    except (ImportError, ValueError, OSError):
        stat = None
    return f"{name} {stat.st_size} {stat.st_mtime_ns}" if stat else f"{name} absent"


def for_run(options: object) -> ResultCache:
    """The cache of a command-line run, in the user cache directory."""
    return ResultCache(default_directory(), options)
