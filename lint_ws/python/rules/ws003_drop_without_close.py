"""WS003 drop-without-close (Python): ``__del__`` cancels a connection pump without a close.

A class's ``__del__`` (or a method it reaches through ``self.<method>()`` calls, or a method
assigned as ``__del__ = stop``) cancels a task that runs a connection half — ``task.cancel()``
or ``loop.call_soon_threadsafe(task.cancel)`` — and nothing on that path first closes the
connection or asks the pump to: no ``ws.close()`` (also scheduled), no close command put
into the pump's queue, no closing/stop event set before the cancel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from lint_ws.python.model import (
    Function,
    PythonModel,
    destructor_reach,
    function_body,
    graceful_closes,
    in_test_path,
    walk,
)
from lint_ws.python.rules.ws002_abort_without_close import connection_halves

RULE_ID = "WS003"

_CLOSE_COMMANDS = frozenset({"put_nowait", "put", "send_nowait", "try_send", "send"})
_STOP_EVENT = re.compile(r"clos|stop|shut|quit|exit|done|cancel|terminat", re.IGNORECASE)


def check(ctx) -> Iterator:
    model: PythonModel = ctx.model
    if in_test_path(ctx.source.path):
        return
    for class_name, info in model.classes.items():
        chains = destructor_reach(model, class_name)
        if not chains:
            continue
        destructor = info.methods["__del__"]
        for site in model.sites:
            if site.method != "cancel" or site.function is None or id(site.function) not in chains:
                continue
            owned = connection_halves(model, site)
            if not owned or _asks_to_close_first(model, chains, site.function, site.node):
                continue
            chain = chains[id(site.function)]
            via = "".join(f" via `{function.name}()`" for function in chain[1:])
            yield ctx.report(
                RULE_ID,
                site.node,
                f"`{class_name}.__del__`{via} cancels a task that runs a connection half "
                f"(`{ctx.code(owned[0])}`) without closing the connection first: when the object "
                "is collected the peer sees the connection drop without a Close frame and queued "
                "messages are lost",
                related=[(destructor.node.name, "the destructor")]
                + [(node, "the task that runs the connection half") for node in owned],
            )


def _asks_to_close_first(model: PythonModel, chains: dict, cancel_function: Function, cancel: cst.CSTNode) -> bool:
    """A graceful close or a close request anywhere on the destructor's path; in the
    cancelling function itself, only before the cancel."""
    for chain in chains.values():
        function = chain[-1]
        nodes = list(walk(function_body(function)))
        if function is cancel_function:
            cut = next((i for i, node in enumerate(nodes) if node is cancel), len(nodes))
            nodes = nodes[:cut]
        if graceful_closes(model, [n for n in nodes if isinstance(n, cst.Call)], function):
            return True
        for node in nodes:
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                method = node.func.attr.value
                if method in _CLOSE_COMMANDS and node.args:
                    return True
                if method == "set" and _STOP_EVENT.search(model.module.code_for_node(node.func.value)):
                    return True
    return False
