"""Re-parsing an edited module: libcst parses the changed top-level statements only.

The language server lints a buffer after every edit, and libcst's parse of the whole file
was the largest part of that. An edit leaves the text before and after it unchanged; the
top-level statements lying wholly in that text are the previous parse's nodes, and only the
statements around the edit are parsed again, as a module of their own, and spliced in.

Python's tokens never span the boundary between two top-level statements (the first ends
with its newline, outside any bracket or string, and the second starts at column 0), so the
statements parse the same alone as in the file. What libcst decides from the whole file is
kept out of the splice, and the whole file is parsed instead when the splice could differ:
- the default indentation and newline (inferred from the file's first block and first line
  ending): the re-parsed statements come after the file's first indented block;
- the ownership of comment lines: the fragment's leading blank and comment lines (libcst's
  module header when parsed alone) are its first statement's leading lines in the file,
  which holds only for unindented lines; and the statement after the fragment must start
  with unindented lines too (an indented comment may belong to the block before it);
- the module's header, footer and last statement are never re-parsed this way, nor is a
  module whose code is not its text byte for byte.

The splice depends only on the two texts and the previous parse, never on which file the
name stands for: two files under one name cost a whole parse, not a wrong tree.

Only a process that lints the same files again keeps parses (``remember``): the language
server. tests/test_reparse.py compares the splice with a full parse over random edits.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import libcst as cst
from libcst.metadata.position_provider import NEWLINE_RE

from lint_ws.python.model import child_nodes


class Parse(NamedTuple):
    text: str
    module: cst.Module
    offsets: list[int]  # where each top-level statement's code starts in the text
    lines: list[int]  # and on which line, as libcst counts lines
    first_block: int  # the first top-level statement holding an indented block, or len(body)
    # libcst renders what it parsed, but not always byte for byte (whitespace at the end of
    # a file): an edit is spliced only into a module whose code is its text.
    renders_text: bool


_kept: OrderedDict[str, Parse] = OrderedDict()  # file -> its latest parse
_capacity = 0
# File -> (the answers ``kept`` gave its latest lint, those of the lint before): what a lint
# did not ask again is dropped at the file's next lint, old statements with it.
_facts: dict[str, tuple[dict, dict]] = {}
_linting: str | None = None  # the file being linted, while parses are kept
_MISSING = object()


def remember(files: int) -> None:
    """Keep the latest parse of up to ``files`` files (the open documents of an editor), and
    what ``kept`` computed from their statements."""
    global _capacity
    _capacity = files
    while len(_kept) > files:
        _forget(next(iter(_kept)))
    _facts.clear()


def kept(key: tuple, compute: Callable[[], object]) -> object:
    """``compute()``, which depends only on the nodes named in ``key`` (by identity, as libcst
    compares nodes) and the rest of ``key``: kept while parses are kept, since the statements
    an edit leaves alone are the previous parse's very nodes, so their answers carry over.
    Elsewhere (a run that lints each file once) computed each time."""
    tables = _facts.get(_linting) if _linting is not None else None
    if tables is None:
        return compute()
    current, previous = tables
    found = current.get(key, _MISSING)
    if found is _MISSING:
        found = previous.get(key, _MISSING)
        if found is _MISSING:
            found = compute()
        current[key] = found
    return found


def _begin_lint(name: str) -> None:
    global _linting
    _linting = name if _capacity else None
    if _capacity:
        latest, _ = _facts.get(name, ({}, {}))
        _facts[name] = ({}, latest)
        for other in [other for other in _facts if other != name and other not in _kept]:
            del _facts[other]  # a file whose parse is no longer kept (or never was)


def _forget(name: str) -> None:
    _kept.pop(name, None)
    _facts.pop(name, None)


def parse(name: str, text: str, parse_text: Callable[[str], cst.Module | Exception]) -> cst.Module | Exception:
    """libcst's module of ``text`` (the file ``name``), or what ``parse_text`` raised: from the
    previous parse of the file where the edit allows, else from ``parse_text(text)``."""
    _begin_lint(name)
    previous = _kept.get(name)
    if previous is not None and previous.text == text:
        _kept.move_to_end(name)
        return previous.module
    spliced = _splice(previous, text, parse_text) if previous is not None else None
    if spliced is None:
        module = parse_text(text)
        if not isinstance(module, cst.Module) or not _capacity:
            return module
        spliced = Parse(text, module, *module_starts(module), _first_block(module.body), module.code == text)
    _kept[name] = spliced
    _kept.move_to_end(name)
    while len(_kept) > _capacity:
        _forget(next(iter(_kept)))
    return spliced.module


def module_starts(module: cst.Module) -> tuple[list[int], list[int]]:
    """Where each top-level statement's code (its leading lines included) starts: offset in
    the module's code, and line as libcst's positions count lines."""
    known = _kept_parse(module)
    if known is not None:
        return known.offsets, known.lines
    header = "".join(module.code_for_node(line) for line in module.header)
    offsets, lines, _ = _statement_starts(module, module.body, len(header), 1 + len(NEWLINE_RE.findall(header)))
    return offsets, lines


def code_is(module: cst.Module, text: str) -> bool:
    """Whether ``module.code == text`` (known without rendering for a kept parse)."""
    known = _kept_parse(module)
    if known is not None and known.text == text:
        return known.renders_text
    return module.code == text


def _kept_parse(module: cst.Module) -> Parse | None:
    return next((kept for kept in _kept.values() if kept.module is module), None)


def _statement_starts(module: cst.Module, statements, offset: int, line: int, text: str | None = None):
    """(the offset and line of each statement, the offset after the last); None when
    ``text`` is given and a statement's code is not found at its offset in it."""
    offsets, lines = [], []
    for statement in statements:
        offsets.append(offset)
        lines.append(line)
        code = module.code_for_node(statement)
        if text is not None and not text.startswith(code, offset):
            return None
        offset += len(code)
        line += len(NEWLINE_RE.findall(code))
    return offsets, lines, offset


def _first_block(body) -> int:
    for index in range(len(body)):
        if isinstance(body[index], cst.SimpleStatementLine):
            continue
        stack: list[cst.CSTNode] = [body[index]]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.IndentedBlock):
                return index
            stack.extend(child_nodes(node))
    return len(body)


def _splice(previous: Parse, text: str, parse_text) -> Parse | None:
    old, body = previous.text, previous.module.body
    prefix = _common_prefix(old, text)
    suffix = _common_suffix(old, text, min(len(old), len(text)) - prefix)
    offsets = previous.offsets
    if not offsets or prefix == 0:
        return None
    # From the statement holding the last unchanged character before the edit (the edit may
    # continue its block) to the one holding the first after it (the edit may take its
    # leading lines), neither the last statement.
    first = bisect.bisect_right(offsets, prefix - 1) - 1
    last = bisect.bisect_right(offsets, len(old) - suffix) - 1
    if not previous.renders_text or first <= previous.first_block or last + 1 >= len(body):
        return None
    if not _unindented(body[last + 1].leading_lines):
        return None
    delta = len(text) - len(old)
    start, old_end = offsets[first], offsets[last + 1]
    fragment_text = text[start : old_end + delta]
    fragment = parse_text(fragment_text)
    if not isinstance(fragment, cst.Module) or not fragment.body or fragment.footer:
        return None
    module = previous.module
    if (fragment.default_indent, fragment.default_newline) != (module.default_indent, module.default_newline):
        return None
    if not _unindented(fragment.header):
        return None
    statements = list(fragment.body)
    statements[0] = statements[0].with_changes(leading_lines=(*fragment.header, *statements[0].leading_lines))
    spliced = module.with_changes(body=(*body[:first], *statements, *body[last + 1 :]))
    line_delta = len(NEWLINE_RE.findall(fragment_text)) - len(NEWLINE_RE.findall(old, start, old_end))
    # The new statements render the fragment's text exactly, so the module renders the text.
    starts = _statement_starts(spliced, statements, start, previous.lines[first], text)
    if starts is None or starts[2] != old_end + delta:
        return None
    new_offsets, new_lines, _ = starts
    return Parse(
        text,
        spliced,
        [*offsets[:first], *new_offsets, *(offset + delta for offset in offsets[last + 1 :])],
        [*previous.lines[:first], *new_lines, *(line + line_delta for line in previous.lines[last + 1 :])],
        previous.first_block,
        True,
    )


def _unindented(lines) -> bool:
    return all(not line.whitespace.value for line in lines)


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (by halving: slices compare in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low
