"""Rust front end: tree-sitter parse, one connection model per file, the rule checks."""

from __future__ import annotations

from functools import cache, cached_property

import tree_sitter
import tree_sitter_rust

from lint_ws.findings import Finding, Span
from lint_ws.rust.model import RustModel
from lint_ws.rule_context import RuleContext, run_checks
from lint_ws.source import SourceFile


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))


def parse(source: SourceFile) -> tree_sitter.Tree:
    # tree-sitter recovers from errors; real, compiling code hits grammar gaps, so a tree
    # with error nodes is linted as far as it parses (SPEC section 6).
    return parser().parse(source.encoded)


class RustContext(RuleContext):
    """What a Rust rule sees: the source, its tree, the model, and how to report."""

    def __init__(self, source: SourceFile, tree: tree_sitter.Tree):
        self.source = source
        self.tree = tree
        self.root = tree.root_node

    @cached_property
    def model(self) -> RustModel:
        return RustModel(self.root, self.source.encoded)

    def span(self, node: tree_sitter.Node) -> Span:
        return self.source.span_from_bytes(node.start_byte, node.end_byte)


def analyse(source: SourceFile, checks, prefilter: bool = True) -> list[Finding]:
    # No Rust rule has syntax evidence: the tree-sitter tree is already the cheap parse.
    return run_checks(RustContext(source, parse(source)), checks)
