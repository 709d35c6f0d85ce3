"""The Python connection model: built once per file, queried by every Python rule.

It knows what imported names stand for, the file's functions and methods (with their
class), which call which, and what the names in scope stand for: connections (websockets,
aiohttp, starlette/fastapi, socketio), queues and what flavour they are, tasks and what
they run, timer handles, task groups, registries of connections. One visitor pass collects
the bindings; what a name stands for is resolved lazily, only for the names a rule asks
about, so a file no rule looks closely at pays for the pass alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from lint_ws.call_graph import callers_by_name
from lint_ws.per_file import PerFileAnswers
from lint_ws.python.names import (
    CLIENT,
    CLIENT_CONNECTS,
    CONNECTION_LIBRARIES,
    CONNECTION_NAME,
    CONNECTION_ONLY_METHODS,
    CONNECTION_TYPE_NAMES,
    EXTRA_CONNECTION_TYPES,
    HANDLER_STATE_ATTRIBUTES,
    SERVER,
    TYPE_SIDES,
)
from lint_ws.python.project import ModuleView


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for Name/Attribute chains; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


@dataclass(frozen=True, eq=False)
class Binding:
    """One thing bound to a name: ``x = value``, ``x: annotation``, ``for x in value``..."""

    scope: Function | None  # where ``value`` is to be resolved; None: module level
    value: cst.BaseExpression | None = None
    annotation: cst.BaseExpression | None = None
    index: int | None = None  # the name is element ``index`` of an unpacked tuple
    iterated: bool = False  # the name is an element of ``value`` (for / comprehension target)


@dataclass(eq=False)
class Function:
    node: cst.FunctionDef
    name: str
    class_name: str | None
    calls: set[str] = field(default_factory=set)  # last component of every called name
    parent: Function | None = None  # the function a nested function is defined in
    params: dict[str, cst.Param] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)  # local name -> bound values
    # What it calls methods on, iterates with ``async for`` or awaits methods of: the
    # objects whose kind tells whether the function works a connection.
    receivers: list[cst.BaseExpression] = field(default_factory=list)
    connection_names: set[str] = field(default_factory=set)  # awaited a connection-only method

    @property
    def owner_class(self) -> str | None:
        """The class whose ``self`` this function sees (a method, or a function nested in one)."""
        function: Function | None = self
        while function is not None:
            if function.class_name is not None:
                return function.class_name
            function = function.parent
        return None


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    name: str
    methods: dict[str, Function] = field(default_factory=dict)  # includes ``__del__ = stop`` aliases
    attrs: dict[str, list[Binding]] = field(default_factory=dict)  # self.X = ... / X: T in the body
    connection_attrs: set[str] = field(default_factory=set)  # self.X awaited a connection-only method


@dataclass(frozen=True, eq=False)
class Site:
    """A call (or a bare ``x.cancel`` callback reference) some rule looks at closely."""

    node: cst.Call | cst.Attribute
    method: str
    receiver: cst.BaseExpression
    function: Function | None
    # The enclosing statements that decide what the call's outcome leads to, outermost
    # first: Try/ExceptHandler/Else/Finally/With/For/While/If/FunctionDef/Lambda.
    ancestors: tuple[cst.CSTNode, ...]


SITE_METHODS = frozenset({"put_nowait", "send_nowait", "cancel", "put"})  # put: behind a full-queue check


class _FalseOnlyNames(cst.CSTVisitor):
    """Names by every value assigned to them in the module, and names bound some other way."""

    def __init__(self) -> None:
        self.values: dict[str, list[cst.BaseExpression]] = {}
        self.rebound: set[str] = set()

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name) and value is not None:
            self.values.setdefault(target.value, []).append(value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assigned(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assigned(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assigned(node.target, node.value)

    def _bound(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.rebound.add(target.value)

    def visit_For(self, node: cst.For) -> None:
        self._bound(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bound(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bound(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bound(node.target)

    def visit_Param(self, node: cst.Param) -> None:
        self._bound(node.name)


class _Indexer(cst.CSTVisitor):
    def __init__(self) -> None:
        self.imports: dict[str, str] = {}
        self.relative_imports: set[str] = set()  # local names bound by ``from .x import y``
        # local name -> ``..pkg.websockets`` for a relative import of a library's name
        self.relative_libraries: dict[str, str] = {}
        self.functions: list[Function] = []
        self._classes: list[str] = []
        self._functions: list[Function] = []
        self.classes: dict[str, ClassInfo] = {}
        self.globals: dict[str, list[Binding]] = {}
        self.sites: list[Site] = []
        # callee name (last component) -> (calling function, call): to bind parameters
        self.call_sites: dict[str, list[tuple[Function | None, cst.Call]]] = {}
        # collection key -> what was added to it (``.add(x)``, ``.append(x)``, ``c[k] = x``)
        self.additions: dict[str, list[tuple[cst.BaseExpression, Function | None]]] = {}
        self._class_infos: list[ClassInfo] = []
        self._ancestors: list[cst.CSTNode] = []
        self._called_funcs: set[int] = set()
        self._awaited_calls: set[int] = set()
        self._cancel_references: list[tuple[cst.Attribute, Function | None, tuple[cst.CSTNode, ...]]] = []

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.imports[alias.asname.name.value] = full
            else:
                self.imports[full.split(".", 1)[0]] = full.split(".", 1)[0]

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative and not isinstance(node.names, cst.ImportStar):
            dots = "." * len(node.relative)
            for alias in node.names:
                local = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(local, cst.Name):
                    self.relative_imports.add(local.value)
                    name = dotted_name(alias.name)
                    if name in CONNECTION_LIBRARIES:
                        # ``from ..imports import websockets``: maybe the library, re-exported.
                        module = dotted_name(node.module) if node.module is not None else ""
                        self.relative_libraries[local.value] = f"{dots}{module}.{name}" if module else f"{dots}{name}"
        if node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = dotted_name(node.module)
        if module is None:
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.imports[local] = f"{module}.{name}"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)
        info = ClassInfo(node, node.name.value)
        self.classes.setdefault(node.name.value, info)
        self._class_infos.append(info)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()
        self._class_infos.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        direct_method = self._classes and (not self._functions or self._functions[-1].class_name != self._classes[-1])
        function = Function(node, node.name.value, self._classes[-1] if direct_method else None)
        self.functions.append(function)
        self._functions.append(function)
        function.parent = self._functions[-2] if len(self._functions) > 1 else None
        if direct_method:
            self._class_infos[-1].methods.setdefault(function.name, function)
        parameters = node.params
        for param in (*parameters.posonly_params, *parameters.params, *parameters.kwonly_params):
            function.params[param.name.value] = param
        self._ancestors.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._ancestors.pop()

    def visit_Call(self, node: cst.Call) -> None:
        self._record_connection_facts(node)
        if not self._functions:
            return
        func = node.func
        if isinstance(func, cst.Attribute):
            self._functions[-1].calls.add(func.attr.value)
        elif isinstance(func, cst.Name):
            self._functions[-1].calls.add(func.value)

    # -- connection facts: bindings, the statements around interesting calls --------------

    def _scope(self) -> Function | None:
        return self._functions[-1] if self._functions else None

    def _enter(self, node: cst.CSTNode) -> None:
        self._ancestors.append(node)

    def _leave(self, original_node: cst.CSTNode) -> None:
        self._ancestors.pop()

    visit_Try = visit_TryStar = visit_ExceptHandler = visit_ExceptStarHandler = _enter
    leave_Try = leave_TryStar = leave_ExceptHandler = leave_ExceptStarHandler = _leave
    visit_Else = visit_Finally = visit_While = visit_If = visit_Lambda = _enter
    leave_Else = leave_Finally = leave_While = leave_If = leave_Lambda = _leave

    def _bind(self, target: cst.BaseExpression, binding: Binding) -> None:
        scope = self._scope()
        if isinstance(target, cst.Name):
            table = scope.bindings if scope is not None else self.globals
            table.setdefault(target.value, []).append(binding)
        elif isinstance(target, cst.Attribute) and self._is_self(target.value) and self._class_infos:
            owner = self.classes.get(scope.owner_class) if scope is not None and scope.owner_class else None
            if owner is not None:
                owner.attrs.setdefault(target.attr.value, []).append(binding)
        elif isinstance(target, (cst.Tuple, cst.List)) and binding.index is None:
            for index, element in enumerate(target.elements):
                if not isinstance(element, cst.StarredElement):
                    self._bind(element.value, Binding(binding.scope, binding.value, index=index, iterated=binding.iterated))
        elif isinstance(target, cst.Subscript):
            key = self.collection_key(target.value, scope)
            if key is not None and binding.value is not None:
                self.additions.setdefault(key, []).append((binding.value, scope))

    def _is_self(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == "self"

    def collection_key(self, node: cst.BaseExpression, scope: Function | None) -> str | None:
        """A name for a collection that is the same wherever it is used in the file."""
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute) and self._is_self(node.value) and scope is not None:
            return f"{scope.owner_class}.self.{node.attr.value}"
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._functions and self._class_infos:
            info = self._class_infos[-1]
            for target in node.targets:
                if not isinstance(target.target, cst.Name):
                    continue
                # A class attribute is what ``self.<name>`` reads until a method rebinds it.
                info.attrs.setdefault(target.target.value, []).append(Binding(None, node.value))
                # ``__del__ = close``: the class's destructor is that method.
                if isinstance(node.value, cst.Name):
                    method = info.methods.get(node.value.value)
                    if method is not None:
                        info.methods.setdefault(target.target.value, method)
            return
        for target in node.targets:
            self._bind(target.target, Binding(self._scope(), node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        binding = Binding(self._scope(), node.value, annotation=node.annotation.annotation)
        if not self._functions and self._class_infos and isinstance(node.target, cst.Name):
            self._class_infos[-1].attrs.setdefault(node.target.value, []).append(binding)
        else:
            self._bind(node.target, binding)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, Binding(self._scope(), node.value))

    def visit_For(self, node: cst.For) -> None:
        self._ancestors.append(node)
        self._bind(node.target, Binding(self._scope(), node.iter, iterated=True))
        if node.asynchronous is not None and self._functions:
            self._functions[-1].receivers.append(node.iter)

    def leave_For(self, original_node: cst.For) -> None:
        self._ancestors.pop()

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, Binding(self._scope(), node.iter, iterated=True))

    def visit_With(self, node: cst.With) -> None:
        self._ancestors.append(node)
        for item in node.items:
            if item.asname is not None:
                self._bind(item.asname.name, Binding(self._scope(), item.item))

    def leave_With(self, original_node: cst.With) -> None:
        self._ancestors.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "cancel":
            self._cancel_references.append((node, self._scope(), tuple(self._ancestors)))

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self._awaited_calls.add(id(node.expression))

    def _record_connection_use(self, receiver: cst.BaseExpression, scope: Function | None) -> None:
        if scope is None:
            return
        if isinstance(receiver, cst.Name):
            # ``await self.ping()``: the class implements a connection; its own tasks are
            # the implementation's business, not a connection it owns.
            if receiver.value != "self":
                scope.connection_names.add(receiver.value)
        elif isinstance(receiver, cst.Attribute) and self._is_self(receiver.value) and scope.owner_class:
            owner = self.classes.get(scope.owner_class)
            if owner is not None:
                owner.connection_attrs.add(receiver.attr.value)

    def _record_connection_facts(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            if isinstance(func, cst.Name):
                self.call_sites.setdefault(func.value, []).append((self._scope(), node))
            return
        self._called_funcs.add(id(func))
        method = func.attr.value
        scope = self._scope()
        self.call_sites.setdefault(method, []).append((scope, node))
        if scope is not None and isinstance(func.value, (cst.Name, cst.Attribute)):
            scope.receivers.append(func.value)
        if method in CONNECTION_ONLY_METHODS and (id(node) in self._awaited_calls or method.startswith("iter_")):
            self._record_connection_use(func.value, scope)
        if method in SITE_METHODS:
            self.sites.append(Site(node, method, func.value, scope, tuple(self._ancestors)))
        elif method in ("add", "append", "appendleft", "setdefault") and node.args:
            key = self.collection_key(func.value, scope)
            if key is not None:
                self.additions.setdefault(key, []).append((node.args[-1].value, scope))

    def leave_Module(self, original_node: cst.Module) -> None:
        # ``loop.call_soon_threadsafe(task.cancel)``: a cancel passed on, not called here.
        for attribute, scope, ancestors in self._cancel_references:
            if id(attribute) not in self._called_funcs:
                self.sites.append(Site(attribute, "cancel", attribute.value, scope, ancestors))


_HANDLERS: dict[type, tuple] = {}


def _drive(indexer: _Indexer, root: cst.CSTNode) -> None:
    """Run the indexer's ``visit_<Node>``/``leave_<Node>`` methods over the tree, pre-order
    like libcst's ``visit``, but reading child fields directly (``child_nodes``)
    instead of rebuilding every node: the pass costs a fraction of libcst's, and an explicit
    stack never hits the recursion limit on deeply nested code."""
    stack: list = [root]  # nodes to visit, and (leave, node) pairs to leave
    while stack:
        node = stack.pop()
        if type(node) is tuple:
            leave, node = node
            leave(indexer, node)
            continue
        handlers = _HANDLERS.get(type(node))
        if handlers is None:
            name = type(node).__name__
            handlers = _HANDLERS[type(node)] = (getattr(_Indexer, f"visit_{name}", None), getattr(_Indexer, f"leave_{name}", None))
        visit, leave = handlers
        if leave is not None:
            stack.append((leave, node))
        if visit is not None and visit(indexer, node) is False:
            continue
        children = child_nodes(node)
        children.reverse()
        stack.extend(children)


class PythonModel(PerFileAnswers):
    def __init__(
        self,
        module: cst.Module,
        package: Callable[[], ModuleView] | None = None,
        alone: Callable[[], ModuleView] | None = None,
    ):
        self.module = module
        self._package = package
        self._alone = alone

    @cached_property
    def package(self) -> ModuleView | None:
        """The file's package (project.py): classes, helpers and callers in its other
        modules; found and summarised only when a rule asks a question that crosses files."""
        return self._package() if self._package is not None else None

    @cached_property
    def alone(self) -> ModuleView | None:
        """This module as a package of its own: enough for a class with no base, at the cost
        of this file's summary alone."""
        return self._alone() if self._alone is not None else None

    def view_for(self, class_name: str | None) -> ModuleView | None:
        """The package, for a class of this file with a base (the base may live elsewhere);
        this module alone otherwise."""
        owner = self._index.classes.get(class_name or "")
        if owner is not None and not owner.node.bases:
            return self.alone
        return self.package

    @cached_property
    def _index(self) -> _Indexer:
        indexer = _Indexer()
        _drive(indexer, self.module)
        return indexer

    @cached_property
    def names_only_ever_false(self) -> frozenset[str]:
        """Names whose every assignment in the module is ``False`` (``closing = False`` and
        nothing sets it otherwise): a test of one is never true."""
        collector = _FalseOnlyNames()
        self.module.visit(collector)
        return frozenset(
            name for name, values in collector.values.items()
            if name not in collector.rebound and all(isinstance(v, cst.Name) and v.value == "False" for v in values)
        )

    @property
    def imports(self) -> dict[str, str]:
        """Local name -> the qualified name it was imported as (``QF`` -> ``asyncio.QueueFull``)."""
        return self._index.imports

    @property
    def functions(self) -> list[Function]:
        return self._index.functions

    @cached_property
    def callers(self) -> dict[str, list[Function]]:
        """Function name -> the functions of this file that call a function of that name."""
        return callers_by_name(self.functions)

    def qualified(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute chain, resolving imports.

        ``QueueFull`` after ``from asyncio import QueueFull`` -> ``asyncio.QueueFull``;
        ``aio.QueueFull`` after ``import asyncio as aio`` -> ``asyncio.QueueFull``.
        """
        name = dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self._index.relative_libraries:
            head = self._reexported_library(head)
        elif head in self.imports:
            head = self.imports[head]
        return f"{head}.{rest}" if rest else head

    def _reexported_library(self, head: str) -> str:
        """``websockets`` after ``from ..imports import websockets`` where that module does
        ``import websockets``: the library itself; else the package's own name."""
        found = self._reexports.get(head)
        if found is None:
            package = self.package
            target = self._index.relative_libraries[head]
            library = package.project.reexported_import(package.module, target) if package is not None else None
            found = self._reexports[head] = library or self.imports.get(head, head)
        return found

    @cached_property
    def _reexports(self) -> dict[str, str]:
        return {}

    @cached_property
    def connections(self) -> ConnectionModel:
        """What names stand for: connections, queues, tasks, timers... (see ConnectionModel)."""
        return ConnectionModel(self)

    @property
    def classes(self) -> dict[str, ClassInfo]:
        return self._index.classes

    @property
    def call_sites(self) -> dict[str, list[tuple[Function | None, cst.Call]]]:
        """Called name (last component) -> (the calling function, the call), for every call."""
        return self._index.call_sites

    @property
    def sites(self) -> list[Site]:
        """put_nowait/send_nowait/put/cancel calls and bare ``x.cancel`` references, with context."""
        return self._index.sites


# --- WebSocket sides: which types and calls give a client or a server connection --------

def type_side(qualified: str) -> str | None:
    """The side of a websocket type or constructor, e.g. ``aiohttp.web.WebSocketResponse`` -> server."""
    head, _, _ = qualified.partition(".")
    return TYPE_SIDES.get(head, {}).get(qualified.rpartition(".")[2])


def call_side(model: PythonModel, call: cst.Call) -> str | None:
    """The side of the connection a call returns: ``websockets.connect(..)``, ``session.ws_connect(..)``..."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "ws_connect":
        return CLIENT
    qualified = model.qualified(func)
    if qualified is None or "." not in qualified:
        return None
    head, _, _ = qualified.partition(".")
    if qualified.rpartition(".")[2] in CLIENT_CONNECTS.get(head, ()):
        return CLIENT
    return type_side(qualified)


def unawaited(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.expression if isinstance(node, cst.Await) else node


# Fields that hold only whitespace, comments or punctuation: nothing a rule looks for.
_LAYOUT_FIELDS = frozenset(
    {"lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "semicolon", "comma"}
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The syntactic children of ``node``, without layout nodes.

    libcst's ``children`` and ``visit`` rebuild every node they pass; reading the dataclass
    fields directly is several times faster, which matters for rules that walk whole files.
    """
    names = _CHILD_FIELDS.get(type(node))
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(node) if not f.name.startswith("whitespace") and f.name not in _LAYOUT_FIELDS
        )
        _CHILD_FIELDS[type(node)] = names
    children: list[cst.CSTNode] = []
    node_type = _NODE_TYPES
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            children.extend([item for item in value if node_type[type(item)]])
        elif node_type[kind]:
            children.append(value)
        elif isinstance(value, (tuple, list)):
            children.extend([item for item in value if node_type[type(item)]])
    return children


class _NodeTypes(dict):
    """type -> ``issubclass(type, cst.CSTNode)``, remembered: libcst's classes are ABCs, whose
    ``isinstance`` runs Python code on every call, the largest cost of a walk."""

    def __missing__(self, kind: type) -> bool:
        found = self[kind] = issubclass(kind, cst.CSTNode)
        return found


_NODE_TYPES = _NodeTypes()


def is_node_type(kind: type) -> bool:
    """Whether ``kind`` is a libcst node class (quicker than ``isinstance`` on its instance)."""
    return _NODE_TYPES[kind]


# --- The connection model: what a name stands for --------------------------------------

CONNECTION = "connection"
QUEUE = "queue"
TASK = "task"
TASKS = "tasks"  # a collection of tasks: a list/set of them, asyncio.wait's done/pending
TASK_GROUP = "task_group"  # asyncio.TaskGroup, anyio task group, trio nursery
TIMER = "timer"  # a call_later/call_at/call_soon handle, threading.Timer
FUTURE = "future"
REGISTRY = "registry"  # a collection of connections (the server's clients)
INSTANCE = "instance"  # an instance of a class of this file (flavour: the class name)
COLLECTION = "collection"  # a container of other values (element: what it holds)
OTHER = "other"  # a known type that is none of the above: no guessing from its name
_STREAM_PAIR = "stream_pair"  # anyio.create_memory_object_stream / trio.open_memory_channel
_WAIT_RESULT = "wait_result"  # asyncio.wait(...): (done, pending)

# Queue flavours: where the queue lives decides which exception its overflow raises.
ASYNCIO, THREAD, PROCESS, LOGGING, ANYIO, TRIO = "asyncio", "thread", "process", "logging", "anyio", "trio"

_QUEUE_TYPES = {
    "asyncio.Queue": ASYNCIO, "asyncio.LifoQueue": ASYNCIO, "asyncio.PriorityQueue": ASYNCIO,
    "asyncio.queues.Queue": ASYNCIO, "queue.Queue": THREAD, "queue.LifoQueue": THREAD,
    "queue.PriorityQueue": THREAD, "queue.SimpleQueue": THREAD, "janus.Queue": THREAD,
    "multiprocessing.Queue": PROCESS, "multiprocessing.JoinableQueue": PROCESS,
    "multiprocessing.SimpleQueue": PROCESS, "multiprocessing.queues.Queue": PROCESS,
    "anyio.streams.memory.MemoryObjectSendStream": ANYIO, "anyio.abc.ObjectSendStream": ANYIO,
    "trio.MemorySendChannel": TRIO, "trio.abc.SendChannel": TRIO,
}
_STREAM_PAIRS = {"anyio.create_memory_object_stream": ANYIO, "trio.open_memory_channel": TRIO}
_TASK_TYPES = {"asyncio.Task", "asyncio.tasks.Task"}
_FUTURE_TYPES = {"asyncio.Future", "concurrent.futures.Future", "asyncio.futures.Future"}
_TIMER_TYPES = {"asyncio.TimerHandle", "asyncio.Handle", "asyncio.events.TimerHandle", "threading.Timer"}
_TASK_GROUP_CONSTRUCTORS = {"asyncio.TaskGroup", "anyio.create_task_group", "trio.open_nursery"}
_TASK_SPAWNS = {"create_task", "ensure_future", "run_coroutine_threadsafe"}
_TIMER_SPAWNS = {"call_later", "call_at", "call_soon", "call_soon_threadsafe"}
_FUTURE_SPAWNS = {"create_future", "run_in_executor", "submit", "gather", "shield"}
_INTERNAL_TASKS = {"asyncio.current_task", "asyncio.all_tasks", "asyncio.Task.current_task"}
_PASS_THROUGH = {"list", "set", "frozenset", "tuple", "sorted", "copy"}
_GENERIC_CONTAINERS = {
    "dict", "set", "list", "frozenset", "tuple", "Dict", "Set", "List", "FrozenSet", "Tuple",
    "Mapping", "MutableMapping", "MutableSet", "Sequence", "Iterable", "Collection",
    "defaultdict", "WeakSet", "WeakValueDictionary", "deque", "Deque", "OrderedDict",
}
_OPTIONAL = {"Optional", "Union", "Final", "ClassVar", "Annotated"}
# Annotations that say nothing about the value: what flows into it does.
_UNTYPED = frozenset({"typing.Any", "typing_extensions.Any", "object"})
_REGISTRY_NAME = re.compile(
    r"(^|_)(clients|connections|conns|sessions|peers|subscribers|websockets|sockets|listeners|members)$",
    re.IGNORECASE,
)
# Coroutines that only keep a connection alive own no half of its data flow.
_KEEPALIVE_NAME = re.compile(r"heartbeat|keep_?alive|ping", re.IGNORECASE)
_MAX_DEPTH = 6


@dataclass(frozen=True, eq=False)
class Value:
    kind: str
    flavour: str = ""  # queues: ASYNCIO, THREAD, PROCESS, LOGGING, ANYIO, TRIO; connections: CLIENT/SERVER side
    origin: cst.BaseExpression | None = None  # tasks: the spawning call; collections: the display
    scope: Function | None = None  # where ``origin`` is to be resolved
    element: Value | None = None  # COLLECTION: what it holds
    # A connection known only from a declared type (a parameter's or attribute's annotation):
    # something outside this code may be what opens it.
    declared: bool = False


def unwrap_annotation(model: PythonModel, annotation: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The types an annotation names at top level: ``Optional[X]``/``X | None`` -> [X]."""
    if isinstance(annotation, cst.SimpleString):
        try:
            annotation = cst.parse_expression(annotation.evaluated_value)
        except (cst.ParserSyntaxError, RecursionError):
            return []
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return unwrap_annotation(model, annotation.left) + unwrap_annotation(model, annotation.right)
    if isinstance(annotation, cst.Subscript):
        base = (model.qualified(annotation.value) or "").rpartition(".")[2]
        if base in _OPTIONAL:
            return [
                found
                for element in annotation.slice
                if isinstance(element.slice, cst.Index)
                for found in unwrap_annotation(model, element.slice.value)
            ]
    if isinstance(annotation, cst.Name) and annotation.value == "None":
        return []
    return [annotation]


class ConnectionModel:
    """What the names of one file stand for, resolved on demand and cached.

    Evidence, strongest first: an annotation, the constructor or spawning call bound to the
    name (also through ``self.<attr>`` in any method of the class, tuple unpacking, ``for``
    and ``with`` targets, and a parameter's arguments at the file's call sites), then use
    (an awaited connection-only method such as ``recv()``), then a websocket-like name.
    """

    def __init__(self, model: PythonModel):
        self.model = model
        self._index = model._index
        self._resolving: set[tuple[int, int]] = set()
        self._owns: dict[int, bool] = {}
        self._uses: dict[int, bool] = {}

    # -- values --------------------------------------------------------------------------

    def value_of(self, expr: cst.BaseExpression, scope: Function | None, depth: int = 0) -> Value | None:
        key = (id(expr), id(scope))
        if depth > _MAX_DEPTH or key in self._resolving:
            return None
        self._resolving.add(key)
        try:
            return self._value_of(expr, scope, depth + 1)
        finally:
            self._resolving.discard(key)

    def _value_of(self, expr: cst.BaseExpression, scope: Function | None, depth: int) -> Value | None:
        if isinstance(expr, cst.Await):
            return self.value_of(expr.expression, scope, depth)
        if isinstance(expr, cst.Name):
            return self._name_value(expr.value, scope, depth)
        if isinstance(expr, cst.Attribute):
            if isinstance(expr.value, cst.Name) and expr.value.value == "self" and scope is not None:
                return self._attribute_value(expr.attr.value, scope.owner_class, depth)
            base = self.value_of(expr.value, scope, depth)
            if base is not None and base.kind == INSTANCE:
                return self._attribute_value(expr.attr.value, base.flavour, depth)
            return None
        if isinstance(expr, cst.Subscript):
            container = self.value_of(expr.value, scope, depth)
            return self.element_of(container, depth)
        if isinstance(expr, cst.Call):
            return self._call_value(expr, scope, depth)
        if isinstance(expr, (cst.List, cst.Set, cst.Tuple)):
            kinds = [self.value_of(e.value, scope, depth) for e in expr.elements if not isinstance(e, cst.StarredElement)]
            if any(v is not None and v.kind == TASK for v in kinds):
                return Value(TASKS, origin=expr, scope=scope)
            if any(v is not None and v.kind == CONNECTION for v in kinds):
                return Value(REGISTRY, origin=expr, scope=scope)
            return None
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            element = self.value_of(expr.elt, scope, depth)
            if element is not None and element.kind == TASK:
                return Value(TASKS, origin=expr, scope=scope)
            return None
        if isinstance(expr, cst.BooleanOperation):
            return self.value_of(expr.left, scope, depth) or self.value_of(expr.right, scope, depth)
        if isinstance(expr, cst.IfExp):
            return self.value_of(expr.body, scope, depth) or self.value_of(expr.orelse, scope, depth)
        return None

    def element_of(self, container: Value | None, depth: int = 0) -> Value | None:
        """What iterating or subscripting ``container`` gives."""
        if container is None:
            return None
        if container.kind == REGISTRY:
            return Value(CONNECTION)
        if container.kind == TASKS:
            return Value(TASK, origin=container.origin, scope=container.scope)
        if container.kind == COLLECTION:
            return container.element
        return None

    def _name_value(self, name: str, scope: Function | None, depth: int) -> Value | None:
        function = scope
        used_as_connection = False
        while function is not None:
            value = self._first_value(function.bindings.get(name, ()), depth)
            if value is not None:
                return value
            if name in function.params:
                value = self._param_value(function, name, depth)
                if value is not None:
                    return value
            # A free name of a nested function is the enclosing function's: what that one
            # binds it to says more than this one's use of it.
            used_as_connection = used_as_connection or name in function.connection_names
            function = function.parent
        if used_as_connection:
            return Value(CONNECTION)
        value = self._first_value(self._index.globals.get(name, ()), depth)
        if value is not None:
            return value
        if CONNECTION_NAME.match(name) and scope is not None:
            return Value(CONNECTION)
        return None

    def _attribute_value(self, attr: str, class_name: str | None, depth: int) -> Value | None:
        owner = self._index.classes.get(class_name or "")
        if owner is None:
            return None
        value = self._first_value(owner.attrs.get(attr, ()), depth)
        if value is not None:
            return value
        value = self._package_attribute(attr, class_name)
        if value is not None:
            return value
        if attr in owner.connection_attrs or CONNECTION_NAME.match(attr):
            return Value(CONNECTION)
        if attr == "queue" and self.is_logging_class(owner):
            return Value(QUEUE, LOGGING)
        return None

    def _package_attribute(self, attr: str, class_name: str | None) -> Value | None:
        """``self.<attr>`` as the package knows it: set in a base class's ``__init__`` in another
        module, or a property (here or in a base) returning a connection."""
        package = self.model.view_for(class_name)
        symbol = package.symbol(class_name) if package is not None else None
        if symbol is None:
            return None
        return _package_connection(package.project.attribute_connection(symbol, attr))

    def _package_call(self, func: cst.BaseExpression, scope: Function | None) -> Value | None:
        """``self.<getter>()`` returning a connection, in this class or a base in any module,
        or a function of the package that returns one (``websocket_connect(uri)``)."""
        name = dotted_name(func)
        if name is None or (name.startswith("self.") and (scope is None or name.count(".") != 1)):
            return None
        package = self.model.view_for(scope.owner_class) if name.startswith("self.") else self.model.package
        if package is None:
            return None
        if name.startswith("self."):
            symbol = package.symbol(scope.owner_class)
            return _package_connection(package.project.returned_connection(symbol, name)) if symbol else None
        return _package_connection(package.project.returned_connection(None, name, module=package.module))

    def _from_the_package(self, func: cst.BaseExpression) -> bool:
        """``self.<m>`` or a name a relative import binds: what the package can answer for
        (other calls are left unknown, and cost no package index)."""
        name = dotted_name(func) or ""
        if name.startswith("self.") or name.partition(".")[0] in self._index.relative_imports:
            return True
        # A module function of this file (``websocket_connect(uri)`` wrapping the library's).
        return any(f.name == name and f.parent is None and f.class_name is None for f in self._index.functions)

    def _first_value(self, bindings, depth: int) -> Value | None:
        """The first binding that tells what the name is; for tasks and futures, one that tells
        what they run (``self._task: asyncio.Task | None = None`` first, ``create_task(...)`` later)."""
        first = None
        for binding in bindings:
            value = self._binding_value(binding, depth)
            if value is None:
                continue
            # A connection opened here says more than one only declared (``self._ws:
            # ClientWebSocketResponse | None = None`` first, ``ws_connect(...)`` later).
            vague = value.origin is None if value.kind in (TASK, TASKS, FUTURE) else value.declared
            if not vague:
                return value
            first = first or value
        return first

    def _binding_value(self, binding: Binding, depth: int) -> Value | None:
        if binding.iterated:
            return self._element_binding_value(binding, depth)
        value = None
        if binding.annotation is not None:
            value = self.annotation_value(binding.annotation)
            if value is not None and value.kind == CONNECTION:
                value = dataclasses.replace(value, declared=True)
        # ``Optional[asyncio.Future]`` holding ``ensure_future(coro)``: the call tells what runs.
        vague = value is None or value.kind == OTHER or (value.kind in (TASK, TASKS, FUTURE) and value.origin is None)
        if vague and binding.value is not None:
            value = self.value_of(binding.value, binding.scope, depth) or value
        if value is None or binding.index is None:
            return value
        if value.kind == _STREAM_PAIR:
            return Value(QUEUE, value.flavour) if binding.index == 0 else None
        if value.kind == _WAIT_RESULT:
            return Value(TASKS, origin=value.origin, scope=value.scope)
        return None

    def _element_binding_value(self, binding: Binding, depth: int) -> Value | None:
        """A ``for`` target: an element of the iterable, or the value of ``for k, v in d.items()``."""
        source = binding.value
        while isinstance(source, cst.Call) and isinstance(source.func, cst.Name) and source.args:
            if source.func.value not in _PASS_THROUGH:
                break
            source = source.args[0].value  # list(d.items()), sorted(...)
        if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and source.func.attr.value == "items":
            container = self.value_of(source.func.value, binding.scope, depth)
            return self.element_of(container, depth) if binding.index == 1 else None
        if binding.index is not None or source is None:
            return None
        if isinstance(source, cst.Call) and call_side(self.model, source) == CLIENT:
            # ``async for ws in websockets.connect(uri)``: each pass a new client connection.
            return Value(CONNECTION, CLIENT)
        return self.element_of(self.value_of(source, binding.scope, depth), depth)

    def _param_value(self, function: Function, name: str, depth: int) -> Value | None:
        param = function.params[name]
        declared = None
        if param.annotation is not None:
            declared = self.annotation_value(param.annotation.annotation)
            if declared is not None and declared.kind == CONNECTION:
                declared = dataclasses.replace(declared, declared=True)
            # ``task: asyncio.Task`` does not say what the task runs: its callers do.
            if declared is not None and declared.kind not in (TASK, TASKS, CONNECTION):
                return declared
        position = list(function.params).index(name)
        if function.class_name is not None:
            position -= 1  # ``self.method(arg)`` passes ``self`` implicitly
        for caller, call in self._index.call_sites.get(function.name, ()):
            argument = _argument(call, position, name)
            if argument is not None:
                value = self.value_of(argument, caller, depth)
                if value is None:
                    continue
                # A declared connection gives way only to one whose side is known (opened
                # by a connect call), not to a guess from a websocket-like name.
                if declared is None or declared.kind != CONNECTION or (value.kind == CONNECTION and value.flavour):
                    return value
        return declared

    def annotation_value(self, annotation: cst.BaseExpression) -> Value | None:
        for named in unwrap_annotation(self.model, annotation):
            if isinstance(named, cst.Subscript):
                base = (self.model.qualified(named.value) or "").rpartition(".")[2]
                if base in _GENERIC_CONTAINERS:
                    elements = [
                        self.annotation_value(element.slice.value)
                        for element in named.slice
                        if isinstance(element.slice, cst.Index)
                    ]
                    kinds = {v.kind: v for v in elements if v is not None}
                    if CONNECTION in kinds:
                        return Value(REGISTRY)
                    if TASK in kinds:
                        return Value(TASKS)
                    if INSTANCE in kinds:
                        return Value(COLLECTION, element=kinds[INSTANCE])
                    return Value(OTHER)
                named = named.value
            qualified = self.model.qualified(named)
            if qualified is None or qualified in _UNTYPED:
                continue
            value = self.type_value(qualified)
            if value is not None:
                return value
        return None

    def type_value(self, qualified: str) -> Value | None:
        """What an instance of the type named ``qualified`` is."""
        if qualified in _QUEUE_TYPES:
            return Value(QUEUE, _QUEUE_TYPES[qualified])
        if qualified in _TASK_TYPES:
            return Value(TASK)
        if qualified in _FUTURE_TYPES:
            return Value(FUTURE)
        if qualified in _TIMER_TYPES:
            return Value(TIMER)
        side = type_side(qualified) if "." in qualified else None
        if qualified in EXTRA_CONNECTION_TYPES or side:
            return Value(CONNECTION, side if side in (CLIENT, SERVER) else "")
        if qualified.rpartition(".")[2] in CONNECTION_TYPE_NAMES:
            return Value(CONNECTION)
        if qualified in self._index.classes:
            return Value(INSTANCE, qualified)
        if "." in qualified or qualified in self.model.imports:
            return Value(OTHER)
        return None

    def _call_value(self, call: cst.Call, scope: Function | None, depth: int) -> Value | None:
        func = call.func.value if isinstance(call.func, cst.Subscript) else call.func  # f[T](...)
        qualified = self.model.qualified(func) or ""
        last = _last_name(func) or ""
        if qualified in _STREAM_PAIRS:
            return Value(_STREAM_PAIR, _STREAM_PAIRS[qualified])
        if qualified in _TASK_GROUP_CONSTRUCTORS:
            return Value(TASK_GROUP)
        if qualified in _INTERNAL_TASKS:
            return Value(TASK)
        if last in _TASK_SPAWNS or qualified in _TASK_TYPES:
            return Value(TASK, origin=call, scope=scope)
        if last in _TIMER_SPAWNS or qualified in _TIMER_TYPES:
            return Value(TIMER)
        if last in _FUTURE_SPAWNS or qualified in _FUTURE_TYPES:
            return Value(FUTURE)
        if qualified in ("asyncio.wait", "asyncio.tasks.wait") and call.args:
            return Value(_WAIT_RESULT, origin=call.args[0].value, scope=scope)
        if qualified in ("asyncio.wait_for", "asyncio.shield") and call.args:
            return self.value_of(call.args[0].value, scope, depth)  # what the awaitable gives
        side = call_side(self.model, call)
        if qualified in EXTRA_CONNECTION_TYPES or side is not None:
            return Value(CONNECTION, side if side in (CLIENT, SERVER) else "")
        from_package = self._package_call(func, scope) if self._from_the_package(func) else None
        if from_package is not None:
            return from_package
        if last == "Queue" and isinstance(func, cst.Attribute) and qualified not in _QUEUE_TYPES:
            return Value(QUEUE, PROCESS)  # a multiprocessing context's or manager's Queue()
        if last in _PASS_THROUGH:
            if isinstance(func, cst.Attribute) and last == "copy":
                return self.value_of(func.value, scope, depth)
            if call.args and isinstance(func, cst.Name):
                return self.value_of(call.args[0].value, scope, depth)
        if qualified:
            value = self.type_value(qualified)
            # An unknown callable says nothing about what it returns; a class of the file does.
            if value is not None and value.kind == QUEUE:
                return Value(QUEUE, value.flavour, origin=call)  # the constructor tells the bound
            if value is not None and value.kind != OTHER and (value.kind != INSTANCE or isinstance(func, cst.Name)):
                return value
        return None

    def is_unbounded_queue(self, expr: cst.BaseExpression, scope: Function | None) -> bool:
        """``asyncio.Queue()`` / ``queue.Queue(maxsize=0)``: its put_nowait never raises Full."""
        value = self.value_of(expr, scope)
        if value is None or value.kind != QUEUE or value.flavour not in (ASYNCIO, THREAD):
            return False
        if not isinstance(value.origin, cst.Call):
            return False
        size = _argument(value.origin, 0, "maxsize")
        return size is None or (isinstance(size, cst.Integer) and size.evaluated_value <= 0)

    # -- questions the rules ask -------------------------------------------------------------

    def kind(self, expr: cst.BaseExpression, scope: Function | None) -> str | None:
        value = self.value_of(expr, scope)
        return value.kind if value is not None else None

    def is_connection(self, expr: cst.BaseExpression, scope: Function | None) -> bool:
        return self.kind(expr, scope) == CONNECTION

    def is_registry(self, expr: cst.BaseExpression, scope: Function | None) -> bool:
        """A dict/set/list of connections: declared so, filled with them, or named so."""
        value = self.value_of(expr, scope)
        if value is not None and value.kind == COLLECTION and value.element is not None:
            return value.element.kind == INSTANCE and self.holds_connection(value.element.flavour)
        if value is not None:
            return value.kind == REGISTRY
        key = self._index.collection_key(expr, scope)
        if key is None:
            return False
        for added, where in self._index.additions.get(key, ()):
            if self.is_connection(added, where):
                return True
        return bool(_REGISTRY_NAME.search(key.rpartition(".")[2]))

    def holds_connection(self, class_name: str) -> bool:
        """Do instances of this file's class keep a connection in an attribute?"""
        owner = self._index.classes.get(class_name)
        if owner is None:
            return False
        return any(
            (value := self._attribute_value(attr, class_name, 0)) is not None and value.kind == CONNECTION
            for attr in owner.attrs
        )

    def tasks_of(self, value: Value | None, depth: int = 0) -> list[Value]:
        """The tasks a task value or task collection stands for (spawn calls where known)."""
        if value is None or depth > _MAX_DEPTH:
            return []
        if value.kind == TASK:
            if isinstance(value.origin, cst.Call) or value.origin is None:
                return [value]
            return self.tasks_of(Value(TASKS, origin=value.origin, scope=value.scope), depth + 1)
        if value.kind != TASKS or value.origin is None:
            return []
        origin = value.origin
        if isinstance(origin, (cst.List, cst.Set, cst.Tuple)):
            found = []
            for element in origin.elements:
                found.extend(self.tasks_of(self.value_of(element.value, value.scope), depth + 1))
            return found
        if isinstance(origin, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return self.tasks_of(self.value_of(origin.elt, value.scope), depth + 1)
        return self.tasks_of(self.value_of(origin, value.scope), depth + 1)

    def task_owns_connection(self, task: Value) -> bool:
        """Does the task run a connection half: a coroutine given a connection, or working one?"""
        spawn = task.origin
        if not isinstance(spawn, cst.Call) or not spawn.args:
            return False
        cached = self._owns.get(id(spawn))
        if cached is None:
            cached = self._owns[id(spawn)] = self.runs_connection(spawn.args[0].value, (), task.scope)
        return cached

    def runs_connection(
        self, target: cst.BaseExpression, extra_args: tuple[cst.BaseExpression, ...], scope: Function | None
    ) -> bool:
        """Does the coroutine ``target`` (a call, or a function plus ``extra_args``) work a connection?"""
        args = list(extra_args)
        if isinstance(target, cst.Call):
            args.extend(arg.value for arg in target.args)
            target = target.func
        name = _last_name(target)
        if name is None or _KEEPALIVE_NAME.search(name):
            return False
        if any(self.is_connection(arg, scope) for arg in args):
            return True
        function = self.function_named(target, scope)
        return function is not None and self.uses_connection(function)

    def function_named(self, target: cst.BaseExpression, scope: Function | None) -> Function | None:
        """The function of this file ``target`` (``f`` or ``self.m``) refers to, if any."""
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
            owner = self._index.classes.get(scope.owner_class or "") if scope is not None else None
            return owner.methods.get(target.attr.value) if owner is not None else None
        if isinstance(target, cst.Name):
            for function in self._index.functions:
                if function.name == target.value and function.class_name is None:
                    return function
        return None

    def uses_connection(self, function: Function, depth: int = 0) -> bool:
        """Does the function call methods on, or iterate, a connection (or call one of its
        own class's methods that does)?"""
        cached = self._uses.get(id(function))
        if cached is not None:
            return cached
        self._uses[id(function)] = False  # a recursive method does not prove itself
        result = any(self.is_connection(receiver, function) for receiver in function.receivers)
        if not result and depth < 2:
            owner = self._index.classes.get(function.owner_class or "")
            for called in function.calls:
                method = owner.methods.get(called) if owner is not None else None
                if method is not None and method is not function and self.uses_connection(method, depth + 1):
                    result = True
                    break
        self._uses[id(function)] = result
        return result

    def is_logging_class(self, info: ClassInfo) -> bool:
        return any(
            (self.model.qualified(base.value) or "").startswith("logging.") for base in info.node.bases
        )

    def is_package_object(self, expr: cst.BaseExpression, scope: Function | None) -> bool:
        """``self.<attr>`` holding an instance of a class the package defines (set in this
        class or a base, in any module): its methods are the package's own, not a library's
        that happen to share a name."""
        if not (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"):
            return False
        class_name = scope.owner_class if scope is not None else None
        package = self.model.view_for(class_name)
        symbol = package.symbol(class_name) if package is not None else None
        return symbol is not None and package.project.attribute_of_package_class(symbol, expr.attr.value)

    def queue_flavour(self, receiver: cst.BaseExpression, scope: Function | None) -> str | None:
        """Where the queue ``receiver`` lives (LOGGING also for a queue handed to a QueueHandler)."""
        for caller, call in self._index.call_sites.get("QueueHandler", []) + self._index.call_sites.get(
            "QueueListener", []
        ):
            if call.args and _same_reference(call.args[0].value, receiver):
                return LOGGING
        value = self.value_of(receiver, scope)
        return value.flavour if value is not None and value.kind == QUEUE else None


def _package_connection(side: str | None) -> Value | None:
    """A connection side as the package index gives it (``decl:client``...) as a Value."""
    if side is None:
        return None
    declared = side.startswith("decl:")
    side = side.partition(":")[2] if declared else side
    return Value(CONNECTION, side if side in (CLIENT, SERVER) else "", declared=declared)


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return None


def _same_reference(a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    name = dotted_name(a)
    return name is not None and name == dotted_name(b)


def _argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    if 0 <= position < len(positional):
        return positional[position].value
    return None


# Methods that end a connection gracefully (a Close frame, a closing handshake).
CLOSE_METHODS = frozenset({"close", "aclose", "close_connection"})
# Awaited on a connection inside a loop, these make it the connection's receive loop.
RECEIVE_METHODS = frozenset(
    {"recv", "receive", "receive_text", "receive_bytes", "receive_json", "receive_str", "get_message", "receive_message"}
)
_STATE_ATTRIBUTES = frozenset({"closed", "open", "client_state", "application_state", "state"})


def walk(nodes, skip_nested: bool = True):
    """Every node under ``nodes`` in source order; nested functions, classes and lambdas
    (code that does not run here) are skipped unless ``skip_nested`` is False."""
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        yield node
        if skip_nested and isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(reversed(child_nodes(node)))


def function_body(function: Function) -> list[cst.CSTNode]:
    body = function.node.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else [body]


def in_test_path(path: str) -> bool:
    """A test module by its name. Directories are not asked: ``tests/`` also holds helpers,
    fixtures and sample code that is meant to be linted like the product."""
    name = path.replace("\\", "/").rpartition("/")[2]
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def in_test_function(function: Function | None) -> bool:
    while function is not None:
        if function.name.startswith("test") or (function.class_name or "").startswith("Test"):
            return True
        function = function.parent
    return False


def destructor_reach(model: PythonModel, class_name: str) -> dict[int, list[Function]]:
    """id(method) -> the call chain from ``__del__`` to it, for the methods of ``class_name``
    that ``__del__`` reaches through ``self.<method>()`` calls (``__del__`` itself included)."""
    info = model.classes.get(class_name)
    destructor = info.methods.get("__del__") if info is not None else None
    if destructor is None:
        return {}
    chains = {id(destructor): [destructor]}
    pending = [destructor]
    while pending:
        function = pending.pop()
        for called in sorted(function.calls):
            method = info.methods.get(called)
            if method is not None and id(method) not in chains:
                chains[id(method)] = chains[id(function)] + [method]
                pending.append(method)
    return chains


def in_destructor_reach(model: PythonModel, function: Function | None) -> bool:
    while function is not None and function.class_name is None:
        function = function.parent
    if function is None:
        return False
    return id(function) in destructor_reach(model, function.class_name)


def graceful_closes(model: PythonModel, nodes, scope: Function | None, depth: int = 0) -> list[cst.Call]:
    """The calls under ``nodes`` that close a connection gracefully: ``ws.close()``, or a call
    of a function of this file that does (two levels deep)."""
    connections = model.connections
    found = []
    for node in walk(nodes):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in CLOSE_METHODS:
            if connections.is_connection(func.value, scope):
                found.append(node)
                continue
        if depth < 2:
            helper = connections.function_named(func, scope)
            if helper is not None and helper is not scope and graceful_closes(
                model, function_body(helper), helper, depth + 1
            ):
                found.append(node)
            elif helper is None and _closes_in_package(model, func, scope):
                found.append(node)
    return found


def _closes_in_package(model: PythonModel, func: cst.BaseExpression, scope: Function | None) -> bool:
    """``self.auth.close_socket()`` where ``self.auth`` is an instance of a class of another
    module of the package whose method closes the connection it holds."""
    if not isinstance(func, cst.Attribute) or scope is None:
        return False
    class_name = _declared_class(model, func.value, scope)
    package = model.package if class_name is not None else None
    if package is None:
        return False
    project = package.project
    symbol = project.resolve(package.module, class_name)
    method = project.method(symbol, func.attr.value) if symbol is not None else None
    return method is not None and project.closes_connection(method.owner, method.summary)


def _declared_class(model: PythonModel, expr: cst.BaseExpression, scope: Function) -> str | None:
    """The class name ``self.<attr>`` is declared or constructed as: ``self.auth = auth`` of a
    parameter ``auth: Auth``, ``self.auth: Auth``, ``self.auth = Auth(...)``."""
    name = dotted_name(expr)
    owner = model.classes.get(scope.owner_class or "") if name is not None and name.startswith("self.") else None
    if owner is None or name.count(".") != 1:
        return None
    for binding in owner.attrs.get(name[len("self."):], ()):
        annotation = binding.annotation
        value = unawaited(binding.value) if binding.value is not None else None
        if isinstance(value, cst.Call):
            return dotted_name(value.func)
        if isinstance(value, cst.Name) and binding.scope is not None and value.value in binding.scope.params:
            annotation = binding.scope.params[value.value].annotation
            annotation = annotation.annotation if annotation is not None else None
        for named in unwrap_annotation(model, annotation) if annotation is not None else ():
            if dotted_name(named) is not None:
                return dotted_name(named)
    return None


def is_connection_loop(model: PythonModel, loop: cst.CSTNode, scope: Function | None) -> bool:
    """``async for msg in ws``, ``async for m in ws.iter_text()``, a ``while`` loop that awaits
    ``ws.recv()`` or tests the connection's state: the loop that lives as long as a connection."""
    connections = model.connections
    if isinstance(loop, cst.For):
        source = loop.iter
        if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute):
            source = source.func.value
        return loop.asynchronous is not None and connections.is_connection(source, scope)
    if not isinstance(loop, cst.While):
        return False
    for node in walk([loop.test]):
        if isinstance(node, cst.Attribute) and node.attr.value in _STATE_ATTRIBUTES:
            if connections.is_connection(node.value, scope):
                return True
    for node in walk([loop.body]):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value in RECEIVE_METHODS and connections.is_connection(node.func.value, scope):
                return True
    return False


# --- Connection state the instance keeps (WS004) ------------------------------------------
# ``self._ws`` that the class sets to None when the connection ends, and a flag set true
# right after the connection is opened and false where it is closed: reading either tells
# the connection's state, as ``ws.closed`` does.


def _method_of(function: Function | None) -> Function | None:
    """The method a (possibly nested) function belongs to."""
    while function is not None and function.class_name is None:
        function = function.parent
    return function


def _is_constant(node: cst.BaseExpression | None, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


def self_attribute(node: cst.CSTNode, attr: str | None = None) -> str | None:
    """``self.<attr>`` -> attr (any attribute when ``attr`` is None)."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        if attr is None or node.attr.value == attr:
            return node.attr.value
    return None


def cleared_connection(model: PythonModel, scope: Function | None, attr: str) -> bool:
    """``self.<attr>`` holds a connection and a method other than ``__init__`` that does not
    close it sets it to None (where the session ends by itself: the read loop's end, an error
    path), in the class or a base in any module: its truthiness is the connection's open state.
    An attribute dropped only right after the code's own ``close()`` tells whether the code
    has connected, not whether the connection is still open."""
    info = model.classes.get(scope.owner_class or "") if scope is not None else None
    if info is None or not model.connections.is_connection(cst.parse_expression(f"self.{attr}"), scope):
        return False
    if any(
        _is_constant(binding.value, "None") and (method := _method_of(binding.scope)) is not None
        and method.name != "__init__" and not _closes(method, attr)
        for binding in info.attrs.get(attr, ())
    ):
        return True
    package = model.view_for(info.name) if info.node.bases else None
    symbol = package.symbol(info.name) if package is not None else None
    return symbol is not None and package.project.dropped(symbol, attr)


def connecting_methods(model: PythonModel, info: ClassInfo, attr: str) -> set[str]:
    """The methods of the class that open the connection kept in ``self.<attr>``: bind it to a
    connection, or call (``self.m()``) a method that does."""
    connections = model.connections
    found = {
        method.name
        for binding in info.attrs.get(attr, ())
        if binding.value is not None and (method := _method_of(binding.scope)) is not None
        and connections.is_connection(binding.value, binding.scope)
    }
    changed = True
    while changed:
        changed = False
        for name, method in info.methods.items():
            if name not in found and not found.isdisjoint(_self_calls(method)):
                found.add(name)
                changed = True
    return found


def _self_calls(function: Function) -> set[str]:
    return {
        called for node in walk(function_body(function))
        if isinstance(node, cst.Call) and (called := self_attribute(node.func)) is not None
    }


def _closes(function: Function, attr: str) -> bool:
    """Does the method call ``self.<attr>.close()``?"""
    return any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in CLOSE_METHODS
        and self_attribute(node.func.value, attr) is not None
        for node in walk(function_body(function))
    )


def _clears(function: Function, attr: str) -> bool:
    """Does the method close ``self.<attr>`` or set it to None?"""
    if _closes(function, attr):
        return True
    for node in walk(function_body(function)):
        if isinstance(node, cst.Assign) and _is_constant(node.value, "None"):
            if any(self_attribute(target.target, attr) for target in node.targets):
                return True
    return False


def mirrored_connection(model: PythonModel, scope: Function | None, flag: str) -> str | None:
    """The attribute holding the connection whose state ``self.<flag>`` mirrors: the flag is set
    true in a method after that method opens the connection (directly or through ``self.m()``),
    and set false in a method that closes the connection or drops it (``self._ws = None``)."""
    info = model.classes.get(scope.owner_class or "") if scope is not None else None
    if info is None:
        return None
    bindings = info.attrs.get(flag, ())
    raised = [
        (binding, method) for binding in bindings
        if _is_constant(binding.value, "True") and (method := _method_of(binding.scope))
    ]
    lowered = [
        method for binding in bindings if _is_constant(binding.value, "False") and (method := _method_of(binding.scope))
        and method.name != "__init__"
    ]
    if not raised or not lowered:
        return None
    for attr in info.attrs:
        if attr == flag:
            continue
        opening = connecting_methods(model, info, attr)
        if not opening or not any(_clears(method, attr) for method in lowered):
            continue
        if any(_opened_before(method, binding.value, attr, opening) for binding, method in raised):
            return attr
    return None


def _opened_before(method: Function, flag_value: cst.BaseExpression, attr: str, opening: set[str]) -> bool:
    """In ``method``, before the flag's assignment, the connection is opened."""
    for node in walk(function_body(method)):
        if node is flag_value:
            return False
        if isinstance(node, cst.Call) and self_attribute(node.func) in opening:
            return True
        if isinstance(node, cst.Assign) and method.name in opening and not _is_constant(node.value, "None") and any(
            self_attribute(target.target, attr) for target in node.targets
        ):
            return True
    return False


def handler_state_attribute(model: PythonModel, scope: Function | None) -> str | None:
    """The attribute that tells the state of the connection ``self`` is, when the method's class
    derives (here or through bases in any module) from a library handler class that is the
    connection (``HANDLER_STATE_ATTRIBUTES``)."""
    info = model.classes.get(scope.owner_class or "") if scope is not None else None
    if info is None:
        return None
    for base in info.node.bases:
        attr = HANDLER_STATE_ATTRIBUTES.get(model.qualified(base.value) or "")
        if attr is not None:
            return attr
    package = model.view_for(info.name) if info.node.bases else None
    symbol = package.symbol(info.name) if package is not None else None
    if symbol is None:
        return None
    project = package.project
    for owner in project.lineage(symbol):
        imports = project.summary(owner.module).get("imports", {})
        for base in project.class_info(owner)["bases"]:
            head, _, rest = base.partition(".")
            qualified = imports.get(head, head) + (f".{rest}" if rest else "")
            attr = HANDLER_STATE_ATTRIBUTES.get(qualified)
            if attr is not None:
                return attr
    return None
