"""WS005 no-reconnect (Python): a client session loop that ends for good on a disconnect.

A session loop reads from a client websocket (one the file opens with ``websockets.connect``,
``session.ws_connect``, ``websocket.create_connection``..., or annotates as a client
connection): ``async for msg in ws`` (ends when the connection closes), or a ``while`` loop
around ``ws.recv()``/``ws.receive*()`` that breaks or returns on the closed error or a
Close/Error frame, or (``while True``) lets the closed error escape.

Not flagged: the loop, or a call leading to it, sits in a loop that (re)connects
(``async for ws in websockets.connect(uri)``, ``while True: ... connect ... sleep``), its
function is retried by a decorator (backoff, tenacity) or by calling itself, the connection
is a server-side one (``serve()`` handlers, ``WebSocketResponse``, starlette/fastapi
endpoints: the client reconnects), or the exit is a deliberate shutdown (a stop flag,
cancellation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from lint_ws.findings import Applicability, Edit, Fix
from lint_ws.python import reparse
from lint_ws.python.fix_edits import replacement, websockets_connection_closed
from lint_ws.python.names import SEND_METHODS
from lint_ws.python.model import (
    CLIENT,
    CONNECTION,
    Function,
    call_side,
    child_nodes,
    dotted_name,
    in_test_function,
    unawaited,
    walk,
)

RULE_ID = "WS005"

RECEIVE_METHODS = frozenset(
    {"recv", "receive", "receive_str", "receive_bytes", "receive_json", "receive_text", "get_message"}
)
# Receives that raise on a closed connection (aiohttp's receive() returns a CLOSED message).
RAISING_RECEIVES = frozenset({"recv", "receive_str", "receive_bytes", "receive_json", "receive_text"})
# Handlers of these end the loop on a dropped connection (by last name component).
CLOSED_ERRORS = frozenset(
    {
        "ConnectionClosed", "ConnectionClosedOK", "ConnectionClosedError", "WebSocketException",
        "WebSocketDisconnect", "ConnectionResetError", "ConnectionError", "ConnectionAbortedError",
        "BrokenPipeError", "OSError", "IOError", "ClientConnectionError", "ClientConnectionResetError",
        "ClientError", "ClientOSError", "ServerDisconnectedError", "WebSocketConnectionClosedException",
        "WebSocketClosedError", "StreamClosedError", "Exception", "BaseException",
    }
)
# Close/Error frames of aiohttp's ``WSMsgType``.
_CLOSE_FRAMES = frozenset({"CLOSE", "CLOSED", "CLOSING", "ERROR"})
# Packages whose decorators rerun the function they decorate (their API: `@backoff.on_exception`).
_RETRY_LIBRARIES = frozenset({"backoff", "tenacity", "retrying", "stamina"})
_MAX_CALL_DEPTH = 4
_SPAWNERS = frozenset({"create_task", "ensure_future", "start_soon", "spawn", "run_coroutine_threadsafe", "submit"})
_CONNECT_NAMES = frozenset(
    {"connect", "ws_connect", "unix_connect", "create_connection", "websocket_connect", "reconnect"}
)


def check(ctx) -> Iterator:
    model = ctx.model
    scopes: list[tuple[Function | None, cst.CSTNode]] = [(f, f.node.body) for f in model.functions]
    scopes.append((None, model.module))
    for function, body in scopes:
        for loop, ancestors in _loops(body):
            finding = _session_finding(ctx, function, loop, ancestors) or _unguarded_reconnect_finding(
                ctx, function, loop, ancestors
            )
            if finding is not None:
                yield finding
        for call, ancestors in reparse.kept(("run_forever calls", body), lambda: _run_forever_calls(body)):
            finding = _run_forever_finding(ctx, function, call, ancestors)
            if finding is not None:
                yield finding


def _run_forever_calls(body: cst.CSTNode) -> list[tuple[cst.Call, tuple]]:
    return [
        (call, ancestors)
        for call, ancestors in _walk(body, into_loops=True)
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "run_forever"
    ]


# What the libraries' connect calls raise when the server is briefly unreachable or
# refuses the handshake (by last name component; the bases too).
_CONNECT_ERRORS = frozenset(
    {
        "Exception", "BaseException", "OSError", "IOError", "ConnectionError", "ConnectionRefusedError",
        "ClientError", "ClientConnectionError", "ClientConnectorError", "ClientOSError", "WSServerHandshakeError",
        "WebSocketException", "InvalidHandshake", "InvalidStatus", "InvalidStatusCode", "InvalidMessage",
        "WebSocketBadStatusException", "WebSocketAddressException", "WebSocketConnectionClosedException",
    }
)


def _unguarded_reconnect_finding(ctx, function: Function | None, loop, ancestors):
    """A reconnect loop whose retry handlers do not catch what connecting raises: ``while
    running: try: ws = await session.ws_connect(url) ... except (MyApiError,): continue``. The
    first failed reconnect (the server restarting) escapes the loop and ends the session."""
    model = ctx.model
    if _test_file(ctx.source.path) or in_test_function(function):
        return None
    for node, inner in _calls_of(loop):
        if call_side(model, node) != CLIENT:
            continue
        guard = next((a for a in reversed(inner) if isinstance(a, cst.Try) and _in_try_body(a, inner)), None)
        if guard is None or not any(_retries(handler) for handler in guard.handlers):
            return None  # no retry the author meant: the loop is judged as a session, if it is one
        if any(_catches_connect_errors(model, handler) for handler in guard.handlers):
            return None
        if _reconnected(model, function, ancestors, 0, set(), only_raising=True):
            return None
        return ctx.report(
            RULE_ID,
            loop.test if isinstance(loop, cst.While) else loop.iter,
            "this reconnect loop retries only on the errors its handlers name; what the connect call "
            "raises when the server is briefly unreachable escapes the loop and ends the session for good",
            related=[(node, "connecting again here can fail"), (guard.handlers[0], "these handlers do not catch it")],
        )
    return None


def _in_try_body(node: cst.Try, ancestors: tuple) -> bool:
    index = ancestors.index(node)
    return index + 1 < len(ancestors) and ancestors[index + 1] is node.body


def _retries(handler: cst.ExceptHandler) -> bool:
    """The handler goes round the loop again (``continue``, or ends without leaving it)."""
    exits = [node for node, _ in _walk(handler.body, into_loops=False) if isinstance(node, (cst.Return, cst.Break))]
    continues = any(isinstance(node, cst.Continue) for node, _ in _walk(handler.body, into_loops=False))
    return continues or not exits


def _catches_connect_errors(model, handler: cst.ExceptHandler) -> bool:
    return _handler_names_any(model, handler, _CONNECT_ERRORS)


def _handler_names_any(model, handler: cst.ExceptHandler, errors: frozenset[str]) -> bool:
    """A bare ``except``, or one naming an error of ``errors`` (by last name component)."""
    if handler.type is None:
        return True
    types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for element in types:
        value = element.value if isinstance(element, cst.Element) else element
        for name in (dotted_name(value), model.qualified(value)):
            if name and name.rpartition(".")[2] in errors:
                return True
    return False


def _run_forever_finding(ctx, function: Function | None, call: cst.Call, ancestors):
    """websocket-client's ``WebSocketApp.run_forever()`` runs the session and returns when
    the connection drops, unless given ``reconnect=`` or run again from a loop or from the
    app's ``on_close``/``on_error`` handler."""
    model = ctx.model
    if _test_file(ctx.source.path) or in_test_function(function):
        return None
    receiver = call.func.value
    if not _is_client(model, function, receiver):
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "reconnect":
            if not (isinstance(arg.value, cst.Integer) and arg.value.evaluated_value == 0):
                return None
    if any(isinstance(a, (cst.For, cst.While)) for a in ancestors):
        return None  # each pass runs the session again
    if _reconnected(model, function, (), 0, set()) or _interactive(model, function):
        return None
    app = _app_constructor(model, receiver)
    if app is not None and _handlers_reconnect(model, app, function):
        return None
    if _opens_a_bounded_session(model, receiver, app, function):
        return None
    related = [(app, "the app is made here; no `on_close`/`on_error` handler reconnects")] if app is not None else []
    return ctx.report(
        RULE_ID,
        call,
        f"`{ctx.code(call.func)}()` returns for good when the connection drops and nothing "
        "reconnects; pass `reconnect=` (seconds between attempts) or run it in a reconnect loop",
        related=related,
    )


def _opens_a_bounded_session(model, receiver: cst.BaseExpression, app: cst.Call | None, scope) -> bool:
    """The app's ``on_open`` handler (a keyword of the constructor or ``app.on_open = f``)
    closes the connection itself, directly or in a thread or function it starts: the
    session is a bounded exchange the program ends on purpose, not a long-lived one."""
    handlers = [arg.value for arg in (app.args if app is not None else ()) if arg.keyword and arg.keyword.value == "on_open"]
    name = dotted_name(receiver)
    for node, ancestors in model.per_file("assignments", _assignments):
        functions = [a for a in ancestors if isinstance(a, cst.FunctionDef)]
        if name is not None and not name.startswith("self.") and (functions[-1] if functions else None) is not (
            scope.node if scope is not None else None
        ):
            continue  # a local app: the same name elsewhere is another app
        for target in node.targets:
            if isinstance(target.target, cst.Attribute) and target.target.attr.value == "on_open":
                if dotted_name(target.target.value) == name:
                    handlers.append(node.value)
    for handler in handlers:
        function = model.connections.function_named(handler, scope)
        if function is None:
            continue
        for node, _ in _walk(function.node.body, into_loops=True, into_functions=True):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "close":
                return True
    return False


def _app_constructor(model, receiver: cst.BaseExpression) -> cst.Call | None:
    """The ``WebSocketApp(...)`` call whose app ``receiver`` names (any assignment in the file)."""
    name = dotted_name(receiver)
    for node, _ in model.per_file("assignments", _assignments):
        value = unawaited(node.value)
        if (
            isinstance(value, cst.Call) and any(dotted_name(t.target) == name for t in node.targets)
            and (model.qualified(value.func) or "").rpartition(".")[2] == "WebSocketApp"
        ):
            return value
    return None


def _assignments(model) -> list:
    return [
        (node, ancestors)
        for node, ancestors in _walk(model.module, into_loops=True, into_functions=True)
        if isinstance(node, cst.Assign)
    ]


def _handlers_reconnect(model, app: cst.Call, scope: Function | None) -> bool:
    """An ``on_close``/``on_error`` handler of the app runs the session again or reconnects."""
    connecting = _connecting_functions(model) | {"run_forever"}
    for arg in app.args:
        if arg.keyword is None or arg.keyword.value not in ("on_close", "on_error"):
            continue
        handler = model.connections.function_named(arg.value, scope)
        if handler is None:
            continue
        for node, _ in _walk(handler.node.body, into_loops=True):
            if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in connecting:
                return True
    return False


def _session_finding(ctx, function: Function | None, loop, ancestors):
    model = ctx.model
    if _test_file(ctx.source.path) or in_test_function(function):
        return None  # a test's session is meant to end with the test
    subject, exits = _session(model, function, loop)
    sending = subject is None
    if sending:
        subject, exits = _send_session(model, function, loop)
        if subject is not None and _started_in_a_loop(model, function):
            return None  # a loop starts the pump again: whether it reconnects is the reader's question
    if subject is not None:
        exits = [(node, label) for node, label in exits if not _never_taken(model, _ancestors_in(loop, node))]
    if subject is None or not exits:
        return None
    only_raising = _ends_only_by_raising(loop, exits)
    raises = any(isinstance(node, (cst.Raise, cst.Call)) for node, _ in exits)
    if _reconnects(model, loop) or _reconnected(
        model, function, ancestors, 0, set(), only_raising=only_raising, raises=raises
    ):
        return None
    if (
        _signals_a_reconnect(model, function) or _replaced_when_ended(model, function)
        or _handed_back_to_its_opener(model, function, loop, subject)
    ):
        return None
    if _interactive(model, function):
        return None
    if _bounded(model, function, loop, ancestors) or _raises_but_normal_closure(model, loop, exits, ancestors):
        return None
    if sending:
        message = (
            f"this client send loop on `{subject}` ends for good when a send fails "
            "and nothing reconnects; run the session in a reconnect loop with backoff"
        )
        node = loop.iter if isinstance(loop, cst.For) else loop.test
    elif isinstance(loop, cst.For):
        message = (
            f"this client session loop over `{subject}` ends for good when the connection drops "
            "and nothing reconnects; run the session in a reconnect loop with backoff"
        )
        node = loop.iter
    else:
        message = (
            f"this client session loop on `{subject}` ends for good on a receive error or Close "
            "and nothing reconnects; run the session in a reconnect loop with backoff"
        )
        node = loop.test
    related = [(exit_node, label) for exit_node, label in exits if exit_node is not node]
    opened = _opened_at(model, function, subject)
    if opened is not None:
        related.insert(0, (opened, "connected here, once"))
    fix = _reconnect_loop_fix(ctx, subject, loop, exits, ancestors)
    return ctx.report(RULE_ID, node, message, related=related, fix=fix)


# Deadlines of the async libraries: a block under one ends when its time is up.
_DEADLINES = frozenset(
    {"asyncio.timeout", "asyncio.timeout_at", "async_timeout.timeout", "anyio.fail_after", "anyio.move_on_after",
     "trio.fail_after", "trio.move_on_after", "asyncio.wait_for"}
)
_CLOCKS = frozenset({"time.time", "time.monotonic", "time.perf_counter", "loop.time"})
_ORDERINGS = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)


def _bounded(model, function: Function | None, loop, ancestors: tuple) -> bool:
    """A one-shot session, not a long-lived one: the loop runs under a deadline (a timeout
    block around it, ``wait_for`` around its function, a clock in its condition) or until a
    count or a remaining time runs out (``if count >= n: break``, ``if remaining <= 0:
    raise TimeoutError()``)."""
    for ancestor in ancestors:
        if isinstance(ancestor, cst.With) and any(
            model.qualified(_called(item.item)) in _DEADLINES for item in ancestor.items
        ):
            return True
    if isinstance(loop, cst.While) and any(
        isinstance(node, cst.Comparison) and _reads_clock(model, node)
        for node in (loop.test, *(inner for inner, _ in _walk(loop.test, into_loops=True)))
    ):
        return True
    for node, inner in _walk(loop.body, into_loops=False):
        if isinstance(node, (cst.Break, cst.Return, cst.Raise)) and any(
            isinstance(a, cst.If) and isinstance(a.test, cst.Comparison)
            and all(isinstance(c.operator, _ORDERINGS) for c in a.test.comparisons)
            for a in inner
        ):
            return True
    return function is not None and any(
        any(isinstance(a, cst.Call) and model.qualified(a.func) in _DEADLINES for a in node_ancestors)
        for _, node_ancestors in model.per_file("names_by_last_part", _names_by_last_part).get(function.name, ())
    )


def _called(node: cst.BaseExpression) -> cst.BaseExpression:
    node = node.expression if isinstance(node, cst.Await) else node
    return node.func if isinstance(node, cst.Call) else node


def _reads_clock(model, comparison: cst.Comparison) -> bool:
    if not all(isinstance(c.operator, _ORDERINGS) for c in comparison.comparisons):
        return False
    return any(
        isinstance(node, cst.Call) and (model.qualified(node.func) in _CLOCKS or dotted_name(node.func) in _CLOCKS)
        for node, _ in _walk(comparison, into_loops=True)
    )


def _test_file(path: str) -> bool:
    # By file name only: fixture and example trees under tests/ hold non-test code too.
    name = path.rpartition("/")[2]
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _interactive(model, function: Function | None) -> bool:
    """A console program (``input()``, ``sys.stdin``) whose session loop's end ends what the
    person at the console runs: they see the session end and decide whether to reconnect.
    Not when the loop runs in a task spawned beside the console loop: that task ends
    silently while the program goes on with a dead connection."""
    return model.per_file("interactive", _reads_the_console) and not _runs_as_task(model, function)


def _runs_as_task(model, function: Function | None) -> bool:
    while function is not None and function.parent is not None and function.class_name is None:
        if _spawned_somewhere(model, function):
            return True
        function = function.parent
    return function is not None and _spawned_somewhere(model, function)


def _spawned_somewhere(model, function: Function) -> bool:
    return any(
        any(isinstance(a, cst.Call) and (dotted_name(a.func) or "").rpartition(".")[2] in _SPAWNERS for a in ancestors)
        for _, ancestors in model.per_file("names_by_last_part", _names_by_last_part).get(function.name, ())
    )


def _reads_the_console(model) -> bool:
    return any(
        isinstance(node, cst.Call) or model.qualified(node) == "sys.stdin"
        for statement in model.module.body
        for node in reparse.kept(("console reads", statement), lambda: _console_reads(statement))
    )


def _console_reads(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """``input(..)`` calls, and the attributes that may be ``sys.stdin`` once imports resolve."""
    return [
        node
        for node, _ in _walk_statement(statement)
        if (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "input")
        or (isinstance(node, cst.Attribute) and node.attr.value == "stdin")
    ]


def _opened_at(model, function: Function | None, subject: str) -> cst.Call | None:
    """The connect call whose connection is bound to ``subject`` in this function."""
    body = function.node.body if function is not None else model.module
    for node, _ in _walk(body, into_loops=True):
        bound, value = None, None
        if isinstance(node, cst.WithItem) and node.asname is not None:
            bound, value = node.asname.name, node.item
        elif isinstance(node, cst.Assign) and len(node.targets) == 1:
            bound, value = node.targets[0].target, node.value
        value = value.expression if isinstance(value, cst.Await) else value
        if isinstance(value, cst.Call) and dotted_name(bound) == subject and call_side(model, value) == CLIENT:
            return value
    return None


# -- session loops and their exits -------------------------------------------------------


def _session(model, function: Function | None, loop) -> tuple[str | None, list]:
    """The client connection the loop reads, and how a disconnect ends the loop."""
    if isinstance(loop, cst.For):
        subject = dotted_name(loop.iter)
        if subject is None or not _is_client(model, function, loop.iter):
            return None, []
        return subject, [(loop.iter, "the loop ends when the connection closes"), *_explicit_exits(model, loop, function)]
    for call, protected in _receives(model, loop):
        receive = call
        if call.func.attr.value not in RECEIVE_METHODS or not _is_client(model, function, call.func.value):
            receive = _handle_receive(model, function, call)
            if receive is None:
                continue
        subject = dotted_name(receive.func.value)
        if subject is None:
            continue
        exits = _explicit_exits(model, loop, function)
        if not protected and receive.func.attr.value in RAISING_RECEIVES:
            exits.append((call, "the closed error raised here ends the loop"))
        return subject, exits
    return None, []


def _send_session(model, function: Function | None, loop) -> tuple[str | None, list]:
    """A pump writing to a client connection (``while True: data = await queue.get(); await
    ws.send(data)``) and the exits it takes because a send failed or the connection closed."""
    for node, _ in _calls_of(loop):
        if not isinstance(node.func, cst.Attribute):
            continue
        if node.func.attr.value not in SEND_METHODS or not _is_client(model, function, node.func.value):
            continue
        subject = dotted_name(node.func.value)
        exits = [
            (exit_node, label)
            for exit_node, label in _explicit_exits(model, loop, function)
            if isinstance(exit_node, (cst.Return, cst.Break)) and _ends_the_session(model, function, loop, exit_node)
        ]
        if subject is not None and exits:
            return subject, exits
    return None, []


def _started_in_a_loop(model, function: Function | None) -> bool:
    """Some call or spawn of the pump's function sits in a loop of the file."""
    if function is None:
        return False
    by_node = model.per_file("functions_by_node", lambda model: {f.node: f for f in model.functions})
    for node, ancestors in model.per_file("names_by_last_part", _names_by_last_part).get(function.name, ()):
        owner, local = _owner(by_node, ancestors)
        if owner is not function and _may_name(function, node, owner):
            if any(isinstance(a, (cst.For, cst.While)) for a in local):
                return True
    return False


def _ends_the_session(model, function: Function | None, loop, exit_node) -> bool:
    """What the pump does as it gives up ends the whole session, not only the pump: it closes
    the connection, or raises a flag or event that a loop of another function of the file
    reads (the reader's ``if self._stop.is_set(): return``). A pump that just stops leaves
    the session to its reader, whose own end is judged there."""
    if function is None:
        return False
    if isinstance(exit_node, cst.Return):
        handler = next(
            (a for a in _ancestors_in(loop.body, exit_node) if isinstance(a, cst.ExceptHandler)), None
        )
        after = [handler.body] if handler is not None else []
    else:
        after = _statements_after(function.node.body, loop)
    flags = _flags_read_by_other_loops(model, function)
    for statement in after:
        for node, _ in _walk(statement, into_loops=True):
            if not isinstance(node, cst.Call):
                continue
            reached = [node]
            method = model.connections.function_named(node.func, function)
            if method is not None and method is not function:
                reached += [n for n, _ in _walk(method.node.body, into_loops=True) if isinstance(n, cst.Call)]
            for call in reached:
                if not isinstance(call.func, cst.Attribute):
                    continue
                if call.func.attr.value in ("close", "aclose") and model.connections.is_connection(call.func.value, method or function):
                    return True
                if call.func.attr.value == "set" and dotted_name(call.func.value) in flags:
                    return True
        for node, _ in _walk(statement, into_loops=True):
            if isinstance(node, cst.Assign) and any(dotted_name(t.target) in flags for t in node.targets):
                return True
    return False


def _never_taken(model, ancestors: tuple) -> bool:
    """An enclosing ``if`` that requires a name nothing in the module ever sets true
    (``closing_ws = False`` its only assignment): the exit under it is never taken."""
    for ancestor in ancestors:
        if not isinstance(ancestor, cst.If):
            continue
        required = [ancestor.test]
        if isinstance(ancestor.test, cst.BooleanOperation) and isinstance(ancestor.test.operator, cst.And):
            required = [ancestor.test.left, ancestor.test.right]
        if any(isinstance(test, cst.Name) and test.value in model.names_only_ever_false for test in required):
            return True
    return False


def _ancestors_in(root: cst.CSTNode, target: cst.CSTNode) -> tuple:
    for node, ancestors in _walk(root, into_loops=True):
        if node is target:
            return ancestors
    return ()


def _statements_after(body: cst.CSTNode, loop) -> list:
    """The statements that follow ``loop`` in the block that holds it."""
    for node in (body, *(node for node, _ in _walk(body, into_loops=True))):
        if isinstance(node, cst.IndentedBlock) and loop in node.body:
            return list(node.body[node.body.index(loop) + 1 :])
    return []


def _flags_read_by_other_loops(model, function: Function) -> set[str]:
    """Names (``self._stop``, ``closing``) that loops of the file's other functions read."""
    return {
        name
        for other in model.functions
        if other is not function
        for loop, _ in _loops(other.node.body)
        for name in _names_in(loop)
    }


def _names_in(loop) -> set[str]:
    return {
        name
        for node, _ in _walk(loop, into_loops=False)
        if isinstance(node, (cst.Name, cst.Attribute)) and (name := dotted_name(node)) is not None
    }


def _handle_receive(model, function: Function | None, call: cst.Call, depth: int = 0) -> cst.Call | None:
    """``self.recv()`` of a class whose ``recv`` reads its client connection (``return
    parse(await self._connection.recv())``, directly or through its other methods): the
    receive on the connection it reaches. The class is a handle of that connection."""
    method = model.connections.function_named(call.func, function)
    if method is None or method is function or depth >= 3:
        return None
    for node, _ in _walk(method.node.body, into_loops=False):
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            continue
        if node.func.attr.value in RECEIVE_METHODS and _is_client(model, method, node.func.value):
            return node
        inner = _handle_receive(model, method, node, depth + 1)
        if inner is not None:
            return inner
    return None


def _receives(model, loop: cst.While) -> list[tuple[cst.Call, bool]]:
    """Receive calls (and calls of the class's own methods) directly in the loop, and whether
    a handler of the closed error covers each."""
    found: list[tuple[cst.Call, bool]] = []
    for node, ancestors in _calls_of(loop):
        if not isinstance(node.func, cst.Attribute):
            continue
        # A method of the loop's own class may be a handle's receive (``self.next_event()``).
        if node.func.attr.value in RECEIVE_METHODS or dotted_name(node.func.value) == "self":
            found.append((node, any(_in_try_body_catching(model, a, ancestors) for a in ancestors)))
    return found


def _in_try_body_catching(model, node, ancestors) -> bool:
    if not isinstance(node, cst.Try):
        return False
    index = ancestors.index(node)
    below = ancestors[index + 1] if index + 1 < len(ancestors) else None
    return below is node.body and _catches(model, node.handlers)


def _explicit_exits(model, loop: cst.For | cst.While, function: Function | None) -> list:
    """``break``/``return``/``raise`` reached because the connection closed or failed."""
    exits = []
    flags = _loop_flags(loop)
    owner = model.classes.get(function.owner_class or "") if function is not None else None
    for node, ancestors in _walk(loop.body, into_loops=True):
        if not isinstance(node, (cst.Break, cst.Return, cst.Raise)) and not _ends_by_flag(node, flags, owner):
            continue
        if isinstance(node, cst.Break) and any(isinstance(a, (cst.For, cst.While)) for a in ancestors):
            continue  # leaves an inner loop only
        error_driven = False
        for index, ancestor in enumerate(ancestors):
            if isinstance(ancestor, cst.ExceptHandler) and _catches(model, [ancestor]):
                error_driven = True
            elif isinstance(ancestor, cst.If):
                below = ancestors[index + 1] if index + 1 < len(ancestors) else None
                if below is ancestor.body and _names_close_frame(ancestor.test, _CLOSE_FRAMES):
                    error_driven = True
                elif below is ancestor.orelse and isinstance(below, cst.Else) and _names_close_frame(ancestor.test):
                    # The fall-through of a ``msg.type`` dispatch gets the Close frames.
                    error_driven = True
                elif error_driven and _signalled_elsewhere(model, ancestor.test, function):
                    error_driven = False  # the disconnect was asked for
                    break
        if error_driven:
            exits.append((node, "the session ends here"))
    return exits


def _loop_flags(loop) -> dict[str, bool]:
    """The flags a ``while`` loop's condition reads -> the value that keeps it running:
    ``while self.ws_open`` -> ``{"self.ws_open": True}``; ``while not stop.is_set()`` ->
    ``{"stop": False}`` (an event: its ``set()`` ends the loop)."""
    if not isinstance(loop, cst.While):
        return {}
    flags: dict[str, bool] = {}
    pending = [(loop.test, True)]
    while pending:
        test, running = pending.pop()
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            pending.append((test.expression, not running))
        elif isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) == running:
            pending += [(test.left, running), (test.right, running)]
        elif isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and test.func.attr.value == "is_set":
            name = dotted_name(test.func.value)
            if name is not None and not running:
                flags[name] = False
        elif (name := dotted_name(test)) is not None:
            flags[name] = running
    return flags


def _ends_by_flag(node: cst.CSTNode, flags: dict[str, bool], owner=None) -> bool:
    """``stop.set()`` or ``self.ws_open = False``: a statement that makes the loop's
    condition false, so the loop ends at its next test; or a call of a method of ``owner``
    (the loop's class) that does (``self.end_session()`` setting ``self._should_stop``)."""
    if not flags:
        return False
    if owner is not None and isinstance(node, cst.Call) and (dotted_name(node.func) or "").startswith("self."):
        method = owner.methods.get(dotted_name(node.func).partition(".")[2])
        if method is not None:
            return any(_ends_by_flag(inner, flags) for inner, _ in _walk(method.node.body, into_loops=True))
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "set":
        return flags.get(dotted_name(node.func.value) or "") is False
    if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value in ("True", "False"):
        value = node.value.value == "True"
        return any(flags.get(dotted_name(target.target) or "") is (not value) for target in node.targets)
    return False


def _catches(model, handlers) -> bool:
    return any(_handler_names_any(model, handler, CLOSED_ERRORS) for handler in handlers)


def _names_close_frame(test: cst.BaseExpression, members: frozenset[str] | None = None) -> bool:
    """The test names a ``WSMsgType`` member (one of ``members``; None: any)."""
    return any(
        isinstance(node, cst.Attribute) and (members is None or node.attr.value in members)
        and (dotted_name(node.value) or "").endswith("WSMsgType")
        for node, _ in _walk(test, into_loops=True)
    )


def _signalled_elsewhere(model, test: cst.BaseExpression, function: Function | None) -> bool:
    """The test reads a flag or event that another function of the file raises on its normal
    path (not in an ``except`` handler, not in ``__init__``): ``if input_ended.is_set():``
    after the sender's ``input_ended.set()``, ``if self._closing:`` after ``close()`` set it.
    The exit it guards is the session's deliberate end, announced by its own code."""
    wanted = _flag_tests(test)
    if not wanted:
        return False
    for other in model.functions:
        if other is function or other.name == "__init__":
            continue
        for node, ancestors in _walk(other.node.body, into_loops=True):
            if any(isinstance(a, (cst.ExceptHandler, cst.ExceptStarHandler)) for a in ancestors):
                continue
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "set":
                if (dotted_name(node.func.value), "set") in wanted:
                    return True
            elif isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value in ("True", "False"):
                if any((dotted_name(t.target), node.value.value) in wanted for t in node.targets):
                    return True
    return False


def _flag_tests(test: cst.BaseExpression) -> set[tuple[str | None, str]]:
    """What makes ``test`` true: ``e.is_set()`` -> (e, "set"), ``self.f`` -> (self.f, "True"),
    ``not self.f`` -> (self.f, "False"); through ``and``/``or``."""
    if isinstance(test, cst.BooleanOperation):
        return _flag_tests(test.left) | _flag_tests(test.right)
    negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
    inner = test.expression if negated else test
    if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "is_set":
        return set() if negated or inner.args else {(dotted_name(inner.func.value), "set")}
    if isinstance(inner, (cst.Name, cst.Attribute)) and dotted_name(inner) is not None:
        return {(dotted_name(inner), "False" if negated else "True")}
    return set()


# -- which connections are clients ---------------------------------------------------------


def _is_client(model, function: Function | None, subject: cst.BaseExpression) -> bool:
    """Positive evidence only: a connect call, a client type; server handlers never are.

    A connection only declared a client (a parameter's annotation) is the session of the
    code that opens it: here only when some code of the package opens one and hands it in."""
    value = model.connections.value_of(subject, function)
    if value is None or value.kind != CONNECTION or value.flavour != CLIENT:
        return False
    return not value.declared or _handed_a_client(model, function)


def _handed_a_client(model, function: Function | None) -> bool:
    if function is not None and _fed_by_the_file(model, function):
        return True
    package = model.package
    while function is not None and function.parent is not None:
        function = function.parent
    if package is None or function is None:
        return False
    if function.class_name is not None:
        symbol = package.symbol(function.class_name)
        return symbol is not None and package.project.receives_made_client(symbol, function.name, package.module)
    return package.project.receives_made_client(None, function.name, package.module)


def _fed_by_the_file(model, function: Function) -> bool:
    """A call of ``function`` in this file passes a value its caller made (bound from a call:
    a connection it opened, or one a helper returns that the package cannot follow), not a
    parameter handed on from outside."""
    for caller, call in model.call_sites.get(function.name, ()):
        if caller is None or not _may_name(function, call.func, caller):
            continue
        for arg in call.args:
            if not isinstance(arg.value, cst.Name):
                continue
            scope = caller
            while scope is not None and arg.value.value not in scope.bindings:
                scope = scope.parent
            bindings = scope.bindings.get(arg.value.value, ()) if scope is not None else ()
            if any(binding.value is not None and isinstance(unawaited(binding.value), cst.Call) for binding in bindings):
                return True
    return False


# -- reconnecting --------------------------------------------------------------------------


def _signals_a_reconnect(model, function: Function | None) -> bool:
    """The session function sets an event (``self._reconnect_event.set()``) that a loop of the
    file waits on (``.wait()``) and answers by connecting again: the end is reported to a
    handler that reconnects."""
    if function is None:
        return False
    events = {
        dotted_name(node.func.value)
        for node, _ in _walk(function.node.body, into_loops=True)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "set"
    }
    events.discard(None)
    if not events:
        return False
    for other in model.functions:
        for loop, _ in _loops(other.node.body):
            waits = any(
                isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "wait"
                and dotted_name(node.func.value) in events
                for node, _ in _walk(loop.body, into_loops=True)
            )
            if waits and _reconnects(model, loop):
                return True
    return False


def _ends_only_by_raising(loop, exits: list) -> bool:
    """Every way the session loop ends raises (no ``break``/``return``, no ``async for``
    that just stops): a caller that reruns it only after an exception still reruns it."""
    if isinstance(loop, cst.For):
        return False
    return all(
        isinstance(node, cst.Raise) or (isinstance(node, cst.Call) and node.func.attr.value in RAISING_RECEIVES)
        for node, _ in exits
    )


def _reconnected(
    model, function: Function | None, ancestors: tuple, depth: int, visited: set, passed_as: frozenset = frozenset(),
    only_raising: bool = False, raises: bool = False,
) -> bool:
    """Whether the code at ``ancestors`` in ``function`` is re-run by a reconnect loop.

    ``passed_as``: parameter names through which the session function was handed to this
    one (``run_forever(self._listen)``); calling them re-runs the session. ``only_raising``:
    the session ends only by raising (see ``Project.loop_reconnects``). ``raises``: some of its
    ends raise the closed error (or one of its own) out of it, which a handler between the
    reconnect loop and the session may answer by leaving the reconnect loop.
    """
    if any(
        isinstance(a, (cst.For, cst.While)) and _reconnects(model, a, passed_as)
        and not (raises and _left_on_a_disconnect(model, a, ancestors[index + 1 :], function))
        for index, a in enumerate(ancestors)
    ):
        return True
    if function is None or depth >= _MAX_CALL_DEPTH or function.name in visited:
        return False
    if _retried_by_decorator(model, function) or _calls_itself(function):
        return True
    visited = visited | {function.name}
    sites = list(_uses(model, function))
    if not sites:
        return _rerun_by_package(model, function, only_raising)
    return bool(sites) and all(
        site is _UNKNOWN_USE or _reconnected(model, site[0], site[1], depth + 1, visited, site[2], only_raising, raises)
        for site in sites
    )


def _left_on_a_disconnect(model, loop, below: tuple, function: Function | None) -> bool:
    """A handler of the closed error between a reconnect ``loop`` and the session (``below``:
    the statements from the loop's body down) leaves the reconnect loop: ``except
    ConnectionClosedOK: return`` in ``async for ws in connect(uri)``. Not when the exit is
    guarded by a deliberate shutdown signal, by a count of attempts, by the loop's own
    condition being false, or by the caught error not being a drop."""
    flags = _loop_flags(loop)
    for index, node in enumerate(below[:-1]):
        if not isinstance(node, cst.Try) or below[index + 1] is not node.body:
            continue
        for handler in node.handlers:
            if not _catches(model, [handler]):
                continue
            for exit_node, ancestors in _walk(handler.body, into_loops=True):
                if not isinstance(exit_node, (cst.Return, cst.Break)):
                    continue
                if isinstance(exit_node, cst.Break) and any(isinstance(a, (cst.For, cst.While)) for a in ancestors):
                    continue  # leaves a loop of the handler only
                if any(isinstance(a, (cst.For, cst.While)) for a in below[: index]) and isinstance(exit_node, cst.Break):
                    continue  # leaves a loop nested in the reconnect loop
                transient = _transient_tests((handler, *ancestors))
                if not any(
                    isinstance(a, cst.If)
                    and (_deliberate_or_counted(model, a.test, function) or _deliberate(a.test, flags, transient))
                    for a in ancestors
                ):
                    return True
    return False


def _deliberate_or_counted(model, test: cst.BaseExpression, function: Function | None) -> bool:
    if _signalled_elsewhere(model, test, function):
        return True
    return any(
        isinstance(node, cst.Comparison) and all(isinstance(c.operator, _ORDERINGS) for c in node.comparisons)
        for node in (test, *(inner for inner, _ in _walk(test, into_loops=True)))
    )


def _rerun_by_package(model, function: Function, only_raising: bool) -> bool:
    """Every call of the session function in the package's other modules sits in a loop
    that opens the connection again on each pass (``while True: await client.run()`` where
    ``run`` connects)."""
    package = model.package
    if package is None or function.parent is not None:
        return False
    symbol = package.symbol(function.class_name) if function.class_name is not None else None
    if function.class_name is not None and symbol is None:
        return False
    callers = package.project.callers(symbol, function.name, package.module)
    fresh = _obtains_its_connection(model, function)
    return bool(callers) and all(
        package.project.loop_reconnects(caller, symbol if caller.owner is not None else None, only_raising, fresh)
        for caller in callers
    )


def _obtains_its_connection(model, function: Function, depth: int = 0) -> bool:
    """The function, a function nested in it or a method of its class it calls binds a
    connection from a call (``async with pool.connection() as ws``, ``ws = await
    self._client.connect_websocket()``): each run has a connection of its own."""
    connections = model.connections
    for name, bindings in function.bindings.items():
        if any(binding.value is not None and isinstance(unawaited(binding.value), cst.Call) for binding in bindings):
            if connections.is_connection(cst.Name(name), function):
                return True
    if depth >= 3:
        return False
    owner = model.classes.get(function.owner_class or "")
    reached = [f for f in model.functions if f.parent is function]  # its nested functions
    if owner is not None:
        reached += [owner.methods[name] for name in sorted(function.calls) if name in owner.methods]
    return any(other is not function and _obtains_its_connection(model, other, depth + 1) for other in reached)


def _calls_itself(function: Function) -> bool:
    """Retry by recursion: ``await self.run()`` from inside ``run``."""
    if function.name not in function.calls:
        return False
    # A method is called through ``self``/``cls``: a bare ``connect()`` in ``connect`` is
    # another function (the library's, imported).
    own = {f"self.{function.name}", f"cls.{function.name}"} if function.class_name else {function.name}
    return any(
        isinstance(node, cst.Call) and dotted_name(node.func) in own
        for node, _ in _walk(function.node.body, into_loops=True)
    )


# A use of the session function that the file cannot follow (handed to another module).
_UNKNOWN_USE = object()
# Callables that run what they are given once: a thread, an executor, a timer.
_ONE_SHOT_RUNNERS = frozenset(
    {"Thread", "Process", "Timer", "run_in_executor", "submit", "call_soon", "call_later", "call_soon_threadsafe",
     "start_new_thread", "create_task", "ensure_future", "run", "run_until_complete", "start_soon", "spawn"}
)


def _uses(model, target: Function):
    """Where ``target`` runs from: (function, ancestors there, names it is called through)
    for each call of it and each call of a parameter it is passed to; ``_UNKNOWN_USE`` for a
    hand-off the file cannot follow."""
    by_node = model.per_file("functions_by_node", lambda model: {f.node: f for f in model.functions})
    for node, ancestors in model.per_file("names_by_last_part", _names_by_last_part).get(target.name, ()):
        parent = ancestors[-1] if ancestors else None
        owner, local = _owner(by_node, ancestors)
        if not _may_name(target, node, owner) or not _self_reaches(model, target, node, owner):
            continue
        if isinstance(parent, cst.Call) and parent.func is node:
            if owner is not target:
                # A session spawned as a task is not re-run by a loop around the spawn: that
                # loop starts sessions side by side (N clients); it does not reconnect one.
                yield (owner, () if _spawned(local) and not _joined(owner, local) else local, frozenset())
        elif isinstance(parent, cst.Arg) and len(ancestors) > 1 and isinstance(ancestors[-2], cst.Call):
            yield from _hand_off(model, by_node, parent, ancestors[-2], owner, local)


def _self_reaches(model, target: Function, node: cst.CSTNode, owner: Function | None) -> bool:
    """``self.<name>`` reaches a method of the caller's own class or of a class related to it
    in the file (a base or a subclass), not the same-named method of an unrelated class."""
    receiver = dotted_name(node.value) if isinstance(node, cst.Attribute) else None
    if target.class_name is None or receiver not in ("self", "cls"):
        return True
    caller_class = owner.owner_class if owner is not None else None
    if caller_class is None:
        return False
    return caller_class == target.class_name or target.class_name in _related_classes(model, caller_class)


def _related_classes(model, class_name: str) -> set[str]:
    """The file's classes a class derives from or that derive from it, transitively."""
    bases = {
        name: {dotted_name(base.value) or "" for base in info.node.bases} for name, info in model.classes.items()
    }
    related, pending = {class_name}, [class_name]
    while pending:
        current = pending.pop()
        for name, its_bases in bases.items():
            for other in ({name} if current in its_bases else set()) | (its_bases if name == current else set()):
                if other in model.classes and other not in related:
                    related.add(other)
                    pending.append(other)
    return related


def _may_name(target: Function, node: cst.CSTNode, owner: Function | None) -> bool:
    """Can ``node`` (a name ending in ``target``'s name) refer to ``target``? A nested
    function is seen only inside the function that defines it; a method not as a bare name;
    a module function not as ``self.<name>``."""
    if target.parent is not None:
        scope = owner
        while scope is not None and scope is not target.parent:
            scope = scope.parent
        return scope is not None and isinstance(node, cst.Name)
    if target.class_name is not None:
        return isinstance(node, cst.Attribute)
    return not (isinstance(node, cst.Attribute) and dotted_name(node.value) in ("self", "cls"))


def _names_by_last_part(model) -> dict[str, list[tuple[cst.CSTNode, tuple]]]:
    """``run`` -> every ``run``, ``self.run``, ``client.run``... of the module, with its ancestors."""
    names: dict[str, list[tuple[cst.CSTNode, tuple]]] = {}
    for statement in model.module.body:
        for name, found in reparse.kept(("names by last part", statement), lambda: _statement_names(statement)).items():
            names.setdefault(name, []).extend(found)
    return names


def _statement_names(statement: cst.CSTNode) -> dict[str, list[tuple[cst.CSTNode, tuple]]]:
    names: dict[str, list[tuple[cst.CSTNode, tuple]]] = {}
    for node, ancestors in _walk_statement(statement):
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = dotted_name(node)
            if name is not None:
                names.setdefault(name.rpartition(".")[2], []).append((node, ancestors))
    return names


def _owner(by_node, ancestors: tuple) -> tuple[Function | None, tuple]:
    """The innermost function around a node, and the node's ancestors inside it."""
    for index in range(len(ancestors) - 1, -1, -1):
        if isinstance(ancestors[index], cst.FunctionDef):
            return by_node.get(ancestors[index]), ancestors[index + 1 :]
    return None, ancestors


def _hand_off(model, by_node, arg: cst.Arg, call: cst.Call, owner, local):
    """The session function passed to ``call``: follow it into a function of this file."""
    callee_name = (dotted_name(call.func) or "").rpartition(".")[2]
    if callee_name in _ONE_SHOT_RUNNERS:
        yield (owner, (), frozenset())  # runs once, from wherever ``owner`` runs
        return
    callee = next((f for f in model.functions if f.name == callee_name), None)
    if callee is None:
        yield _UNKNOWN_USE
        return
    params = [p.name.value for p in (*callee.node.params.posonly_params, *callee.node.params.params)]
    if callee.class_name is not None and params and isinstance(call.func, cst.Attribute):
        params = params[1:]
    positional = [a for a in call.args if a.keyword is None]
    if arg.keyword is not None:
        name = arg.keyword.value
    elif arg in positional and positional.index(arg) < len(params):
        name = params[positional.index(arg)]
    else:
        yield _UNKNOWN_USE
        return
    calls = [
        local_ancestors
        for node, local_ancestors in _walk(callee.node.body, into_loops=True)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == name
    ]
    if not calls:
        yield _UNKNOWN_USE
    for local_ancestors in calls:
        yield (callee, local_ancestors, frozenset({name}))


def _spawned(ancestors: tuple) -> bool:
    """The call is handed to a task spawner that nothing awaits."""
    for index in range(len(ancestors) - 1, -1, -1):
        node = ancestors[index]
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in _SPAWNERS:
            return not (index > 0 and isinstance(ancestors[index - 1], cst.Await))
    return False


def _joined(owner: Function | None, ancestors: tuple) -> bool:
    """The spawned task is bound to a name its spawner awaits (``task = create_task(...)``
    then ``await asyncio.wait([task, ...])``, ``await asyncio.gather(*tasks)``): a loop
    around the spawn runs one session at a time, not sessions side by side."""
    assign = next((a for a in reversed(ancestors) if isinstance(a, cst.Assign)), None)
    if owner is None or assign is None or len(assign.targets) != 1:
        return False
    name = dotted_name(assign.targets[0].target)
    if name is None:
        return False
    loop = next((a for a in reversed(ancestors) if isinstance(a, (cst.For, cst.While))), None)
    if loop is not None and _leaves_on_its_own(loop, name):
        return False  # the loop does not go round again when the task just ends
    assigns, waits = reparse.kept(("assigns and waits", owner.node.body), lambda: _assigns_and_waits(owner.node.body))
    holders = {name} | {dotted_name(target.target) or "" for node, read in assigns if name in read for target in node.targets}
    return any((read is not None and not read.isdisjoint(holders)) or _result_of(node, name) for node, read in waits)


def _assigns_and_waits(body: cst.CSTNode) -> tuple[list, list]:
    """The assignments of a function's body with the names their values read, and its
    awaits with the names they read and its ``.result()`` calls (None)."""
    assigns, waits = [], []
    for node, _ in _walk(body, into_loops=True):
        if isinstance(node, cst.Assign):
            assigns.append((node, _names_read(node.value)))
        elif isinstance(node, cst.Await):
            waits.append((node, _names_read(node)))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "result":
            waits.append((node, None))
    return assigns, waits


def _result_of(node: cst.CSTNode, task: str) -> bool:
    """``task.result()``: read once the task is done (a pending task's result raises)."""
    return (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "result"
        and dotted_name(node.func.value) == task
    )


def _leaves_on_its_own(loop, task: str) -> bool:
    """A ``break``/``return`` of the loop (not of a loop inside it) that no shutdown test
    guards: ``if reconnect_task not in done: break`` after joining the session's task. Where
    the loop has a branch for the task's end (``if task in done:``), only that branch's
    leaves count, and one decided by the task's own result (``if task.result(): return``)
    is the session's verdict, not the loop leaving on its own."""
    flags = _loop_flags(loop)
    ends = [
        node.body for node, _ in _walk(loop.body, into_loops=True)
        if isinstance(node, cst.If) and _tests_done(node.test, task)
    ]
    verdicts = {
        dotted_name(target.target) or ""
        for node, _ in _walk(loop.body, into_loops=True)
        if isinstance(node, cst.Assign)
        and any(_result_of(inner, task) for inner, _ in (*_walk(node.value, into_loops=True), (node.value, ())))
        for target in node.targets
    }
    for node, ancestors in _walk(loop.body, into_loops=True):
        if not isinstance(node, (cst.Break, cst.Return)):
            continue
        if isinstance(node, cst.Break) and any(isinstance(a, (cst.For, cst.While)) for a in ancestors):
            continue
        if ends and not any(end in ancestors for end in ends):
            continue
        transient = _transient_tests(ancestors)
        if not any(
            isinstance(a, cst.If)
            and (_deliberate(a.test, flags, transient) or _reads_any(a.test, verdicts))
            for a in ancestors
        ):
            return True
    return False


# Errors a connection's drop raises: ``isinstance(error, <one of these>)`` says it was transient.
_TRANSIENT_ERRORS = (CLOSED_ERRORS - {"Exception", "BaseException"}) | {"TimeoutError"}


def _transient_tests(ancestors: tuple) -> dict[str, cst.BaseExpression]:
    """For the enclosing handlers (``except Exception as e``): the names their bodies bind to
    a test true when the caught error is a drop (``recoverable = isinstance(e,
    ClientConnectionError | TimeoutError)``), and ``e`` itself."""
    found: dict[str, cst.BaseExpression] = {}
    for ancestor in ancestors:
        if isinstance(ancestor, cst.ExceptHandler) and ancestor.name is not None:
            error = dotted_name(ancestor.name.name)
            if error is None:
                continue
            found[error] = ancestor.name.name
            for node, _ in _walk(ancestor.body, into_loops=True):
                if isinstance(node, cst.Assign) and _is_transient_check(node.value, error):
                    found.update((dotted_name(t.target) or "", node.value) for t in node.targets)
    found.pop("", None)
    return found


def _is_transient_check(node: cst.BaseExpression, error: str) -> bool:
    """``isinstance(error, A | B)`` / ``isinstance(error, (A, B))`` naming a drop's error."""
    if not (isinstance(node, cst.Call) and dotted_name(node.func) == "isinstance" and len(node.args) == 2):
        return False
    if dotted_name(node.args[0].value) != error:
        return False
    return any(
        isinstance(inner, (cst.Name, cst.Attribute)) and (dotted_name(inner) or "").rpartition(".")[2] in _TRANSIENT_ERRORS
        for inner, _ in (*_walk(node.args[1].value, into_loops=True), (node.args[1].value, ()))
    )


def _tests_done(test: cst.BaseExpression, task: str) -> bool:
    """``task in done`` (alone or in a conjunction): true once the task has ended."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _tests_done(test.left, task) or _tests_done(test.right, task)
    return (
        isinstance(test, cst.Comparison) and dotted_name(test.left) == task and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.In)
    )


def _reads_any(node: cst.CSTNode, names: set[str]) -> bool:
    return not _names_read(node).isdisjoint(names)


def _names_read(node: cst.CSTNode) -> frozenset[str]:
    return frozenset(
        inner.value for inner, _ in (*_walk(node, into_loops=True), (node, ())) if isinstance(inner, cst.Name)
    )


def _deliberate(test: cst.BaseExpression, flags: dict[str, bool], transient: dict[str, cst.BaseExpression]) -> bool:
    """The test holds only on a deliberate leave: when the loop's own condition is already
    false (``if ... and self._closed: break`` in ``while not self._closed``), or when the
    handled error is not a drop (``if not recoverable or self._closed: break``, ``if not
    isinstance(e, ConnectionError): break``: the loop retries the drops)."""
    if isinstance(test, cst.BooleanOperation):
        left, right = _deliberate(test.left, flags, transient), _deliberate(test.right, flags, transient)
        return (left or right) if isinstance(test.operator, cst.And) else (left and right)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        name = dotted_name(test.expression)
        if name is not None and flags.get(name) is True:
            return True
        if name is not None and name in transient and not isinstance(transient[name], cst.Name):
            return True  # ``not recoverable``
        return any(_is_transient_check(test.expression, error) for error in transient)
    name = dotted_name(test)
    return name is not None and flags.get(name) is False


def _reconnects(model, loop, passed_as: frozenset = frozenset()) -> bool:
    """The loop opens a client connection on each pass (itself or via a function of the file)."""
    connecting = _connecting_functions(model) | passed_as
    for node, _ in _walk(loop, into_loops=True):
        if isinstance(node, cst.Call):
            if call_side(model, node) == CLIENT:
                return True
            name = dotted_name(node.func)
            if name is not None and name.rpartition(".")[2] in connecting:
                return True
    return False


def _connecting_functions(model) -> set[str]:
    """Names of the file's functions that (re)connect, directly or through each other.

    By called name: ``self._connect()``, ``sock.connect()`` and ``websockets.connect()``
    alike; a loop calling any of them is taken to re-establish its session.
    """
    connecting = {f.name for f in model.functions if f.calls & _CONNECT_NAMES} | _CONNECT_NAMES
    pending = list(connecting)
    while pending:
        for caller in model.callers.get(pending.pop(), ()):
            if caller.name not in connecting:
                connecting.add(caller.name)
                pending.append(caller.name)
    return connecting


def _retried_by_decorator(model, function: Function) -> bool:
    """A decorator of a retry library, or one of this file whose code calls the function it
    wraps from a loop (a wrapper's ``while True: try: return await func(..)``)."""
    for decorator in function.node.decorators:
        target = decorator.decorator
        target = target.func if isinstance(target, cst.Call) else target
        name = model.qualified(target) or dotted_name(target) or ""
        if name.partition(".")[0] in _RETRY_LIBRARIES:
            return True
        defined = model.connections.function_named(target, None) if isinstance(target, cst.Name) else None
        if defined is not None and _calls_a_parameter_in_a_loop(defined.node):
            return True
    return False


def _calls_a_parameter_in_a_loop(decorator: cst.FunctionDef) -> bool:
    """Whether ``decorator`` (or a function nested in it: the decorator a factory returns, the
    wrapper) calls one of their parameters, the wrapped function, inside a loop."""
    parameters = {
        param.name.value
        for node in walk([decorator], skip_nested=False) if isinstance(node, cst.FunctionDef)
        for param in (*node.params.params, *node.params.posonly_params, *node.params.kwonly_params)
    }
    return any(
        isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value in parameters
        for loop in walk([decorator], skip_nested=False) if isinstance(loop, (cst.For, cst.While))
        for call in walk([loop.body], skip_nested=False)
    )


# -- walking -------------------------------------------------------------------------------


# Nodes that hold statements: loops are found without entering any expression.
_STATEMENT_HOLDERS = (
    cst.BaseCompoundStatement, cst.BaseSuite, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
    cst.MatchCase,
)


def _loops(body: cst.CSTNode) -> Iterator[tuple[cst.For | cst.While, tuple]]:
    """The loops of one scope (nested functions excluded), with their enclosing statements."""
    if isinstance(body, cst.Module):
        top = [c for c in body.body if not isinstance(c, (cst.FunctionDef, cst.ClassDef))]
    else:
        top = child_nodes(body)
    stack: list[tuple[cst.CSTNode, tuple]] = [(c, ()) for c in reversed(top) if isinstance(c, _STATEMENT_HOLDERS)]
    while stack:
        node, ancestors = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(node, (cst.For, cst.While)):
            yield node, ancestors
        below = (*ancestors, node)
        stack.extend((c, below) for c in reversed(child_nodes(node)) if isinstance(c, _STATEMENT_HOLDERS))


def _walk(
    root: cst.CSTNode, into_loops: bool, into_functions: bool = False
) -> Iterator[tuple[cst.CSTNode, tuple]]:
    """Every node under ``root`` with its ancestors below ``root``; nested functions excluded."""
    if isinstance(root, cst.Module) and not into_functions:
        children = [c for c in root.body if not isinstance(c, (cst.FunctionDef, cst.ClassDef))]
    else:
        children = child_nodes(root)
    return _walk_from([(child, ()) for child in reversed(children)], into_loops, into_functions)


def _walk_statement(statement: cst.CSTNode) -> Iterator[tuple[cst.CSTNode, tuple]]:
    """A top-level statement's part of ``_walk(module, into_loops=True, into_functions=True)``:
    the statement and every node under it, with its ancestors below the module."""
    return _walk_from([(statement, ())], into_loops=True, into_functions=True)


def _calls_of(loop) -> list[tuple[cst.Call, tuple]]:
    """The calls of the loop's body outside its inner loops, with their ancestors there."""
    return reparse.kept(
        ("loop calls", loop.body),
        lambda: [(node, ancestors) for node, ancestors in _walk(loop.body, into_loops=False) if isinstance(node, cst.Call)],
    )


def _walk_from(
    stack: list[tuple[cst.CSTNode, tuple]], into_loops: bool, into_functions: bool
) -> Iterator[tuple[cst.CSTNode, tuple]]:
    while stack:
        node, ancestors = stack.pop()
        yield node, ancestors
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and not into_functions:
            continue
        if not into_loops and isinstance(node, (cst.For, cst.While)):
            continue
        below = (*ancestors, node)
        stack.extend((child, below) for child in reversed(child_nodes(node)))


# -- the fix: websockets' own reconnect loop ------------------------------------------------

# websockets' asyncio ``connect`` (new and legacy): iterating it reconnects with backoff.
_WEBSOCKETS_CONNECT = frozenset(
    {"websockets.connect", "websockets.asyncio.client.connect", "websockets.client.connect",
     "websockets.legacy.client.connect"}
)
_IMPORTED_CLOSED = "ConnectionClosed"


def _reconnect_loop_fix(ctx, subject: str, loop, exits: list, ancestors: tuple) -> Fix | None:
    """``async with websockets.connect(uri) as ws: <session>`` becomes ``async for ws in
    websockets.connect(uri):`` with ``try: <session> except ConnectionClosed: continue``.

    Offered only where the session's every end then leads to the next connection: nothing
    in it returns or raises (that would still end the session), and no ``break`` or
    ``continue`` in it would come to mean the new loop; and only where the loop ends on
    nothing but a disconnect: a loop condition or a ``break`` on a message would be the
    session's deliberate end, which must not turn into a reconnect."""
    model = ctx.model
    session = next((a for a in reversed(ancestors) if isinstance(a, cst.With) and _opens(model, a, subject)), None)
    if session is None or not isinstance(session.body, cst.IndentedBlock) or not _every_end_reconnects(session.body):
        return None
    if not _ends_only_on_disconnect(loop, exits) or _closes_itself(session.body, subject):
        return None
    edits: list[Edit] = []
    closed = websockets_connection_closed(model)
    if closed is None:
        import_edit = _import_connection_closed(ctx, model)
        if import_edit is None:
            return None
        edits.append(import_edit)
        closed = _IMPORTED_CLOSED
    handler = cst.ExceptHandler(
        body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Continue()])]), type=cst.parse_expression(closed)
    )
    session_body = cst.Try(body=session.body.with_changes(header=cst.TrailingWhitespace()), handlers=[handler])
    item = session.items[0]
    loop = cst.For(
        target=item.asname.name,
        iter=item.item,
        body=cst.IndentedBlock([session_body], header=session.body.header),
        asynchronous=cst.Asynchronous(),
        leading_lines=session.leading_lines,
    )
    edit = replacement(ctx, model, session, loop)
    if edit is None:
        return None
    edits.append(edit)
    return Fix(
        f"reconnect with websockets' own loop: `async for {subject} in {ctx.code(item.item)}:` "
        f"(backoff built in), starting a new session on `{closed}`",
        Applicability.UNSAFE,
        tuple(sorted(edits)),
    )


def _closes_itself(body: cst.IndentedBlock, subject: str) -> bool:
    """Whether the session closes its own connection anywhere, a signal handler or callback
    included: that close is a deliberate end, which a reconnect loop would undo."""
    return any(
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "close"
        and dotted_name(node.func.value) == subject
        for node, _ in _walk(body, into_loops=True, into_functions=True)
    )


def _opens(model, node: cst.With, subject: str) -> bool:
    if node.asynchronous is None or len(node.items) != 1:
        return False
    item = node.items[0]
    return (
        isinstance(item.item, cst.Call)
        and model.qualified(item.item.func) in _WEBSOCKETS_CONNECT
        and item.asname is not None
        and dotted_name(item.asname.name) == subject
    )


def _runs_forever(loop: cst.While) -> bool:
    test = loop.test
    return (isinstance(test, cst.Name) and test.value == "True") or (
        isinstance(test, cst.Integer) and test.value != "0"
    )


def _ends_only_on_disconnect(loop, exits: list) -> bool:
    if isinstance(loop, cst.While) and not _runs_forever(loop):
        return False
    disconnects = {id(node) for node, _ in exits}
    return all(
        id(node) in disconnects for node, _ in _walk(loop.body, into_loops=False) if isinstance(node, cst.Break)
    )


def _every_end_reconnects(body: cst.IndentedBlock) -> bool:
    for node, ancestors in _walk(body, into_loops=True):
        if isinstance(node, (cst.Return, cst.Raise)):
            return False
        if isinstance(node, (cst.Break, cst.Continue)) and not any(isinstance(a, (cst.For, cst.While)) for a in ancestors):
            return False
    return True


def _import_connection_closed(ctx, model) -> Edit | None:
    """An import of the exception on the line after the file's websockets import, when the
    file does not name it yet."""
    if _IMPORTED_CLOSED in model.imports:
        return None
    for statement in model.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        imports = [small for small in statement.body if isinstance(small, (cst.Import, cst.ImportFrom))]
        if any(_imports_websockets(small) for small in imports):
            text = ctx.source.text
            line_end = text.find("\n", ctx.span(statement).end_offset - 1)
            if line_end == -1:
                return None
            return Edit(line_end + 1, line_end + 1, f"from websockets.exceptions import {_IMPORTED_CLOSED}\n")
    return None


def _imports_websockets(statement: cst.Import | cst.ImportFrom) -> bool:
    if isinstance(statement, cst.ImportFrom):
        return not statement.relative and (dotted_name(statement.module) or "").partition(".")[0] == "websockets"
    return any((dotted_name(alias.name) or "").partition(".")[0] == "websockets" for alias in statement.names)


# -- a session replaced once it has ended --------------------------------------------------

_ENDED, _LIVE = "ended", "live"


def _replaced_when_ended(model, function: Function | None) -> bool:
    """The session's object is replaced (or reconnected) once the session has ended: the
    function, or a method of its class it calls or schedules on the way out, marks the
    instance (``self._closed = True``, ``self._is_current = False``), and code of the file
    that hands the object out tests that mark, or the connection's own state behind a
    property (``closed`` returning ``self._ws.close_code``), and connects when it says ended:
    ``if conn and not conn._closed: return conn`` then a new one is connected, ``if
    self.closed: await self.connect()``, a pool pruning ``[c for c in conns if not c._closed]``
    before opening another; in this module or another of the package. The reconnect is
    lazy: it happens on the next use."""
    if function is None or function.owner_class is None:
        return False
    owner = model.classes.get(function.owner_class)
    if owner is None:
        return False
    marks = _end_marks(owner, function)
    marks.update(_state_properties(model, owner, marks))
    if not marks:
        return False
    connecting = _connecting_functions(model)
    session = {function, *(f for f in model.functions if _nested_in(f, function))}
    for other in model.functions:
        if other in session or other.name in ("__init__", "__del__") or _opens_itself(model, other):
            continue
        if _connects_when_ended(other, marks, connecting):
            return True
    package = model.package
    symbol = package.symbol(function.owner_class) if package is not None else None
    return symbol is not None and package.project.connects_when_marked(
        {attr: meaning == _ENDED for attr, meaning in marks.items()}, package.module, symbol
    )


def _opens_itself(model, function: Function) -> bool:
    """The function makes the library's connect call itself: an idempotent ``start()`` that
    returns while the session is live is the first connect, which nothing calls again on an
    end; a gate that restarts hands out the object or serves a send, and calls a connect
    of the project's."""
    return any(
        isinstance(node, cst.Call) and call_side(model, node) == CLIENT for node, _ in _walk(function.node.body, into_loops=True)
    )


def _nested_in(function: Function, outer: Function) -> bool:
    while function.parent is not None:
        if function.parent is outer:
            return True
        function = function.parent
    return False


def _end_marks(owner, function: Function) -> dict[str, str]:
    """``self.<attr> = True/False`` in the function or the methods of its class it reaches
    (called, or scheduled: ``create_task(self.aclose())``): attr -> what its true value
    means (ended or live). An attribute set both ways is no mark."""
    values: dict[str, set[bool]] = {}
    pending, seen = [function], set()
    while pending and len(seen) < 12:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for node, _ in _walk(current.node.body, into_loops=True):
            if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value in ("True", "False"):
                for target in node.targets:
                    name = dotted_name(target.target) or ""
                    if name.startswith("self.") and name.count(".") == 1:
                        values.setdefault(name[len("self."):], set()).add(node.value.value == "True")
            elif isinstance(node, cst.Call):
                name = dotted_name(node.func) or ""
                method = owner.methods.get(name[len("self."):]) if name.startswith("self.") else None
                if method is not None:
                    pending.append(method)
    return {attr: (_ENDED if True in set_to else _LIVE) for attr, set_to in values.items() if len(set_to) == 1}


def _state_properties(model, owner, marks: dict[str, str]) -> dict[str, str]:
    """Properties of the class returning a mark (``is_current`` -> ``self._is_current``) or
    the state of the instance's connection (``closed`` -> ``self._ws.close_code``)."""
    found: dict[str, str] = {}
    for name, method in owner.methods.items():
        if not any(dotted_name(d.decorator) == "property" for d in method.node.decorators):
            continue
        # ``if not self._ws: return True`` before the state: the constant cases say no more.
        returns = [
            node.value for node, _ in _walk(method.node.body, into_loops=True)
            if isinstance(node, cst.Return) and not (isinstance(node.value, cst.Name) and node.value.value in ("True", "False", "None"))
        ]
        if len(returns) != 1 or returns[0] is None:
            continue
        value = returns[0]
        negated = isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Not)
        value = value.expression if negated else value
        if isinstance(value, cst.Call) and dotted_name(value.func) == "bool" and len(value.args) == 1:
            value = value.args[0].value
        meaning = None
        returned = dotted_name(value) or ""
        if returned.startswith("self.") and returned.count(".") == 1 and returned[len("self."):] in marks:
            meaning = marks[returned[len("self."):]]
        elif isinstance(value, cst.Attribute) and value.attr.value in _CONNECTION_STATES and model.connections.is_connection(
            value.value, method
        ):
            meaning = _CONNECTION_STATES[value.attr.value]
        if meaning is not None:
            found[name] = meaning if not negated else (_LIVE if meaning == _ENDED else _ENDED)
    return found


# A connection's own state attributes -> what their true value means.
_CONNECTION_STATES = {"closed": _ENDED, "close_code": _ENDED, "open": _LIVE, "connected": _LIVE}


def _connects_when_ended(function: Function, marks: dict[str, str], connecting: set[str]) -> bool:
    """A test of a mark whose outcome leads to a connecting call: the call in the body of an
    ``if`` true only when ended, or after an ``if`` true only while live whose body leaves,
    or after a comprehension keeping only live ones."""
    tests: list[cst.CSTNode] = []  # the live-only tests seen so far
    for node, ancestors in _walk(function.node.body, into_loops=True):
        if isinstance(node, cst.If):
            meaning = _implies(node.test, marks)
            if meaning == _ENDED and _calls_any(node.body, connecting):
                return True
            if meaning == _LIVE and _leaves(node.body):
                tests.append(node)
        elif isinstance(node, cst.CompIf) and _implies(node.test, marks) == _LIVE:
            tests.append(node)
        elif (
            isinstance(node, cst.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in connecting
            and any(test not in ancestors for test in tests)
        ):
            return True
    return False


def _implies(test: cst.BaseExpression, marks: dict[str, str]) -> str | None:
    """What the test being true says of a mark it reads: ended, live, or nothing."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _implies(test.expression, marks)
        return {_ENDED: _LIVE, _LIVE: _ENDED}.get(inner) if inner is not None else None
    if isinstance(test, cst.BooleanOperation):
        sides = [_implies(test.left, marks), _implies(test.right, marks)]
        if isinstance(test.operator, cst.And):
            known = {side for side in sides if side is not None}
            return known.pop() if len(known) == 1 else None
        return sides[0] if sides[0] == sides[1] else None
    if isinstance(test, cst.Attribute):
        return marks.get(test.attr.value)
    return None


def _calls_any(body: cst.CSTNode, names: set[str]) -> bool:
    return any(
        isinstance(node, cst.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in names
        for node, _ in _walk(body, into_loops=True)
    )


def _leaves(body: cst.CSTNode) -> bool:
    return any(isinstance(node, (cst.Return, cst.Raise, cst.Continue)) for node, _ in _walk(body, into_loops=False))


def _handed_back_to_its_opener(model, function: Function | None, loop, subject: str) -> bool:
    """The session loop hands its connection to an object of the instance that was given
    the file's connecting function (``self._pool = ConnectionPool(connect_cb=self._connect_ws)``
    then ``self._pool.remove(ws)`` on a Close): that object opens the next connection when
    one is asked for, so the end is reported to a handler that reconnects."""
    if function is None or function.owner_class is None:
        return False
    owner = model.classes.get(function.owner_class)
    if owner is None:
        return False
    connecting = _connecting_functions(model)
    for node, _ in _walk(loop.body, into_loops=True):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
            continue
        holder = dotted_name(node.func.value) or ""
        if not holder.startswith("self.") or holder.count(".") != 1:
            continue
        if not any(dotted_name(arg.value) == subject for arg in node.args):
            continue
        for binding in owner.attrs.get(holder[len("self."):], ()):
            value = unawaited(binding.value) if binding.value is not None else None
            if isinstance(value, cst.Call) and any(
                (dotted_name(arg.value) or "").rpartition(".")[2] in connecting for arg in value.args
            ):
                return True
    return False


# A WebSocket close code: the normal closure, the server's statement that the exchange is over.
_NORMAL_CLOSURE = 1000


def _raises_but_normal_closure(model, loop, exits: list, ancestors: tuple) -> bool:
    """The session ends only by the closed error escaping the loop, into a handler around it
    that raises to the caller on every close but a normal closure (``if e.code != 1000:
    raise ...``): the one silent end is the server closing the exchange on purpose, and every
    failure reaches the caller, whose session it is to restart."""
    if not exits or not all(isinstance(node, cst.Call) for node, _ in exits):
        return False
    for index, ancestor in enumerate(ancestors):
        below = ancestors[index + 1] if index + 1 < len(ancestors) else loop
        if not isinstance(ancestor, cst.Try) or below is not ancestor.body:
            continue
        for handler in ancestor.handlers:
            if handler.name is None or not _catches(model, [handler]):
                continue
            error = dotted_name(handler.name.name)
            leaves = any(isinstance(n, (cst.Return, cst.Break, cst.Continue)) for n, _ in _walk(handler.body, into_loops=True))
            if not leaves and any(
                isinstance(node, cst.If) and _code_is_not_normal(node.test, error)
                and any(isinstance(n, cst.Raise) for n, _ in _walk(node.body, into_loops=True))
                for node, _ in _walk(handler.body, into_loops=True)
            ):
                return True
    return False


def _code_is_not_normal(test: cst.BaseExpression, error: str | None) -> bool:
    """``error.code != 1000`` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    comparison = test.comparisons[0]
    if not isinstance(comparison.operator, cst.NotEqual):
        return False
    sides = (test.left, comparison.comparator)
    return any(isinstance(side, cst.Integer) and side.evaluated_value == _NORMAL_CLOSURE for side in sides) and any(
        dotted_name(side) == f"{error}.code" for side in sides
    )
