"""WS001 try-send-disconnect (Rust): the queue-full outcome of ``try_send`` tears the
connection down (disconnect, close, abort, cancel, registry removal, ``break``/``return``
out of the connection loop, ``?`` out of the connection task)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from tree_sitter import Node

from lint_ws.findings import Applicability, Edit, Fix
from lint_ws.rust.crate import FULL_QUEUE_SENDS, Function
from lint_ws.rust.model import (
    BOUNDARIES,
    CLOSED,
    FULL,
    FullBranch,
    RustModel,
    base_expression,
    boundary,
    carried,
    feeds_a_pump,
    if_let_branches,
    is_datagram_socket,
    local_binding,
    match_branches,
    outcome_kind,
    outcome_uses,
    pattern_binds,
    references_to_binding,
    returned,
)
from lint_ws.rust.summary import call_record, summarize_body
from lint_ws.rust.syntax import ancestors, descendants_of_type, line_indent, method_call_parts, text, walk

RULE_ID = "WS001"

# `TrySendError` in scope as the enum of a channel crate with a `Full(T)` variant.
TRY_SEND_ERROR_IMPORT = re.compile(
    r"\buse\s+(?:::)?(?:tokio|flume|crossbeam_channel|crossbeam|async_channel)\b[^;]*\bTrySendError\b(?!\s+as\b)[^;]*;"
)
LOOPS = ("loop_expression", "while_expression", "for_expression")
HELPER_DEPTH = 3
PANICS = frozenset({"expect", "unwrap"})


class Teardown(NamedTuple):
    node: Node
    label: str


def check(ctx) -> Iterator:
    # The names this file would have to call; a file with none is spared the walk.
    sends = [name for name in FULL_QUEUE_SENDS if name in ctx.source.text]
    names = frozenset(name for name in ctx.crate.full_error_names if name in ctx.source.text)
    if not sends and not names:
        return
    model = ctx.model.expanded
    original = ctx.model.encoded
    reported: set[tuple[int, int]] = set()  # teardowns already reported
    for call in model.nodes_of_type("call_expression") if sends else ():
        parts = method_call_parts(call)
        if parts is None or parts[1] not in FULL_QUEUE_SENDS or is_datagram_socket(model, parts[0], ctx.crate, ctx.function(call)):
            continue
        analysis = _Analysis(ctx, model, original, call)
        found = analysis.teardown_on_full()
        if found is not None:
            reported.add((found[1].node.start_byte, found[1].node.end_byte))
            yield _report(ctx, analysis, found, f"`{''.join(text(parts[0]).split())}.{parts[1]}(..)`: a full queue")
    for call in model.nodes_of_type("call_expression") if names else ():
        callee = _callee_name(call)
        if callee is None or text(callee) not in names:
            continue
        record = call_record(call)
        source = ctx.crate.reached_full_error(ctx.function(call), record) if record is not None else None
        if source is None:
            continue
        analysis = _Analysis(ctx, model, original, call, propagated=True)
        found = analysis.teardown_on_full()
        # A send whose queue's owner is closed up the chain is reported at the send itself.
        if found is not None and (found[1].node.start_byte, found[1].node.end_byte) not in reported:
            reported.add((found[1].node.start_byte, found[1].node.end_byte))
            function = ''.join(text(call.child_by_field_name("function")).split())
            yield _report(ctx, analysis, found, f"`{function}(..)` fails on a full queue ({source}), and that error")


def _callee_name(call: Node) -> Node | None:
    """The name a call is written with: ``send`` of ``socket.send(..)`` or ``Socket::send(..)``."""
    function = call.child_by_field_name("function")
    if function is not None and function.type == "field_expression":
        return function.child_by_field_name("field")
    if function is not None and function.type == "scoped_identifier":
        return function.child_by_field_name("name")
    return function if function is not None and function.type == "identifier" else None


def _report(ctx, analysis: _Analysis, found: tuple[FullBranch | None, Teardown], subject: str):
    branch, teardown = found
    lumped = "" if branch is None or branch.explicit else ", Full lumped together with Closed"
    message = (
        f"{subject} tears the connection down ({teardown.label}{lumped}); "
        "a briefly slow client is disconnected instead of getting backpressure or missing one message"
    )
    related = [(teardown.node, "teardown on a full queue")]
    if branch is not None:
        label = "queue-full outcome handled here" if branch.explicit else "every send error, Full included, handled here"
        related.append((branch.outcome, label))
    # The arm added for Full names the channel crate's error: not the type a helper returns.
    fix = _fix(ctx, branch) or (None if analysis.adapted or analysis.propagated else _full_arm_fix(ctx, branch))
    # At the method name: in a call chain over several lines, that is the send's line.
    return ctx.report(RULE_ID, _callee_name(analysis.call), message, related=related, fix=fix)


class _Analysis:
    def __init__(self, ctx, model: RustModel, original: bytes, call: Node, propagated: bool = False):
        self.ctx = ctx
        self.model = model
        self.original = original
        self.call = call
        self.propagated = propagated  # a project function whose Err can be a full queue's
        self.adapted = False  # the outcome went through `map_err` & co. before being matched
        self.teardowns = _Teardowns(ctx, ctx.function(call))

    def teardown_on_full(self) -> tuple[FullBranch | None, Teardown] | None:
        panic = None if self.propagated else self._panics_on_full()
        if panic is not None:
            return None, panic
        for use in self._outcome_uses():
            # The outcome may be the value of a `match` arm or a block's tail that a `?` takes.
            parent = carried(use).parent
            if parent is None:
                continue
            if parent.type == "try_expression":
                if self._connection_loop_around(use) is not None:
                    return None, Teardown(parent, "`?` propagates the error out of the connection task")
                teardown = None if self.propagated else self._owner_closed_by_caller()
                if teardown is not None:
                    return None, teardown
                continue
            for branch in self._full_branches(use):
                teardown = self._teardown_in(branch)
                if teardown is not None:
                    return branch, teardown
        return None

    def _panics_on_full(self) -> Teardown | None:
        """``queue.try_send(m).expect(..)`` (or ``unwrap``) into the queue a pump drains: a
        full queue panics, which ends the program or task that holds the connection."""
        outcome = self.call
        while outcome.parent is not None and outcome.parent.type == "parenthesized_expression":
            outcome = outcome.parent
        field = outcome.parent
        call = field.parent if field is not None and field.type == "field_expression" else None
        if call is None or call.type != "call_expression" or text(field.child_by_field_name("field")) not in PANICS:
            return None
        if not feeds_a_pump(self.model, method_call_parts(self.call)[0]):
            return None
        return Teardown(call, f"`{text(field.child_by_field_name('field'))}` panics on a full queue of the connection's pump")

    def _owner_closed_by_caller(self) -> Teardown | None:
        """``self.queue.try_send(..)?`` in a method whose error reaches, through ``self.m()``
        calls of the same type that return or ``?`` it, a caller that tears ``self`` down on
        that error: the queue's own owner is closed because the queue was full."""
        receiver = method_call_parts(self.call)[0]
        owner = receiver.child_by_field_name("value") if receiver.type == "field_expression" else None
        function = self.model.function_at(self.call)
        if owner is None or text(owner) != "self" or function is None or function.impl_type is None:
            return None
        if boundary(self.call) != function.node:
            return None
        return self._closing_caller(function, HELPER_DEPTH, {function.node.id})

    def _closing_caller(self, function, depth: int, seen: set[int]) -> Teardown | None:
        for call in self._self_calls_to(function):
            caller = self.model.function_at(call)
            if caller is None:
                continue
            outcome = call
            while outcome.parent is not None and outcome.parent.type in ("await_expression", "parenthesized_expression"):
                outcome = outcome.parent
            parent = carried(outcome).parent
            if parent is not None and parent.type == "try_expression" or returned(outcome, caller.node):
                if depth > 0 and caller.node.id not in seen and boundary(call) == caller.node:
                    teardown = self._closing_caller(caller, depth - 1, seen | {caller.node.id})
                    if teardown is not None:
                        return teardown
                continue
            for branch in self._full_branches(outcome):
                for node in descendants_of_type(branch.node, "call_expression"):
                    parts = method_call_parts(node)
                    if parts is None or text(parts[0]) != "self":
                        continue
                    label = self.teardowns.of_call(node)
                    if label is not None:
                        return Teardown(node, f"the error reaches `{caller.name}`, which tears this connection down: {label}")
        return None

    def _self_calls_to(self, function) -> Iterator[Node]:
        for call in self.model.nodes_of_type("call_expression"):
            parts = method_call_parts(call)
            if parts is None or parts[1] != function.name or text(parts[0]) != "self":
                continue
            caller = self.model.function_at(call)
            if caller is not None and caller.impl_type == function.impl_type:
                yield call

    # --- where the outcome goes ---------------------------------------------------------

    def _outcome_uses(self) -> list[Node]:
        uses, self.adapted = outcome_uses(self.call)
        return uses

    def _full_branches(self, use: Node) -> Iterator[FullBranch]:
        parent = use.parent
        if parent.type == "match_expression" and parent.child_by_field_name("value") == use:
            yield from match_branches(parent)
        elif parent.type == "let_condition" and parent.child_by_field_name("value") == use:
            yield from if_let_branches(parent)
        elif parent.type == "field_expression" and parent.parent is not None and parent.parent.type == "call_expression":
            field = parent.child_by_field_name("field")
            method = text(field) if field is not None else ""
            if method in ("is_err", "is_ok"):
                yield from self._predicate_branches(parent.parent, failing=method == "is_err")

    def _predicate_branches(self, predicate: Node, failing: bool) -> Iterator[FullBranch]:
        node = predicate
        while node.parent is not None and node.parent.type in ("unary_expression", "parenthesized_expression"):
            if node.parent.type == "unary_expression" and text(node.parent).startswith("!"):
                failing = not failing
            node = node.parent
        # `peers.retain(|_, tx| tx.try_send(m).is_ok())`: a failed send removes the peer.
        closure = node.parent
        if closure is not None and closure.type == "closure_expression" and not failing:
            retain = _retain_call(closure)
            if retain is not None:
                yield FullBranch(retain, predicate, explicit=False)
                return
        for ancestor in ancestors(node):
            if ancestor.type == "if_expression":
                condition = ancestor.child_by_field_name("condition")
                if condition is None or not _contains(condition, node):
                    return
                branch = ancestor.child_by_field_name("consequence" if failing else "alternative")
                if branch is not None:
                    yield FullBranch(branch, predicate, explicit=False)
                elif not failing:
                    drain = self._drained_and_put_back(ancestor.child_by_field_name("consequence"))
                    if drain is not None:
                        yield FullBranch(drain, predicate, explicit=False)
                return
            if ancestor.type not in ("binary_expression", "parenthesized_expression", "unary_expression"):
                return

    def _drained_and_put_back(self, success: Node | None) -> Node | None:
        """``for (id, peer) in peers.drain() { if peer.try_send(m).is_ok() { keep(peer) } }``:
        every peer leaves the collection and only the ones whose send succeeded are handed
        back, so a failed send, Full included, evicts the peer. The ``drain`` call, or None."""
        parts = method_call_parts(self.call)
        receiver = base_expression(parts[0]) if parts is not None else None
        if success is None or receiver is None or receiver.type != "identifier":
            return None
        name = text(receiver)
        loop = next((a for a in ancestors(self.call) if a.type in LOOPS or a.type in BOUNDARIES), None)
        if loop is None or loop.type != "for_expression" or not pattern_binds(loop.child_by_field_name("pattern"), name):
            return None
        iterable = loop.child_by_field_name("value")
        parts = method_call_parts(iterable) if iterable is not None and iterable.type == "call_expression" else None
        if parts is None or parts[1] != "drain":
            return None
        handed_back = any(
            text(identifier) == name and identifier.parent is not None and identifier.parent.type == "arguments"
            for identifier in descendants_of_type(success, "identifier")
        )
        return iterable if handed_back else None

    # --- what the Full branch does ------------------------------------------------------

    def _teardown_in(self, branch: FullBranch) -> Teardown | None:
        if branch.node.type == "call_expression" and _retain_call_name(branch.node):
            return Teardown(branch.node, "`retain` removes the peer from the registry")
        parts = method_call_parts(branch.node) if branch.node.type == "call_expression" else None
        if parts is not None and parts[1] == "drain":
            return Teardown(branch.node, "the peer drained from the collection is put back only when the send succeeds")
        if _falls_back_to_awaited_send(branch.node):
            return None
        # A match in a `retain` closure: an arm that yields `false` evicts the peer.
        if text(branch.node).strip() == "false":
            match = next((a for a in ancestors(branch.node) if a.type == "match_expression"), None)
            closure = match.parent if match is not None else None
            if closure is not None and closure.type == "closure_expression":
                retain = _retain_call(closure)
                if retain is not None:
                    return Teardown(retain, "`retain` removes the peer from the registry")
        for node in walk(branch.node):
            teardown = self._teardown_at(node)
            if teardown is not None and self._on_full_path(teardown.node, branch.node):
                return teardown
        return None

    def _teardown_at(self, node: Node) -> Teardown | None:
        if node.type == "break_expression":
            target = _break_target(node)
            if target is not None and _contains(target, self.call) and target.type != "for_expression" and self._is_connection_loop(target):
                return Teardown(node, "`break` leaves the connection loop")
            return None
        if node.type == "return_expression":
            if boundary(node) == boundary(self.call) and self._connection_loop_around(self.call) is not None:
                return Teardown(node, "`return` ends the connection task")
            return None
        if node.type == "call_expression":
            if self._acts_on_payload(node) or self.propagated and not self._acts_on_caller(node):
                return None
            label = self.teardowns.of_call(node)
            return Teardown(node, label) if label else None
        if node.type == "scoped_identifier" and text(node).endswith("Message::Close"):
            return Teardown(node, "a Close frame is sent")
        return None

    def _acts_on_caller(self, call: Node) -> bool:
        """For a helper's error: ``call`` tears down a value of the calling code (``self``,
        a local such as a list of peers to drop) or the value the failing call was made on,
        not one handed in by its own caller (a peer's ``other.close()``)."""
        parts = method_call_parts(call)
        torn = _root(parts[0]) if parts is not None else None
        if torn is None or torn.type != "identifier":
            return True  # `disconnect(id)`, `self.remove_socket(id)`
        own = method_call_parts(self.call)
        if own is not None and text(torn) == text(_root(own[0])):
            return True
        binding = local_binding(text(torn), call)
        return binding is None or binding.value is not None or binding.pattern_owner is not None

    def _acts_on_payload(self, call: Node) -> bool:
        """``tx.try_send(conn.clone())`` then ``conn.close()``: the queue was handing over a new
        connection, and closing it refuses admission; no established session is torn down."""
        parts = method_call_parts(call)
        arguments = self.call.child_by_field_name("arguments")
        if parts is None or arguments is None:
            return False
        name = _receiver_name(parts[0])
        return bool(name) and any(text(identifier) == name for identifier in descendants_of_type(arguments, "identifier"))

    def _on_full_path(self, teardown: Node, branch: Node) -> bool:
        """False when a condition inside the branch routes only Closed (or a failed fallback
        send) to ``teardown``."""
        child = teardown
        for ancestor in ancestors(teardown):
            if ancestor == branch:
                return True
            if ancestor.type == "if_expression":
                condition = text(ancestor.child_by_field_name("condition") or ancestor)
                in_consequence = child == ancestor.child_by_field_name("consequence")
                if in_consequence and CLOSED.search(condition) and not FULL.search(condition):
                    return False
                if not in_consequence and FULL.search(condition):
                    return False
            if ancestor.type == "match_arm" and child == ancestor.child_by_field_name("value"):
                pattern = text(ancestor.child_by_field_name("pattern") or ancestor)
                if outcome_kind(pattern) in ("closed", "ok"):
                    return False
            child = ancestor
        return True

    def _connection_loop_around(self, node: Node) -> Node | None:
        for ancestor in ancestors(node):
            if ancestor.type in BOUNDARIES:
                return None
            if ancestor.type in ("loop_expression", "while_expression") and self._is_connection_loop(ancestor):
                return ancestor
        return None

    def _is_connection_loop(self, loop: Node) -> bool:
        """A loop that waits on I/O (``.await``, ``select!``) in code that handles a connection."""
        waits = any(True for _ in descendants_of_type(loop, "await_expression")) or b"select!" in self.original[
            loop.start_byte : loop.end_byte
        ]
        if not waits:
            return False
        # What the loop does to a connection, directly or through the project's calls: it
        # receives from one, sends to one or tears one down (closes it, stops its task,
        # removes it from a registry: an HTTP body loop that closes the session on a Close
        # packet), or the queue it fills is one a pump of the connection drains.
        crate = self.ctx.crate
        context = self.ctx.function(loop)
        body = summarize_body(loop)
        return (
            crate.body_receives(context, body)
            or crate.body_sends(context, body)
            or crate.body_tears_down(context, body)
            or feeds_a_pump(self.model, method_call_parts(self.call)[0])
        )


def _retain_call_name(call: Node) -> bool:
    parts = method_call_parts(call)
    return parts is not None and parts[1] in ("retain", "retain_mut")


def _retain_call(closure: Node) -> Node | None:
    arguments = closure.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    return call if call is not None and call.type == "call_expression" and _retain_call_name(call) else None


def _falls_back_to_awaited_send(branch: Node) -> bool:
    for call in descendants_of_type(branch, "call_expression"):
        parts = method_call_parts(call)
        if parts is None:
            continue
        if parts[1] in ("send_timeout", "reserve", "send_async") or (
            parts[1] == "send" and call.parent is not None and call.parent.type == "await_expression"
        ):
            return True
    return False


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _break_target(node: Node) -> Node | None:
    label = next((child for child in node.named_children if child.type == "label"), None)
    for ancestor in ancestors(node):
        if ancestor.type in BOUNDARIES:
            return None
        if ancestor.type in LOOPS:
            if label is None:
                return ancestor
            own = next((child for child in ancestor.named_children if child.type == "label"), None)
            if own is not None and text(own) == text(label):
                return ancestor
    return None


class _Teardowns:
    """What ends a connection, asked of the crate (``Crate.teardown``): a call that closes
    one, stops its task, removes a peer from a registry, or reaches a project function that
    does; or an entry put on a local list whose items the function later removes from a
    registry (``dead.push(id)``, then ``for id in dead { peers.remove(&id) }``)."""

    def __init__(self, ctx, own: Function | None):
        self.ctx = ctx
        self.own = own  # the function the send is in: calling it again is no teardown

    def of_call(self, call: Node, depth: int = 2) -> str | None:
        record = call_record(call)
        if record is None:
            return None
        label = self.ctx.crate.teardown(self.ctx.function(call), record, self.own)
        if label is None and depth > 0 and self._queued_for_removal(call, depth - 1):
            return "the peer is queued for removal from the registry"
        return label

    def _queued_for_removal(self, call: Node, depth: int) -> bool:
        parts = method_call_parts(call)
        if parts is None or parts[1] not in ("push", "push_back", "insert"):
            return False
        listed = base_expression(parts[0])
        binding = local_binding(text(listed), listed) if listed.type == "identifier" else None
        declaration = binding.pattern_owner if binding is not None else None
        if declaration is None or declaration.type != "let_declaration":
            return False
        return any(
            self._removes_items(reference, depth)
            for reference in references_to_binding(text(listed), declaration)
            if reference.start_byte >= call.end_byte
        )

    def _removes_items(self, reference: Node, depth: int) -> bool:
        """``for id in dead { registry.remove(&id) }`` (a call in the body that tears down,
        given a loop variable) or ``registry.retain(|id, _| !dead.contains(id))``."""
        for ancestor in ancestors(reference):
            if ancestor.type == "for_expression":
                value, body = ancestor.child_by_field_name("value"), ancestor.child_by_field_name("body")
                if value is None or body is None or not _contains(value, reference):
                    return False
                names = {text(n) for n in descendants_of_type(ancestor.child_by_field_name("pattern"), "identifier")}
                return any(
                    any(text(n) in names for n in descendants_of_type(inner.child_by_field_name("arguments"), "identifier"))
                    and self.of_call(inner, depth) is not None
                    for inner in descendants_of_type(body, "call_expression")
                )
            if ancestor.type == "closure_expression":
                arguments = ancestor.parent
                call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
                return call is not None and call.type == "call_expression" and self.of_call(call, depth) is not None
            if ancestor.type in ("block", "let_declaration", "expression_statement"):
                return False
        return False


def _root(receiver: Node) -> Node:
    """The value a receiver hangs off: ``self`` of ``self.conn.lock()``."""
    node = base_expression(receiver)
    while node.type == "field_expression" and node.child_by_field_name("value") is not None:
        node = base_expression(node.child_by_field_name("value"))
    return node


def _receiver_name(receiver: Node) -> str:
    node = base_expression(receiver)
    if node.type == "identifier":
        return text(node)
    if node.type == "field_expression":
        field = node.child_by_field_name("field")
        return text(field) if field is not None else ""
    return ""


# --- the fix ------------------------------------------------------------------------------

def _fix(ctx, branch: FullBranch | None) -> Fix | None:
    """Drop the message: the whole body of an explicit Full branch (every step of its
    teardown: flags set, aborts, an error returned) becomes a log line, followed by the
    value the send's success gives where the construct's value is used."""
    if branch is None or not branch.explicit:
        return None
    owner = branch.node.parent
    construct = owner.parent.parent if owner is not None and owner.type == "match_arm" else owner
    if construct is None or construct.type not in ("match_expression", "if_expression"):
        return None
    value = _success_value(construct) if _value_used(construct) else ""
    if value is None:
        return None
    text_ = ctx.source.text
    start = ctx.source.char_offset_of_byte(branch.node.start_byte)
    end = ctx.source.char_offset_of_byte(branch.node.end_byte)
    log = _log_line(text_)
    if branch.node.type == "block":
        indent = line_indent(text_, start)
        inner = indent + "    "
        tail = f"\n{inner}{value}" if value else ""
        # The opening line keeps its trailing comment.
        opening = text_[start:end].split("\n", 1)[0] if "\n" in text_[start:end] else "{"
        replacement = f"{opening}\n{inner}{log};{tail}\n{indent}}}"
    else:
        replacement = f"{{ {log}; {value} }}" if value else log
    return Fix(
        "drop this message with a log line instead of tearing the connection down",
        Applicability.UNSAFE,
        (Edit(start, end, replacement),),
    )


def _full_arm_fix(ctx, branch: FullBranch | None) -> Fix | None:
    """Give Full its own lossy arm ahead of an arm that lumps it with Closed, where the
    file has the channel crate's ``TrySendError`` enum in scope."""
    if branch is None or branch.explicit or branch.node.parent is None or branch.node.parent.type != "match_arm":
        return None
    arm = branch.node.parent
    match = arm.parent.parent if arm.parent is not None else None
    if match is None or match.type != "match_expression":
        return None
    value = _success_value(match) if _value_used(match) else ""
    if value is None or not TRY_SEND_ERROR_IMPORT.search(ctx.source.text):
        return None
    offset = ctx.source.char_offset_of_byte(arm.start_byte)
    indent = line_indent(ctx.source.text, offset)
    if ctx.source.text[ctx.source.text.rfind("\n", 0, offset) + 1 : offset] != indent:
        return None  # the arm does not start its line
    log = _log_line(ctx.source.text)
    body = f"{{ {log}; {value} }}" if value else log
    insertion = f"Err(TrySendError::Full(_)) => {body},\n{indent}"
    return Fix(
        "handle Full on its own: drop this message with a log line, keep the teardown for Closed",
        Applicability.UNSAFE,
        (Edit(offset, offset, insertion),),
    )


# What a send's success arm gives that a dropped message may give too: unit, or a constant.
_PLAIN_SUCCESS = re.compile(r"Ok\(\s*\(\s*\)\s*\)|Ok\((?:true|false)\)|true|false|None")
_UNIT = re.compile(r"\(\s*\)|\{\s*\}")


def _value_used(construct: Node) -> bool:
    """Whether the value of a ``match``/``if`` is used: it is not a statement of its block,
    nor the tail of a function body that returns nothing."""
    statement = construct.parent
    if statement is None or statement.type != "expression_statement":
        return True
    if statement.children[-1].type == ";":
        return False
    block = statement.parent
    if block is None or block.type != "block" or block.named_children[-1] != statement:
        return False  # a block-like expression amid statements: unit by the language's rules
    function = block.parent
    return function is None or function.type != "function_item" or function.child_by_field_name("return_type") is not None


def _success_value(construct: Node) -> str | None:
    """The value the send's ``Ok`` arm gives, when a dropped message may give it too:
    ``""`` for unit, ``Ok(())`` or a constant; None when there is no such arm."""
    if construct.type != "match_expression":
        return None
    body = construct.child_by_field_name("body")
    for arm in body.named_children if body is not None else ():
        pattern = arm.child_by_field_name("pattern")
        value = arm.child_by_field_name("value")
        if pattern is None or value is None or not text(pattern).startswith("Ok("):
            continue
        code = text(value)
        if _UNIT.fullmatch(code):
            return ""
        return code if _PLAIN_SUCCESS.fullmatch(code) else None
    return None


def _log_line(source: str) -> str:
    message = '"outbound queue full; message dropped"'
    if "tracing::" in source or "use tracing" in source:
        return f"tracing::warn!({message})"
    if "log::" in source or "use log" in source:
        return f"log::warn!({message})"
    return f"eprintln!({message})"
