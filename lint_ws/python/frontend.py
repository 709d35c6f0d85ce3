"""Python front end: libcst parse, one connection model per file, the rule checks."""

from __future__ import annotations

import ast
import threading
from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from lint_ws.findings import Finding, Severity, Span
from lint_ws.python.model import PythonModel
from lint_ws.rule_context import RuleContext, run_checks
from lint_ws.source import SourceError, SourceFile


# libcst's native parser recurses on the C stack: deeply nested but valid code overflows a
# default thread stack and kills the whole process (a segfault, not an exception).
PARSER_STACK_BYTES = 512 * 1024 * 1024
_STACK_SIZE_LOCK = threading.Lock()


def parse(source: SourceFile) -> cst.Module:
    """Parse with libcst; only what CPython itself rejects is the user's syntax error.

    CPython's parser runs first: it is an order of magnitude faster than libcst, it is the
    judge of what is a syntax error, and it rejects the pathological nesting that would
    crash libcst before libcst sees it.
    """
    try:
        ast.parse(source.text, filename=source.path)
    except SyntaxError as error:
        raise SourceError(f"syntax error: {error.msg}", line=error.lineno) from None
    except (RecursionError, MemoryError):
        raise _parser_limit("nesting too deep") from None
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


def analyse(source: SourceFile, checks) -> list[Finding]:
    return run_checks(PythonContext(source, parse(source)), checks)
