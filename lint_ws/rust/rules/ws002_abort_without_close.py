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
    callees,
    is_task_handle,
    local_binding,
    reachable_from_drop,
    references_to_binding,
    spawn_calls,
    task_is_pump,
)
from lint_ws.rust.syntax import ancestors, callee_path, descendants_of_type, enclosing, line_indent, method_call_parts, text, walk

RULE_ID = "WS002"

ABORT_CALL = re.compile(rb"\.\s*abort(?:_all)?\s*\(\s*\)")
# A timer in the condition (or select! arm) guarding an abort: the graceful join ran out of time.
TIMERS = frozenset({"timeout", "timeout_at", "sleep", "sleep_until"})


def check(ctx) -> Iterator:
    if not ABORT_CALL.search(ctx.source.encoded) and b"JoinSet" not in ctx.source.encoded:
        return  # no task abort and no JoinSet to drop: spare building the model
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
        if not is_task_handle(model, receiver, ctx) or not task_is_pump(ctx, model, receiver):
            continue
        if after_failed_send(ctx, call) or _after_timed_out_join(model, call, original) or _closes_gracefully(ctx, model, function.node if function else None, call, receiver, original):
            continue
        if function is not None and _opt_in_kill(ctx, model, function, receiver):
            continue
        name = text(receiver)
        message = (
            f"`{name}.{parts[1]}()` kills a task driving a connection half as teardown, with no graceful "
            "close on this path: its queued messages are lost and the peer sees a reset instead of a Close frame"
        )
        related = [(spawn, "the aborted task is spawned here") for spawn in spawn_calls(model, receiver)[:1]]
        yield ctx.report(RULE_ID, call, message, related=related, fix=_graceful_stop_fix(ctx, model, call, parts))
    yield from _dropped_join_sets(ctx, model, original, destructor_path)


# What may be done with a JoinSet that is still dropped with its tasks running: spawning
# into it and asking its size. Anything else (joining, aborting, moving it) decides itself.
_SET_FILLERS = frozenset({"spawn", "spawn_local", "spawn_on", "spawn_local_on", "spawn_blocking", "spawn_blocking_on", "len", "is_empty"})
_NEW_JOIN_SET = re.compile(r"(?:[\w:]+::)?JoinSet(?:::<[^>]*>)?::(?:new|default)\(\s*\)")


def _dropped_join_sets(ctx, model: RustModel, original: bytes, destructor_path) -> Iterator:
    """A local ``JoinSet`` that pumps are spawned into and that is only ever dropped: the
    drop at the end of its scope aborts every task in it, with no graceful close on the
    path. A set that is joined, aborted explicitly, returned or handed on is not this."""
    for declaration in model.nodes_of_type("let_declaration"):
        pattern, value = declaration.child_by_field_name("pattern"), declaration.child_by_field_name("value")
        if pattern is not None and pattern.type == "mut_pattern" and pattern.named_children:
            pattern = pattern.named_children[-1]
        if pattern is None or pattern.type != "identifier" or value is None or not _NEW_JOIN_SET.fullmatch(text(value)):
            continue
        function = model.function_at(declaration)
        if function is None or model.in_test(declaration) or function.is_test or function.node.id in destructor_path:
            continue
        uses = _later_uses(text(pattern), declaration)
        if uses is None or not uses:
            continue
        receiver = uses[0]
        if not task_is_pump(ctx, model, receiver) or _closes_gracefully(ctx, model, function.node, receiver, receiver, original):
            continue
        yield ctx.report(
            RULE_ID,
            declaration,
            f"`{text(pattern)}` is dropped at the end of its scope with connection pumps running in it: dropping a "
            "JoinSet aborts every task, so their queued messages are lost and the peers see resets instead of Close frames",
            related=[(uses[0].parent.parent, "a pump is spawned into it here")],
        )


def _later_uses(name: str, declaration: Node) -> list[Node] | None:
    """The receivers of ``name.spawn(..)`` (and size queries) in the declaration's scope
    that refer to it; None when it is used in any other way."""
    uses = []
    for node in references_to_binding(name, declaration):
        field = node.parent
        call = field.parent if field is not None and field.type == "field_expression" else None
        if call is None or call.type != "call_expression" or field.child_by_field_name("value") != node:
            return None
        if text(field.child_by_field_name("field")) not in _SET_FILLERS:
            return None
        if text(field.child_by_field_name("field")).startswith("spawn"):
            uses.append(node)
    return uses


GRACE_SECONDS = 5
# A task that listens to a cancellation token: `token.cancelled()` / `token.is_cancelled()`.
_LISTENS = r"\b{name}\s*\.\s*(?:cancelled|is_cancelled)\s*\("
_LISTENER = re.compile(r"\b(\w+)\s*\.\s*(?:cancelled|is_cancelled)\s*\(")
_NEW_TOKEN = re.compile(r"(?:[\w:]+::)?CancellationToken::new\(\s*\)")
_TOKEN_COPY = re.compile(r"((?:self\.)?\w+)\s*\.\s*(?:clone|child_token)\s*\(\s*\)")


def _graceful_stop_fix(ctx, model: RustModel, call: Node, parts: tuple[Node, str]) -> Fix | None:
    """Cancel the token the aborted task listens to, join the task with a deadline, and
    abort it only if the deadline passes.

    Offered only where that graceful path exists: the task was spawned here (``let mut``
    JoinHandle) with a copy of a cancellation token its body waits on, and the abort runs
    in async code. Without a signal the task listens to, waiting before the abort changes
    nothing but the latency, so there is no fix."""
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
        or "abort_handle" in text(binding.value)
        or not _in_async_code(call)
    ):
        return None
    spawn = next((c for c in descendants_of_type(binding.value, "call_expression") if _is_spawn(c)), None)
    token = _token_listened_to(model, spawn) if spawn is not None else None
    if token is None:
        return None
    cancelled = _cancelled_before(call, token)
    if not cancelled and not _created_here(token, call):
        return None  # cancelling a token the caller handed in could stop more than this task
    name = text(receiver)
    timeout = f"tokio::time::timeout(std::time::Duration::from_secs({GRACE_SECONDS}), &mut {name}).await.is_err()"
    statement = call.parent if call.parent is not None and call.parent.type == "expression_statement" else None
    text_ = ctx.source.text
    offset = ctx.source.char_offset_of_byte(statement.start_byte) if statement is not None else 0
    if statement is not None and not text_[text_.rfind("\n", 0, offset) + 1 : offset].strip():
        # A statement on its own line: written out as the statements a person would write.
        indent = line_indent(text_, offset)
        signal = "" if cancelled else f"{token}.cancel();\n{indent}"
        replacement = f"{signal}if {timeout} {{\n{indent}    {name}.abort();\n{indent}}}"
        target = statement
    else:
        join = f"if {timeout} {{ {name}.abort(); }}"
        replacement = join if cancelled else f"{{ {token}.cancel(); {join} }}"
        target = call
    start = ctx.source.char_offset_of_byte(target.start_byte)
    end = ctx.source.char_offset_of_byte(target.end_byte)
    return Fix(
        f"cancel `{token}`, which `{name}` listens to, join `{name}` for up to {GRACE_SECONDS} s "
        "and abort it only if it does not finish",
        Applicability.UNSAFE,
        (Edit(start, end, replacement),),
    )


def _token_listened_to(model: RustModel, spawn: Node) -> str | None:
    """The token, as this scope names it, whose copy the spawned task waits on: a copy
    (``token.clone()``, ``token.child_token()``) handed to the task's function, or
    captured by its ``async`` block, on which the task calls ``cancelled()``."""
    arguments = spawn.child_by_field_name("arguments")
    future = arguments.named_children[0] if arguments is not None and arguments.named_children else None
    if future is None:
        return None
    if future.type == "async_block":
        for listener in _LISTENER.findall(text(future)):
            source = _copied_from(listener, future)
            if source is not None:
                return source
        return None
    if future.type != "call_expression":
        return None
    passed = future.child_by_field_name("arguments")
    for index, argument in enumerate(passed.named_children if passed is not None else ()):
        match = _TOKEN_COPY.fullmatch(text(argument))
        source = match.group(1) if match else (_copied_from(text(argument), argument) if argument.type == "identifier" else None)
        if source is None:
            continue
        for function in callees(model, future):
            parameter = _parameter_name(function.node, index)
            if parameter is not None and function.body is not None and re.search(
                _LISTENS.format(name=re.escape(parameter)), text(function.body)
            ):
                return source
    return None


def _copied_from(name: str, at: Node) -> str | None:
    """For a local bound to ``token.clone()`` (or ``child_token()``), the token's name."""
    binding = local_binding(name, at)
    if binding is None or binding.value is None:
        return None
    match = _TOKEN_COPY.fullmatch(text(binding.value))
    return match.group(1) if match else None


def _parameter_name(function: Node, index: int) -> str | None:
    parameters = function.child_by_field_name("parameters")
    named = [p for p in parameters.named_children if p.type == "parameter"] if parameters is not None else []
    if index >= len(named):
        return None
    pattern = named[index].child_by_field_name("pattern")
    if pattern is not None and pattern.type == "mut_pattern":
        pattern = pattern.named_children[-1] if pattern.named_children else None
    return text(pattern) if pattern is not None and pattern.type == "identifier" else None


def _created_here(token: str, at: Node) -> bool:
    """Whether ``token`` is a local made by ``CancellationToken::new()`` in this scope."""
    binding = local_binding(token, at)
    return binding is not None and binding.value is not None and bool(_NEW_TOKEN.fullmatch(text(binding.value)))


def _cancelled_before(call: Node, token: str) -> bool:
    """Whether ``token.cancel()`` is an earlier statement of the abort's block."""
    statement = call.parent if call.parent is not None and call.parent.type == "expression_statement" else call
    block = statement.parent
    if block is None or block.type != "block":
        return False
    cancel = re.compile(rf"{re.escape(token)}\s*\.\s*cancel\s*\(\s*\)\s*;?")
    return any(
        sibling.end_byte <= statement.start_byte and cancel.fullmatch(text(sibling))
        for sibling in block.named_children
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
        if arguments is None or not (
            ctx.crate.body_closes(context, summarize_body(arguments)) or _ends_with_the_connection(ctx, model, arguments)
        ):
            continue
        declaration = enclosing(spawn, "let_declaration")
        pattern = declaration.child_by_field_name("pattern") if declaration is not None else None
        if pattern is not None and _awaited_before(text(pattern).split()[-1], abort, original):
            return True
    return False


def _ends_with_the_connection(ctx, model: RustModel, arguments: Node) -> bool:
    """Whether the spawned task ends only once its connection has ended: its body is one
    receive loop over the connection that takes every message (``while let Some(Ok(msg)) =
    stream.next().await``), so it stops on a read error or the end of the stream, and that
    it leaves otherwise only on a received Close frame. A loop that also stops for a reason
    of the application (a pattern that takes only Text frames, a `break` on a command, a
    `?`) ends while the connection may still be open."""
    from lint_ws.rust.summary import summarize_body

    future = arguments.named_children[0] if arguments.named_children else None
    if future is None or future.type != "async_block":
        return False
    loops = [node for node in walk(future) if node.type in _LOOPS and not _inside_nested_code(node, future)]
    if len(loops) != 1 or loops[0].type != "while_expression":
        return False
    loop = loops[0]
    condition = loop.child_by_field_name("condition")
    if condition is None or condition.type != "let_condition":
        return False
    pattern, value = condition.child_by_field_name("pattern"), condition.child_by_field_name("value")
    every_message = re.fullmatch(r"Some\s*\(\s*Ok\s*\(\s*(?:mut\s+)?([a-z_]\w*)\s*\)\s*\)", text(pattern) if pattern else "")
    context = ctx.function(loop)
    if every_message is None or value is None or not ctx.crate.body_receives(context, summarize_body(value)):
        return False
    body = loop.child_by_field_name("body")
    for node in walk(body):
        if _inside_nested_code(node, body):
            continue
        if node.type == "try_expression":
            return False
        leaves = node.type == "return_expression" or (node.type == "break_expression" and _breaks_out_of(node, loop))
        if leaves and not _on_close_frame(ctx, model, node, loop):
            return False
    return True


_LOOPS = ("loop_expression", "while_expression", "for_expression")


def _breaks_out_of(node: Node, loop: Node) -> bool:
    label = next((c for c in node.children if c.type == "label"), None)
    for ancestor in ancestors(node):
        if ancestor.type in _LOOPS:
            return ancestor == loop or label is not None
    return False


def _on_close_frame(ctx, model: RustModel, exit_: Node, loop: Node) -> bool:
    """Whether ``exit_`` is reached only when a Close frame was received: in a ``match`` arm
    or ``if let`` on ``Close``, under ``msg.is_close()``, or under ``f(msg).is_break()``
    where the project's ``f`` breaks only in its ``Close`` arm."""
    child = exit_
    for ancestor in ancestors(exit_):
        if ancestor == loop:
            return False
        if ancestor.type == "match_arm" and child != ancestor.child_by_field_name("pattern"):
            if _names_close(ancestor.child_by_field_name("pattern")):
                return True
        elif ancestor.type == "if_expression" and child == ancestor.child_by_field_name("consequence"):
            condition = ancestor.child_by_field_name("condition")
            if condition is not None and condition.type == "let_condition":
                if _names_close(condition.child_by_field_name("pattern")):
                    return True
            elif condition is not None and condition.type == "call_expression":
                parts = method_call_parts(condition)
                if parts is not None and parts[1] == "is_close":
                    return True
                if parts is not None and parts[1] == "is_break" and _breaks_only_on_close(ctx, model, parts[0]):
                    return True
        child = ancestor
    return False


def _names_close(pattern: Node | None) -> bool:
    return pattern is not None and any(text(i) == "Close" for i in descendants_of_type(pattern, "identifier"))


def _breaks_only_on_close(ctx, model: RustModel, call: Node) -> bool:
    """Whether ``call`` reaches a function of this file whose every ``ControlFlow::Break``
    is returned from a ``Close`` arm of a ``match``."""
    from lint_ws.rust.summary import call_record

    if call.type != "call_expression":
        return False
    record = call_record(call)
    callees = ctx.crate.resolve(ctx.function(call), record) if record is not None else []
    if len(callees) != 1 or callees[0].file != ctx.relative or callees[0].index >= len(model.functions):
        return False
    body = model.functions[callees[0].index].body
    breaks = [
        node for node in descendants_of_type(body, "scoped_identifier", "identifier")
        if text(node) in ("ControlFlow::Break", "Break") and (node.parent is None or node.parent.type != "scoped_identifier")
    ] if body is not None else []
    return bool(breaks) and all(_in_close_arm(node, body) for node in breaks)


def _in_close_arm(node: Node, body: Node) -> bool:
    child = node
    for ancestor in ancestors(node):
        if ancestor == body:
            return False
        if ancestor.type == "match_arm" and child != ancestor.child_by_field_name("pattern") and _names_close(
            ancestor.child_by_field_name("pattern")
        ):
            return True
        child = ancestor
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


def _opt_in_kill(ctx, model: RustModel, function, receiver: Node) -> bool:
    """Whether the abort is a kill switch offered beside a graceful teardown: a public
    method that aborts the task in one of its type's fields, no code of the project calls
    it, and a method of the same type joins that task (awaits it). The teardown the type
    itself provides is the join; the abort runs only when a user of the type asks for a
    hard kill. A type whose only teardown aborts (``pub fn disconnect(&mut self) {
    self.pump.abort() }`` with no join) keeps its finding."""
    field = _self_field(receiver)
    if field is None or function.impl_type is None or function.trait is not None or not _is_public(function.node):
        return False
    context = ctx.function(receiver)
    if context is None or ctx.crate.callers(context) or ctx.crate.calls_itself(context):
        return False
    return any(
        other.impl_type == function.impl_type and other.node.id != function.node.id and _joins_field(other.node, field)
        for other in model.functions
    )


def _self_field(receiver: Node) -> str | None:
    """``task`` for ``self.task``, or for a local bound from it (``if let Some(task) = &self.task``)."""
    expression = base_expression(receiver)
    if expression.type == "identifier":
        binding = local_binding(text(expression), expression)
        if binding is None or binding.value is None:
            return None
        expression = base_expression(binding.value)
    match = re.fullmatch(r"self\s*\.\s*(\w+)", text(expression))
    return match.group(1) if match else None


def _is_public(function: Node) -> bool:
    return any(child.type == "visibility_modifier" for child in function.children)


def _joins_field(method: Node, field: str) -> bool:
    """Whether ``method`` awaits the task held in ``self.field``: ``self.field.await``, or a
    local taken out of it (``let Self { field, .. } = self``, ``match self.field.take()``)."""
    body = method.child_by_field_name("body")
    if body is None:
        return False
    own = re.compile(rf"\bself\s*\.\s*{re.escape(field)}\b")
    names = set()
    for node in walk(body):
        if node.type in ("let_declaration", "let_condition", "match_arm"):
            pattern = node.child_by_field_name("pattern")
            if node.type == "match_arm":
                match = enclosing(node, "match_expression")
                value = match.child_by_field_name("value") if match is not None else None
            else:
                value = node.child_by_field_name("value")
            if pattern is None or value is None:
                continue
            if own.search(text(value)) or (text(value) == "self" and re.search(rf"\b{re.escape(field)}\b", text(pattern))):
                names.update(text(i) for i in descendants_of_type(pattern, "identifier", "shorthand_field_identifier"))
    for awaited in descendants_of_type(body, "await_expression"):
        operand = base_expression(awaited.named_children[0]) if awaited.named_children else None
        if operand is None:
            continue
        if (operand.type == "identifier" and text(operand) in names) or own.fullmatch(text(operand)):
            return True
    return False


def _is_spawn(call: Node) -> bool:
    parts = method_call_parts(call)
    name = parts[1] if parts is not None else (callee_path(call) or "").rsplit("::", 1)[-1]
    return name in ("spawn", "spawn_local", "spawn_blocking")
