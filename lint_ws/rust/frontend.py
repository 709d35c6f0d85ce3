"""Rust front end: tree-sitter parse, the file's model over its crate's facts, the rule checks."""

from __future__ import annotations

from functools import cache, cached_property

import tree_sitter
import tree_sitter_rust

from lint_ws.findings import Finding, Span
from lint_ws.rust.crate import Crate, Function
from lint_ws.rust.model import RustModel
from lint_ws.rule_context import RuleContext, run_checks
from lint_ws.source import SourceFile


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))


@cache
def _ranged_parser() -> tree_sitter.Parser:
    """A parser of its own: its included ranges change with every call."""
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))


def parse_ranges(encoded: bytes, ranges: list[tree_sitter.Range]) -> tree_sitter.Tree:
    """The tree of ``ranges`` of ``encoded`` alone, as one text: its nodes have the file's
    positions (a macro body's tokens parsed as code, without copying them out)."""
    ranged = _ranged_parser()
    ranged.included_ranges = ranges
    return ranged.parse(encoded)


def parse(source: SourceFile) -> tree_sitter.Tree:
    # tree-sitter recovers from errors; real, compiling code hits grammar gaps, so a tree
    # with error nodes is linted as far as it parses (SPEC section 6).
    return parser().parse(source.encoded)


# The crate of the project being linted, assembled once per process (by project digest).
_crates: dict[str, Crate] = {}


class RustContext(RuleContext):
    """What a Rust rule sees: the source, its tree, the file's model, its crate, and how to
    report. The file's own summary comes from this parse when the project has none for it
    (a file outside any crate, or a crate in which nothing names a connection)."""

    def __init__(self, source: SourceFile, tree: tree_sitter.Tree, project=None, relative: str | None = None):
        self.source = source
        self.tree = tree
        self.root = tree.root_node
        self.project = project
        self.relative = relative or source.path

    @cached_property
    def model(self) -> RustModel:
        return RustModel(self.root, self.source.encoded)

    @cached_property
    def crate(self) -> Crate:
        project = self.project
        if project is not None and self.relative in project.keys:
            crate = _crates.get(project.digest)
            if crate is None:
                _crates.clear()  # one project at a time per process keeps memory flat
                crate = _crates[project.digest] = Crate(project.summaries)
            return crate
        from lint_ws.rust.summary import summarize_model

        summaries = dict(project.summaries) if project is not None else {}
        summaries[self.relative] = summarize_model(self.model.expanded)
        return Crate(summaries)

    def function(self, node) -> Function | None:
        """The crate's record of the function ``node`` is in (of the expanded model)."""
        model = self.model.expanded
        function = model.function_at(node)
        if function is None:
            return None
        return self.crate.context(self.relative, model.function_index(function))

    def span(self, node: tree_sitter.Node) -> Span:
        return self.source.span_from_bytes(node.start_byte, node.end_byte)


def analyse(source: SourceFile, checks, prefilter: bool = True, project=None, relative: str | None = None) -> list[Finding]:
    # No Rust rule has syntax evidence: the tree-sitter tree is already the cheap parse.
    return run_checks(RustContext(source, parse(source), project, relative), checks)
