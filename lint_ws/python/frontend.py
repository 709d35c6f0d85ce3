"""Python front end: libcst parse, one connection model per file, the rule checks."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from lint_ws.findings import Finding, Fix, Related, Severity, Span
from lint_ws.python.model import PythonModel
from lint_ws.source import SourceError, SourceFile


def parse(source: SourceFile) -> cst.Module:
    """Parse with libcst; only what CPython itself rejects is the user's syntax error."""
    try:
        return cst.parse_module(source.text)
    except (cst.ParserSyntaxError, RecursionError, MemoryError) as libcst_error:
        try:
            ast.parse(source.text, filename=source.path)
        except SyntaxError as error:
            raise SourceError(f"syntax error: {error.msg}", line=error.lineno) from None
        except (RecursionError, MemoryError):
            pass
        reason = "nesting too deep" if isinstance(libcst_error, RecursionError) else "unsupported syntax"
        raise SourceError(
            f"valid Python that libcst cannot parse ({reason}); not linted",
            severity=Severity.WARNING,
        ) from None


class PythonContext:
    """What a Python rule sees: the source, its module, the model, and how to report."""

    def __init__(self, source: SourceFile, module: cst.Module):
        self.source = source
        self.module = module

    @cached_property
    def model(self) -> PythonModel:
        return PythonModel(self.module)

    @cached_property
    def _positions(self):
        # Position metadata is costly; it is computed only for files that report something.
        # unsafe_skip_copy keeps node identity, so the rules' nodes are the keys.
        return MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def span(self, node: cst.CSTNode) -> Span:
        code_range = self._positions[node]
        start = self.source.offset_of(code_range.start.line, code_range.start.column)
        end = self.source.offset_of(code_range.end.line, code_range.end.column)
        return self.source.span_from_offsets(start, end)

    def report(
        self,
        rule_id: str,
        node: cst.CSTNode,
        message: str,
        related: Iterable[tuple[cst.CSTNode, str]] = (),
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


def analyse(source: SourceFile, checks) -> list[Finding]:
    context = PythonContext(source, parse(source))
    findings: list[Finding] = []
    for rule in checks:
        findings.extend(rule.check(context))
    return findings
