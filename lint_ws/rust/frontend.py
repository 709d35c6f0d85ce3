"""Rust front end: tree-sitter parse, one connection model per file, the rule checks."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, cached_property

import tree_sitter
import tree_sitter_rust

from lint_ws.findings import Finding, Fix, Related
from lint_ws.rust.model import RustModel
from lint_ws.source import SourceFile


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))


def parse(source: SourceFile) -> tree_sitter.Tree:
    # tree-sitter recovers from errors; real, compiling code hits grammar gaps, so a tree
    # with error nodes is linted as far as it parses (SPEC section 6).
    return parser().parse(source.encoded)


class RustContext:
    """What a Rust rule sees: the source, its tree, the model, and how to report."""

    def __init__(self, source: SourceFile, tree: tree_sitter.Tree):
        self.source = source
        self.tree = tree
        self.root = tree.root_node

    @cached_property
    def model(self) -> RustModel:
        return RustModel(self.root, self.source.encoded)

    def text(self, node: tree_sitter.Node) -> str:
        return self.source.encoded[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def span(self, node: tree_sitter.Node):
        return self.source.span_from_bytes(node.start_byte, node.end_byte)

    def report(
        self,
        rule_id: str,
        node: tree_sitter.Node,
        message: str,
        related: Iterable[tuple[tree_sitter.Node, str]] = (),
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
    context = RustContext(source, parse(source))
    findings: list[Finding] = []
    for rule in checks:
        findings.extend(rule.check(context))
    return findings
