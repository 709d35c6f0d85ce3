"""WS002 abort-without-close (Python): a connection half's task is cancelled as teardown.

A ``task.cancel()`` (or ``call_soon_threadsafe(task.cancel)``, or a task group's
``cancel_scope.cancel()``) hard-stops a task that runs a connection half: its coroutine is
given a connection or works one. That is a finding unless the same path closes the
connection gracefully (``await ws.close()`` in the function, or in every caller of it in
the file) or the cancel is the fallback after a bounded wait (``asyncio.wait_for(task, t)``,
``asyncio.wait(tasks, timeout=t)``, an ``except TimeoutError`` branch), or the connection is
already over when the cancel runs (after ``await ws.wait_closed()`` or a finished
``async for msg in ws`` loop, in an ``except ConnectionClosed``/``WebSocketDisconnect``
handler, in a branch taken on a CLOSE message): then nothing is left to send. A task whose
coroutine holds its connection in ``async with connect(...)`` or closes it in a ``finally``
closes it gracefully when cancelled; cancelling it is how such a client is stopped. A cancel
inside the connection's receive loop that does not leave the loop is not a teardown: the
connection goes on being served (a "stop streaming" command).
Not here: test code (``test*`` functions, ``Test*`` classes, files under ``tests/`` or named
``test_*.py``/``*_test.py``/``conftest.py``) and cancels reached from ``__del__`` (WS003).
"""

from __future__ import annotations

from collections.abc import Iterator

import re

import libcst as cst

from lint_ws.python.model import (
    INSTANCE,
    TASK_GROUP,
    Function,
    PythonModel,
    Site,
    child_nodes,
    dotted_name,
    function_body,
    graceful_closes,
    in_destructor_reach,
    in_test_function,
    in_test_path,
    is_connection_loop,
    walk,
)

RULE_ID = "WS002"

_BOUNDED_WAITS = frozenset({"asyncio.wait_for", "asyncio.tasks.wait_for", "asyncio.wait", "asyncio.tasks.wait"})
_TIMEOUT_EXCEPTIONS = frozenset({"TimeoutError", "asyncio.TimeoutError", "asyncio.exceptions.TimeoutError"})
_GROUP_SPAWNS = frozenset({"start_soon", "start", "create_task"})
_EXITS = (cst.Return, cst.Break, cst.Raise)
# Exceptions that say the peer or the transport is already gone.
_CLOSED_EXCEPTIONS = frozenset(
    {
        "ConnectionClosed", "ConnectionClosedOK", "ConnectionClosedError", "WebSocketDisconnect",
        "ClientConnectionError", "ServerDisconnectedError", "ConnectionResetError", "ConnectionError",
        "BrokenResourceError", "ClosedResourceError", "EndOfStream", "WebSocketException",
    }
)
# A branch taken on a close message: aiohttp WSMsgType.CLOSE/CLOSING/CLOSED, ASGI's disconnect.
_CLOSE_MESSAGE = re.compile(r"\bCLOS(E|ED|ING)\b|websocket\.disconnect")


def check(ctx) -> Iterator:
    model: PythonModel = ctx.model
    if in_test_path(ctx.source.path):
        return
    for site in model.sites:
        if site.method != "cancel" or in_test_function(site.function):
            continue
        owned = connection_halves(model, site)
        if not owned or in_destructor_reach(model, site.function):
            continue
        if _bounded_wait_first(model, site, owned) or _closed_on_path(model, site.function):
            continue
        if _connection_already_over(model, site) or _connection_keeps_going(model, site):
            continue
        spawn = owned[0]
        yield ctx.report(
            RULE_ID,
            site.node,
            f"`{ctx.code(site.receiver)}.cancel()` hard-stops a task that runs a connection half "
            f"(`{ctx.code(spawn)}`) with no graceful close on this path: messages still queued for "
            "the peer are lost and the peer sees the connection drop without a Close frame",
            related=[(node, "the task that runs the connection half") for node in owned],
        )


def connection_halves(model: PythonModel, site: Site) -> list[cst.CSTNode]:
    """The spawning calls (``create_task(...)``, ``tg.start_soon(...)``) of the connection
    halves the cancel at ``site`` stops; empty when it stops none."""
    connections = model.connections
    receiver = site.receiver
    if isinstance(receiver, cst.Attribute) and receiver.attr.value == "cancel_scope":
        return _group_halves(model, receiver.value, site.function)
    tasks = connections.tasks_of(connections.value_of(receiver, site.function))
    return [
        task.origin
        for task in tasks
        if isinstance(task.origin, cst.Call)
        and connections.task_owns_connection(task)
        and _pumps(model, task.origin.args[0].value, task.scope)
        and not closes_on_exit(model, task.origin.args[0].value, task.scope)
    ]


def _pumps(model: PythonModel, target: cst.BaseExpression, scope: Function | None) -> bool:
    """Does the coroutine ``target`` move the connection's data: a loop in it (or in a method
    of its class it calls) that works a connection? A task that connects or reconnects once
    after a sleep (a scheduler), or only closes, is no pump. A coroutine the file cannot see
    into counts (it was given the connection)."""
    connections = model.connections
    function = connections.function_named(target.func if isinstance(target, cst.Call) else target, scope)
    if function is None:
        return True
    pending, seen = [function], set()
    while pending and len(seen) < 6:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for node in walk(function_body(current)):
            if isinstance(node, (cst.For, cst.While)) and _works_a_connection(model, node, current):
                return True
        owner = model.classes.get(current.owner_class or "")
        if owner is not None:
            pending.extend(owner.methods[name] for name in _run_in_place(current) if name in owner.methods)
    return False


def _run_in_place(function: Function) -> list[str]:
    """The ``self.<method>()`` calls the function awaits or makes as a statement: what runs
    in its own task (a method it hands to ``create_task`` runs in another)."""
    names = []
    for node in walk(function_body(function)):
        call = node.expression if isinstance(node, cst.Await) else node.value if isinstance(node, cst.Expr) else None
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and dotted_name(call.func.value) == "self":
            names.append(call.func.attr.value)
    return names


def _works_a_connection(model: PythonModel, loop: cst.CSTNode, scope: Function) -> bool:
    if is_connection_loop(model, loop, scope):
        return True
    connections = model.connections
    return any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        and connections.is_connection(node.func.value, scope)
        for node in walk([loop])
    )


def closes_on_exit(model: PythonModel, target: cst.BaseExpression, scope: Function | None, depth: int = 0) -> bool:
    """Does the coroutine ``target`` close its connection however it ends: ``async with
    connect(...)``/``ws_connect(...)``, a ``finally``/``except CancelledError`` that closes
    (in it or in a function of this file it calls)?"""
    connections = model.connections
    function = connections.function_named(target.func if isinstance(target, cst.Call) else target, scope)
    if function is None:
        return False
    for node in walk(function_body(function)):
        if isinstance(node, cst.With) and any(connections.is_connection(item.item, function) for item in node.items):
            return True
        if isinstance(node, cst.Try) and node.finalbody is not None:
            if graceful_closes(model, node.finalbody.body.body, function):
                return True
        if isinstance(node, cst.ExceptHandler) and node.type is not None:
            if "CancelledError" in model.module.code_for_node(node.type) and graceful_closes(model, node.body.body, function):
                return True
        if depth < 2 and isinstance(node, cst.Call) and connections.function_named(node.func, function) not in (None, function):
            if closes_on_exit(model, node, function, depth + 1):
                return True
    return False


def _group_halves(model: PythonModel, group: cst.BaseExpression, scope: Function | None) -> list[cst.CSTNode]:
    connections = model.connections
    if scope is None or connections.kind(group, scope) != TASK_GROUP:
        return []
    name = dotted_name(group)
    halves = []
    for node in walk(function_body(scope)):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.args):
            continue
        if node.func.attr.value in _GROUP_SPAWNS and dotted_name(node.func.value) == name:
            target, *extra = (arg.value for arg in node.args)
            if connections.runs_connection(target, tuple(extra), scope) and not closes_on_exit(model, target, scope):
                halves.append(node)
    return halves


def _bounded_wait_first(model: PythonModel, site: Site, owned: list[cst.CSTNode]) -> bool:
    """Is the cancel the fallback of a bounded wait: in an ``except TimeoutError`` branch, or
    in a function that waits for those tasks with a timeout?"""
    for ancestor in site.ancestors:
        if isinstance(ancestor, cst.ExceptHandler):
            if any((model.qualified(name) or "") in _TIMEOUT_EXCEPTIONS for name in _caught(ancestor)):
                return True
    if site.function is None:
        return False
    connections = model.connections
    owned_ids = {id(node) for node in owned}
    for node in walk(function_body(site.function)):
        if not isinstance(node, cst.Call) or not node.args:
            continue
        qualified = model.qualified(node.func) or ""
        if qualified not in _BOUNDED_WAITS:
            continue
        if qualified.endswith(".wait") and not any(arg.keyword and arg.keyword.value == "timeout" for arg in node.args):
            continue
        waited = connections.tasks_of(connections.value_of(node.args[0].value, site.function))
        if any(id(task.origin) in owned_ids for task in waited):
            return True
    return False


def _closed_on_path(model: PythonModel, function: Function | None) -> bool:
    """Does the function close a connection, or does every in-file caller of it?"""
    if function is None:
        return False
    if graceful_closes(model, function_body(function), function):
        return True
    callers = _callers(model, function)
    return bool(callers) and all(
        caller is not function and graceful_closes(model, function_body(caller), caller) for caller in callers
    )


def _callers(model: PythonModel, function: Function) -> list[Function]:
    """The functions of the file that may call ``function``: not a call of another thing of
    the same name (``old_ws.close()`` is no caller of the class's ``close()``; a method is
    not called as a bare name, nor through ``self`` of another class)."""
    found: list[Function] = []
    for scope, call in model.call_sites.get(function.name, ()):
        if scope is None or scope in found:
            continue
        func = call.func
        if function.class_name is None:
            if isinstance(func, cst.Name):
                found.append(scope)
            continue
        if not isinstance(func, cst.Attribute):
            continue
        receiver = dotted_name(func.value)
        if receiver in ("self", "cls"):
            if scope.owner_class == function.class_name:
                found.append(scope)
            continue
        value = model.connections.value_of(func.value, scope)
        if value is None or (value.kind == INSTANCE and value.flavour == function.class_name):
            found.append(scope)
    return found


def _connection_already_over(model: PythonModel, site: Site) -> bool:
    for ancestor in site.ancestors:
        if isinstance(ancestor, cst.ExceptHandler):
            if any((dotted_name(name) or "").rpartition(".")[2] in _CLOSED_EXCEPTIONS for name in _caught(ancestor)):
                return True
        if isinstance(ancestor, (cst.If, cst.While)) and _CLOSE_MESSAGE.search(model.module.code_for_node(ancestor.test)):
            return True
    if site.function is None:
        return False
    connections = model.connections
    for node in walk(function_body(site.function)):
        if node is site.node:
            return False
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "wait_closed":
            if connections.is_connection(node.func.value, site.function):
                return True
        if isinstance(node, cst.For) and is_connection_loop(model, node, site.function):
            if not any(inner is site.node for inner in walk([node])):
                return True
    return False


def _connection_keeps_going(model: PythonModel, site: Site) -> bool:
    """Is the cancel inside the connection's receive loop, on a path that stays in it?"""
    ancestors = list(site.ancestors)
    loops = [
        index
        for index, ancestor in enumerate(ancestors)
        if isinstance(ancestor, (cst.For, cst.While)) and is_connection_loop(model, ancestor, site.function)
    ]
    if not loops:
        return False
    current: cst.CSTNode = site.node
    for ancestor in reversed(ancestors[loops[-1] :]):
        for child in child_nodes(ancestor):
            if not isinstance(child, cst.IndentedBlock):
                continue
            for index, statement in enumerate(child.body):
                if any(node is current for node in walk([statement])):
                    # Only what runs after the cancel: its own line, then the statements that follow.
                    after = child.body[index:] if current is site.node else child.body[index + 1 :]
                    if any(isinstance(node, _EXITS) for node in walk(after)):
                        return False
        current = ancestor
    return True


def _caught(handler: cst.ExceptHandler) -> list[cst.BaseExpression]:
    """The exception expressions an ``except`` clause names (none for a bare ``except:``)."""
    if handler.type is None:
        return []
    if isinstance(handler.type, cst.Tuple):
        return [element.value for element in handler.type.elements]
    return [handler.type]
