"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from typing import TextIO

from lint_ws.catalogue import all_rules
from lint_ws.findings import Finding, Problem

# Workflow commands know error, warning and notice; SARIF's "note" is GitHub's "notice".
COMMAND_BY_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def render(report, stream: TextIO) -> None:
    for problem in report.problems:
        stream.write(_problem(problem))
    for finding in report.findings:
        if not finding.suppressed:
            stream.write(_finding(finding))


def _finding(finding: Finding) -> str:
    rule = all_rules()[finding.rule_id]
    span = finding.span
    properties = {
        "file": finding.path,
        "line": span.start_line,
        "col": span.start_col,
        "endLine": span.end_line,
        "endColumn": span.end_col,
        "title": rule.title,
    }
    message = finding.message
    for related in finding.related:
        message += f"\n  line {related.span.start_line}:{related.span.start_col}: {related.message}"
    return _command(COMMAND_BY_LEVEL[rule.level], properties, message)


def _problem(problem: Problem) -> str:
    properties: dict[str, object] = {"file": problem.path}
    if problem.line:
        properties["line"] = problem.line
    properties["title"] = "lint-ws: file not fully analysed"
    return _command(COMMAND_BY_LEVEL[problem.severity.value], properties, problem.message)


def _command(name: str, properties: dict[str, object], message: str) -> str:
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {rendered}::{escape_data(message)}\n"


def escape_data(text: str) -> str:
    """Escape a command's message the way the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value; ``,`` and ``:`` also delimit properties and the message."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
