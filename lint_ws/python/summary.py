"""One module's summary for the project index: what other modules of its package need to
know about it, as plain data (dicts, lists, strings, ints, bools: marshal-able, cacheable by
content), built from CPython's ``ast`` (an order of magnitude cheaper than libcst).

A summary holds the module's imports (local name -> what it binds), its module-level
aliases (``Stream = RecognizeStream``), its classes (bases,
methods, what each ``self.<attr>`` is assigned, which attributes a method other than
``__init__`` sets to None without closing them first) and its functions. A function's summary
holds its parameters, whether it is a property, what it returns, the calls it makes
(``[target, line, exceptions caught around it, index of its loop or -1, what its arguments
are, what its receiver is, whether its value is returned]``), its loops (``[line, index of the enclosing loop or -1]``),
whether it opens a client connection, and its gates: the attributes an ``if`` or a
comprehension's filter tests (``[[[attribute, negated], ...], kind, first line, last line]``,
the tested attributes of an ``and`` chain; kind ``leaves`` for an ``if`` whose body returns,
raises or continues, ``if`` for another ``if``, ``filter`` for a comprehension's).

What a value is, where the module tells (``desc``): ``client``/``server``/``conn`` (a
connection of that side, or of a side not known), ``decl:client``... (the same, only
declared by an annotation), ``param:NAME``, ``self.ATTR``, ``call:TARGET`` (what a call of
TARGET returns), ``state:SUBJECT:1`` (a test of SUBJECT's connection state, true while open;
``:0`` true while closed), ``task``, ``queue``.

A module that names no connection library, type or connection-only method contributes no
connection facts (``contributes``): the package index need not parse it until a question
reaches it (a base class, a re-export). A file CPython cannot parse is ``{"contributes":
False}``.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path

from lint_ws.python.names import (
    CLIENT,
    CLIENT_CONNECTS,
    EXTRA_CONNECTION_TYPES,
    FLAG_ATTRIBUTES,
    SERVER,
    TYPE_SIDES,
    may_name_connection,
    names_connection_library,
)

# Bumped whenever the shape of a summary changes: the index keys cached summaries by it.
VERSION = 7

_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property"})
_TASK_SPAWNS = frozenset({"create_task", "ensure_future"})
_QUEUE_TYPES = frozenset({"asyncio.Queue", "queue.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue"})
_NOT_CONNECTION = "none"
# What an expression's calls can sit in (contexts, operators and the like hold none).
_EXPRESSION_PARTS = (ast.expr, ast.keyword, ast.comprehension, ast.arg, ast.arguments)
# Calls that return what their first argument gives.
_PASS_THROUGH = frozenset({"asyncio.wait_for", "asyncio.shield", "asyncio.ensure_future", "bool"})


# -- the project index's plug-in (lint_ws/project_index.py) -------------------------------

SUFFIXES = (".py",)


def project_root(directory: str) -> str:
    from lint_ws.python.project import package_root

    return str(package_root(os.path.join(directory, "_")))


def project_files(root: str) -> list[Path]:
    from lint_ws.python.project import package_modules

    return package_modules(Path(root))


def names_connection(text: str) -> bool:
    return names_connection_library(text)


def may_contribute(text: str) -> bool:
    # Only contributing modules are summarised ahead; a module a question reaches otherwise
    # (a plain base class, a re-export) is summarised then (lint_ws.python.project).
    return contributes(text)


def contributes(text: str) -> bool:
    """Can the module contribute connection facts? Not when it names no connection library,
    connection type or connection-only method (the prefilter's test, as cheap)."""
    return may_name_connection(text)


@lru_cache(maxsize=1)
def syntax_tree(text: str) -> ast.Module:
    """CPython's tree of ``text`` (raises what ``ast.parse`` raises). The latest one is kept:
    the language server's edited buffer is parsed for its summary, then for its lint."""
    return ast.parse(text)


def summarize(path: str, text: str) -> dict:
    """The summary of the module at ``path`` whose source is ``text`` (see the module doc);
    ``path`` only names it."""
    return _summary_of(text)


@lru_cache(maxsize=4)
def _summary_of(text: str) -> dict:
    # Memoised: the language server summarises the edited buffer for the project index,
    # then again as the file being linted (lint_ws.python.project.ModuleView.for_source).
    try:
        tree = syntax_tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {"contributes": False}
    builder = _ModuleBuilder()
    builder.module(tree)
    return {
        "contributes": contributes(text),
        "parsed": True,
        "imports": builder.imports,
        "aliases": builder.aliases,
        "classes": builder.classes,
        "functions": builder.functions,
    }


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for Name/Attribute chains, ``a.b().c`` through argument-less calls."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    if isinstance(node, ast.Call) and not node.args and not node.keywords:
        base = dotted(node.func)
        return f"{base}()" if base is not None else None
    return None


class _ModuleBuilder:
    def __init__(self) -> None:
        self.imports: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        self.classes: dict[str, dict] = {}
        self.functions: dict[str, dict] = {}

    def module(self, tree: ast.Module) -> None:
        for node in _module_level(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        head = alias.name.partition(".")[0]
                        self.imports[head] = head
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    joined = f"{base}.{alias.name}" if node.module else f"{base}{alias.name}"
                    self.imports[alias.asname or alias.name] = joined
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and dotted(statement.value)
                and "(" not in dotted(statement.value)
            ):
                # ``SpeechStream = RecognizeStream``: another name for a class or function.
                self.aliases[statement.targets[0].id] = dotted(statement.value)
            if isinstance(statement, ast.ClassDef):
                self._class(statement)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[statement.name] = _FunctionBuilder(self, statement, None).summary

    def qualified(self, node: ast.AST) -> str | None:
        name = dotted(node)
        if name is None or "()" in name:
            return name
        head, _, rest = name.partition(".")
        head = self.imports.get(head, head)
        return f"{head}.{rest}" if rest else head

    def _class(self, node: ast.ClassDef) -> None:
        info = {
            "line": node.lineno, "bases": [b for b in map(dotted, node.bases) if b], "methods": {}, "attrs": {},
            "dropped": [],
        }
        self.classes[node.name] = info
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function = _FunctionBuilder(self, statement, info)
                info["methods"].setdefault(statement.name, function.summary)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                desc = self.type_desc(statement.annotation, declared=True)
                if desc:
                    info["attrs"].setdefault(statement.target.id, []).append(desc)

    # -- what expressions are --------------------------------------------------------------

    def type_desc(self, annotation: ast.AST | None, declared: bool) -> str | None:
        """A connection type named by an annotation (``Optional[X]``, ``X | None``, "X")."""
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            return self.type_desc(annotation.left, declared) or self.type_desc(annotation.right, declared)
        if isinstance(annotation, ast.Subscript):
            base = (self.qualified(annotation.value) or "").rpartition(".")[2]
            if base in ("Optional", "Union", "Final", "Annotated"):
                inner = annotation.slice
                elements = inner.elts if isinstance(inner, ast.Tuple) else [inner]
                for element in elements:
                    found = self.type_desc(element, declared)
                    if found:
                        return found
            return None
        side = self.type_side(self.qualified(annotation))
        if side is None:
            return None
        return f"decl:{side}" if declared else side

    def type_side(self, qualified: str | None) -> str | None:
        if not qualified or "." not in qualified:
            return None
        if qualified in EXTRA_CONNECTION_TYPES:
            return "conn"
        head = qualified.partition(".")[0]
        side = TYPE_SIDES.get(head, {}).get(qualified.rpartition(".")[2])
        if side is None:
            return None
        return side if side in (CLIENT, SERVER) else "conn"

    def call_desc(self, call: ast.Call, value=None) -> str | None:
        """What the call returns; ``value`` tells what an argument is (``wait_for(x)`` is ``x``)."""
        func = call.func
        if value is not None and call.args and self.qualified(func) in _PASS_THROUGH:
            return value(call.args[0])
        if isinstance(func, ast.Attribute) and func.attr == "ws_connect":
            return CLIENT
        if isinstance(func, ast.Subscript):
            func = func.value  # ``Chan[Event]()``: a ``Chan``
        qualified = self.qualified(func)
        if qualified is None:
            return None
        last = qualified.rpartition(".")[2]
        head = qualified.partition(".")[0]
        if "." in qualified and last in CLIENT_CONNECTS.get(head, ()):
            return CLIENT
        side = self.type_side(qualified)
        if side is not None:
            return side
        if last in _TASK_SPAWNS:
            return "task"
        if qualified in _QUEUE_TYPES:
            return "queue"
        return f"call:{dotted(func)}" if dotted(func) else None


class _FunctionBuilder:
    """One function's summary; nested functions and classes are not entered."""

    def __init__(self, module: _ModuleBuilder, node, owner: dict | None):
        self.module = module
        self.owner = owner
        self.locals: dict[str, str] = {}
        self.name = node.name
        self._drops: set[str] = set()
        self._returning = False
        args = node.args
        params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        self.params = params
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            declared = module.type_desc(arg.annotation, declared=True)
            self.locals[arg.arg] = declared or f"param:{arg.arg}"
        decorators = [dotted(d.func if isinstance(d, ast.Call) else d) or "" for d in node.decorator_list]
        # ``async def _connect(self) -> ClientConnection: return await connect(...)``: what the
        # call it returns gives, as its signature says.
        self._returned_type = module.type_desc(node.returns, declared=False)
        self.summary = {
            "line": node.lineno,
            "params": params,
            "property": any(d in _PROPERTY_DECORATORS or d.endswith(".getter") for d in decorators),
            "decorators": decorators,
            "returns": [],
            "calls": [],
            "loops": [],
            "connects": False,
            "gates": [],
        }
        self._block(node.body, caught=(), loop=-1)
        if self.owner is not None and self._drops:
            # Dropped right after the method's own close(): not where the connection ends by itself.
            called = {call[0] for call in self.summary["calls"]}
            for attr in sorted(self._drops):
                closed_here = not called.isdisjoint({f"self.{attr}.close", f"self.{attr}.aclose"})
                if not closed_here and attr not in self.owner["dropped"]:
                    self.owner["dropped"].append(attr)

    # -- statements ------------------------------------------------------------------------

    def _block(self, statements, caught: tuple, loop: int) -> None:
        for statement in statements:
            self._statement(statement, caught, loop)

    def _statement(self, node: ast.stmt, caught: tuple, loop: int) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            names = tuple(_caught_names(handler) for handler in node.handlers)
            inner = caught + tuple(name for group in names for name in group)
            self._block(node.body, inner, loop)
            for handler in node.handlers:
                self._block(handler.body, caught, loop)
            self._block(node.orelse, caught, loop)
            self._block(node.finalbody, caught, loop)
            return
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            index = len(self.summary["loops"])
            self.summary["loops"].append([node.lineno, loop])
            if isinstance(node, ast.While):
                self._expression(node.test, caught, index)
            else:
                self._expression(node.iter, caught, loop)
            self._block(node.body, caught, index)
            self._block(node.orelse, caught, loop)
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            suppressed = caught
            for item in node.items:
                self._expression(item.context_expr, caught, loop)
                value = item.context_expr.value if isinstance(item.context_expr, ast.Await) else item.context_expr
                if isinstance(value, ast.Call) and (self.module.qualified(value.func) or "").endswith("suppress"):
                    suppressed = suppressed + tuple(
                        (dotted(a) or "").rpartition(".")[2] for a in value.args
                    )
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, self._value(item.context_expr))
            self._block(node.body, suppressed, loop)
            return
        if isinstance(node, ast.If):
            self._gate(node.test, "leaves" if _leaves(node.body) else "if", node)
            self._expression(node.test, caught, loop)
            self._block(node.body, caught, loop)
            self._block(node.orelse, caught, loop)
            return
        if isinstance(node, getattr(ast, "Match", ())):
            self._expression(node.subject, caught, loop)
            for case in node.cases:
                self._block(case.body, caught, loop)
            return
        if isinstance(node, ast.Return) and node.value is not None:
            self._returning = True  # a loop around this call ends once it returns normally
            self._expression(node.value, caught, loop)
            self._returning = False
            desc = self._value(node.value)
            if desc:
                self.summary["returns"].append(desc)
            returned = node.value.value if isinstance(node.value, ast.Await) else node.value
            if self._returned_type and isinstance(returned, ast.Call):
                self.summary["returns"].append(self._returned_type)
            return
        if isinstance(node, ast.Assign):
            self._expression(node.value, caught, loop)
            desc = self._value(node.value)
            for target in node.targets:
                self._assign(target, desc)
                if isinstance(node.value, ast.Constant) and node.value.value is None:
                    self._dropped(target)
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._expression(node.value, caught, loop)
            desc = self.module.type_desc(node.annotation, declared=node.value is None)
            if node.value is not None:
                desc = self._value(node.value) or desc
            self._assign(node.target, desc)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._expression(child, caught, loop)

    def _gate(self, test: ast.expr, kind: str, node: ast.AST) -> None:
        tested = _tested_attributes(test)
        if tested:
            self.summary["gates"].append([tested, kind, node.lineno, getattr(node, "end_lineno", None) or node.lineno])

    def _assign(self, target: ast.AST, desc: str | None) -> None:
        if isinstance(target, ast.Name):
            if desc:
                self.locals[target.id] = desc
            else:
                self.locals.pop(target.id, None)
        elif (
            isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
            and self.owner is not None
        ):
            self.owner["attrs"].setdefault(target.attr, []).append(desc or _NOT_CONNECTION)

    def _dropped(self, target: ast.AST) -> None:
        """``self.<attr> = None`` outside ``__init__``: the instance lets go of what it held
        (recorded in the class once the method is read, unless the method closed it itself)."""
        if (
            self.owner is not None and self.name != "__init__" and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name) and target.value.id == "self"
        ):
            self._drops.add(target.attr)

    # -- expressions -----------------------------------------------------------------------

    def _expression(self, node: ast.expr, caught: tuple, loop: int) -> None:
        pending = [node]
        while pending:
            current = pending.pop()
            if isinstance(current, ast.Call):
                self._call(current, caught, loop)
            elif isinstance(current, ast.comprehension):
                for condition in current.ifs:
                    self._gate(condition, "filter", condition)
            if isinstance(current, (ast.Name, ast.Constant)):
                continue
            pending.extend(child for child in ast.iter_child_nodes(current) if isinstance(child, _EXPRESSION_PARTS))

    def _call(self, call: ast.Call, caught: tuple, loop: int) -> None:
        desc = self.module.call_desc(call)
        if desc == CLIENT:
            self.summary["connects"] = True
        target = dotted(call.func)
        if target is None:
            return
        args = [self._value(arg) for arg in call.args]
        args += [self._value(keyword.value) for keyword in call.keywords if keyword.arg]
        receiver = None
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            receiver = self.locals.get(call.func.value.id)
        self.summary["calls"].append(
            [target, call.lineno, sorted(set(caught)), loop, [arg or "" for arg in args], receiver or "", self._returning]
        )

    def _state_of_argument(self, call: ast.Call) -> str | None:
        """``_closed(self.session)``, a function of this module (defined above) that returns its
        parameter's state: the argument's state."""
        if not isinstance(call.func, ast.Name) or call.keywords:
            return None
        function = self.module.functions.get(call.func.id)
        found = returned_state(function) if function is not None else None
        if found is None or found[0] >= len(call.args):
            return None
        subject = dotted(call.args[found[0]])
        return f"state:{subject}:{found[1]}" if subject is not None and "(" not in subject else None

    def _value(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Name):
            return self.locals.get(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr in FLAG_ATTRIBUTES:
                subject = dotted(node.value)
                if subject is not None:
                    return f"state:{subject}:{int(FLAG_ATTRIBUTES[node.attr])}"
            name = dotted(node)
            return name if name is not None and name.startswith("self.") else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self._value(node.operand)
            if inner and inner.startswith("state:"):
                head, _, polarity = inner.rpartition(":")
                return f"{head}:{1 - int(polarity)}"
            return None
        if isinstance(node, ast.BoolOp):
            # ``self._ws is not None and not self._ws.closed``: the state test decides.
            wanted = 1 if isinstance(node.op, ast.And) else 0
            states = [desc for desc in map(self._value, node.values) if desc and desc.startswith("state:")]
            if len(states) > 1:
                # ``not self.closed and not _closed(self.session)``: the object's own flag
                # beside the state of the connection it holds; the connection's decides.
                states = [desc for desc in states if not desc.startswith("state:self:")]
            return states[0] if len(states) == 1 and states[0].endswith(f":{wanted}") else None
        if isinstance(node, ast.Call):
            return self._state_of_argument(node) or self.module.call_desc(node, self._value)
        return None


def returned_state(function: dict) -> tuple[int, str] | None:
    """(parameter index, polarity) when every state the function returns is its parameter's."""
    states = {desc for desc in function["returns"] if desc.startswith("state:")}
    if len(states) != 1 or len(function["returns"]) != 1:
        return None
    subject, _, polarity = states.pop()[len("state:"):].rpartition(":")
    if subject not in function["params"]:
        return None
    return function["params"].index(subject), polarity


def _module_level(statements):
    """The module's own statements, also under ``if``/``try``/``with`` (``if TYPE_CHECKING:``
    imports, ``try: import x except ImportError``); not inside functions or classes."""
    pending = list(statements)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            pending.extend(node.body)
            pending.extend(getattr(node, "orelse", ()))
            pending.extend(getattr(node, "finalbody", ()))
            for handler in getattr(node, "handlers", ()):
                pending.extend(handler.body)


def _caught_names(handler: ast.ExceptHandler) -> list[str]:
    """The last name components of the exceptions a handler catches; ``*`` for a bare one."""
    if handler.type is None:
        return ["*"]
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return [(dotted(t) or "").rpartition(".")[2] for t in types if dotted(t)]


def _tested_attributes(test: ast.expr, negated: bool = False) -> list[list]:
    """``a and not x._closed and self.live`` -> ``[["_closed", True], ["self.live", False]]``:
    the attributes an ``and`` chain (or one test) requires, and whether each is negated; an
    attribute of ``self`` keeps the prefix (it is the gate's own instance's)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _tested_attributes(test.operand, not negated)
        return inner if len(inner) == 1 else []
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and not negated:
        return [tested for value in test.values for tested in _tested_attributes(value)]
    if isinstance(test, ast.Attribute):
        on_self = isinstance(test.value, ast.Name) and test.value.id == "self"
        return [[f"self.{test.attr}" if on_self else test.attr, negated]]
    return []


def _leaves(body: list[ast.stmt]) -> bool:
    """The statements return, raise or continue (not inside a loop or function of their own)."""
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Return, ast.Raise, ast.Continue)):
            return True
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return False
