"""Python front end: libcst parse, one connection model per file, the rule checks."""

from __future__ import annotations

import ast
import bisect
import os
import threading
from functools import cached_property

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from lint_ws.findings import Finding, Severity, Span
from lint_ws.python import reparse
from lint_ws.python.model import PythonModel, child_nodes
from lint_ws.python.names import SEND_METHODS
from lint_ws.python.project import ModuleView
from lint_ws.python.summary import syntax_tree
from lint_ws.rule_context import RuleContext, run_checks
from lint_ws.source import SourceError, SourceFile


# libcst's native parser recurses on the C stack: deeply nested but valid code overflows a
# default thread stack and kills the whole process (a segfault, not an exception).
PARSER_STACK_BYTES = 512 * 1024 * 1024
_STACK_SIZE_LOCK = threading.Lock()


# CPython's errors that no newer grammar lifts, and that libcst does not see: its nesting
# limits (libcst nests further) and the escapes of string literals (libcst keeps a literal's
# text undecoded).
ERRORS_OF_EVERY_PYTHON = (
    "too many nested parentheses",
    "too many levels of indentation",
    "(unicode error)",
    "(value error)",
)


def judge(source: SourceFile) -> ast.Module | cst.Module:
    """Parse ``source`` as the newest Python reads it, or raise its syntax error.

    CPython's ``ast`` of the interpreter lint-ws runs on is tried first: an order of
    magnitude faster than libcst, and it rejects the pathological nesting that would crash
    libcst. What it rejects may still be valid in a newer Python (PEP 695 generics and
    ``type`` aliases, PEP 701 f-strings under Python 3.11): libcst, whose grammar is the
    newest Python's, is then the judge, and its module is returned. Only what both reject
    is the user's syntax error, reported as CPython words it.
    """
    try:
        return syntax_tree(source.text)
    except SyntaxError as error:
        host_error = error
    except (RecursionError, MemoryError):
        raise _parser_limit("nesting too deep") from None
    if not host_error.msg.startswith(ERRORS_OF_EVERY_PYTHON):
        newest = _libcst_on_large_stack(source.text)
        if isinstance(newest, cst.Module):
            # libcst drops some of PEP 701's new freedoms (blanks after a conversion,
            # ``{x!r }``): its positions and fixes would miss the file's text.
            if newest.code != source.text:
                raise _parser_limit("newer syntax it does not reproduce exactly")
            return newest
    raise SourceError(f"syntax error: {host_error.msg}", line=host_error.lineno)


def parse(source: SourceFile) -> cst.Module:
    """Parse with libcst; only what no Python accepts is the user's syntax error."""
    judged = judge(source)
    return judged if isinstance(judged, cst.Module) else _parse_accepted(source)


def parse_fixed(before: SourceFile, after: SourceFile) -> cst.Module:
    """Parse ``after``, the fixed text of ``before``: a fix must not make a file need a
    newer Python, so what this interpreter accepted before, it must accept after."""
    judged = judge(after)
    if isinstance(judged, ast.Module):
        return _parse_accepted(after)
    try:
        ast.parse(before.text, filename=before.path)
    except SyntaxError:
        return judged
    raise SourceError("this Python accepted the original but not the fixed file")


def _parse_accepted(source: SourceFile) -> cst.Module:
    """libcst's parse of a file CPython accepted (of the statements an edit changed, when
    the file's previous parse is kept: ``lint_ws.python.reparse``)."""
    outcome = reparse.parse(source.path, source.text, _libcst_on_large_stack)
    if isinstance(outcome, cst.Module):
        return outcome
    reason = "nesting too deep" if isinstance(outcome, RecursionError) else "unsupported syntax"
    raise _parser_limit(reason)


def _libcst_on_large_stack(text: str) -> cst.Module | Exception:
    outcome: list = []
    worker = _start_with_large_stack(lambda: outcome.append(_libcst_parse(text)))
    worker.join()
    return outcome[0]


def _libcst_parse(text: str) -> cst.Module | Exception:
    try:
        return cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, MemoryError) as error:
        return error


def _start_with_large_stack(target) -> threading.Thread:
    with _STACK_SIZE_LOCK:
        previous = threading.stack_size(PARSER_STACK_BYTES)
        try:
            worker = threading.Thread(target=target, name="lint-ws-libcst")
            worker.start()
        finally:
            threading.stack_size(previous)
    return worker


def _parser_limit(reason: str) -> SourceError:
    return SourceError(f"valid Python that libcst cannot parse ({reason}); not linted", severity=Severity.WARNING)


class PythonContext(RuleContext):
    """What a Python rule sees: the source, its module, the model, and how to report.

    ``location`` is where the file lies (its package is found from there); the source's path
    is the name the run reports it under, which may be relative to anywhere."""

    def __init__(self, source: SourceFile, module: cst.Module, location: str | None = None):
        self.source = source
        self.module = module
        self.location = location or source.path

    @cached_property
    def model(self) -> PythonModel:
        source = self.source
        return PythonModel(
            self.module,
            package=lambda: ModuleView.for_source(self.location, source.text),
            alone=lambda: ModuleView.alone(self.location, source.text),
        )

    @cached_property
    def _layout(self) -> ModuleLayout:
        return ModuleLayout(self.module)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    @cached_property
    def code_is_text(self) -> bool:
        """Whether the module renders back to the file's text, as a fix needs."""
        return reparse.code_is(self.module, self.source.text)

    def span(self, node: cst.CSTNode) -> Span:
        code_range = self._layout.position(node)
        start = self.source.offset_of(code_range.start.line, code_range.start.column)
        end = self.source.offset_of(code_range.end.line, code_range.end.column)
        return self.source.span_from_offsets(start, end)

    def top_level_statement_at(self, offset: int) -> tuple[cst.BaseStatement, int] | None:
        """The top-level statement whose code holds ``offset`` of the module's code, and
        where that code starts: a fix can then re-render that statement, not the module."""
        return self._layout.statement_at(offset)


class ModuleLayout:
    """Where a module's top-level statements start, and where its nodes lie (the ranges of
    libcst's ``PositionProvider``), computed one top-level statement at a time.

    The provider renders the whole module with position tracking, which was most of a
    lint's time on a large file that reports a handful of findings. A top-level statement's
    code starts at column 0 with no indentation pending, so rendering it alone from line 1
    gives its nodes the whole module's ranges less the lines before it: those ranges, and
    which nodes a statement holds, are kept with the statement across edits
    (``reparse.kept``)."""

    def __init__(self, module: cst.Module):
        self.module = module
        self._ranges: dict[cst.CSTNode, CodeRange] = {}  # the whole module's, once needed
        self._relative: dict[int, dict[cst.CSTNode, CodeRange]] = {}  # statement -> its ranges from line 1
        self._held: list[frozenset[int]] = []  # the ids of the nodes of each statement, in order, as far as asked

    @cached_property
    def _starts(self) -> tuple[list[int], list[int]]:
        return reparse.module_starts(self.module)

    def statement_at(self, offset: int) -> tuple[cst.BaseStatement, int] | None:
        offsets = self._starts[0]
        index = bisect.bisect_right(offsets, offset) - 1
        if index < 0:
            return None
        return self.module.body[index], offsets[index]

    def position(self, node: cst.CSTNode) -> CodeRange:
        found = self._ranges.get(node)
        if found is not None:
            return found
        index = self._statement_of(node)
        if index is not None:
            relative = self._relative.get(index)
            if relative is None:
                relative = self._relative[index] = self._statement_ranges(self.module.body[index])
            found = relative.get(node)
            if found is not None:
                lines = self._starts[1][index] - 1
                if not lines:
                    return found
                return CodeRange(
                    CodePosition(found.start.line + lines, found.start.column),
                    CodePosition(found.end.line + lines, found.end.column),
                )
        # Not inside a top-level statement's syntax (the module, its header, a comment):
        # the whole module's ranges.
        self._ranges.update(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
        return self._ranges[node]

    def _statement_of(self, node: cst.CSTNode) -> int | None:
        wanted = id(node)
        for index, ids in enumerate(self._held):
            if wanted in ids:
                return index
        body = self.module.body
        while len(self._held) < len(body):
            statement = body[len(self._held)]
            self._held.append(reparse.kept(("nodes", statement), lambda: _node_ids(statement)))
            if wanted in self._held[-1]:
                return len(self._held) - 1
        return None

    def _statement_ranges(self, statement: cst.BaseStatement) -> dict[cst.CSTNode, CodeRange]:
        indent, newline = self.module.default_indent, self.module.default_newline

        def render() -> dict[cst.CSTNode, CodeRange]:
            # libcst's own position-tracking codegen state.
            provider = PositionProvider()
            state = PositionProvidingCodegenState(
                default_indent=indent, default_newline=newline, provider=provider, line=1
            )
            statement._codegen(state)
            return provider._computed

        return reparse.kept(("ranges", statement, indent, newline), render)


def _node_ids(root: cst.CSTNode) -> frozenset[int]:
    found = set()
    stack = [root]
    while stack:
        node = stack.pop()
        found.add(id(node))
        stack.extend(child_nodes(node))
    return frozenset(found)


class SyntaxFacts:
    """What the ``ast`` tree tells the rules' syntax evidence before libcst parses: for each
    attribute name, the dotted names it is read on (``ws.closed`` -> ``closed: {"ws"}``) and
    called on (``ws.send(x)`` -> ``send: {"ws"}``), None for a receiver that is no dotted
    name; the methods awaited (``await ws.recv()`` -> ``recv``); and the text itself."""

    def __init__(self, tree: ast.Module, text: str):
        self.text = text
        self.attributes: dict[str, set[str | None]] = {}
        self.calls: dict[str, set[str | None]] = {}
        self.awaited: set[str] = set()
        self.sends_on_calls = False  # a send on what a call returns: ``self._get_ws().send(..)``
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                self.attributes.setdefault(node.attr, set()).add(_dotted(node.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                self.calls.setdefault(node.func.attr, set()).add(_dotted(node.func.value))
                if node.func.attr in SEND_METHODS and isinstance(node.func.value, ast.Call):
                    self.sends_on_calls = True
            elif isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
                if isinstance(node.value.func, ast.Attribute):
                    self.awaited.add(node.value.func.attr)

    def receivers(self, attributes, *, called: bool = False) -> set[str]:
        """The dotted names any of ``attributes`` is read on (``called``: called on)."""
        table = self.calls if called else self.attributes
        found = set().union(*(table.get(name, ()) for name in attributes))
        found.discard(None)
        return found


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def analyse(source: SourceFile, checks, prefilter: bool = True, project=None, relative: str | None = None) -> list[Finding]:
    """Run ``checks``; with ``prefilter``, only those whose syntax evidence the file shows.

    The package's facts come from the run's project index (``project``, assembled before the
    lint), which the package model reads through ``lint_ws.python.project.module_summary``."""
    location = os.path.join(project.root, relative) if project is not None and relative else None
    judged = judge(source)
    if isinstance(judged, cst.Module):
        # Syntax newer than this interpreter's: there is no CPython tree to take evidence
        # from, and libcst has parsed the file already, so every check runs.
        return run_checks(PythonContext(source, judged, location), checks)
    if prefilter and any(check.syntax_evidence for check in checks):
        facts = SyntaxFacts(judged, source.text)
        checks = [check for check in checks if check.syntax_evidence is None or check.syntax_evidence(facts)]
        if not checks:
            return []
    return run_checks(PythonContext(source, _parse_accepted(source), location), checks)
