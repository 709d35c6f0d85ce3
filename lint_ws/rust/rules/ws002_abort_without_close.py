"""WS002 abort-without-close (Rust): a task that drives a connection half is hard-aborted
(``JoinHandle::abort``, ``AbortHandle::abort``, ``JoinSet::abort_all``) as the
connection's teardown, with no graceful close on that path.

Aborts reached from a destructor are WS003's; aborts in tests are test scaffolding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from lint_ws.findings import Applicability, Edit, Fix
from lint_ws.rust.model import (
    abort_call_parts,
    RustModel,
    after_failed_send,
    base_expression,
    is_task_handle,
    local_binding,
    reachable_from_drop,
    spawn_calls,
    task_is_pump,
)
from lint_ws.rust.syntax import ancestors, callee_path, enclosing, descendants_of_type, method_call_parts, text, walk

RULE_ID = "WS002"

ABORT_CALL = re.compile(rb"\.\s*abort(?:_all)?\s*\(\s*\)")
# A timer in the condition (or select! arm) guarding an abort: the graceful join ran out of time.
TIMERS = frozenset({"timeout", "timeout_at", "sleep", "sleep_until"})


def check(ctx) -> Iterator:
    if not ABORT_CALL.search(ctx.source.encoded):  # no task abort: spare building the model
        return
    model = ctx.model.expanded
    original = ctx.model.encoded
    destructor_path = reachable_from_drop(model)
    for call in model.nodes_of_type("call_expression"):
        parts = abort_call_parts(call)
        if parts is None:
            continue
        receiver = parts[0]
        function = model.function_at(call)
        if model.in_test(call) or (function is not None and function.node.id in destructor_path):
            continue
        if not is_task_handle(model, receiver) or not task_is_pump(ctx, model, receiver):
            continue
        if after_failed_send(call) or _after_timed_out_join(model, call, original) or _closes_gracefully(ctx, model, function.node if function else None, call, receiver, original):
            continue
        name = text(receiver)
        message = (
            f"`{name}.{parts[1]}()` kills a task driving a connection half as teardown, with no graceful "
            "close on this path: its queued messages are lost and the peer sees a reset instead of a Close frame"
        )
        related = [(spawn, "the aborted task is spawned here") for spawn in spawn_calls(model, receiver)[:1]]
        yield ctx.report(RULE_ID, call, message, related=related, fix=_bounded_join_fix(ctx, call, parts))


GRACE_SECONDS = 5


def _bounded_join_fix(ctx, call: Node, parts: tuple[Node, str]) -> Fix | None:
    """Replace ``h.abort()`` by a join bounded by a timeout that aborts only on timeout.

    Only where that compiles: ``h`` is a ``let mut`` JoinHandle from a spawn, and the abort
    runs in async code (an ``async fn`` or ``async`` block, not a closure)."""
    receiver, method = parts
    if method != "abort" or receiver.type != "identifier":
        return None
    binding = local_binding(text(receiver), receiver)
    declaration = binding.pattern_owner if binding is not None else None
    if (
        declaration is None
        or declaration.type != "let_declaration"
        or not any(child.type == "mutable_specifier" for child in declaration.children)
        or binding.value is None
        or not any(_is_spawn(spawn) for spawn in descendants_of_type(binding.value, "call_expression"))
        or "abort_handle" in text(binding.value)
        or not _in_async_code(call)
    ):
        return None
    name = text(receiver)
    replacement = (
        f"if tokio::time::timeout(std::time::Duration::from_secs({GRACE_SECONDS}), &mut {name}).await.is_err() "
        f"{{ {name}.abort(); }}"
    )
    start = ctx.source.char_offset_of_byte(call.start_byte)
    end = ctx.source.char_offset_of_byte(call.end_byte)
    return Fix(
        f"join `{name}` for up to {GRACE_SECONDS} s and abort it only if it does not finish",
        Applicability.UNSAFE,
        (Edit(start, end, replacement),),
    )


def _in_async_code(node: Node) -> bool:
    for ancestor in ancestors(node):
        if ancestor.type == "async_block":
            return True
        if ancestor.type == "closure_expression":
            return False
        if ancestor.type == "function_item":
            modifiers = next((child for child in ancestor.children if child.type == "function_modifiers"), None)
            return modifiers is not None and "async" in text(modifiers).split()
    return False


def _after_timed_out_join(model: RustModel, call: Node, original: bytes) -> bool:
    """Whether the abort only runs once a timer beat the graceful join: inside
    ``if timeout(..).await.is_err()``, a ``match`` on a timeout, or a timer ``select!`` arm."""
    child = call
    for ancestor in ancestors(call):
        if ancestor.type in ("function_item", "closure_expression"):
            return False
        guard = None
        if ancestor.type in ("if_expression", "while_expression") and child != ancestor.child_by_field_name("condition"):
            guard = ancestor.child_by_field_name("condition")
        elif ancestor.type == "match_expression":
            guard = ancestor.child_by_field_name("value")
        elif ancestor.type == "block" and child.type == "expression_statement" and _is_select_body(ancestor, original):
            guard = _select_arm_future(child)
        if guard is not None and _mentions_timer(guard):
            return True
        child = ancestor
    return False


def _mentions_timer(guard: Node) -> bool:
    """Whether ``guard`` waits on a timer: ``timeout(d, &mut h).await``, ``sleep(d)``, or a
    variable bound to one (``let res = timeout(..).await; if res.is_err() {..}``)."""
    for node in walk(guard):
        if _inside_nested_code(node, guard):
            continue
        if node.type == "call_expression" and _is_timer_call(node):
            return True
        if node.type == "identifier":
            binding = local_binding(text(node), node)
            if binding is not None and binding.value is not None:
                value = base_expression(binding.value)
                if value.type == "call_expression" and _is_timer_call(value):
                    return True
    return False


def _is_timer_call(call: Node) -> bool:
    parts = method_call_parts(call)
    name = parts[1] if parts is not None else (callee_path(call) or "").rsplit("::", 1)[-1]
    return name in TIMERS


def _inside_nested_code(node: Node, outer: Node) -> bool:
    """Whether ``node`` sits in a closure or async block within ``outer`` (code run elsewhere)."""
    for ancestor in ancestors(node):
        if ancestor == outer:
            return False
        if ancestor.type in ("closure_expression", "async_block"):
            return True
    return False


def _is_select_body(block: Node, original: bytes) -> bool:
    """The block an expanded ``select!`` became: the original text before it ends in ``select!``."""
    before = original[max(0, block.start_byte - 64) : block.start_byte].rstrip()
    return before.endswith(b"select!") or before.endswith(b"select_biased!")


def _select_arm_future(handler: Node) -> Node | None:
    """For a handler statement of an expanded ``select!``, the future its arm waits on."""
    head = handler.prev_named_sibling
    if head is None or head.type != "expression_statement" or not head.named_children:
        return None
    assignment = head.named_children[0]
    if assignment.type != "assignment_expression":
        return None
    return assignment.child_by_field_name("right")


def _closes_gracefully(ctx, model: RustModel, function: Node | None, abort: Node, receiver: Node, original: bytes) -> bool:
    """Whether the connection is closed gracefully on the abort's path: the function (or a
    function it calls, anywhere in the project) closes it or sends a ``Close``, a join waits
    with a deadline, or the abort comes after another task that closes the connection when
    it ends was awaited (a ``select!`` arm on it, or ``task.await``)."""
    if function is None:
        return False
    from lint_ws.rust.summary import summarize_body

    context = ctx.function(abort)
    body = summarize_body(function.child_by_field_name("body") or function)
    if ctx.crate.body_closes(context, body) or any(
        call[0] == "path" and call[1].rsplit("::", 1)[-1] in ("timeout", "timeout_at") for call in body["calls"]
    ):
        return True
    aborted = {spawn.id for spawn in spawn_calls(model, receiver)}
    for spawn in descendants_of_type(function, "call_expression"):
        if spawn.id in aborted or not _is_spawn(spawn):
            continue
        arguments = spawn.child_by_field_name("arguments")
        if arguments is None or not ctx.crate.body_closes(context, summarize_body(arguments)):
            continue
        declaration = enclosing(spawn, "let_declaration")
        pattern = declaration.child_by_field_name("pattern") if declaration is not None else None
        if pattern is not None and _awaited_before(text(pattern).split()[-1], abort, original):
            return True
    return False


def _awaited_before(name: str, abort: Node, original: bytes) -> bool:
    """Whether the task ``name`` was awaited on the abort's path: the ``select!`` arm that
    holds the abort waits on it, or ``name.await`` / ``(&mut name).await`` came before."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    child = abort
    for ancestor in ancestors(abort):
        if ancestor.type in ("function_item", "closure_expression"):
            return False
        if ancestor.type == "block" and child.type == "expression_statement" and _is_select_body(ancestor, original):
            future = _select_arm_future(child)
            return future is not None and word.search(text(future)) is not None
        if ancestor.type == "block":
            for statement in ancestor.named_children:
                if statement.start_byte >= child.start_byte:
                    break
                if any(word.search(text(a)) for a in descendants_of_type(statement, "await_expression")):
                    return True
        child = ancestor
    return False


def _is_spawn(call: Node) -> bool:
    parts = method_call_parts(call)
    name = parts[1] if parts is not None else (callee_path(call) or "").rsplit("::", 1)[-1]
    return name in ("spawn", "spawn_local", "spawn_blocking")
