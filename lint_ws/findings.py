"""The data every stage after the rule checks speaks: spans, findings, fixes, problems."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
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


@dataclass(frozen=True)
class Related:
    span: Span
    message: str


class Applicability(enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start_offset:end_offset]`` by ``replacement``."""

    start_offset: int
    end_offset: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    description: str
    applicability: Applicability
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    rule_id: str
    path: str  # relative to the working directory, with forward slashes
    span: Span
    message: str
    related: tuple[Related, ...] = ()
    fix: Fix | None = None
    suppressed: bool = False

    def sort_key(self) -> tuple:
        return (self.path, self.span.start_line, self.span.start_col, self.rule_id, self.message)


class Severity(enum.Enum):
    """How bad a file-level problem is; only ERROR changes the exit code."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Problem:
    """A file lint-ws could not fully analyse (unreadable, undecodable, syntax error...)."""

    path: str
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity.value}: {self.message}"


@dataclass(frozen=True)
class AllowCommentProblem(Problem):
    """A problem with an allow comment itself: malformed, unknown rule id, or unused.

    Always a warning; with ``--report-unused-allows`` any of them fails the run, since an
    allow comment with such a problem suppresses nothing it names.
    """


class FixProblem(Problem):
    """A fix that could not be applied or written; the file itself was analysed fully."""


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
