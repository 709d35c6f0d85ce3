"""Output formats. Each module has ``render(report, stream)``; none knows any rule."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lint_ws.findings import Finding, Problem

FORMATS = {
    "text": "lint_ws.reporters.text",
    "json": "lint_ws.reporters.json",
    "sarif": "lint_ws.reporters.sarif",
    "github": "lint_ws.reporters.github",
}


@dataclass
class Report:
    findings: list[Finding]  # sorted; suppressed ones included (formats decide to show them)
    problems: list[Problem]
    files_checked: int
    show_source: bool = False
    color: bool = False
    # SARIF: relative paths are resolved against ``root`` (%SRCROOT%); ``rules`` are the
    # rule ids the run checked, described in the log even when they found nothing.
    root: Path = field(default_factory=Path.cwd)
    rules: tuple[str, ...] = field(default_factory=lambda: _every_rule())


def _every_rule() -> tuple[str, ...]:
    from lint_ws.catalogue import all_rules  # the docs are read only when a report needs them

    return tuple(all_rules())


def render(format_name: str, report: Report, stream: TextIO) -> None:
    importlib.import_module(FORMATS[format_name]).render(report, stream)
