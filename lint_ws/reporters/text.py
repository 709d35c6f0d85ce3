"""Text: ``path:line:col: ID message``, optionally with rustc/ruff-style source frames."""

from __future__ import annotations

from typing import TextIO

from lint_ws.findings import Finding, Span

RED, BLUE, BOLD, RESET = "\x1b[31m", "\x1b[34m", "\x1b[1m", "\x1b[0m"


def render(report, stream: TextIO) -> None:
    sources: dict[str, list[str] | None] = {}
    for finding in report.findings:
        if finding.suppressed:
            continue
        location = f"{finding.path}:{finding.span.start_line}:{finding.span.start_col}:"
        rule = f"{BOLD}{RED}{finding.rule_id}{RESET}" if report.color else finding.rule_id
        stream.write(f"{location} {rule} {finding.message}\n")
        if report.show_source:
            if finding.path not in sources:
                sources[finding.path] = _read_lines(finding.path)
            lines = sources[finding.path]
            if lines is not None:
                stream.write(_frame(finding, lines, report.color))


def _read_lines(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8", errors="replace", newline=None) as handle:
            return handle.read().lstrip("\ufeff").split("\n")
    except OSError:
        return None


def _frame(finding: Finding, lines: list[str], color: bool) -> str:
    marks: list[tuple[Span, str, str]] = [(finding.span, "^", "")]
    marks += [(related.span, "-", related.message) for related in finding.related]
    marks.sort(key=lambda mark: (mark[0].start_line, mark[0].start_col))
    width = len(str(max(span.start_line for span, _, _ in marks)))
    gutter = f"{' ' * width} |"
    out = [gutter]
    previous_line = None
    for span, marker, label in marks:
        line_number = span.start_line
        if line_number > len(lines):
            continue
        if previous_line is not None and line_number > previous_line + 1:
            out.append(f"{' ' * width}...")
        line = lines[line_number - 1].rstrip("\r")
        if line_number != previous_line:
            out.append(f"{line_number:>{width}} | {line}")
        end_col = span.end_col if span.end_line == span.start_line else len(line) + 1
        underline = " " * (span.start_col - 1) + marker * max(1, end_col - span.start_col)
        if label:
            underline += f" {label}"
        if color:
            underline = f"{RED if marker == '^' else BLUE}{underline}{RESET}"
        out.append(f"{gutter} {underline}")
        previous_line = line_number
    out.append(gutter)
    return "\n".join(out) + "\n"
