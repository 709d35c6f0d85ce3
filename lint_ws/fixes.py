"""Applying the findings' fixes to files: ``--fix``, ``--unsafe-fixes`` and ``--diff``.

A file is fixed in passes: lint, apply every applicable fix that does not overlap an
earlier one, check that the result still parses, lint again; fixes skipped for overlap get
their turn in the next pass. The file is written once, at the end, atomically, in its own
encoding, BOM and line endings. Nothing here knows a rule.
"""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lint_ws import engine, registry
from lint_ws.findings import FileResult, Finding, Fix, FixProblem, Problem, Severity
from lint_ws.source import SourceError, SourceFile, decode, language_of

if TYPE_CHECKING:
    from lint_ws.cache import ResultCache

# A pass applies every non-overlapping fix, so only fixes that overlap each other need
# another pass; more passes than this means a rule's fix does not remove its finding.
MAX_PASSES = 10


@dataclass(frozen=True)
class Applied:
    text: str
    applied: tuple[Fix, ...]
    overlapping: tuple[Fix, ...]  # left for a later pass
    malformed: tuple[Fix, ...]  # edits outside the text or overlapping each other


def newline_of(text: str) -> str:
    """The file's line ending: that of its first line, as editors and ruff decide it."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def apply_fixes(text: str, fixes: Iterable[Fix]) -> Applied:
    """Apply the fixes that do not overlap each other, first come (by position) first served.

    Edits touching at one offset count as overlapping: two insertions at the same place
    have no defined order. Replacement text takes the file's line endings.
    """
    newline = newline_of(text)
    ordered = sorted(fixes, key=lambda fix: (min((e.start_offset for e in fix.edits), default=0), fix.description))
    taken: list[tuple[int, int]] = []
    applied, overlapping, malformed = [], [], []
    for fix in ordered:
        ranges = sorted((edit.start_offset, edit.end_offset) for edit in fix.edits)
        if not ranges or not _well_formed(ranges, len(text)):
            malformed.append(fix)
        elif any(_touch(r, t) for r in ranges for t in taken):
            overlapping.append(fix)
        else:
            taken.extend(ranges)
            applied.append(fix)
    edits = sorted((edit for fix in applied for edit in fix.edits), key=lambda e: (e.start_offset, e.end_offset))
    pieces, position = [], 0
    for edit in edits:
        pieces.append(text[position : edit.start_offset])
        pieces.append(with_newline(edit.replacement, newline))
        position = edit.end_offset
    pieces.append(text[position:])
    return Applied("".join(pieces), tuple(applied), tuple(overlapping), tuple(malformed))


def _well_formed(ranges: list[tuple[int, int]], length: int) -> bool:
    """Edits of one fix lie in the text, in order, and may abut; two insertions at one
    offset may not: their order would be arbitrary."""
    inside = all(0 <= start <= end <= length for start, end in ranges)
    return inside and all(a[1] <= b[0] and a != b for a, b in zip(ranges, ranges[1:]))


def _touch(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def with_newline(replacement: str, newline: str) -> str:
    """``replacement`` with its line breaks in the file's style (``newline_of``); what any
    other consumer of the edits (SARIF) must insert to get the same text as ``--fix``."""
    unified = replacement.replace("\r\n", "\n")
    return unified if newline == "\n" else unified.replace("\n", newline)


def encode(source: SourceFile, text: str) -> bytes:
    """``text`` as the file stores it: its encoding, and its BOM if it had one."""
    body = text.encode(source.encoding)
    return codecs.BOM_UTF8 + body if source.has_bom else body


class BrokenFix(Exception):
    """The fixed text cannot be written or no longer parses; the message says why."""


def check_still_parses(before: SourceFile, after: SourceFile) -> None:
    """Raise BrokenFix when ``after`` parses worse than ``before`` did."""
    if after.language == "rust":
        _check_rust(before, after)
    else:
        _check_python(before, after)


def _check_rust(before: SourceFile, after: SourceFile) -> None:
    # tree-sitter always yields a tree; a fix must not add error nodes. Files with grammar
    # gaps already have some, so the count is compared, not just their presence.
    frontend = registry.frontend("rust")
    new_tree = frontend.parse(after)
    if not new_tree.root_node.has_error:
        return
    if _error_nodes(new_tree.root_node) > _error_nodes(frontend.parse(before).root_node):
        raise BrokenFix("the fixed file has Rust syntax errors")


def _error_nodes(root) -> int:
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += node.is_error or node.is_missing
        if node.has_error:
            stack.extend(node.children)
    return count


def _check_python(before: SourceFile, after: SourceFile) -> None:
    # The fixed text must satisfy libcst, and CPython's parser as far as the original did.
    try:
        registry.frontend("python").parse_fixed(before, after)
    except SourceError as error:
        where = f" at line {error.line}" if error.line else ""
        raise BrokenFix(f"the fixed file does not parse{where} ({error})") from None


@dataclass
class FileFix:
    """What fixing one file did: its text before and after, and what is left."""

    fs_path: Path
    display: str
    original: SourceFile
    fixed: SourceFile
    fixed_count: int
    result: FileResult  # the findings remaining in the fixed text, and the problems met

    @property
    def changed(self) -> bool:
        return self.fixed.raw != self.original.raw


def fix_file(
    fs_path: Path,
    display: str,
    options: engine.RunOptions,
    unsafe: bool,
    cache: ResultCache | None = None,
    raw: bytes | None = None,
) -> FileFix | None:
    """Fix one file in memory, pass by pass; None when it cannot be read or decoded (the
    lint run has already reported why). With the run's ``cache``, the first pass reuses the
    lint run's analysis, and the fixed text's analysis is there for the next run. ``raw`` is
    the content to fix when it is not the file's (an editor's unsaved buffer)."""
    language = language_of(fs_path.name)
    if language is None:
        return None
    try:
        original = decode(display, fs_path.read_bytes() if raw is None else raw, language)
    except (OSError, SourceError):
        return None
    current, fixed_count, passes = original, 0, 0
    problems: list[Problem] = []
    rejected: set[tuple] = set()
    result = engine.lint_file(fs_path, display, options, raw=current.raw, cache=cache)
    while not _failed(result):
        candidates = [f for f in result.findings if f.fixable(unsafe) and _identity(current.text, f) not in rejected]
        if not candidates:
            break
        if passes == MAX_PASSES:
            message = f"fixes did not settle after {MAX_PASSES} passes; please report this lint-ws bug"
            problems.append(FixProblem(display, message, Severity.WARNING))
            break
        passes += 1
        step = _apply_checked(current, [f.fix for f in candidates])
        for fix, reason in step.broken:
            finding = next(f for f in candidates if f.fix is fix)
            rejected.add(_identity(current.text, finding))
            message = f"fix for {finding.rule_id} not applied: {reason}; please report this lint-ws bug"
            problems.append(FixProblem(display, message, Severity.WARNING, finding.span.start_line))
        if step.applied:
            current, fixed_count = step.source, fixed_count + step.applied
            result = engine.lint_file(fs_path, display, options, raw=current.raw, cache=cache)
    result.problems.extend(problems)
    return FileFix(fs_path, display, original, current, fixed_count, result)


def _failed(result: FileResult) -> bool:
    return any(problem.severity is Severity.ERROR for problem in result.problems)


def _identity(text: str, finding: Finding) -> tuple:
    """A finding's fix, recognisable in a later pass whose offsets have moved."""
    edits = tuple((text[e.start_offset : e.end_offset], e.replacement) for e in finding.fix.edits)
    return finding.rule_id, finding.fix.description, edits


@dataclass
class _Step:
    source: SourceFile
    applied: int = 0
    broken: list[tuple[Fix, str]] = field(default_factory=list)


def _apply_checked(source: SourceFile, fixes: Sequence[Fix]) -> _Step:
    """Apply ``fixes`` together; if the result is broken, find out which ones are at fault."""
    together = apply_fixes(source.text, fixes)
    malformed = [(fix, "its edits lie outside the file or overlap each other") for fix in together.malformed]
    try:
        return _Step(_candidate(source, together.text), len(together.applied), malformed)
    except BrokenFix:
        pass
    step = _Step(source, broken=malformed)
    for fix in together.applied:
        alone = apply_fixes(step.source.text, [fix])
        try:
            step.source = _candidate(step.source, alone.text)
            step.applied += 1
        except BrokenFix as error:
            step.broken.append((fix, str(error)))
    return step


def _candidate(before: SourceFile, text: str) -> SourceFile:
    try:
        raw = encode(before, text)
    except UnicodeEncodeError as error:
        raise BrokenFix(f"the fixed text cannot be written in the file's encoding {before.encoding} ({error.reason})") from None
    after = SourceFile(before.path, before.language, raw, text, before.encoding, before.has_bom)
    check_still_parses(before, after)
    return after


class WriteError(Exception):
    """The fixed file could not be written; the original is untouched."""


def write_atomically(fs_path: Path, expected: bytes, data: bytes) -> None:
    """Replace the file's content by ``data`` if it still is ``expected``.

    A temporary file in the same directory is written, flushed to disk and renamed over
    the original, so a crash leaves either the old or the new file, never half of one.
    The mode is kept; a symbolic link keeps pointing at the file it named. A file with
    several hard links is rewritten in place instead (``_write_in_place``): a rename would
    give this name a new file and leave the other names on the old one.
    """
    target = Path(os.path.realpath(fs_path))
    try:
        status = target.stat()
    except OSError as error:
        raise WriteError(f"cannot write fixes: {error.strerror or error}") from None
    # Renaming over a read-only file would succeed (only the directory must be writable),
    # and root may write anything: honour the read-only mark the user set.
    if not status.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise WriteError("file is read-only; fixes not written")
    try:
        if target.read_bytes() != expected:
            raise WriteError("file changed while lint-ws was fixing it; fixes not written")
    except OSError as error:
        raise WriteError(f"cannot write fixes: {error.strerror or error}") from None
    if status.st_nlink > 1:
        _write_in_place(target, expected, data)
        return
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".lint-ws", dir=target.parent)
    except OSError as error:
        raise WriteError(f"cannot write fixes: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        _keep_owner(temporary, status)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise WriteError(f"cannot write fixes: {error.strerror or error}") from None
    _sync_directory(target.parent)


def _write_in_place(target: Path, original: bytes, data: bytes) -> None:
    """Rewrite a hard-linked file through its own inode, so that every name sees the fix.

    Not atomic, so a copy of the original is written and synced beside it first: if the
    rewrite fails, the copy is put back; if lint-ws is killed mid-write, the copy
    (``.NAME.XXXX.lint-ws-backup``) stays for the user. It is removed once the fixed
    file is on disk."""
    try:
        handle, backup = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".lint-ws-backup", dir=target.parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(original)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as error:
        raise WriteError(f"cannot write fixes: {error.strerror or error}") from None
    try:
        _overwrite(target, data)
    except OSError as error:
        reason = error.strerror or error
        try:
            _overwrite(target, original)
        except OSError:
            raise WriteError(f"cannot write fixes: {reason}; the original is kept in {backup}") from None
        Path(backup).unlink(missing_ok=True)
        raise WriteError(f"cannot write fixes: {reason}") from None
    Path(backup).unlink(missing_ok=True)


def _overwrite(path: Path, data: bytes) -> None:
    with open(path, "r+b") as stream:
        stream.write(data)
        stream.truncate()
        stream.flush()
        os.fsync(stream.fileno())


def _keep_owner(path: str, status: os.stat_result) -> None:
    if (status.st_uid, status.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.chown(path, status.st_uid, status.st_gid)
    except PermissionError:
        pass  # only root can give a file away; the new file is then ours, as with any editor's save


def _sync_directory(directory: Path) -> None:
    # The rename itself is durable only once the directory entry is on disk.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename has still happened
    finally:
        os.close(descriptor)


def unified_diff(fix: FileFix) -> bytes:
    """A ``git apply``-able diff of the fix, in the file's own encoding and line endings:
    git matches a patch's lines byte for byte, so a Latin-1 file's patch is Latin-1.
    The headers are UTF-8, as git writes them."""
    # A context line must match the file's first line byte for byte, BOM included.
    bom = "\ufeff" if fix.original.has_bom else ""
    before = (bom + fix.original.text).splitlines(keepends=True)
    after = (bom + fix.fixed.text).splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"a/{fix.display}", f"b/{fix.display}")
    out = []
    for number, line in enumerate(lines):
        header = number < 2 or line.startswith("@@")
        out.append(line.encode("utf-8" if header else fix.original.encoding))
        if not line.endswith("\n"):
            out.append(b"\n\\ No newline at end of file\n")
    return b"".join(out)


@dataclass
class FixRun:
    fixes: list[FileFix] = field(default_factory=list)  # the files that changed
    remaining: list[Finding] = field(default_factory=list)  # every file's findings after fixing

    @property
    def fixed_count(self) -> int:
        return sum(fix.fixed_count for fix in self.fixes)


def fix_run(
    result: engine.RunResult,
    files: Sequence[tuple[str | Path, str]],
    options: engine.RunOptions,
    unsafe: bool,
    write: bool,
    cache: ResultCache | None = None,
) -> FixRun:
    """Fix every file of ``result`` that has an applicable fix. With ``write``, the changed
    files are written and ``result`` is updated to what remains in them; without, ``result``
    keeps describing the files as they are and only gains the fix problems."""
    fs_paths = {display: path for path, display in files}
    run = FixRun()
    for index, file_result in enumerate(result.files):
        fix = None
        if file_result.path in fs_paths and any(f.fixable(unsafe) for f in file_result.findings):
            fix = fix_file(Path(fs_paths[file_result.path]), file_result.path, options, unsafe, cache)
        if fix is None:
            run.remaining.extend(file_result.findings)
            continue
        if fix.changed and write:
            try:
                write_atomically(fix.fs_path, fix.original.raw, fix.fixed.raw)
            except WriteError as error:
                file_result.problems.append(FixProblem(fix.display, str(error)))
                run.remaining.extend(file_result.findings)
                continue
        if write:
            result.files[index] = fix.result
        else:
            file_result.problems.extend(p for p in fix.result.problems if isinstance(p, FixProblem))
        run.remaining.extend(fix.result.findings)
        if fix.changed:
            run.fixes.append(fix)
    return run
