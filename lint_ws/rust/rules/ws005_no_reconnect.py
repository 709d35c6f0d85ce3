"""WS005 no-reconnect (Rust): a client session loop ends for good on a transient failure.

Only loops over a *client* websocket count: one opened with a library connect
(``connect_async``/``client_async``/``tungstenite::connect``, fastwebsockets' and
reqwest-websocket's) or by a function of the project that opens one and returns it (and
its ``split()`` halves), a parameter or struct field typed with the client stream
(``MaybeTlsStream``), or a parameter its callers in this file fill with such a socket, or a
struct field the crate knows a constructor fills with one (``Crate.client_fields``; then
``self``'s methods that read it, ``self.tick()``, are the client's receives). Server sockets
(``accept_async``, axum's ``WebSocket``) never match: on the server the client is the one
that reconnects.

A loop is flagged when it exits — ``break`` out of it, ``return``, ``?`` — on a receive
error, the end of the stream, a Close frame or a failed send (or is a ``while let`` over
the receive, which ends on those), unless something restarts it: an enclosing loop in the
same function, a reconnect after the loop (a call that opens a client connection, directly
or through the project's functions, or runs the function again), or callers anywhere in
the project that all run it again from a loop (``Crate.restarted``, through resolved calls
across files). Each exit is judged on its own path: a reconnect after the loop restarts
what a `break` ended, never what left the function. Besides the exits on network failures, a
`?` in the loop on any other call that can fail leaves the function and ends the session:
not one on a channel (its other end is gone for good), on a reconnect (the restart's own
retry policy), or on a project function that never fails (``Crate.may_fail``). Watching a
shutdown flag does not make the loop's error exits graceful. Tests are not sessions, and
neither is a session whose end belongs to someone else: a peer that is the program's own
listener, a drain that hands every result to its caller's channel, a reader that a one-shot
``main`` forgets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import NamedTuple

from tree_sitter import Node

from lint_ws.rust.model import SPAWN_FUNCTIONS, base_expression, binding_chain, local_binding
from lint_ws.rust.syntax import ancestors, callee_path, descendants_of_type, enclosing, method_call_parts, text, walk

RULE_ID = "WS005"

LOOPS = ("loop_expression", "while_expression", "for_expression")
# `for` walks a bounded collection or range: a script, not a session that should live on.
SESSION_LOOPS = ("loop_expression", "while_expression")
BOUNDARIES = ("function_item", "closure_expression", "async_block")
RECEIVE_METHODS = frozenset({"next", "try_next", "read", "read_message", "read_frame", "select_next_some"})
SEND_METHODS = frozenset({"send", "send_all", "feed", "flush", "write", "write_message", "write_frame", "send_message"})
CLIENT_TYPE_MARKER = "MaybeTlsStream"
WEBSOCKET_TYPE_MARKERS = ("WebSocketStream", "SplitStream", "SplitSink", "WebSocket")
MAX_CALL_DEPTH = 6
PANICKING_METHODS = frozenset({"unwrap", "expect"})
WRAPPING_CONSTRUCTORS = frozenset({"new", "from", "wrap"})
# Stream combinators that run until the stream ends: the combinator form of a `while let`.
STREAM_DRAINS = frozenset({"for_each", "try_for_each", "for_each_concurrent", "try_for_each_concurrent", "forward"})
# The drains whose closure sees each received result whole, its errors included.
WHOLE_ITEM_DRAINS = frozenset({"for_each", "for_each_concurrent"})
# Methods that keep a received result's failure as it is (unlike `msg.into_text()`).
RESULT_ADAPTERS = frozenset(
    {"as_ref", "as_mut", "transpose", "map_err", "ok_or", "ok_or_else", "context", "with_context", "err", "ok"}
)
# Channel sends that hand an item to whoever holds the receiving end.
CHANNEL_SENDS = frozenset({"send", "unbounded_send", "try_send", "send_async", "blocking_send"})
# A loopback URL or socket address with its port: `ws://localhost:8080/socket`, `127.0.0.1:8080`.
LOOPBACK_PORT = re.compile(r"^(?:wss?://)?(?:localhost|127\.0\.0\.1|\[::1\])(?::(\d+))(?:[/?#]|$)")
BOUND_PORT = re.compile(r":(\d+)$")


def _is_client_connect(call: Node, tungstenite_imports: frozenset[str]) -> bool:
    """``connect_async(..)``, ``client_async(..)``, ``tungstenite::connect(..)``, or a bare
    ``connect(..)`` imported from tungstenite."""
    path = callee_path(call)
    if path is None:
        return False
    segments = path.split("::")
    last = segments[-1]
    if last.startswith(("connect_async", "client_async")):
        return True
    if last not in ("connect", "client"):
        return False
    return any("tungstenite" in s for s in segments[:-1]) or (len(segments) == 1 and last in tungstenite_imports)


class Exit(NamedTuple):
    node: Node  # the break/return/`?`, or the `while let` condition
    reason: str
    leaves_function: bool  # return/`?`: code after the loop cannot restart it
    network: bool = True  # on the connection's failure, not on another call's (`self.save(..)?`)


def check(ctx) -> Iterator:
    analysis = _Analysis(ctx)
    for loop in analysis.model.nodes_of_type(*SESSION_LOOPS):
        found = analysis.dead_end(loop)
        if found is None:
            continue
        exit_, network_call = found
        if exit_.network:
            consequence = "a network hiccup or server restart kills this session permanently; wrap the session in a reconnect loop with backoff"
        else:
            consequence = "one such failure kills this session permanently; handle the error inside the loop, or wrap the session in a reconnect loop with backoff"
        yield ctx.report(
            RULE_ID,
            exit_.node,
            f"client session loop ends for good on {exit_.reason} and nothing reconnects: {consequence}",
            related=[(network_call, "the session's connection"), (_loop_keyword(loop), "the loop that ends")],
        )
    for call in analysis.model.nodes_of_type("call_expression"):
        drained = analysis.drained_client(call)
        if drained is not None:
            method = call.child_by_field_name("function").child_by_field_name("field")
            yield ctx.report(
                RULE_ID,
                method,
                f"client session `{text(method)}` ends for good when the stream ends (a Close or a "
                "dropped connection) and nothing reconnects: a network hiccup or server restart kills "
                "this session permanently; wrap the session in a reconnect loop with backoff",
                related=[(drained, "the session's connection")],
            )


def _loop_keyword(loop: Node) -> Node:
    return next((c for c in loop.children if c.type in ("loop", "while", "for")), loop)


class _Analysis:
    def __init__(self, ctx):
        self.ctx = ctx
        self.model = ctx.model.expanded
        self._client: dict[tuple[int, int], bool] = {}

    # --- what is a client websocket ---------------------------------------------------

    @cached_property
    def aliases(self) -> dict[str, str]:
        aliases = {}
        for item in self.model.nodes_of_type("type_item"):
            name, value = item.child_by_field_name("name"), item.child_by_field_name("type")
            if name is not None and value is not None:
                aliases[text(name)] = text(value)
        return aliases

    def expand_type(self, type_text: str) -> str:
        """``type_text`` with this file's type aliases replaced, whole names only (``Socket``
        must not match inside ``WebSocket``)."""
        for _ in range(3):
            for alias, value in self.aliases.items():
                type_text = re.sub(rf"\b{re.escape(alias)}\b", lambda _match, value=value: value, type_text)
        return type_text

    @cached_property
    def tungstenite_imports(self) -> frozenset[str]:
        """Names this file imports from a tungstenite crate: `use tungstenite::{connect, Message};`."""
        names = set()
        for declaration in self.model.nodes_of_type("use_declaration"):
            if "tungstenite" in text(declaration):
                names.update(text(i) for i in descendants_of_type(declaration, "identifier"))
        return frozenset(names)

    @cached_property
    def client_returning_functions(self) -> frozenset[str]:
        names = set()
        for function in self.model.functions:
            returned = function.node.child_by_field_name("return_type")
            if returned is not None and CLIENT_TYPE_MARKER in self.expand_type(text(returned)):
                names.add(function.name)
        return frozenset(names)

    def is_client(self, expression: Node, depth: int = 0) -> bool:
        """Whether ``expression`` (a receiver such as ``read``, ``self.ws``, ``reader.lock().await``)
        is a client websocket or one of its halves, by where its name was bound."""
        key = (expression.start_byte, expression.end_byte)
        if key in self._client:
            return self._client[key]
        self._client[key] = False  # recursion guard while split halves and callers are followed
        result = depth <= MAX_CALL_DEPTH and self._is_client(expression, depth)
        self._client[key] = result
        return result

    def _is_client(self, expression: Node, depth: int) -> bool:
        if self._yields_client(expression, depth):
            return True
        if base_expression(expression).type == "self":
            # a value holding a client connection in a field: its methods that reach the
            # connection's I/O are the connection's (`self.tick()` reading `self.ws`)
            context = self.ctx.function(expression)
            impl = context.impl if context is not None else None
            return any(owner == impl for owner, _ in self.ctx.crate.client_fields)
        while expression.type == "field_expression" and text(expression.child_by_field_name("field")).isdigit():
            expression = expression.child_by_field_name("value")  # `socket.0` of a (socket, response) pair
        for binding in binding_chain(self.model, expression):
            if binding.struct is not None and (binding.struct, binding.name) in self.ctx.crate.client_fields:
                return True  # filled from a client connection by the type's constructor's callers
            if binding.type is not None:
                type_text = self.expand_type(text(binding.type))
                if CLIENT_TYPE_MARKER in type_text:
                    return True
                if binding.value is None and binding.struct is None and any(m in type_text for m in WEBSOCKET_TYPE_MARKERS):
                    return self._callers_pass_client(expression, binding.name, depth + 1)
            if binding.value is not None and self._yields_client(binding.value, depth):
                return True
        return False

    def _yields_client(self, value: Node, depth: int) -> bool:
        """A value that opens a client socket, splits one, or calls a function returning one
        (anywhere in the project: a function that opens a client connection and returns a
        connection type)."""
        for call in descendants_of_type(value, "call_expression"):
            if _is_client_connect(call, self.tungstenite_imports) or _called_name(call) in self.client_returning_functions:
                return True
            if self._returns_client(call):
                return True
            parts = method_call_parts(call)
            if parts is not None and parts[1] == "split" and self.is_client(parts[0], depth + 1):
                return True
            path = callee_path(call)
            if path is not None and path.rsplit("::", 1)[-1] in WRAPPING_CONSTRUCTORS:
                arguments = call.child_by_field_name("arguments")
                if arguments is not None and any(self.is_client(a, depth + 1) for a in arguments.named_children):
                    return True  # `FeedStream::new(conn)`: a stream wrapped around the socket
        return False

    def _returns_client(self, call: Node) -> bool:
        from lint_ws.rust.crate import is_library_connect
        from lint_ws.rust.summary import call_record

        record = call_record(call)
        if record is None:
            return False
        crate = self.ctx.crate
        context = self.ctx.function(call)
        if record[0] == "path" and is_library_connect(crate.full_path(context, record[1])):
            return True
        return any(
            crate.opens_client(callee) and crate.is_connection_type(callee.returns) for callee in crate.resolve(context, record)
        )

    def _callers_pass_client(self, use: Node, parameter_name: str, depth: int) -> bool:
        """For a parameter typed only as a websocket: whether a caller in this file passes a client."""
        function = self.model.function_at(use)
        parameters = function.node.child_by_field_name("parameters") if function is not None else None
        if parameters is None:
            return False
        positional = [p for p in parameters.named_children if p.type == "parameter"]
        index = next(
            (i for i, p in enumerate(positional) if parameter_name in text(p.child_by_field_name("pattern") or p).split()),
            None,
        )
        if index is None:
            return False
        for site, _caller in self._call_sites(function):
            arguments = site.child_by_field_name("arguments")
            values = arguments.named_children if arguments is not None else []
            if index < len(values) and self.is_client(values[index], depth):
                return True
        return False

    def network_call(self, call: Node, methods) -> bool:
        """A receive (``methods`` is RECEIVE_METHODS) or send on a client connection: the
        library's method, or a method of a project handle of the client connection whose
        code (anywhere in the project) receives or sends on it."""
        parts = method_call_parts(call)
        if parts is None or not self.is_client(parts[0]):
            return False
        if parts[1] in methods:
            return True
        from lint_ws.rust.summary import call_record

        crate = self.ctx.crate
        callees = crate.resolve(self.ctx.function(call), call_record(call))
        reaches = crate.receives if methods is RECEIVE_METHODS else crate.sends
        return any(reaches(callee) for callee in callees)

    # --- the loop ---------------------------------------------------------------------

    def dead_end(self, loop: Node) -> tuple[Exit, Node] | None:
        function = self.model.function_at(loop)
        if function is None or function.is_test or self.model.in_test(loop):
            return None
        if _enclosing_loop(loop) is not None:
            return None  # an outer loop in this function runs the session again
        calls = list(descendants_of_type(loop, "call_expression"))
        receives = [c for c in calls if self.network_call(c, RECEIVE_METHODS)]
        sends = [c for c in calls if self.network_call(c, SEND_METHODS)]
        if not receives and not sends:
            return None
        derived = self._received_names(loop, receives)
        if _answers_once(loop, derived):
            return None
        exits = self._exits(loop, receives, sends, derived)
        if not exits:
            return None
        network_call = (receives or sends)[0]
        connection = method_call_parts(network_call)[0]
        if self._talks_to_own_listener(connection) or _program_ends_first(loop, connection, function):
            return None
        if self._restarted_by_callers(function, loop):
            return None
        exits = self._restarted_after(loop, function, exits)
        if not exits:
            return None
        return exits[0], network_call

    def drained_client(self, call: Node) -> Node | None:
        """For ``read.for_each(..)`` / ``read.forward(..)`` on a client stream that nothing
        restarts (the combinator form of a `while let` loop): the drained stream."""
        parts = method_call_parts(call)
        if parts is None or parts[1] not in STREAM_DRAINS:
            return None
        stream = parts[0]
        while stream.type == "call_expression" and method_call_parts(stream) is not None:
            stream = method_call_parts(stream)[0]  # `read.map(..).filter(..)` drains `read`
        function = self.model.function_at(call)
        if function is None or function.is_test or self.model.in_test(call) or not self.is_client(stream):
            return None
        if _enclosing_loop(call) is not None or self._talks_to_own_listener(stream):
            return None
        if _program_ends_first(call, stream, function):
            return None
        if self._forwards_items_to_caller(call, function) or self._restarted_by_callers(function, call):
            return None
        drain = Exit(call, "the end of the stream", False)
        if not self._restarted_after(call, function, [drain]):
            return None
        return stream

    # --- sessions whose end is someone else's to handle ----------------------------------

    @cached_property
    def listened_ports(self) -> frozenset[str]:
        """Ports this file's listeners bind by a literal address: ``TcpListener::bind("127.0.0.1:8080")``."""
        ports = set()
        for call in self.model.nodes_of_type("call_expression"):
            path = callee_path(call)
            if path is None or not path.endswith("Listener::bind"):
                continue
            address = self._string_argument(call)
            port = BOUND_PORT.search(address) if address is not None else None
            if port is not None:
                ports.add(port.group(1))
        return frozenset(ports)

    def _talks_to_own_listener(self, connection: Node) -> bool:
        """Whether ``connection`` was opened to a loopback port a listener of this program binds:
        the peer is the program itself (a demo talking to its own server), which cannot come
        back without the program, so there is nothing to reconnect to."""
        if not self.listened_ports:
            return False
        for connect in self._opening_connects(connection):
            url = self._string_argument(connect)
            port = LOOPBACK_PORT.match(url) if url is not None else None
            if port is not None and port.group(1) in self.listened_ports:
                return True
        return False

    def _opening_connects(self, expression: Node, depth: int = 0) -> Iterator[Node]:
        """The library connect calls ``expression``'s connection was opened by, through its
        bindings and ``split()``."""
        if depth > MAX_CALL_DEPTH:
            return
        for binding in binding_chain(self.model, expression):
            if binding.value is None:
                continue
            for call in descendants_of_type(binding.value, "call_expression"):
                if _is_client_connect(call, self.tungstenite_imports):
                    yield call
                parts = method_call_parts(call)
                if parts is not None and parts[1] == "split":
                    yield from self._opening_connects(parts[0], depth + 1)

    def _string_argument(self, call: Node) -> str | None:
        """The first argument of ``call`` when it is a string literal, directly or through a
        local or a constant of this file."""
        arguments = call.child_by_field_name("arguments")
        if arguments is None or not arguments.named_children:
            return None
        value = base_expression(arguments.named_children[0])
        if value.type == "identifier":
            binding = local_binding(text(value), value)
            value = binding.value if binding is not None and binding.value is not None else self.constants.get(text(value))
        if value is None or value.type != "string_literal":
            return None
        return "".join(text(c) for c in value.named_children if c.type == "string_content")

    @cached_property
    def constants(self) -> dict[str, Node]:
        constants = {}
        for item in self.model.nodes_of_type("const_item", "static_item"):
            name, value = item.child_by_field_name("name"), item.child_by_field_name("value")
            if name is not None and value is not None:
                constants[text(name)] = value
        return constants

    def _forwards_items_to_caller(self, drain: Node, function) -> bool:
        """``read.for_each(|item| .. on_message.send(item))`` where ``on_message`` is a parameter
        of the function: every received item, its errors and the Close included, goes to the
        caller's channel or callback, so the caller sees the session end and owns the restart."""
        parts = method_call_parts(drain)
        if parts[1] not in WHOLE_ITEM_DRAINS:
            return False  # the `try_` drains hand the closure only what was received successfully
        source = parts[0]
        while source.type == "call_expression" and method_call_parts(source) is not None:
            source, adapter = method_call_parts(source)
            if adapter not in RESULT_ADAPTERS:
                return False  # `read.filter_map(..)`: the items are no longer what was received
        arguments = drain.child_by_field_name("arguments")
        closure = next((a for a in arguments.named_children if a.type == "closure_expression"), None) if arguments else None
        parameters = closure.child_by_field_name("parameters") if closure is not None else None
        if parameters is None:
            return False
        items = {text(i) for i in descendants_of_type(parameters, "identifier")}
        caller_given = _parameter_names(function.node)
        for call in descendants_of_type(closure, "call_expression"):
            parts = method_call_parts(call)
            if parts is not None and parts[1] in CHANNEL_SENDS:
                target = parts[0]
            elif parts is None and call.child_by_field_name("function").type == "identifier":
                target = call.child_by_field_name("function")  # a callback the caller passed
            else:
                continue
            chain = binding_chain(self.model, target)
            if not chain or chain[-1].name not in caller_given or chain[-1].value is not None:
                continue
            call_arguments = call.child_by_field_name("arguments")
            if call_arguments is not None and any(_carries_whole_result(a, items) for a in call_arguments.named_children):
                return True
        return False

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
                    derived.update(_bound_names(pattern))
            if len(derived) == before:
                break
        return derived

    def _exits(self, loop: Node, receives, sends, derived) -> list[Exit]:
        """The loop's exits on network failures in source order, then its `?` exits on
        other failing calls (each leaves the function, so it ends the session just as well)."""
        exits: list[Exit] = []
        failed_calls: list[Exit] = []
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
                operand = node.named_children[0] if node.named_children else None
                reason = _network_try(operand, receives, sends, derived)
                if reason is not None:
                    exits.append(Exit(node, reason, True))
                elif operand is not None and (reason := self._failing_try(operand)) is not None:
                    failed_calls.append(Exit(node, reason, True, network=False))
            elif node.type == "call_expression" and _in_same_body(node, loop):
                parts = method_call_parts(node)
                if parts is not None and parts[1] in PANICKING_METHODS:
                    reason = _network_try(parts[0], receives, sends, derived)
                    if reason is not None:
                        exits.append(Exit(node, f"{reason} (the `{parts[1]}` panics)", True))
        exits.sort(key=lambda e: e.node.start_byte)
        return exits + failed_calls

    def _failing_try(self, operand: Node) -> str | None:
        """For ``operand?`` in a session loop, not on the connection's own I/O: the failure it
        leaves the loop on, when it is a call that can fail. A closed channel is its other
        end gone for good; a reconnect (a library connect, or a project function that opens
        or returns a client connection) is the restart itself, whose giving up is a matter
        of its retry policy, not of a session cut short."""
        from lint_ws.rust.crate import is_library_connect
        from lint_ws.rust.summary import call_record, failing_call

        call = failing_call(operand)
        record = call_record(call) if call is not None else None
        if record is None:
            return None
        crate, context = self.ctx.crate, self.ctx.function(call)
        if record[0] == "method" and crate.is_channel(context, record[2]):
            return None
        if record[0] == "path" and is_library_connect(crate.full_path(context, record[1])):
            return None
        callees = crate.resolve(context, record)
        if any(crate.opens_client(c) or CLIENT_TYPE_MARKER in crate.expand(c.returns) for c in callees):
            return None
        if callees and not any(crate.may_fail(callee) for callee in callees):
            return None
        leaves = next((a for a in ancestors(call) if a.type in BOUNDARIES), None)  # what the `?` returns from
        returned = leaves.child_by_field_name("return_type") if leaves is not None and leaves.type == "function_item" else None
        failure = "a `None`" if returned is not None and text(returned).startswith("Option") else "an error"
        return f"{failure} from `{_call_text(call)}` (`?` leaves the loop)"

    def _restarted_after(self, loop: Node, function, exits: list[Exit]) -> list[Exit]:
        """The exits a reconnect after ``loop`` does not restart: a call that opens a client
        connection (here or in the function it reaches) or runs this function again restarts
        what a `break` ended, never what left the function (`return`, `?`)."""
        if all(e.leaves_function for e in exits):
            return exits
        from lint_ws.rust.crate import is_library_connect
        from lint_ws.rust.summary import call_record

        crate = self.ctx.crate
        context = self.ctx.function(loop)
        for call in descendants_of_type(function.body, "call_expression"):
            if call.start_byte < loop.end_byte:
                continue
            record = call_record(call)
            if record is None:
                continue
            if record[0] == "path" and is_library_connect(crate.full_path(context, record[1])):
                return [e for e in exits if e.leaves_function]
            if any(callee is context or crate.opens_client(callee) for callee in crate.resolve(context, record)):
                return [e for e in exits if e.leaves_function]
        return exits

    def _restarted_by_callers(self, function, session: Node) -> bool:
        """Whether every way into ``function`` anywhere in the project runs it again. When
        the session runs in a task the function spawns and forgets, the function returns
        without waiting for it: a framework that runs the function (it is handed over as a
        value) learns nothing of the session's end, so only calls count."""
        context = self.ctx.crate.context(self.ctx.relative, self.model.function_index(function))
        return context is not None and self.ctx.crate.restarted(context, handed=not _in_detached_task(session))

    def _call_sites(self, function) -> Iterator[tuple[Node, object]]:
        """Calls of ``function`` in this file, outside it."""
        for site in self._call_sites_by_name.get(function.name, ()):
            if not _contains(function.node, site):
                yield site, self.model.function_at(site)

    @cached_property
    def _call_sites_by_name(self) -> dict[str, list[Node]]:
        """Called name -> its call sites in source order; inside macro arguments
        (`assert!(f(..))`), the called name's token stands for the call."""
        sites: dict[str, list[Node]] = {}
        for node in self.model.nodes_of_type("call_expression", "identifier"):
            if node.type == "call_expression":
                name = _called_name(node)
            elif node.parent is not None and node.parent.type == "token_tree":
                following = node.next_sibling
                name = text(node) if following is not None and text(following).startswith("(") else None
            else:
                name = None
            if name is not None:
                sites.setdefault(name, []).append(node)
        return sites


# --- syntax helpers -----------------------------------------------------------------


def _in_detached_task(node: Node) -> bool:
    """Whether ``node`` runs in a task spawned with its handle thrown away
    (``spawn_local(async move { .. });``, ``let _ = tokio::spawn(..)``)."""
    for ancestor in ancestors(node):
        if ancestor.type == "function_item":
            return False
        if ancestor.type not in ("async_block", "closure_expression"):
            continue
        arguments = ancestor.parent
        call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
        if call is None or call.type != "call_expression" or _called_name(call) not in SPAWN_FUNCTIONS:
            continue
        holder = call.parent
        if holder is not None and holder.type == "expression_statement":
            return True
        if holder is not None and holder.type == "let_declaration" and text(holder.child_by_field_name("pattern") or holder) == "_":
            return True
    return False


def _program_ends_first(session: Node, connection: Node, function) -> bool:
    """A session in a task that ``main`` spawns and forgets, after which ``main`` only makes
    requests through the other handles its connect returned (``let (browser, handler) =
    ..``) and returns: the task dies with the program when those requests are done, and a
    connection lost earlier fails them loudly. The session is a one-shot job's driver, not a
    long-lived session."""
    if function.name != "main" or function.impl_type is not None or not _in_detached_task(session):
        return False
    body = function.body
    spawned = next((a for a in ancestors(session) if a.parent == body), None)
    root = _root_name(connection)
    binding = local_binding(root, connection) if root is not None else None
    owner = binding.pattern_owner if binding is not None else None
    if spawned is None or owner is None or owner.type != "let_declaration" or owner.parent != body:
        return False
    handles = _bound_names(owner.child_by_field_name("pattern")) - {root}
    for statement in body.named_children:
        if statement.start_byte <= spawned.start_byte:
            continue
        if any(node.type in LOOPS for node in walk(statement)):
            return False
        for call in descendants_of_type(statement, "call_expression"):
            if _root_name(call) not in handles and not _request_argument(call, handles):
                return False  # anything else may run for as long as it likes
        if statement.type == "let_declaration":
            handles |= _bound_names(statement.child_by_field_name("pattern"))  # `let page = browser.new_page(..)`
    return True


def _request_argument(call: Node, handles: set[str]) -> bool:
    """``Message::text(..)`` in ``sink.send(Message::text(..))``: a value built, without
    waiting on anything, for a request through one of ``handles``."""
    arguments = enclosing(call, "arguments")
    return (
        arguments is not None
        and _root_name(arguments.parent) in handles
        and next(descendants_of_type(call, "await_expression"), None) is None
    )


def _root_name(expression: Node) -> str | None:
    """``page`` for ``page.goto(url).await.expect(..)``: the local a chain of calls starts from."""
    node = expression
    while True:
        if node.type in ("await_expression", "try_expression", "reference_expression", "parenthesized_expression"):
            if not node.named_children:
                return None
            node = node.named_children[-1]
        elif node.type == "call_expression" and method_call_parts(node) is not None:
            node = method_call_parts(node)[0]
        elif node.type == "field_expression":
            node = node.child_by_field_name("value")
        else:
            return text(node) if node.type == "identifier" else None


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


def _parameter_names(function: Node) -> set[str]:
    parameters = function.child_by_field_name("parameters")
    names = set()
    for parameter in parameters.named_children if parameters is not None else ():
        if parameter.type == "parameter":
            names.update(_bound_names(parameter.child_by_field_name("pattern") or parameter))
    return names


def _carries_whole_result(argument: Node, items: set[str]) -> bool:
    """Whether ``argument`` is a received item itself, or a value made by a ``match`` on it
    that has an arm for its error: the failure travels on with it."""
    value = base_expression(argument)
    if value.type != "identifier":
        return False
    if text(value) in items:
        return True
    binding = local_binding(text(value), value)
    match = binding.value if binding is not None else None
    if match is None or match.type != "match_expression":
        return False
    scrutinee = base_expression(match.child_by_field_name("value"))
    if scrutinee.type != "identifier" or text(scrutinee) not in items:
        return False
    arms = match.child_by_field_name("body")
    return any(
        arm.type == "match_arm" and "Err" in _pattern_words(arm.child_by_field_name("pattern"))
        for arm in (arms.named_children if arms is not None else ())
    )


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


def _bound_names(pattern: Node) -> set[str]:
    """The names a pattern binds: ``msg`` in ``Some(Ok(msg))``, not ``Some``/``Ok``/paths."""
    names = set()
    for node in descendants_of_type(pattern, "identifier"):
        parent = node.parent
        if parent is not None and parent.type == "scoped_identifier":
            continue
        if parent is not None and parent.type in ("tuple_struct_pattern", "struct_pattern") and parent.child_by_field_name("type") == node:
            continue
        if text(node)[:1].isupper():
            continue  # a unit variant or constant such as `None`
        names.add(text(node))
    return names


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
            if spine in receives:  # a handle's method that does both (`self.tick()`): a read fails first
                return "receive"
            if spine in sends:
                return "send"
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


def _answers_once(loop: Node, derived: set[str]) -> bool:
    """A loop that hands back what it received (`return Ok(text)`, `break reply`) waits for one
    reply to a request; it is not a long-lived session. Handing back a receive error
    (`break Err(err)`) is the session failing, not an answer."""
    for node in walk(loop):
        if node.type == "return_expression" and _in_same_body(node, loop) or (
            node.type == "break_expression" and _break_target(node) == loop
        ):
            for identifier in descendants_of_type(node, "identifier"):
                if text(identifier) in derived and not _inside_err(identifier, node):
                    return True
    return False


def _call_text(node: Node) -> str:
    """``self.http.post(..).send()``, ``serde_json::from_str(..)``: a call named for a message,
    its arguments elided."""
    if node.type == "await_expression" and node.named_children:
        return f"{_call_text(node.named_children[0])}.await"
    if node.type != "call_expression":
        shown = " ".join(text(node).split())
        return shown if len(shown) <= 40 else ".."
    arguments = node.child_by_field_name("arguments")
    elided = "(..)" if arguments is not None and arguments.named_children else "()"
    parts = method_call_parts(node)
    if parts is None:
        return f"{callee_path(node) or _call_text(node.child_by_field_name('function'))}{elided}"
    return f"{_call_text(parts[0])}.{parts[1]}{elided}"


def _inside_err(identifier: Node, outer: Node) -> bool:
    for ancestor in ancestors(identifier):
        if ancestor == outer:
            return False
        if ancestor.type == "call_expression" and callee_path(ancestor) == "Err":
            return True
    return False
