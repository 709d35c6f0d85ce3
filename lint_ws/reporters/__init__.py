"""Output formats. Each module has ``render(report, stream)``; none knows any rule."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TextIO

from lint_ws.findings import Finding, Problem

FORMATS = {
    "text": "lint_ws.reporters.text",
    "json": "lint_ws.reporters.json",
}


@dataclass
class Report:
    findings: list[Finding]  # sorted; suppressed ones included (formats decide to show them)
    problems: list[Problem]
    files_checked: int
    show_source: bool = False
    color: bool = False


def render(format_name: str, report: Report, stream: TextIO) -> None:
    importlib.import_module(FORMATS[format_name]).render(report, stream)
