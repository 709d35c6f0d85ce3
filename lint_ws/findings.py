"""The data every stage after the rule checks speaks: spans, findings, fixes, problems.

Records are NamedTuples, not dataclasses: a dataclass compiles its methods when its module
is imported, about a millisecond each here, and lint-ws pays its imports on every commit
(README "Speed"). Those on the start-up path (this module, the engine, configuration,
discovery, reporters, registry, suppression and the Rust analysis) follow suit.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Span(NamedTuple):
    """A region of a source file.

    Lines are 1-based; columns are 1-based and count Unicode code points (SARIF's
    ``unicodeCodePoints``); offsets index the decoded text (``str``), end exclusive.
    """

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    start_offset: int
    end_offset: int


class Related(NamedTuple):
    span: Span
    message: str


class Applicability(enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class Edit(NamedTuple):
    """Replace ``text[start_offset:end_offset]`` by ``replacement``."""

    start_offset: int
    end_offset: int
    replacement: str


class Fix(NamedTuple):
    description: str
    applicability: Applicability
    edits: tuple[Edit, ...]


class Finding(NamedTuple):
    rule_id: str
    path: str  # relative to the working directory, with forward slashes
    span: Span
    message: str
    related: tuple[Related, ...] = ()
    fix: Fix | None = None
    suppressed: bool = False

    def sort_key(self) -> tuple:
        return (self.path, self.span.start_line, self.span.start_col, self.rule_id, self.message)

    def fixable(self, unsafe: bool) -> bool:
        """Whether this finding has a fix that a run may apply (``unsafe``: with
        ``--unsafe-fixes``)."""
        if self.suppressed or self.fix is None:
            return False
        return unsafe or self.fix.applicability is Applicability.SAFE


class Severity(enum.Enum):
    """How bad a file-level problem is; only ERROR changes the exit code."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Problem(NamedTuple):
    """A file lint-ws could not fully analyse (unreadable, undecodable, syntax error...)."""

    path: str
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity.value}: {self.message}"


class AllowCommentProblem(Problem):
    """A problem with an allow comment itself: malformed, unknown rule id, or unused.

    Always a warning; with ``--report-unused-allows`` any of them fails the run, since an
    allow comment with such a problem suppresses nothing it names.
    """

    __slots__ = ()


class FixProblem(Problem):
    """A fix that could not be applied or written; the file itself was analysed fully."""

    __slots__ = ()


class FileResult:
    """What linting one file gave; the engine and the fixes add to its lists."""

    __slots__ = ("path", "findings", "problems")

    def __init__(self, path: str, findings: list[Finding] | None = None, problems: list[Problem] | None = None):
        self.path = path
        self.findings = [] if findings is None else findings
        self.problems = [] if problems is None else problems

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileResult):
            return NotImplemented
        return (self.path, self.findings, self.problems) == (other.path, other.findings, other.problems)

    def __repr__(self) -> str:
        return f"FileResult({self.path!r}, findings={self.findings!r}, problems={self.problems!r})"
