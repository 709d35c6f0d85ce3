"""Output formats. Each module has ``render(report, stream)``; none knows any rule."""

from __future__ import annotations

import importlib
import os
from typing import TextIO

from lint_ws.findings import Finding, Problem

FORMATS = {
    "text": "lint_ws.reporters.text",
    "json": "lint_ws.reporters.json",
    "sarif": "lint_ws.reporters.sarif",
    "github": "lint_ws.reporters.github",
}


class Report:
    def __init__(
        self,
        findings: list[Finding],
        problems: list[Problem],
        files_checked: int,
        show_source: bool = False,
        color: bool = False,
        root: str | os.PathLike | None = None,
        rules: tuple[str, ...] | None = None,
    ):
        self.findings = findings  # sorted; suppressed ones included (formats decide to show them)
        self.problems = problems
        self.files_checked = files_checked
        self.show_source = show_source
        self.color = color
        # SARIF: relative paths are resolved against ``root`` (%SRCROOT%, default: the
        # working directory); ``rules`` are the rule ids the run checked (default: all),
        # described in the log even when they found nothing.
        self.root = os.getcwd() if root is None else root
        self.rules = _every_rule() if rules is None else rules


def _every_rule() -> tuple[str, ...]:
    from lint_ws.catalogue import all_rules  # the docs are read only when a report needs them

    return tuple(all_rules())


def render(format_name: str, report: Report, stream: TextIO) -> None:
    importlib.import_module(FORMATS[format_name]).render(report, stream)
