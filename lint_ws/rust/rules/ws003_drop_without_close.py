"""WS003 drop-without-close (Rust): ``impl Drop`` of a type that owns a connection pump
aborts it (directly or through a helper method of the same type) without first sending a
Close frame or asking the pump to close."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from lint_ws.findings import Applicability, Edit, Fix
from lint_ws.rust.model import (
    abort_call_parts,
    Function,
    RustModel,
    after_failed_send,
    is_task_handle,
    item_functions,
    reachable_from_drop,
    struct_field_type,
    structs,
    task_is_pump,
)
from lint_ws.rust.syntax import callee_path, descendants_of_type, line_indent, method_call_parts, text

RULE_ID = "WS003"

DROP_IMPL = re.compile(rb"\bDrop\s+for\b")


def check(ctx) -> Iterator:
    if not DROP_IMPL.search(ctx.source.encoded):  # no destructor: spare building the model
        return
    model = ctx.model.expanded
    path = reachable_from_drop(model)
    functions = {function.node.id: function for function in item_functions(model)}
    destructors: dict[int, list[Function]] = {}
    for function_id, destructor in path.items():
        destructors.setdefault(destructor.node.id, []).append(functions[function_id])
    for destructor_id, run_by_drop in destructors.items():
        destructor = functions[destructor_id]
        # The task aborts first: whether the destructor closes is a crate question, and most
        # destructors abort no task.
        aborts = [
            (function, call, receiver)
            for function in run_by_drop
            for call, receiver in _aborts(function)
            if is_task_handle(model, receiver, ctx)
        ]
        if destructor.is_test or not aborts or any(_asks_to_close(ctx, model, f) for f in run_by_drop):
            continue
        for function, call, receiver in aborts:
            if after_failed_send(ctx, call) or not task_is_pump(ctx, model, receiver):
                continue
            owner = destructor.impl_type or "this type"
            message = (
                f"`Drop for {owner}` aborts `{text(receiver)}`, which drives the connection, without a "
                "Close frame first: every dropped handle resets the connection and loses queued messages"
            )
            related = [(destructor.node.child_by_field_name("name") or destructor.node, "destructor")]
            if function is not destructor:
                related.append((function.node.child_by_field_name("name") or function.node, "helper run by the destructor"))
            yield ctx.report(RULE_ID, call, message, related=related, fix=_fix(ctx, model, destructor, function, call))


def _aborts(function: Function) -> Iterator[tuple[Node, Node]]:
    body = function.body
    for call in descendants_of_type(body, "call_expression") if body is not None else ():
        parts = abort_call_parts(call)
        if parts is not None:
            yield call, parts[0]


def _asks_to_close(ctx, model: RustModel, function: Function) -> bool:
    """Whether the function closes the connection or sends the pump a ``Close`` command,
    itself or through the functions it calls anywhere in the project (``Crate.closes``)."""
    record = ctx.crate.context(ctx.relative, model.function_index(function)) if function in model.functions else None
    if record is not None:
        return ctx.crate.closes(record)
    from lint_ws.rust.summary import summarize_body

    body = function.body
    return body is not None and ctx.crate.body_closes(None, summarize_body(body))


def _fix(ctx, model: RustModel, destructor: Function, function: Function, call: Node) -> Fix | None:
    """Ask the pump to close, and abort it only when the request cannot be delivered.

    Offered where the graceful path exists: the type holds a ``Sender<Cmd>`` of an enum
    with a unit ``Close`` variant that the file's pump handles (a ``Cmd::Close`` pattern),
    and the abort is a statement of the destructor itself (a helper may have other
    callers). A destructor cannot await a join, so the pump is left to finish its close
    on its own; its handle, dropped with the value, detaches it."""
    statement = call.parent
    if function is not destructor or statement is None or statement.type != "expression_statement":
        return None
    if statement.parent is None or statement.parent.type != "block" or "std::sync::mpsc" in ctx.source.text:
        return None  # std's Sender has no try_send
    struct = structs(model).get(destructor.impl_type or "")
    body = struct.child_by_field_name("body") if struct is not None else None
    if body is None or body.type != "field_declaration_list":
        return None
    handled = _handled_close_variants(model)
    for declaration in body.named_children:
        name = declaration.child_by_field_name("name")
        field_type = struct_field_type(struct, text(name)) if name is not None else None
        match = re.fullmatch(r"(?:[\w:]+::)?(Unbounded)?Sender<\s*(\w+)\s*>", text(field_type)) if field_type is not None else None
        if match and match.group(2) in handled:
            command = match.group(2)
            send = "send" if match.group(1) else "try_send"
            indent = line_indent(ctx.source.text, ctx.source.char_offset_of_byte(statement.start_byte))
            abort = text(statement)
            replacement = f"if self.{text(name)}.{send}({command}::Close).is_err() {{\n{indent}    {abort}\n{indent}}}"
            return Fix(
                f"send `{command}::Close` to the pump and abort it only if the request cannot be queued",
                Applicability.UNSAFE,
                (
                    Edit(
                        ctx.source.char_offset_of_byte(statement.start_byte),
                        ctx.source.char_offset_of_byte(statement.end_byte),
                        replacement,
                    ),
                ),
            )
    return None


def _handled_close_variants(model: RustModel) -> set[str]:
    """The enums with a unit ``Close`` variant that some match of the file handles."""
    handled = set()
    for name in _close_variants(model):
        variant = re.compile(rf"\b{re.escape(name)}::Close\b")
        if any(
            pattern is not None and variant.search(text(pattern))
            for arm in model.nodes_of_type("match_arm")
            for pattern in [arm.child_by_field_name("pattern")]
        ):
            handled.add(name)
    return handled


def _close_variants(model: RustModel) -> set[str]:
    """Names of the enums of this file that have a unit ``Close`` variant."""
    names = set()
    for item in model.nodes_of_type("enum_item"):
        name = item.child_by_field_name("name")
        body = item.child_by_field_name("body")
        if name is None or body is None:
            continue
        if any(
            variant.type == "enum_variant" and variant.named_child_count == 1 and text(variant).strip() == "Close"
            for variant in body.named_children
        ):
            names.add(text(name))
    return names
