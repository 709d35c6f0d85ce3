"""Python front end: libcst parse, one connection model per file, the rule checks."""

from __future__ import annotations

import ast
import threading
from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from lint_ws.findings import Finding, Severity, Span
from lint_ws.python.model import PythonModel
from lint_ws.python.names import SEND_METHODS
from lint_ws.python.project import ModuleView
from lint_ws.rule_context import RuleContext, run_checks
from lint_ws.source import SourceError, SourceFile


# libcst's native parser recurses on the C stack: deeply nested but valid code overflows a
# default thread stack and kills the whole process (a segfault, not an exception).
PARSER_STACK_BYTES = 512 * 1024 * 1024
_STACK_SIZE_LOCK = threading.Lock()


def parse_ast(source: SourceFile) -> ast.Module:
    """CPython's own parse: the judge of what is a syntax error, an order of magnitude
    faster than libcst, and it rejects the pathological nesting that would crash libcst."""
    try:
        return ast.parse(source.text, filename=source.path)
    except SyntaxError as error:
        raise SourceError(f"syntax error: {error.msg}", line=error.lineno) from None
    except (RecursionError, MemoryError):
        raise _parser_limit("nesting too deep") from None


def parse(source: SourceFile) -> cst.Module:
    """Parse with libcst; only what CPython itself rejects is the user's syntax error."""
    parse_ast(source)
    return _parse_accepted(source)


def _parse_accepted(source: SourceFile) -> cst.Module:
    """libcst's parse of a file CPython accepted."""
    outcome: list = []
    worker = _start_with_large_stack(lambda: outcome.append(_libcst_parse(source.text)))
    worker.join()
    if isinstance(outcome[0], cst.Module):
        return outcome[0]
    reason = "nesting too deep" if isinstance(outcome[0], RecursionError) else "unsupported syntax"
    raise _parser_limit(reason)


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
    """What a Python rule sees: the source, its module, the model, and how to report."""

    def __init__(self, source: SourceFile, module: cst.Module):
        self.source = source
        self.module = module

    @cached_property
    def model(self) -> PythonModel:
        source = self.source
        return PythonModel(
            self.module,
            package=lambda: ModuleView.for_source(source.path, source.text),
            alone=lambda: ModuleView.alone(source.path, source.text),
        )

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


def analyse(source: SourceFile, checks, prefilter: bool = True) -> list[Finding]:
    """Run ``checks``; with ``prefilter``, only those whose syntax evidence the file shows."""
    tree = parse_ast(source)
    if prefilter and any(check.syntax_evidence for check in checks):
        facts = SyntaxFacts(tree, source.text)
        checks = [check for check in checks if check.syntax_evidence is None or check.syntax_evidence(facts)]
        if not checks:
            return []
    return run_checks(PythonContext(source, _parse_accepted(source)), checks)
