"""WS005 no-reconnect (Rust): a client session loop ends for good on a transient failure.

Only loops over a *client* websocket count: one opened in this file with
``connect_async``/``client_async``/``tungstenite::connect`` (and its ``split()`` halves), a
parameter or struct field typed with the client stream (``MaybeTlsStream``), or a parameter
its callers in this file fill with such a socket. Server sockets (``accept_async``, axum's
``WebSocket``) never match: on the server the client is the one that reconnects.

A loop is flagged when it exits — ``break`` out of it, ``return``, ``?`` — on a receive
error, the end of the stream, a Close frame or a failed send (or is a ``while let`` over
the receive, which ends on those), unless something restarts it: an enclosing loop in the
same function, a reconnect after the loop, or callers in this file that all call it from a
loop (followed through functions and methods). A loop that watches a shutdown signal is
owned by a supervisor and not flagged; neither are tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from tree_sitter import Node

from lint_ws.rust.syntax import ancestors, callee_path, descendants_of_type, method_call_parts, text, walk

RULE_ID = "WS005"
TRIGGERS = ("connect_async", "client_async", "tungstenite", "MaybeTlsStream")

LOOPS = ("loop_expression", "while_expression", "for_expression")
# `for` walks a bounded collection or range: a script, not a session that should live on.
SESSION_LOOPS = ("loop_expression", "while_expression")
BOUNDARIES = ("function_item", "closure_expression", "async_block")
RECEIVE_METHODS = frozenset({"next", "try_next", "read", "read_message", "select_next_some"})
SEND_METHODS = frozenset({"send", "send_all", "feed", "flush", "write", "write_message", "send_message"})
CLIENT_TYPE_MARKER = "MaybeTlsStream"
WEBSOCKET_TYPE_MARKERS = ("WebSocketStream", "SplitStream", "SplitSink", "WebSocket")
SHUTDOWN_WORDS = frozenset(
    {"shutdown", "cancel", "cancelled", "canceled", "cancellation", "stop", "quit", "terminate", "kill", "exit", "halt"}
)
SHUTDOWN_CALLS = frozenset({"cancelled", "is_cancelled", "ctrl_c"})
RESTART_WORDS = frozenset({"reconnect", "connect", "retry", "restart", "resubscribe", "reconnecting"})
MAX_CALL_DEPTH = 6
# Methods that hand the same socket on: `connect_async(..).await.unwrap()`, `ws.expect(..)`.
PASS_THROUGH_METHODS = frozenset({"unwrap", "expect", "unwrap_or_else"})
# Accessors between a binding and the socket in it: `self.read.as_mut().unwrap().lock().await`.
ACCESSOR_METHODS = frozenset(
    {"unwrap", "expect", "unwrap_or_else", "as_mut", "as_ref", "lock", "borrow_mut", "get_mut", "write", "clone"}
)
PANICKING_METHODS = frozenset({"unwrap", "expect"})
# Methods that keep a received result's failure as it is (unlike `msg.into_text()`).
RESULT_ADAPTERS = frozenset(
    {"as_ref", "as_mut", "transpose", "map_err", "ok_or", "ok_or_else", "context", "with_context", "err", "ok"}
)


def _is_client_connect(call: Node) -> bool:
    path = callee_path(call)
    if path is None:
        return False
    segments = path.split("::")
    last = segments[-1]
    if last.startswith(("connect_async", "client_async")):
        return True
    return last in ("connect", "client") and any("tungstenite" in s for s in segments[:-1])


@dataclass(frozen=True)
class _Declaration:
    end_byte: int  # the binding is visible after this offset
    scope: Node  # ... inside this block (or function, for parameters)
    names: frozenset[str]
    client: bool  # bound to a client websocket (or one of its halves)


@dataclass(frozen=True)
class Exit:
    node: Node  # the break/return/`?`, or the `while let` condition
    reason: str
    leaves_function: bool  # return/`?`: code after the loop cannot restart it


def check(ctx) -> Iterator:
    analysis = _Analysis(ctx.model.expanded)
    for loop in descendants_of_type(analysis.model.root, *SESSION_LOOPS):
        found = analysis.dead_end(loop)
        if found is None:
            continue
        exit_, network_call = found
        yield ctx.report(
            RULE_ID,
            exit_.node,
            f"client session loop ends for good on {exit_.reason} and nothing reconnects: a network "
            "hiccup or server restart kills this session permanently; wrap the session in a "
            "reconnect loop with backoff",
            related=[(network_call, "the session's connection"), (_loop_keyword(loop), "the loop that ends")],
        )


def _loop_keyword(loop: Node) -> Node:
    return next((c for c in loop.children if c.type in ("loop", "while", "for")), loop)


class _Analysis:
    def __init__(self, model):
        self.model = model
        self._declarations: dict[int, list[_Declaration]] = {}

    # --- what is a client websocket ---------------------------------------------------

    @cached_property
    def aliases(self) -> dict[str, str]:
        aliases = {}
        for item in descendants_of_type(self.model.root, "type_item"):
            name, value = item.child_by_field_name("name"), item.child_by_field_name("type")
            if name is not None and value is not None:
                aliases[text(name)] = text(value)
        return aliases

    def expand_type(self, type_text: str) -> str:
        for _ in range(3):
            for alias, value in self.aliases.items():
                if alias in type_text:
                    type_text = type_text.replace(alias, value)
        return type_text

    @cached_property
    def client_fields(self) -> frozenset[str]:
        fields = set()
        for declaration in descendants_of_type(self.model.root, "field_declaration"):
            name, type_node = declaration.child_by_field_name("name"), declaration.child_by_field_name("type")
            if name is not None and type_node is not None and CLIENT_TYPE_MARKER in self.expand_type(text(type_node)):
                fields.add(text(name))
        return frozenset(fields)

    @cached_property
    def client_returning_functions(self) -> frozenset[str]:
        names = set()
        for function in self.model.functions:
            returned = function.node.child_by_field_name("return_type")
            if returned is not None and CLIENT_TYPE_MARKER in self.expand_type(text(returned)):
                names.add(function.name)
        return frozenset(names)

    def declarations(self, function, depth: int = 0) -> list[_Declaration]:
        """The bindings of ``function`` in source order, each known to be a client socket or not."""
        key = function.node.id
        if key in self._declarations:
            return self._declarations[key]
        declarations: list[_Declaration] = []
        self._declarations[key] = declarations  # recursion guard while callers are followed
        declarations.extend(self._parameters(function, depth))
        body = function.body
        if body is not None:
            for declaration in descendants_of_type(body, "let_declaration"):
                value = declaration.child_by_field_name("value")
                pattern = declaration.child_by_field_name("pattern")
                if value is None or pattern is None or declaration.parent is None:
                    continue
                names = frozenset(text(i) for i in descendants_of_type(pattern, "identifier"))
                client = self._yields_client(value, function, declarations)
                declarations.append(_Declaration(declaration.end_byte, declaration.parent, names, client))
        return declarations

    def is_client_name(self, identifier: Node, function, declarations=None) -> bool:
        """True when the binding ``identifier`` refers to at its position is a client socket."""
        name = text(identifier)
        best = None
        for declaration in declarations if declarations is not None else self.declarations(function):
            if name in declaration.names and declaration.end_byte <= identifier.start_byte:
                if _contains(declaration.scope, identifier) and (best is None or declaration.end_byte > best.end_byte):
                    best = declaration
        return best is not None and best.client

    def _yields_client(self, value: Node, function, declarations) -> bool:
        for call in descendants_of_type(value, "call_expression"):
            if _is_client_connect(call):
                return True
            parts = method_call_parts(call)
            if parts is not None and parts[1] == "split" and self._is_client_receiver(parts[0], function, declarations):
                return True
            if _called_name(call) in self.client_returning_functions:
                return True
        return self._is_client_receiver(value, function, declarations)

    def _parameters(self, function, depth: int) -> list[_Declaration]:
        parameters = function.node.child_by_field_name("parameters")
        if parameters is None:
            return []
        declarations = []
        for index, parameter in enumerate(p for p in parameters.named_children if p.type == "parameter"):
            pattern, type_node = parameter.child_by_field_name("pattern"), parameter.child_by_field_name("type")
            if pattern is None or type_node is None:
                continue
            type_text = self.expand_type(text(type_node))
            client = CLIENT_TYPE_MARKER in type_text
            if not client and any(marker in type_text for marker in WEBSOCKET_TYPE_MARKERS) and depth < MAX_CALL_DEPTH:
                client = self._callers_pass_client(function, index, depth + 1)
            names = frozenset(text(i) for i in descendants_of_type(pattern, "identifier"))
            declarations.append(_Declaration(parameter.end_byte, function.node, names, client))
        return declarations

    def _callers_pass_client(self, function, index: int, depth: int) -> bool:
        for site, caller in self._call_sites(function):
            arguments = site.child_by_field_name("arguments")
            if arguments is None or caller is None:
                continue
            values = arguments.named_children
            if index >= len(values):
                continue
            base = _spine_base(values[index])
            if base is not None and base.type == "identifier":
                if self.is_client_name(base, caller, self.declarations(caller, depth)):
                    return True
        return False

    def _is_client_receiver(self, receiver: Node, function, declarations=None) -> bool:
        while True:
            if receiver.type in ("reference_expression", "parenthesized_expression", "unary_expression"):
                if not receiver.named_children:
                    return False
                receiver = receiver.named_children[-1]
            elif receiver.type in ("await_expression", "try_expression") and receiver.named_children:
                receiver = receiver.named_children[0]
            elif receiver.type == "field_expression" and text(receiver.child_by_field_name("field")).isdigit():
                receiver = receiver.child_by_field_name("value")  # `connect_async(..).await?.0`
            elif receiver.type == "call_expression":
                parts = method_call_parts(receiver)  # `self.read.as_mut().unwrap().lock().await`
                if parts is None or parts[1] not in ACCESSOR_METHODS:
                    return False
                receiver = parts[0]
            else:
                break
        if receiver.type == "identifier":
            return self.is_client_name(receiver, function, declarations)
        if receiver.type == "field_expression":
            value, field = receiver.child_by_field_name("value"), receiver.child_by_field_name("field")
            return value is not None and value.type == "self" and text(field) in self.client_fields
        return False

    def network_call(self, call: Node, function, methods) -> bool:
        parts = method_call_parts(call)
        return parts is not None and parts[1] in methods and self._is_client_receiver(parts[0], function)

    # --- the loop ---------------------------------------------------------------------

    def dead_end(self, loop: Node) -> tuple[Exit, Node] | None:
        function = self.model.function_at(loop)
        if function is None or function.is_test or self.model.in_test(loop):
            return None
        if _enclosing_loop(loop) is not None:
            return None  # an outer loop in this function runs the session again
        if not self.client_fields and not any(d.client for d in self.declarations(function)):
            return None
        calls = list(descendants_of_type(loop, "call_expression"))
        receives = [c for c in calls if self.network_call(c, function, RECEIVE_METHODS)]
        sends = [c for c in calls if self.network_call(c, function, SEND_METHODS)]
        if not receives and not sends:
            return None
        if _watches_shutdown(loop):
            return None
        derived = self._received_names(loop, receives)
        exits = self._exits(loop, receives, sends, derived)
        if not exits:
            return None
        if self._restarted_after(loop, function, exits) or self._restarted_by_callers(function, set()):
            return None
        return exits[0], (receives or sends)[0]

    def _received_names(self, loop: Node, receives: list[Node]) -> set[str]:
        """Names bound to what the loop received: `msg` in `while let Some(msg) = ws.next().await`."""
        derived: set[str] = set()
        for _ in range(4):
            before = len(derived)
            for node in walk(loop):
                binding = _binding(node)
                if binding is None:
                    continue
                pattern, value = binding
                if _network_source(value, receives, (), derived) == "receive":
                    derived.update(text(i) for i in descendants_of_type(pattern, "identifier"))
            if len(derived) == before:
                break
        return derived

    def _exits(self, loop: Node, receives, sends, derived) -> list[Exit]:
        exits: list[Exit] = []
        condition = loop.child_by_field_name("condition") if loop.type == "while_expression" else None
        if condition is not None and condition.type == "let_condition":
            value = condition.child_by_field_name("value")
            pattern = condition.child_by_field_name("pattern")
            if pattern is not None and _network_source(value, receives, (), set()) == "receive":
                ends_on_error = "Ok" in _pattern_words(pattern)
                reason = "a receive error or the end of the stream" if ends_on_error else "the end of the stream"
                exits.append(Exit(condition, f"{reason} (`while let` stops there)", False))
        for node in walk(loop.child_by_field_name("body") or loop):
            if node.type == "break_expression":
                if _break_target(node) != loop:
                    continue
                reason = _transient_branch(node, loop, receives, sends, derived)
                if reason is not None:
                    exits.append(Exit(node, reason, False))
            elif node.type == "return_expression" and _in_same_body(node, loop):
                reason = _transient_branch(node, loop, receives, sends, derived)
                if reason is not None:
                    exits.append(Exit(node, reason, True))
            elif node.type == "try_expression" and _in_same_body(node, loop):
                reason = _network_try(node.named_children[0] if node.named_children else None, receives, sends, derived)
                if reason is not None:
                    exits.append(Exit(node, reason, True))
            elif node.type == "call_expression" and _in_same_body(node, loop):
                parts = method_call_parts(node)
                if parts is not None and parts[1] in PANICKING_METHODS:
                    reason = _network_try(parts[0], receives, sends, derived)
                    if reason is not None:
                        exits.append(Exit(node, f"{reason} (the `{parts[1]}` panics)", True))
        exits.sort(key=lambda e: e.node.start_byte)
        return exits

    def _restarted_after(self, loop: Node, function, exits: list[Exit]) -> bool:
        """A reconnect (or a recursive call) after the loop restarts what a `break` ended."""
        if all(e.leaves_function for e in exits):
            return False
        body = function.body
        for call in descendants_of_type(body, "call_expression"):
            if call.start_byte < loop.end_byte:
                continue
            name = _called_name(call)
            if name is None:
                continue
            words = set(name.lower().split("_"))
            if words & RESTART_WORDS or name == function.name or _is_client_connect(call):
                return True
        return False

    def _restarted_by_callers(self, function, visited: set[int], depth: int = 0) -> bool:
        """True when every call of ``function`` in this file runs inside a loop (transitively)."""
        if depth > MAX_CALL_DEPTH or function.node.id in visited:
            return False
        visited = visited | {function.node.id}
        if function.name in function.calls:
            return True  # it calls itself again: a recursive reconnect
        if self._referenced_as_value(function):
            return True  # handed to a runtime or combinator we cannot follow
        sites = list(self._call_sites(function))
        if not sites:
            return False
        for site, caller in sites:
            if _enclosing_loop(site) is not None or self.model.in_test(site):
                continue  # restarted by a loop, or test support code
            if caller is None or not self._restarted_by_callers(caller, visited, depth + 1):
                return False
        return True

    def _call_sites(self, function) -> Iterator[tuple[Node, object]]:
        """Calls of ``function`` in this file; inside macro arguments (`assert!(f(..))`),
        the called name's token stands for the call."""
        for node in walk(self.model.root):
            if _contains(function.node, node):
                continue
            if node.type == "call_expression" and _called_name(node) == function.name:
                yield node, self.model.function_at(node)
            elif node.type == "identifier" and node.parent is not None and node.parent.type == "token_tree":
                following = node.next_sibling
                if text(node) == function.name and following is not None and text(following).startswith("("):
                    yield node, self.model.function_at(node)

    def _referenced_as_value(self, function) -> bool:
        for identifier in descendants_of_type(self.model.root, "identifier"):
            if text(identifier) != function.name or _contains(function.node, identifier):
                continue
            parent = identifier.parent
            if parent is not None and parent.type == "arguments":
                return True
        return False


# --- syntax helpers -----------------------------------------------------------------


def _spine_base(value: Node) -> Node | None:
    """``ws`` for ``ws``, ``ws?``, ``ws.unwrap()``, ``ws.expect(..).0``, ``&mut ws``, ``ws.await``."""
    while True:
        if value.type == "identifier":
            return value
        if value.type in ("await_expression", "try_expression", "reference_expression", "parenthesized_expression"):
            if not value.named_children:
                return None
            value = value.named_children[-1] if value.type == "reference_expression" else value.named_children[0]
            continue
        if value.type == "field_expression" and text(value.child_by_field_name("field")).isdigit():
            value = value.child_by_field_name("value")
            continue
        if value.type == "call_expression":
            parts = method_call_parts(value)
            if parts is None or parts[1] not in PASS_THROUGH_METHODS:
                return None
            value = parts[0]
            continue
        return None


def _enclosing_loop(node: Node) -> Node | None:
    for parent in ancestors(node):
        if parent.type == "function_item":
            return None
        if parent.type in LOOPS:
            return parent
    return None


def _label(loop: Node) -> str | None:
    label = next((c for c in loop.children if c.type == "label"), None)
    return text(label).lstrip("'") if label is not None else None


def _break_target(node: Node) -> Node | None:
    label = next((c for c in node.children if c.type == "label"), None)
    wanted = text(label).lstrip("'") if label is not None else None
    for parent in ancestors(node):
        if parent.type in ("function_item", "closure_expression", "async_block"):
            return None
        if parent.type in LOOPS and (wanted is None or _label(parent) == wanted):
            return parent
    return None


def _in_same_body(node: Node, loop: Node) -> bool:
    """True when ``node`` leaves the function, not a closure or async block inside the loop."""
    for parent in ancestors(node):
        if parent == loop:
            return True
        if parent.type in BOUNDARIES:
            return False
    return False


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _called_name(call: Node) -> str | None:
    parts = method_call_parts(call)
    if parts is not None:
        return parts[1]
    path = callee_path(call)
    return path.rsplit("::", 1)[-1] if path else None


def _binding(node: Node) -> tuple[Node, Node] | None:
    """(pattern, value) for a let, an `if let`/`while let`, an assignment or a match arm."""
    if node.type in ("let_declaration", "let_condition"):
        pattern, value = node.child_by_field_name("pattern"), node.child_by_field_name("value")
    elif node.type == "assignment_expression":
        pattern, value = node.child_by_field_name("left"), node.child_by_field_name("right")
    elif node.type == "match_arm":
        pattern = node.child_by_field_name("pattern")
        match = next((a for a in ancestors(node) if a.type == "match_expression"), None)
        value = match.child_by_field_name("value") if match is not None else None
    else:
        return None
    if pattern is None or value is None:
        return None
    return pattern, value


def _network_source(expression: Node | None, receives, sends, derived) -> str | None:
    """"receive"/"send" when ``expression`` is, through ``.await``, ``?``, references and
    method calls on it, a receive or send of the connection, or a received value itself."""
    spine = expression
    transformed = False  # a method such as `into_text()` turns a received value into something else
    while spine is not None:
        if spine.type == "identifier":
            return "receive" if text(spine) in derived and not transformed else None
        if spine.type in ("await_expression", "try_expression", "parenthesized_expression", "reference_expression"):
            spine = spine.named_children[-1] if spine.named_children else None
            continue
        if spine.type == "call_expression":
            if spine in sends:
                return "send"
            if spine in receives:
                return "receive"
            parts = method_call_parts(spine)
            if parts is None:
                return None
            transformed = transformed or parts[1] not in RESULT_ADAPTERS
            spine = parts[0]
            continue
        return None
    return None


def _pattern_words(pattern: Node) -> set[str]:
    if pattern.type == "match_pattern" and pattern.named_children:
        pattern = pattern.named_children[0]
    return {text(i) for i in descendants_of_type(pattern, "identifier")}


def _is_catch_all(pattern: Node) -> bool:
    if pattern.type == "match_pattern" and pattern.named_children:
        if pattern.child_by_field_name("condition") is not None:
            return False
        pattern = pattern.named_children[0]
    return pattern.type == "identifier" and not text(pattern)[:1].isupper() or text(pattern).strip() == "_"


def _failure_reason(pattern: Node, about_send: bool) -> str | None:
    words = _pattern_words(pattern)
    if "Close" in words:
        return "a Close frame"
    if "Err" in words:
        return "a failed send" if about_send else "a receive error"
    if "None" in words:
        return "the end of the stream"
    if _is_catch_all(pattern):
        return "a failed send" if about_send else "a receive error or the end of the stream"
    return None


def _transient_branch(exit_node: Node, loop: Node, receives, sends, derived) -> str | None:
    """Why ``exit_node`` is reached, if it is on a network-failure path of this loop."""
    child = exit_node
    for parent in ancestors(exit_node):
        if parent == loop:
            return None
        if parent.type == "match_arm" and child != parent.child_by_field_name("pattern"):
            binding = _binding(parent)
            if binding is not None:
                pattern, value = binding
                source = _network_source(value, receives, sends, derived)
                if source is not None:
                    reason = _failure_reason(pattern, source == "send")
                    if reason is not None:
                        return reason
        elif parent.type == "if_expression":
            reason = _if_failure(parent, child, receives, sends, derived)
            if reason is not None:
                return reason
        elif parent.type == "let_declaration" and child == parent.child_by_field_name("alternative"):
            value = parent.child_by_field_name("value")
            if _network_source(value, receives, sends, derived) == "receive":
                return "a receive error or the end of the stream"
        child = parent
    return None


def _if_failure(if_node: Node, child: Node, receives, sends, derived) -> str | None:
    condition = if_node.child_by_field_name("condition")
    if condition is None:
        return None
    in_consequence = child == if_node.child_by_field_name("consequence")
    in_alternative = child == if_node.child_by_field_name("alternative")
    if condition.type == "let_condition":
        pattern, value = condition.child_by_field_name("pattern"), condition.child_by_field_name("value")
        if pattern is None or value is None:
            return None
        source = _network_source(value, receives, sends, derived)
        if source is None:
            return None
        about_send = source == "send"
        if in_consequence:
            return _failure_reason(pattern, about_send)
        if in_alternative and not _failure_reason(pattern, about_send):
            return "a failed send" if about_send else "a receive error or the end of the stream"
        return None
    if not in_consequence:
        return None
    for call in descendants_of_type(condition, "call_expression"):
        parts = method_call_parts(call)
        if parts is None:
            continue
        receiver, method = parts
        source = _network_source(receiver, receives, sends, derived)
        if method == "is_err" and source == "send":
            return "a failed send"
        if method in ("is_err", "is_none") and source == "receive":
            return "a receive error or the end of the stream"
        if method == "is_close" and source == "receive":
            return "a Close frame"
    return None


def _network_try(operand: Node | None, receives, sends, derived) -> str | None:
    """For ``operand?`` (or ``operand.unwrap()``) on a receive or send of the connection, or on
    a received value itself: what failure exits there."""
    source = _network_source(operand, receives, sends, derived)
    if source == "send":
        return "a failed send"
    return "a receive error" if source == "receive" else None


def _watches_shutdown(loop: Node) -> bool:
    for node in walk(loop):
        if node.type == "call_expression" and _called_name(node) in SHUTDOWN_CALLS:
            return True
        if node.type in ("identifier", "field_identifier"):
            if set(text(node).lower().split("_")) & SHUTDOWN_WORDS:
                return True
    return False
