"""What the Python rules' fixes share: turning a changed libcst node into a minimal text
edit, and naming a library's exception the way the file imports it."""

from __future__ import annotations

import dataclasses

import libcst as cst

from lint_ws.findings import Edit
from lint_ws.python import reparse
from lint_ws.python.model import PythonModel, is_node_type

WEBSOCKETS_CONNECTION_CLOSED = frozenset({"websockets.ConnectionClosed", "websockets.exceptions.ConnectionClosed"})


def replacement(ctx, model: PythonModel, old: cst.CSTNode, new: cst.CSTNode) -> Edit | None:
    """The whole-line edit of the file that turns ``old`` into ``new``, rendered on the
    top-level statement holding ``old``: re-rendering the module for each fix made large
    files quadratic."""
    found = ctx.top_level_statement_at(ctx.span(old).start_offset)
    if found is not None:
        statement, offset = found
        layout = (model.module.default_indent, model.module.default_newline)
        old_code = reparse.kept(("code", statement, *layout), lambda: ctx.code(statement))
        if ctx.source.text.startswith(old_code, offset):
            # Kept by what ``new`` is, as a fix builds a new node on every lint.
            edit = reparse.kept(
                ("replaced", statement, old, _shape(new), *layout),
                lambda: changed_lines(old_code, ctx.code(statement.deep_replace(old, new))),
            )
            return None if edit is None else Edit(edit.start_offset + offset, edit.end_offset + offset, edit.replacement)
    # The file's last statement without its final newline: render the module.
    return changed_lines(ctx.source.text, model.module.deep_replace(old, new).code)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _shape(node: cst.CSTNode) -> tuple:
    """Every field of ``node`` and of the nodes under it, flattened in order (each node's
    type, each sequence's length first): equal for two trees exactly when they render the
    same anywhere. libcst's repr says as much, but costs more than the rendering it saves."""
    out: list = []
    stack: list = [node]
    while stack:
        value = stack.pop()
        kind = type(value)
        if is_node_type(kind):
            names = _FIELDS.get(kind)
            if names is None:
                names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(value))
            out.append(kind)
            stack.extend(getattr(value, name) for name in reversed(names))
        elif kind is tuple or kind is list:
            out.append(len(value))
            stack.extend(reversed(value))
        else:
            out.append(value)
    return tuple(out)


def changed_lines(old: str, new: str) -> Edit | None:
    """The smallest whole-line range of ``old`` that differs from ``new``, as one edit."""
    if old == new:
        return None
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    start = old.rfind("\n", 0, prefix) + 1
    old_end = len(old) - suffix
    line_end = old.find("\n", old_end)
    end = len(old) if line_end == -1 else line_end + 1
    new_end = end - len(old) + len(new)
    return Edit(start, end, new[start:new_end])


def websockets_connection_closed(model: PythonModel) -> str | None:
    """How this file names ``websockets.ConnectionClosed`` with its own imports: the
    imported name (``ConnectionClosed``, an alias), or through the imported package
    (``websockets.ConnectionClosed``, ``ws.ConnectionClosed``); None when it cannot."""
    imports = model.imports
    for local, qualified in imports.items():
        if qualified in WEBSOCKETS_CONNECTION_CLOSED:
            return local
    for local, qualified in imports.items():
        if qualified in ("websockets", "websockets.exceptions"):
            return f"{local}.ConnectionClosed"
    return None
