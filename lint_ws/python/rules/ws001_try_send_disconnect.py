"""WS001 try-send-disconnect (Python): a full queue's outcome tears the connection down.

The non-blocking sends are ``put_nowait`` (asyncio.Queue -> asyncio.QueueFull, queue.Queue
-> queue.Full) and ``send_nowait`` (anyio memory streams and trio channels -> WouldBlock).
Their full outcome is the first ``except`` clause around the send that catches the
overflow exception (by itself, in a tuple, or lumped into ``Exception``/a bare ``except``),
or, for ``contextlib.suppress(...)``, the code that runs only when the send was skipped, or
the branch of an ``if queue.full():`` (``qsize() >= maxsize``) check made before the send.
That outcome tears down when it closes a connection, calls a disconnect helper, cancels a
task that runs a connection half, removes a connection from a registry, or leaves the
connection's receive loop (``break``/``return``/``raise``), directly or through a helper of
the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from lint_ws.findings import Applicability, Fix
from lint_ws.python.fix_edits import replacement
from lint_ws.python.model import (
    LOGGING,
    PROCESS,
    Function,
    PythonModel,
    Site,
    child_nodes,
    dotted_name,
    function_body,
    is_connection_loop,
    walk,
)

RULE_ID = "WS001"

_FULL_EXCEPTIONS = {
    "put_nowait": frozenset({"asyncio.QueueFull", "asyncio.queues.QueueFull", "queue.Full"}),
    "send_nowait": frozenset({"anyio.WouldBlock", "trio.WouldBlock"}),
}
# A name nobody imported (a star import, a re-export): trust only the unambiguous ones.
_FULL_BARE_NAMES = {"put_nowait": frozenset({"QueueFull"}), "send_nowait": frozenset({"WouldBlock"})}
_SENDS = frozenset({*_FULL_EXCEPTIONS, "put"})
_BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
_SUPPRESS = frozenset({"contextlib.suppress", "suppress"})
_CLOSING_METHODS = frozenset({"close", "aclose", "abort", "disconnect", "terminate", "kill", "close_connection"})
_REGISTRY_REMOVALS = frozenset({"pop", "remove", "discard"})
_LOOP_EXITS = (cst.Break, cst.Return, cst.Raise)
_HELPER_DEPTH = 3


@dataclass(frozen=True)
class FullOutcome:
    """Where the queue-full outcome of a send goes."""

    statements: tuple[cst.CSTNode, ...]  # what runs only because the queue was full
    catch: cst.CSTNode  # the except clause's type (or the handler) / the suppress(...) call
    handler: cst.ExceptHandler | None  # None for contextlib.suppress
    only_full: bool  # the handler catches the overflow and nothing else


@dataclass(frozen=True)
class Teardown:
    node: cst.CSTNode
    what: str


def check(ctx) -> Iterator:
    model: PythonModel = ctx.model
    for site in model.sites:
        if site.method not in _SENDS or not isinstance(site.node, cst.Call):
            continue
        if model.connections.queue_flavour(site.receiver, site.function) in (LOGGING, PROCESS):
            continue
        if site.method in _FULL_EXCEPTIONS and model.connections.is_unbounded_queue(site.receiver, site.function):
            continue  # never full: the handler is dead code, not a disconnect
        if model.connections.is_package_object(site.receiver, site.function):
            continue  # the project's own channel class: not a library queue's overflow
        if _connection_already_ending(model, site):
            continue
        # A blocking ``put`` is non-blocking only behind a full-queue check of its own
        # (``if q.qsize() < limit: await q.put(m) else: ...``): the check is the bound.
        outcomes = (_full_precheck(site),) if site.method == "put" else (_full_outcome(model, site), _full_precheck(site))
        found = [
            (outcome, teardowns)
            for outcome in outcomes
            if outcome is not None
            for teardowns in [[t for t in _teardowns(model, outcome.statements, site) if not _retires_the_item(site, t)]]
            if teardowns
        ]
        if not found:
            continue
        outcome, teardowns = found[0]
        first = teardowns[0]
        queue = ctx.code(site.receiver)
        # A checked ``put``: the check is what makes it non-blocking, so the finding is there.
        checked = site.method == "put"
        yield ctx.report(
            RULE_ID,
            outcome.catch if checked else site.node,
            f"a full `{queue}` disconnects the peer: when the queue is full (a slow or briefly "
            f"congested consumer), the code {first.what} instead of skipping the message or "
            "applying backpressure, so transient congestion becomes session death",
            related=[(site.node, "the put this check guards") if checked else (outcome.catch, "the queue-full outcome is handled here")]
            + [(teardown.node, f"this {teardown.what}") for teardown in teardowns],
            fix=_drop_fix(ctx, model, outcome, teardowns, site),
        )


def _connection_already_ending(model: PythonModel, site: Site) -> bool:
    """The send runs in the ``finally`` of the connection's receive loop (a stop sentinel for
    the consumer, sent as the session ends): whatever its full outcome does, the connection
    is going down already, and no congestion caused that."""
    for index, node in enumerate(site.ancestors):
        if isinstance(node, cst.Finally) and index > 0 and isinstance(site.ancestors[index - 1], cst.Try):
            body = site.ancestors[index - 1].body
            if any(
                isinstance(inner, (cst.For, cst.While)) and is_connection_loop(model, inner, site.function)
                for inner in walk([body])
            ):
                return True
    return False


# -- where the full outcome goes ----------------------------------------------------------------


def _full_outcome(model: PythonModel, site: Site) -> FullOutcome | None:
    ancestors = site.ancestors
    for position in range(len(ancestors) - 1, -1, -1):
        node = ancestors[position]
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return None
        inner = ancestors[position + 1] if position + 1 < len(ancestors) else site.node
        if isinstance(node, (cst.Try, cst.TryStar)) and _in_try_body(node, inner):
            for handler in node.handlers:
                caught = _catches_full(model, handler, site.method)
                if caught is None:
                    continue
                catch_node, only_full = caught
                return FullOutcome(tuple(handler.body.body), catch_node, handler, only_full)
        if isinstance(node, cst.With):
            suppress = _suppress_of_full(model, node, site.method)
            if suppress is not None:
                enclosing = ancestors[position - 1] if position > 0 else None
                skipped = _only_when_skipped(node, site.node, enclosing)
                if skipped:
                    return FullOutcome(tuple(skipped), suppress, None, False)
                return None
    return None


def _full_precheck(site: Site) -> FullOutcome | None:
    """``if q.full(): <outcome>`` before ``q.put_nowait(..)`` (or with the send in its
    ``else``; or ``if not q.full(): send else: <outcome>``): the branch taken when full."""
    queue = dotted_name(site.receiver)
    if queue is None:
        return None
    current: cst.CSTNode = site.node
    for ancestor in reversed(site.ancestors):
        if isinstance(ancestor, cst.If) and _tests_full(ancestor.test, queue) is not None:
            negated = _tests_full(ancestor.test, queue)
            in_body = any(node is current for node in walk([ancestor.body]))
            if negated and in_body and isinstance(ancestor.orelse, cst.Else):
                return FullOutcome(tuple(ancestor.orelse.body.body), ancestor.test, None, False)
            if not negated and not in_body:
                return FullOutcome(tuple(ancestor.body.body), ancestor.test, None, False)
        for child in child_nodes(ancestor):
            if not isinstance(child, cst.IndentedBlock):
                continue
            for index, statement in enumerate(child.body):
                if any(node is current for node in walk([statement])):
                    for earlier in reversed(child.body[:index]):
                        if isinstance(earlier, cst.If) and _tests_full(earlier.test, queue) is False:
                            return FullOutcome(tuple(earlier.body.body), earlier.test, None, False)
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return None
        current = ancestor
    return None


def _tests_full(test: cst.BaseExpression, queue: str) -> bool | None:
    """False for a test that is true when ``queue`` is full, True for its negation, None else."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return None if _tests_full(test.expression, queue) is None else True
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute):
        if test.func.attr.value == "full" and dotted_name(test.func.value) == queue:
            return False
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left = test.left
        operator = test.comparisons[0].operator
        if (
            isinstance(left, cst.Call)
            and isinstance(left.func, cst.Attribute)
            and left.func.attr.value == "qsize"
            and dotted_name(left.func.value) == queue
        ):
            if isinstance(operator, (cst.GreaterThanEqual, cst.GreaterThan, cst.Equal)):
                return False
            if isinstance(operator, (cst.LessThan, cst.LessThanEqual)):
                return True  # ``qsize() < limit``: room left
    return None


def _in_try_body(node: cst.Try | cst.TryStar, inner: cst.CSTNode) -> bool:
    if isinstance(inner, (cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)):
        return False
    return not (isinstance(inner, cst.Else) and inner is node.orelse)


def _catches_full(model: PythonModel, handler: cst.ExceptHandler, method: str) -> tuple[cst.CSTNode, bool] | None:
    """(the node that names the overflow, whether the clause catches only that) or None."""
    if handler.type is None:
        return handler, False
    names = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    for name in names:
        qualified = model.qualified(name) or ""
        if qualified in _FULL_EXCEPTIONS[method] or (
            "." not in qualified and qualified in _FULL_BARE_NAMES[method] and qualified not in model.imports
        ):
            return name, len(names) == 1
        if qualified in _BROAD_EXCEPTIONS:
            return name, False
    return None


def _suppress_of_full(model: PythonModel, node: cst.With, method: str) -> cst.Call | None:
    for item in node.items:
        call = item.item
        if isinstance(call, cst.Call) and (model.qualified(call.func) or "") in _SUPPRESS:
            for arg in call.args:
                qualified = model.qualified(arg.value) or ""
                if qualified in _FULL_EXCEPTIONS[method] or qualified in _BROAD_EXCEPTIONS:
                    return call
    return None


def _only_when_skipped(with_node: cst.With, send: cst.CSTNode, enclosing: cst.CSTNode | None) -> list[cst.CSTNode]:
    """The statements after a ``with suppress(Full):`` block that run only when the send was
    skipped: all that follows when the block ends in return/continue/break/raise after the
    send, or the ``if not <flag>:`` branch when the block sets a flag after the send."""
    body = list(with_node.body.body) if isinstance(with_node.body, cst.IndentedBlock) else []
    index = next((i for i, statement in enumerate(body) if _contains(statement, send)), None)
    following = _following_statements(enclosing, with_node)
    if index is None or following is None:
        return []
    after_send = body[index + 1 :]
    if any(_small_statements(statement, (cst.Return, cst.Continue, cst.Break, cst.Raise)) for statement in after_send):
        return following
    flags = {
        target.target.value
        for statement in after_send
        for assign in _small_statements(statement, (cst.Assign,))
        for target in assign.targets
        if isinstance(target.target, cst.Name)
    }
    skipped: list[cst.CSTNode] = []
    for statement in following:
        if isinstance(statement, cst.If):
            test = statement.test
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                if dotted_name(test.expression) in flags:
                    skipped.extend(statement.body.body)
            elif dotted_name(test) in flags and isinstance(statement.orelse, cst.Else):
                skipped.extend(statement.orelse.body.body)
    return skipped


def _small_statements(statement: cst.CSTNode, kinds) -> list:
    if isinstance(statement, cst.SimpleStatementLine):
        return [small for small in statement.body if isinstance(small, kinds)]
    return []


def _following_statements(parent: cst.CSTNode | None, child: cst.CSTNode) -> list[cst.CSTNode] | None:
    for block in _blocks(parent):
        for index, statement in enumerate(block):
            if statement is child:
                return list(block[index + 1 :])
    return None


def _blocks(node: cst.CSTNode | None) -> Iterator[tuple[cst.CSTNode, ...]]:
    """The statement sequences directly under a compound statement (or a function)."""
    if node is None:
        return
    for child in child_nodes(node):
        if isinstance(child, cst.IndentedBlock):
            yield tuple(child.body)


def _contains(root: cst.CSTNode, target: cst.CSTNode) -> bool:
    return any(node is target for node in walk([root]))


# -- what tears down -------------------------------------------------------------------------


def _teardowns(model: PythonModel, statements, site: Site, follow_raises: bool = True) -> Iterator[Teardown]:
    yield from _call_teardowns(model, statements, site.function, depth=0)
    for node in _loop_exits(statements):
        loops = [a for a in site.ancestors if isinstance(a, (cst.For, cst.While))]
        if isinstance(node, cst.Break):
            loops = loops[-1:]
        handler = _handler_in_loop(model, site, node) if isinstance(node, cst.Raise) and follow_raises else None
        if handler is not None:
            # Raised into a handler inside the loop: what that handler does is the outcome.
            inner = next(_teardowns(model, tuple(handler.body.body), site, follow_raises=False), None)
            if inner is not None:
                yield Teardown(node, f"raises into an `except` clause that {inner.what}")
            continue
        if any(is_connection_loop(model, loop, site.function) for loop in loops):
            verb = {cst.Break: "breaks", cst.Return: "returns", cst.Raise: "raises"}[type(node)]
            yield Teardown(node, f"{verb} out of the connection's receive loop")


def _handler_in_loop(model: PythonModel, site: Site, raised: cst.Raise) -> cst.ExceptHandler | None:
    """The ``except`` clause, inside the send's innermost connection loop, that catches the
    exception ``raised`` (``raise Overflow(...)``: by its name or as ``Exception``)."""
    if not isinstance(raised.exc, (cst.Call, cst.Name, cst.Attribute)):
        return None
    exception = dotted_name(raised.exc.func if isinstance(raised.exc, cst.Call) else raised.exc) or ""
    ancestors = site.ancestors
    for position in range(len(ancestors) - 1, -1, -1):
        node = ancestors[position]
        if isinstance(node, (cst.For, cst.While, cst.FunctionDef, cst.Lambda)):
            return None
        inner = ancestors[position + 1] if position + 1 < len(ancestors) else site.node
        if isinstance(node, cst.Try) and _in_try_body(node, inner):
            for handler in node.handlers:
                if handler.type is None:
                    return handler
                names = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
                for name in names:
                    caught = model.qualified(name) or dotted_name(name) or ""
                    if caught in _BROAD_EXCEPTIONS or caught.rpartition(".")[2] == exception.rpartition(".")[2]:
                        return handler
    return None


def _loop_exits(statements) -> Iterator[cst.CSTNode]:
    """break/return/raise in ``statements`` that leave the code around them (a ``break``
    inside a loop of the handler itself only leaves that loop)."""
    stack = [(node, False) for node in reversed(list(statements))]
    while stack:
        node, in_own_loop = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(node, _LOOP_EXITS) and not (in_own_loop and isinstance(node, cst.Break)):
            yield node
        nested = in_own_loop or isinstance(node, (cst.For, cst.While))
        stack.extend((child, nested) for child in reversed(child_nodes(node)))


def _call_teardowns(model: PythonModel, statements, scope: Function | None, depth: int) -> Iterator[Teardown]:
    connections = model.connections
    for node in walk(statements):
        if isinstance(node, cst.Del):
            for target in _del_targets(node.target):
                if isinstance(target, cst.Subscript) and connections.is_registry(target.value, scope):
                    yield Teardown(node, f"removes the connection from `{model.module.code_for_node(target.value)}`")
            continue
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        receiver = func.value if isinstance(func, cst.Attribute) else None
        if receiver is not None and name in _CLOSING_METHODS and connections.is_connection(receiver, scope):
            yield Teardown(node, f"closes the connection (`{name}()`)")
        elif receiver is not None and name == "cancel" and _cancels_connection_task(model, receiver, scope):
            yield Teardown(node, "cancels a task that runs the connection")
        elif receiver is not None and name in _REGISTRY_REMOVALS and connections.is_registry(receiver, scope):
            yield Teardown(node, f"removes the connection from `{model.module.code_for_node(receiver)}`")
        elif depth < _HELPER_DEPTH:
            helper = connections.function_named(func, scope)
            if helper is not None and helper is not scope:
                inner = next(_call_teardowns(model, function_body(helper), helper, depth + 1), None)
                if inner is not None:
                    yield Teardown(node, f"calls `{helper.name}()`, which {inner.what}")


def _retires_the_item(site: Site, teardown: Teardown) -> bool:
    """``pool.put_nowait(conn)`` / on Full ``conn.close()``: the queue holds connections (a
    pool) and the full outcome closes the surplus one; no peer loses messages."""
    items = {dotted_name(arg.value) for arg in site.node.args} - {None}
    node = teardown.node
    if not isinstance(node, cst.Call):
        return False
    mentioned = {dotted_name(arg.value) for arg in node.args}
    if isinstance(node.func, cst.Attribute):
        mentioned.add(dotted_name(node.func.value))
    return bool(items & mentioned)


def _del_targets(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(target, cst.Tuple):
        return [element.value for element in target.elements]
    return [target]


def _cancels_connection_task(model: PythonModel, receiver: cst.BaseExpression, scope: Function | None) -> bool:
    connections = model.connections
    tasks = connections.tasks_of(connections.value_of(receiver, scope))
    return any(connections.task_owns_connection(task) for task in tasks)


# -- the fix: drop the message instead -------------------------------------------------------------


def _drop_fix(ctx, model: PythonModel, outcome: FullOutcome, teardowns: list[Teardown], site: Site) -> Fix | None:
    """Replace the teardown statements of an ``except <Full>:`` handler by a log line (the
    module's logger) or ``pass``.

    Offered only where that is the whole correction: the handler catches nothing but the
    overflow, its teardowns are whole statements of its body, everything else it does is
    logging (a flag set or a ``raise`` left behind would keep half the teardown), and the
    item is a message: dropping a stop sentinel (``put_nowait(None)``) would leave the
    consumer running for good."""
    handler = outcome.handler
    if handler is None or not outcome.only_full or _sends_sentinel(model, site):
        return None
    if not ctx.code_is_text:
        return None
    torn = {id(teardown.node) for teardown in teardowns}
    kept: list[cst.BaseStatement] = []
    replaced = False
    for statement in handler.body.body:
        if _is_teardown_statement(statement, torn):
            if not replaced:
                kept.append(_drop_statement(model).with_changes(leading_lines=statement.leading_lines))
                replaced = True
        elif not _only_logs(model, statement):
            return None
        else:
            kept.append(statement)
    if not replaced:
        return None
    edit = replacement(ctx, model, handler, handler.with_changes(body=handler.body.with_changes(body=kept)))
    if edit is None:
        return None
    return Fix(
        "skip the message when the queue is full instead of disconnecting the peer",
        Applicability.UNSAFE,
        (edit,),
    )


def _sends_sentinel(model: PythonModel, site: Site) -> bool:
    """The item queued is ``None`` or a module-level ``object()`` marker: a stop request."""
    for arg in site.node.args:
        value = arg.value
        if isinstance(value, cst.Name) and value.value == "None":
            return True
        name = dotted_name(value)
        if name is not None and name in _module_markers(model):
            return True
    return False


def _module_markers(model: PythonModel) -> frozenset[str]:
    def markers(model: PythonModel) -> frozenset[str]:
        found = set()
        for statement in model.module.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if (
                    isinstance(small, cst.Assign)
                    and isinstance(small.value, cst.Call)
                    and dotted_name(small.value.func) == "object"
                    and not small.value.args
                ):
                    found.update(dotted_name(target.target) for target in small.targets)
        return frozenset(found - {None})

    return model.per_file("sentinel_markers", markers)


def _only_logs(model: PythonModel, statement: cst.CSTNode) -> bool:
    """``pass``, a docstring-like constant, or a call to a logger or ``print``."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Pass):
            continue
        if not isinstance(small, cst.Expr):
            return False
        value = small.value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            continue
        if not isinstance(value, cst.Call):
            return False
        func = value.func
        if isinstance(func, cst.Name) and func.value == "print":
            continue
        receiver = func.value if isinstance(func, cst.Attribute) else None
        if receiver is None or not _is_logger(model, receiver):
            return False
    return True


def _is_logger(model: PythonModel, receiver: cst.BaseExpression) -> bool:
    name = dotted_name(receiver)
    return name is not None and (name == _module_logger(model) or model.qualified(receiver) == "logging")


def _is_teardown_statement(statement: cst.CSTNode, torn: set[int]) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if id(small) in torn:
        return True
    expression = small.value if isinstance(small, cst.Expr) else None
    if isinstance(expression, cst.Await):
        expression = expression.expression
    return expression is not None and id(expression) in torn


def _drop_statement(model: PythonModel) -> cst.SimpleStatementLine:
    logger = _module_logger(model)
    if logger is None:
        return cst.SimpleStatementLine([cst.Pass()])
    return cst.parse_statement(f'{logger}.warning("queue full; message dropped")\n')


def _module_logger(model: PythonModel) -> str | None:
    """The name of a module-level ``logging.getLogger(...)`` (or structlog) logger."""
    for statement in model.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
                factory = model.qualified(small.value.func) or ""
                if factory in ("logging.getLogger", "structlog.get_logger", "structlog.getLogger"):
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        return target.value
    return None
