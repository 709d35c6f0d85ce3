"""Findings, fixes and allow comments in LSP terms: ranges, diagnostics, text edits."""

from __future__ import annotations

import bisect

from lsprotocol import types

from lint_ws.catalogue import RuleDoc, all_rules
from lint_ws.findings import AllowCommentProblem, Edit, FileResult, Finding
from lint_ws.fixes import newline_of, with_newline

SOURCE = "lint-ws"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}


class TextIndex:
    """Offsets into a document's text as LSP positions, in the position encoding the
    client and server agreed on (UTF-16 code units unless the client offers another)."""

    def __init__(self, text: str, encoding: str):
        self.text = text
        self.encoding = encoding
        self.line_starts = [0]
        position = text.find("\n")
        while position != -1:
            self.line_starts.append(position + 1)
            position = text.find("\n", position + 1)

    def position(self, offset: int) -> types.Position:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return types.Position(line, self._units(self.text[self.line_starts[line] : offset]))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def line_range(self, line: int) -> types.Range:
        """The whole of 1-based ``line``, without its line ending."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return self.range(start, start + len(self.text[start:end].rstrip("\r\n")))

    def _units(self, prefix: str) -> int:
        if self.encoding == types.PositionEncodingKind.Utf32 or prefix.isascii():
            return len(prefix)
        if self.encoding == types.PositionEncodingKind.Utf8:
            return len(prefix.encode("utf-8"))
        return len(prefix) + sum(1 for char in prefix if ord(char) > 0xFFFF)


def diagnostics(result: FileResult, index: TextIndex, uri: str) -> list[types.Diagnostic]:
    """What the editor shows for a lint result: the findings not suppressed, and the
    problems of lint-ws's own allow comments (malformed, unknown id, unused) on their line."""
    shown = [finding_diagnostic(finding, index, uri) for finding in result.findings if not finding.suppressed]
    for problem in result.problems:
        if isinstance(problem, AllowCommentProblem) and problem.line is not None:
            shown.append(
                types.Diagnostic(
                    range=index.line_range(problem.line),
                    message=problem.message,
                    severity=types.DiagnosticSeverity.Warning,
                    source=SOURCE,
                )
            )
    return shown


def finding_diagnostic(finding: Finding, index: TextIndex, uri: str) -> types.Diagnostic:
    rule = all_rules()[finding.rule_id]
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri, index.range(item.span.start_offset, item.span.end_offset)),
            message=item.message,
        )
        for item in finding.related
    ]
    return types.Diagnostic(
        range=finding_range(finding, index),
        message=finding.message,
        severity=SEVERITY[rule.level],
        code=finding.rule_id,
        code_description=types.CodeDescription(href=rule.help_uri),
        source=SOURCE,
        related_information=related or None,
    )


def finding_range(finding: Finding, index: TextIndex) -> types.Range:
    return index.range(finding.span.start_offset, finding.span.end_offset)


def text_edits(edits: tuple[Edit, ...] | list[Edit], index: TextIndex) -> list[types.TextEdit]:
    """LSP edits for the engine's edits, replacement text in the document's line endings
    (as ``--fix`` writes them)."""
    newline = newline_of(index.text)
    return [
        types.TextEdit(range=index.range(edit.start_offset, edit.end_offset), new_text=with_newline(edit.replacement, newline))
        for edit in edits
    ]


def replacement_edit(before: str, after: str) -> Edit:
    """One edit turning ``before`` into ``after``, spanning only what differs: replacing the
    whole document would move the editor's cursor and folds."""
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_before, end_after = len(before), len(after)
    while end_before > start and end_after > start and before[end_before - 1] == after[end_after - 1]:
        end_before -= 1
        end_after -= 1
    return Edit(start, end_before, after[start:end_after])


def hover_markdown(rule: RuleDoc) -> str:
    return f"**{rule.id} {rule.name}** ({rule.level}): {rule.summary}\n\n---\n\n{rule.doc}"


def contains(outer: types.Range, position: types.Position) -> bool:
    return _key(outer.start) <= _key(position) <= _key(outer.end)


def overlaps(a: types.Range, b: types.Range) -> bool:
    return _key(a.start) <= _key(b.end) and _key(b.start) <= _key(a.end)


def _key(position: types.Position) -> tuple[int, int]:
    return position.line, position.character
