"""JSON: one object with the findings and the files that could not be analysed."""

from __future__ import annotations

import json
from typing import TextIO

from lint_ws import __version__
from lint_ws.findings import Finding, Span


def _span(span: Span) -> dict:
    return {
        "start": {"line": span.start_line, "column": span.start_col},
        "end": {"line": span.end_line, "column": span.end_col},
    }


def _finding(finding: Finding) -> dict:
    return {
        "rule": finding.rule_id,
        "path": finding.path,
        "message": finding.message,
        "location": _span(finding.span),
        "related": [{"message": r.message, "location": _span(r.span)} for r in finding.related],
        "fix": None
        if finding.fix is None
        else {
            "description": finding.fix.description,
            "applicability": finding.fix.applicability.value,
            "edits": [edit._asdict() for edit in finding.fix.edits],
        },
        "suppressed": finding.suppressed,
    }


def render(report, stream: TextIO) -> None:
    document = {
        "tool": {"name": "lint-ws", "version": __version__},
        "files_checked": report.files_checked,
        "findings": [_finding(f) for f in report.findings if not f.suppressed],
        "suppressed": [_finding(f) for f in report.findings if f.suppressed],
        "errors": [
            {"path": p.path, "line": p.line, "severity": p.severity.value, "message": p.message}
            for p in report.problems
        ],
    }
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")
