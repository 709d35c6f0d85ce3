"""WS004 check-then-send (Rust): a separate closed/open check guards a send.

The connection can close between the check and the send. A send counts when the code
relies on the check: its own error is propagated with ``?``, unwrapped, or dropped as a
statement. A send whose result is matched, mapped, bound, ignored with ``let _``, or
returned is not relying on the check, and neither is a check made under a lock held across
the send (the closing side must take the same lock), ``swap``/``compare_exchange`` (an
atomic claim, not a read) or a check that leads to ``close()`` rather than a send.
No fix is attached: removing the check changes which error callers see, and whether they
depend on it cannot be decided from one file.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import NamedTuple

from tree_sitter import Node

from lint_ws.rust.model import local_binding
from lint_ws.rust.summary import state_reading, variant_path
from lint_ws.rust.syntax import ancestors, descendants_of_type, method_call_parts, text

RULE_ID = "WS004"

SEND_METHODS = frozenset(
    {"send", "send_all", "feed", "start_send", "try_send", "unbounded_send", "write_message", "send_message"}
)
LOCK_METHODS = frozenset({"lock", "write", "read", "lock_owned", "write_owned", "borrow_mut", "try_lock"})
DIVERGING_MACROS = frozenset({"bail", "panic", "unreachable", "todo", "unimplemented"})
ENSURE_MACROS = frozenset({"ensure"})
# Methods on a send's result that deal with its failure.
HANDLING_METHODS = frozenset(
    {"is_err", "is_ok", "ok", "err", "unwrap_or", "unwrap_or_else", "unwrap_or_default",
     "or_else", "inspect_err", "or", "is_some", "is_none"}
)
RELYING_METHODS = frozenset({"unwrap", "expect"})


class Guard(NamedTuple):
    check: Node  # the check the send relies on, reported as the related location
    lock_scope: Node  # the expression whose root a lock guard would have to own


def check(ctx) -> Iterator:
    model = ctx.model.expanded
    for call in model.nodes_of_type("call_expression"):
        parts = method_call_parts(call)
        if parts is None or parts[1] not in SEND_METHODS or not _has_arguments(call):
            continue
        if model.in_test(call) or not _relies_on_success(call) or _sends_close(call):
            continue
        guard = _guard_of(call, ctx)
        if guard is None or _under_lock(guard, call) or _is_channel_send(ctx, call, parts[0]):
            continue
        field = call.child_by_field_name("function").child_by_field_name("field")
        check_text = " ".join(text(guard.check).split())
        if len(check_text) > 60:
            check_text = check_text[:57] + "..."
        finding = ctx.report(
            RULE_ID,
            call,
            f"send guarded by a separate connection-state check (`{check_text}`): the connection "
            "can close between the check and the send, so the check gives false confidence; "
            "handle the send's own error instead",
            related=[(guard.check, "the check this send relies on")],
        )
        yield finding._replace(span=ctx.source.span_from_bytes(field.start_byte, call.end_byte))


def _is_channel_send(ctx, call: Node, receiver: Node) -> bool:
    """A send that is not on a connection: into the project's own queue (an mpsc,
    broadcast or watch sender, by the project's types), or a project method that reaches no
    connection's send (a WebRTC data channel's ``send``)."""
    from lint_ws.rust.summary import call_record

    record = call_record(call)
    context = ctx.function(call)
    if ctx.crate.is_channel(context, record[2]):
        return True
    callees = ctx.crate.resolve(context, record)
    if callees:
        return not any(ctx.crate.sends(callee) for callee in callees)
    return not ctx.crate.is_connection(context, record[2])


def _sends_close(call: Node) -> bool:
    """A Close frame (or a Close command to the pump) sent: closing, which is harmless on a
    closed connection, not a send relying on the check."""
    arguments = call.child_by_field_name("arguments")
    return any(n.text.endswith(b"::Close") for n in descendants_of_type(arguments, "scoped_identifier"))


def _has_arguments(call: Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    return arguments is not None and arguments.named_child_count > 0


# --- does the code rely on the send succeeding? ---------------------------------------


def _relies_on_success(call: Node) -> bool:
    """True when the send's error is propagated, unwrapped or dropped rather than handled."""
    top = call
    while True:
        parent = top.parent
        if parent is None:
            break
        if parent.type == "await_expression":
            top = parent
        elif parent.type == "try_expression":
            return True
        elif parent.type == "field_expression" and parent.child_by_field_name("value") == top:
            method_call = parent.parent
            if method_call is None or method_call.type != "call_expression":
                break
            method = text(parent.child_by_field_name("field"))
            if method in RELYING_METHODS:
                return True
            if method in HANDLING_METHODS:
                return False
            top = method_call  # `.map_err(..)`, `.context(..)`: the error still propagates
        else:
            break
    parent = top.parent
    if parent is None:
        return False
    if parent.type in ("let_declaration", "let_condition", "return_expression", "assignment_expression"):
        return False
    if parent.type == "match_expression" and parent.child_by_field_name("value") == top:
        return False
    return not _is_returned(top)


def _is_returned(node: Node) -> bool:
    """True for the tail expression of a function body, through tail ifs, matches and blocks."""
    while True:
        parent = node.parent
        if parent is None:
            return False
        if parent.type == "block":
            if _tail(parent) != node:
                return False
            owner = parent.parent
            if owner is None:
                return False
            if owner.type == "function_item":
                return True
            if owner.type in ("if_expression", "else_clause", "match_arm", "block", "expression_statement"):
                node = owner if owner.type != "else_clause" else owner.parent
                continue
            return False
        if parent.type == "match_arm":
            node = parent.parent.parent if parent.parent is not None else parent  # arm -> block -> match
            if node.type != "match_expression":
                return False
            continue
        if parent.type == "expression_statement" and parent.named_child_count == 1 and parent.child_count == 1:
            # a tail `if`/`match` without `;` is wrapped as a statement
            node = parent
            continue
        return False


def _tail(block: Node) -> Node | None:
    children = [c for c in block.named_children if c.type not in ("line_comment", "block_comment")]
    if not children:
        return None
    last = children[-1]
    if last.type == "expression_statement" and last.children[-1].type == ";":
        return None
    return last


# --- which check guards the send? -----------------------------------------------------
#
# What a check means comes from the crate (``Crate.reading_meaning``): a flag or state
# variant by where the project writes it (on the connection's close or open), a state query
# by what its body returns, a library type's query by its API name. ``At`` is where a check
# is read: the rule's context and the crate's record of the function the check is in.


class At:
    """The crate's record of the function is looked up only when a check asks the crate:
    most conditions read no flag or state, and the lookup builds the crate."""

    def __init__(self, ctx, node: Node):
        self.ctx = ctx
        self.node = node

    @cached_property
    def context(self):  # lint_ws.rust.crate.Function | None
        return self.ctx.function(self.node)


def _guard_of(send: Node, ctx) -> Guard | None:
    at = At(ctx, send)
    child = send
    for parent in ancestors(send):
        if parent.type == "function_item":
            return None
        guard = None
        if parent.type == "if_expression":
            condition = parent.child_by_field_name("condition")
            if child == parent.child_by_field_name("consequence"):
                guard = _condition_guard(condition, at, when_true=True)
            elif child == parent.child_by_field_name("alternative"):
                guard = _condition_guard(condition, at, when_true=False)
        elif parent.type == "match_arm" and child != parent.child_by_field_name("pattern"):
            pattern = parent.child_by_field_name("pattern")
            if _pattern_state(at, pattern, _scrutinee(parent)) == "open":
                guard = Guard(pattern, _scrutinee(parent) or pattern)
        elif parent.type == "block":
            guard = _preceding_guard(parent, child, at)
        if guard is not None:
            return guard
        child = parent
    return None


def _preceding_guard(block: Node, child: Node, at: At) -> Guard | None:
    """The nearest statement before ``child`` in ``block`` after which the connection is open."""
    statements = [c for c in block.named_children]
    index = statements.index(child) if child in statements else -1
    for statement in reversed(statements[:index]):
        node = statement.named_children[0] if statement.type == "expression_statement" and statement.named_children else statement
        guard = None
        if node.type == "if_expression" and node.child_by_field_name("alternative") is None:
            if _diverges(node.child_by_field_name("consequence")):
                guard = _condition_guard(node.child_by_field_name("condition"), at, when_true=False)
        elif node.type == "match_expression":
            guard = _match_guard(node, at)
        elif node.type == "try_expression":
            guard = _helper_guard(node, at)
        elif node.type == "macro_invocation":
            guard = _ensure_guard(node, at)
        if guard is not None:
            return guard
    return None


def _diverges(block: Node | None) -> bool:
    if block is None:
        return False
    if block.type != "block":
        return _is_diverging_expression(block)
    children = [c for c in block.named_children if c.type not in ("line_comment", "block_comment")]
    if not children:
        return False
    last = children[-1]
    if last.type == "expression_statement" and last.named_children:
        last = last.named_children[0]
    return _is_diverging_expression(last)


def _is_diverging_expression(node: Node) -> bool:
    if node.type in ("return_expression", "break_expression", "continue_expression"):
        return True
    if node.type == "macro_invocation":
        return _macro_name(node) in DIVERGING_MACROS
    return False


def _macro_name(macro: Node) -> str:
    name = macro.child_by_field_name("macro")
    return text(name).rsplit("::", 1)[-1] if name is not None else ""


def _condition_guard(condition: Node | None, at: At, when_true: bool) -> Guard | None:
    """The check in ``condition`` if the condition having value ``when_true`` means "open"."""
    if condition is None:
        return None
    while condition.type == "parenthesized_expression" and condition.named_children:
        condition = condition.named_children[0]
    if condition.type == "unary_expression" and text(condition).startswith("!"):
        return _condition_guard(condition.named_children[0], at, not when_true)
    if condition.type == "binary_expression":
        operator = text(condition.child_by_field_name("operator"))
        left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
        if operator == "&&" and when_true or operator == "||" and not when_true:
            return _condition_guard(left, at, when_true) or _condition_guard(right, at, when_true)
    if condition.type == "let_condition":
        pattern = condition.child_by_field_name("pattern")
        value = condition.child_by_field_name("value")
        state = _pattern_state(at, pattern, value)
        return _accept(condition, value, state, when_true) if state else None
    state = _check_state(condition, at)
    if state is None:
        return None
    return _accept(condition, condition, state, when_true)


def _accept(check: Node, subject: Node, state: str, when_true: bool) -> Guard | None:
    return Guard(check, subject) if (state == "open") == when_true else None


def _check_state(node: Node, at: At) -> str | None:
    """"closed"/"open" for a boolean connection-state check being true."""
    if node.type == "identifier":
        binding = local_binding(text(node), node)  # `let closed = flag.load(..); if closed {..}`
        if binding is not None:
            return _check_state(binding.value, at) if binding.value is not None else None
    reading = state_reading(node)
    if reading is None:
        return None
    state = at.ctx.crate.reading_meaning(at.context, reading[0])
    if state is not None and reading[1]:
        return "closed" if state == "open" else "open"
    return state


def _variant_state(at: At, node: Node | None) -> str | None:
    path = variant_path(node) if node is not None and node.type == "scoped_identifier" else None
    return at.ctx.crate.reading_meaning(at.context, ("variants", (path,))) if path is not None else None


def _pattern_state(at: At, pattern: Node | None, subject: Node | None = None) -> str | None:
    """"open"/"closed" for a pattern made only of unit state variants; when ``subject`` (what
    the pattern is matched against) is a stored state, a field such as ``self.state``, also a
    variant whose payload is what the state holds (``State::Connected(connection)``). A
    payload variant of a value just received is an event, not a state."""
    if pattern is not None and pattern.type == "match_pattern":
        pattern = pattern.named_children[0] if pattern.named_children else None
    if pattern is None:
        return None
    stored = subject is not None and _stored_state(subject)
    alternatives = [
        a.child_by_field_name("type") if a.type == "tuple_struct_pattern" and stored else a for a in _alternatives(pattern)
    ]
    states = {_variant_state(at, a) for a in alternatives}
    return states.pop() if len(states) == 1 else None


def _stored_state(subject: Node) -> bool:
    while subject.type in ("reference_expression", "parenthesized_expression") and subject.named_children:
        subject = subject.named_children[-1]
    return subject.type == "field_expression"


def _alternatives(pattern: Node) -> list[Node]:
    if pattern.type != "or_pattern":
        return [pattern]
    return [leaf for child in pattern.named_children for leaf in _alternatives(child)]


def _scrutinee(arm: Node) -> Node | None:
    match = next((a for a in ancestors(arm) if a.type == "match_expression"), None)
    return match.child_by_field_name("value") if match is not None else None


def _match_guard(match: Node, at: At) -> Guard | None:
    """A ``match`` on the state whose closed arm (or catch-all beside an open arm) diverges."""
    subject = match.child_by_field_name("value")
    arms = list(descendants_of_type(match.child_by_field_name("body"), "match_arm"))
    arms = [a for a in arms if _scrutinee(a) is not None and a.parent.parent == match]
    has_open = any(_pattern_state(at, a.child_by_field_name("pattern")) == "open" for a in arms)
    for arm in arms:
        pattern = arm.child_by_field_name("pattern")
        value = arm.child_by_field_name("value")
        state = _pattern_state(at, pattern)
        catch_all = pattern is not None and text(pattern).strip() == "_" and has_open
        if (state == "closed" or catch_all) and _diverges(value):
            return Guard(pattern, subject)
    return None


def _helper_guard(statement: Node, at: At) -> Guard | None:
    """``self.ensure_open()?``: a same-file helper whose body returns early when closed."""
    call = statement.named_children[0] if statement.named_children else None
    if call is None or call.type != "call_expression":
        return None
    parts = method_call_parts(call)
    name = parts[1] if parts is not None else text(call.child_by_field_name("function")).rsplit("::", 1)[-1]
    model = at.ctx.model.expanded
    for function in model.functions_by_name.get(name, []):
        body = function.body
        if body is None:
            continue
        inside = At(at.ctx, body)
        for inner in body.named_children:
            node = inner.named_children[0] if inner.type == "expression_statement" and inner.named_children else inner
            if node.type == "if_expression" and _diverges(node.child_by_field_name("consequence")):
                if _condition_guard(node.child_by_field_name("condition"), inside, when_true=False):
                    return Guard(statement, call)
    return None


def _ensure_guard(macro: Node, at: At) -> Guard | None:
    """``ensure!(cond, err)``: after it, ``cond`` holds."""
    if _macro_name(macro) not in ENSURE_MACROS:
        return None
    tree = next((c for c in macro.children if c.type == "token_tree"), None)
    if tree is None:
        return None
    tokens = tree.children[1:-1]
    comma = next((i for i, t in enumerate(tokens) if t.type == ","), len(tokens))
    if comma == 0:
        return None
    condition_text = macro.text[tokens[0].start_byte - macro.start_byte : tokens[comma - 1].end_byte - macro.start_byte]
    from lint_ws.rust.frontend import parser  # the front end imports the rules' model

    snippet = parser().parse(b"fn f() { (" + condition_text + b"); }")
    expression = next(descendants_of_type(snippet.root_node, "parenthesized_expression"), None)
    if expression is None or _condition_guard(expression, at, when_true=True) is None:
        return None
    return Guard(macro, macro)


# --- atomicity ------------------------------------------------------------------------


def _under_lock(guard: Guard, send: Node) -> bool:
    """True when a lock guard taken before the check is still held at the send."""
    function = next((a for a in ancestors(send) if a.type == "function_item"), None)
    if function is None:
        return False
    for declaration in descendants_of_type(function, "let_declaration"):
        if declaration.start_byte >= guard.check.start_byte:
            break
        value = declaration.child_by_field_name("value")
        if value is None or not _takes_lock(value):
            continue
        scope = declaration.parent
        if scope is None or not _contains(scope, guard.check) or not _contains(scope, send):
            continue
        pattern = declaration.child_by_field_name("pattern")
        name = text(pattern).split()[-1] if pattern is not None else ""
        if not _dropped_between(function, name, declaration, send):
            return True
    return False


def _takes_lock(value: Node) -> bool:
    for call in descendants_of_type(value, "call_expression"):
        parts = method_call_parts(call)
        if parts is not None and parts[1] in LOCK_METHODS:
            return True
    return False


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _dropped_between(function: Node, name: str, start: Node, end: Node) -> bool:
    for call in descendants_of_type(function, "call_expression"):
        if start.end_byte <= call.start_byte < end.start_byte and text(call).replace(" ", "") == f"drop({name})":
            return True
    return False
