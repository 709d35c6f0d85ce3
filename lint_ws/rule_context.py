"""What the two language front ends share: turning a rule's nodes into a Finding."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from lint_ws.findings import Finding, Fix, Related, Span
from lint_ws.source import SourceFile


class RuleContext(abc.ABC):
    """A parsed file as rules see it; each language says how a node maps to a span."""

    source: SourceFile

    @abc.abstractmethod
    def span(self, node: Any) -> Span: ...

    def report(
        self,
        rule_id: str,
        node: Any,
        message: str,
        related: Iterable[tuple[Any, str]] = (),
        fix: Fix | None = None,
    ) -> Finding:
        return Finding(
            rule_id=rule_id,
            path=self.source.path,
            span=self.span(node),
            message=message,
            related=tuple(Related(self.span(n), text) for n, text in related),
            fix=fix,
        )


def run_checks(context: RuleContext, checks) -> list[Finding]:
    findings: list[Finding] = []
    for rule in checks:
        findings.extend(rule.check(context))
    return findings
