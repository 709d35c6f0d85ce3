"""The Python package a module belongs to, and the facts that cross its modules.

A module's package root is the nearest directory above it holding ``pyproject.toml`` or
``setup.cfg``, or the workspace that package belongs to (a ``pyproject.toml`` further up that
declares ``[tool.uv.workspace]`` or the like); the repository root (``.git``) ends the
search. Without either, it is its top package (the outermost directory of ``__init__.py``
files), else its own directory, whose loose modules (not its subdirectories) are the
package. Every module under the root is part of the package; each gets a summary
(``summary.py``), and the questions rules ask across modules are answered from those:
classes and their bases in any module, ``self.method()`` through the class and its bases, what properties, getters and
attributes hold, who calls a function or method, and with what around the call.

Names resolve through imports (relative and absolute, within the package) and through
the class hierarchy; a call that does not resolve is unknown, never "any function with that
name".
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from lint_ws import snapshot
from lint_ws.python.summary import contributes, summarize

_ROOT_MARKERS = ("pyproject.toml", "setup.cfg")
_SKIPPED_DIRECTORIES = frozenset({".git", "node_modules", "__pycache__", "target", "build", "dist", "site-packages"})
_MAX_MODULES = 5000
_WORKSPACE_TABLE = re.compile(r"^\[tool\.\w+\.workspace\]", re.MULTILINE)
# Calls that (re)open a connection, by name: a library's connect or a reconnect method.
_CONNECT_CALLS = frozenset({"connect", "ws_connect", "unix_connect", "create_connection", "websocket_connect", "reconnect"})


def package_root(path: str | Path) -> Path:
    """The source root of the package the module at ``path`` belongs to (see the module doc)."""
    start = Path(os.path.abspath(path)).parent
    directory = start
    found = None
    while True:
        if found is None and _is_source_root(directory):
            found = directory
        elif found is not None and _declares_workspace(directory / "pyproject.toml"):
            return directory
        if (directory / ".git").exists() or directory.parent == directory:
            break
        directory = directory.parent
    if found is not None:
        return found
    top = start
    while (top.parent / "__init__.py").is_file() and (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    return top


def _is_source_root(directory: Path) -> bool:
    return any((directory / marker).is_file() for marker in _ROOT_MARKERS)


def _declares_workspace(pyproject: Path) -> bool:
    """A workspace's root (``[tool.uv.workspace]``, ``[tool.pdm.workspace]``...): its member
    packages import each other, so the workspace is the project."""
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return _WORKSPACE_TABLE.search(text) is not None


def package_modules(root: Path) -> list[Path]:
    """The ``.py`` files under ``root``, sorted; virtualenvs and build output are skipped. A
    directory that is neither a source root nor a package holds loose modules (scripts side by
    side): only its own files."""
    if not _is_source_root(root) and not (root / "__init__.py").is_file():
        try:
            return sorted(Path(entry.path) for entry in snapshot.listing(str(root)) if entry.name.endswith(".py") and entry.is_file())
        except OSError:
            return []
    found: list[Path] = []
    pending = [root]
    while pending and len(found) < _MAX_MODULES:
        directory = pending.pop()
        try:
            entries = sorted(snapshot.listing(str(directory)), key=lambda entry: entry.name)
        except OSError:
            continue
        if any(entry.name == "pyvenv.cfg" for entry in entries):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _SKIPPED_DIRECTORIES and not entry.name.startswith("."):
                    pending.append(Path(entry.path))
            elif entry.name.endswith(".py"):
                found.append(Path(entry.path))
    return sorted(found)


@lru_cache(maxsize=8)
def package_summaries(root: str, facts: str = "") -> dict[str, dict]:
    """Every module of the package at ``root``: its path relative to ``root`` -> whether it can
    contribute connection facts (``{"contributes": ...}``); a module is summarised when a
    question reaches it (``module_summary``), and the contributing ones all when a question
    needs every module (who calls this, which classes derive from that).

    With ``module_summary``, the one place summaries are obtained; memoised for the process
    by ``facts``, the digest of the package's facts in the run's project index (a long-lived
    process, the language server, sees the package change).
    """
    summaries = {}
    base = Path(root)
    for path in package_modules(base):
        text = _read(path)
        if text is not None:
            summaries[path.relative_to(base).as_posix()] = _CONTRIBUTES if contributes(text) else _SKIPPED
    return summaries


@lru_cache(maxsize=4096)
def module_summary(root: str, module: str, facts: str = "") -> dict:
    """The summary of one module of the package at ``root``: the run's project index has it
    when the module can contribute facts; any other is parsed now. Memoised by ``facts``, as
    ``package_summaries`` is."""
    from lint_ws import project_index

    indexed = project_index.assembled_summary("python", root, module)
    if indexed is not None:
        return indexed
    text = _read(Path(root) / module)
    return summarize(module, text) if text is not None else _SKIPPED


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


_SKIPPED = {"contributes": False}
_CONTRIBUTES = {"contributes": True}  # parsed when a question reaches it, or one needs them all


def module_name(relative: str, package: str = "") -> str:
    """``pkg/sub/mod.py`` -> ``pkg.sub.mod``; ``src/pkg/__init__.py`` -> ``src.pkg``; below a
    root that is itself the package ``package``, ``sub/mod.py`` -> ``package.sub.mod``."""
    parts = relative[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts] if package else parts)


class Symbol(NamedTuple):
    module: str  # relative path of the module that defines it
    name: str  # the class or function name there


class Method(NamedTuple):
    owner: Symbol  # the class that defines it
    name: str
    summary: dict


class Caller(NamedTuple):
    module: str
    owner: str | None  # the caller's class
    function: str
    summary: dict  # the calling function's summary
    call: list  # the call record (see summary.py)


class Project:
    """The package of one module, answering questions across its modules."""

    def __init__(self, root: Path, summaries: dict[str, dict], facts: str = ""):
        self.root = root
        self.summaries = summaries
        self.facts = facts  # the digest of the package's facts this view was made from
        # A root that is the top package itself (no source root above it) names its modules.
        self.package = root.name if (root / "__init__.py").is_file() and not _is_source_root(root) else ""
        self._by_name: dict[str, list[str]] = {}
        for relative in summaries:
            self._by_name.setdefault(module_name(relative, self.package), []).append(relative)
        self._subclasses: dict[Symbol, list[Symbol]] | None = None
        self._all_parsed = False
        # A module below a source directory (``src/pkg/mod.py``) is imported as ``pkg.mod``.
        self._by_suffix: dict[str, list[str]] = {}

    @classmethod
    def of(cls, path: str | Path) -> Project:
        root = package_root(path)
        return _project(str(root), _facts_digest(str(root)))

    def relative(self, path: str | Path) -> str | None:
        try:
            return Path(os.path.abspath(path)).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _parse_contributors(self) -> None:
        """Summarise every contributing module: a question about all of them is coming."""
        if not self._all_parsed:
            for module, summary in list(self.summaries.items()):
                if summary.get("contributes"):
                    self.summary(module)
            self._all_parsed = True

    def _searched(self, also: set[str]) -> list[tuple[str, dict]]:
        """The modules a question about every module reads: the contributing ones and
        ``also`` (whatever else an earlier question happened to parse does not count, so
        that answers do not depend on the order questions come in)."""
        self._parse_contributors()
        return [
            (module, self.summary(module))
            for module, summary in self.summaries.items()
            if summary.get("contributes") or module in also
        ]

    def summary(self, module: str) -> dict:
        """The module's summary; one the package index skipped is parsed now (a question
        reached it: a base class, a re-export, a caller's module)."""
        summary = self.summaries.get(module)
        if summary is None:
            return {}
        if "parsed" not in summary:
            summary = self.summaries[module] = module_summary(str(self.root), module, self.facts)
        return summary

    # -- names -----------------------------------------------------------------------------

    def resolve(self, module: str, name: str, depth: int = 0) -> Symbol | None:
        """The class or function ``name`` (``C``, ``mod.C``) means in ``module``."""
        summary = self.summary(module)
        if "classes" not in summary or depth > 8:
            return None
        head, _, rest = name.partition(".")
        if not rest and (head in summary["classes"] or head in summary["functions"]):
            return Symbol(module, head)
        alias = summary["aliases"].get(head)
        if alias is not None and alias != head:
            return self.resolve(module, f"{alias}.{rest}" if rest else alias, depth + 1)
        target = summary["imports"].get(head)
        if target is None:
            return None
        qualified = self._absolute(module, target)
        if rest:
            qualified = f"{qualified}.{rest}"
        return self._lookup(qualified, module)

    def _absolute(self, module: str, target: str) -> str:
        if not target.startswith("."):
            return target
        level = len(target) - len(target.lstrip("."))
        package = module_name(module, self.package).split(".")
        if not module.endswith("__init__.py"):
            package = package[:-1]
        if level > 1:
            package = package[: len(package) - (level - 1)]
        rest = target[level:]
        return ".".join([*package, rest]) if rest else ".".join(package)

    def _lookup(self, qualified: str, near: str) -> Symbol | None:
        """``pkg.mod.C`` -> the class or function ``C`` of module ``pkg.mod`` (or of a
        module whose name ends so: a source root's ``src.pkg.mod``)."""
        module, _, name = qualified.rpartition(".")
        for candidate in self._modules_named(module, near):
            summary = self.summary(candidate)
            if name in summary.get("classes", ()) or name in summary.get("functions", ()):
                return Symbol(candidate, name)
            if name in summary.get("aliases", ()):
                return self.resolve(candidate, name)
            # A re-export: ``from .client import Client`` in a package's ``__init__``.
            reexported = summary.get("imports", {}).get(name)
            if reexported is not None and reexported != qualified:
                found = self._lookup(self._absolute(candidate, reexported), candidate)
                if found is not None:
                    return found
        return None

    def _modules_named(self, name: str, near: str) -> list[str]:
        exact = self._by_name.get(name, [])
        if exact:
            here = near.rpartition("/")[0]
            return sorted(exact, key=lambda module: module.rpartition("/")[0] != here)
        found = self._by_suffix.get(name)
        if found is None:
            suffix = "." + name
            found = [module for full, modules in self._by_name.items() if full.endswith(suffix) for module in modules]
            self._by_suffix[name] = found
        return found

    def reexported_import(self, module: str, target: str) -> str | None:
        """What ``from <target's module> import <name>`` in ``module`` binds when that module
        itself imports ``name`` from outside the package (``import websockets`` in a module of
        optional imports): that import's qualified name."""
        module_part, _, name = self._absolute(module, target).rpartition(".")
        for candidate in self._modules_named(module_part, module):
            bound = self.summary(candidate).get("imports", {}).get(name)
            if bound is not None and not bound.startswith(".") and bound.partition(".")[0] not in self._by_name:
                return bound
        return None

    def class_info(self, symbol: Symbol) -> dict | None:
        return self.summary(symbol.module).get("classes", {}).get(symbol.name)

    def function_info(self, symbol: Symbol) -> dict | None:
        return self.summary(symbol.module).get("functions", {}).get(symbol.name)

    # -- classes ---------------------------------------------------------------------------

    def lineage(self, symbol: Symbol) -> list[Symbol]:
        """The class and its bases in the package, nearest first (a base outside it ends the walk)."""
        found: list[Symbol] = []
        pending = [symbol]
        while pending and len(found) < 32:
            current = pending.pop(0)
            info = self.class_info(current)
            if info is None or current in found:
                continue
            found.append(current)
            for base in info["bases"]:
                resolved = self.resolve(current.module, base)
                if resolved is not None:
                    pending.append(resolved)
        return found

    def method(self, symbol: Symbol, name: str) -> Method | None:
        """``self.name`` as seen from class ``symbol``: its own method or a base's."""
        for owner in self.lineage(symbol):
            method = self.class_info(owner)["methods"].get(name)
            if method is not None:
                return Method(owner, name, method)
        return None

    def attribute_descs(self, symbol: Symbol, name: str) -> list[str]:
        """What ``self.name`` is assigned, in the class and its bases."""
        descs: list[str] = []
        for owner in self.lineage(symbol):
            descs.extend(self.class_info(owner)["attrs"].get(name, ()))
        return descs

    def dropped(self, symbol: Symbol, name: str) -> bool:
        """Does a method (not ``__init__``) of the class or a base set ``self.name`` to None?"""
        return any(name in self.class_info(owner).get("dropped", ()) for owner in self.lineage(symbol))

    def attribute_of_package_class(self, symbol: Symbol, name: str) -> bool:
        """Is ``self.name`` (in the class or a base) assigned an instance of a class of the
        package (``self._events = aio.Chan[Event]()`` with ``Chan`` defined in the package)?"""
        for owner in self.lineage(symbol):
            for desc in self.class_info(owner)["attrs"].get(name, ()):
                if desc.startswith("call:") and "(" not in desc:
                    target = self.resolve(owner.module, desc[len("call:"):])
                    if target is not None and self.class_info(target) is not None:
                        return True
        return False

    def subclasses(self, symbol: Symbol) -> list[Symbol]:
        if self._subclasses is None:
            self._parse_contributors()
            table: dict[Symbol, list[Symbol]] = {}
            for module, summary in self._searched(set()):
                for class_name, info in summary.get("classes", {}).items():
                    for base in info["bases"]:
                        resolved = self.resolve(module, base)
                        if resolved is not None:
                            table.setdefault(resolved, []).append(Symbol(module, class_name))
            self._subclasses = table
        found, pending = [], [symbol]
        while pending and len(found) < 64:
            for child in self._subclasses.get(pending.pop(), ()):
                if child not in found:
                    found.append(child)
                    pending.append(child)
        return found

    # -- values ----------------------------------------------------------------------------

    def connection_of(self, owner: Symbol | None, desc: str, depth: int = 0) -> str | None:
        """The connection side (``client``/``server``/``conn``, ``decl:`` when only declared)
        a value description stands for, seen from class ``owner``; None: not known to be one."""
        if depth > 4 or not desc:
            return None
        if desc in ("client", "server", "conn") or desc.startswith("decl:"):
            return desc
        if owner is not None and desc.startswith("self.") and "(" not in desc and desc.count(".") == 1:
            return self.attribute_connection(owner, desc[len("self."):], depth + 1)
        if desc.startswith("call:"):
            return self.returned_connection(owner, desc[len("call:"):], depth + 1)
        return None

    def attribute_connection(self, owner: Symbol, name: str, depth: int = 0) -> str | None:
        """``self.name``: an attribute assigned a connection, or a property returning one."""
        sides = [self.connection_of(owner, desc, depth) for desc in self.attribute_descs(owner, name)]
        method = self.method(owner, name)
        if method is not None and method.summary["property"]:
            sides += [self.connection_of(method.owner, desc, depth) for desc in method.summary["returns"]]
        return _strongest(sides)

    def returned_connection(self, owner: Symbol | None, target: str, depth: int = 0, module: str | None = None) -> str | None:
        """What calling ``target`` (``self._get_ws``; a function of the package, seen from
        ``module``) returns, when that is a connection."""
        if owner is not None and target.startswith("self.") and target.count(".") == 1:
            method = self.method(owner, target[len("self."):])
            if method is None:
                return None
            return _strongest(self.connection_of(method.owner, desc, depth) for desc in method.summary["returns"])
        symbol = self.resolve(module, target) if module is not None and "(" not in target else None
        function = self.function_info(symbol) if symbol is not None else None
        if function is None:
            return None
        return _strongest(self.connection_of(None, desc, depth) for desc in function["returns"])

    def _accessor(self, owner: Symbol, target: str) -> Method | None:
        """The method ``self.x`` (a property) or ``self.x()`` (a getter) reads, when it is one of
        that kind."""
        name, call = (target[len("self."):-2], True) if target.endswith("()") else (target[len("self."):], False)
        if "." in name or "(" in name:
            return None
        method = self.method(owner, name)
        return None if method is None or method.summary["property"] == call else method

    def returned_attribute(self, owner: Symbol, target: str) -> str | None:
        """``self.ws`` / ``self._get_ws()`` -> the ``self.<attr>`` it returns, when it returns
        exactly one attribute of the instance (a property or a getter)."""
        method = self._accessor(owner, target)
        if method is None:
            return None
        returned = {desc for desc in method.summary["returns"] if desc.startswith("self.")}
        return returned.pop() if len(returned) == 1 and len(method.summary["returns"]) == 1 else None

    def state_check(self, owner: Symbol, target: str) -> tuple[str, bool, Method] | None:
        """``self.connected`` (a property) or ``self.is_open()``: (the connection whose state it
        returns, whether true means open, the method) when it returns a state test."""
        method = self._accessor(owner, target)
        if method is None:
            return None
        returns = method.summary["returns"]
        if len(returns) != 1 or not returns[0].startswith("state:"):
            return None
        subject, _, polarity = returns[0][len("state:"):].rpartition(":")
        return subject, polarity == "1", method

    # -- callers ---------------------------------------------------------------------------

    def callers(self, owner: Symbol | None, name: str, module: str) -> list[Caller] | None:
        """Every call of the method ``name`` of ``owner`` (``self.name()`` in the class, its
        bases and subclasses) or of the module function ``name`` of ``module`` (by name in
        its module, through imports elsewhere). None when some call cannot be told apart:
        ``x.name()`` on an object the package does not know. Tests are not callers."""
        self._parse_contributors()
        found: list[Caller] = []
        if owner is not None:
            family = {*self.lineage(owner), *self.subclasses(owner)}
            for module_path, summary in self._searched({symbol.module for symbol in family}):
                if _is_test_module(module_path):
                    continue
                for class_name, info in summary.get("classes", {}).items():
                    in_family = Symbol(module_path, class_name) in family
                    for method_name, method in info["methods"].items():
                        for call in method["calls"]:
                            target = call[0]
                            if target in (f"self.{name}", f"super().{name}"):
                                if in_family:  # else another class's own method
                                    found.append(Caller(module_path, class_name, method_name, method, call))
                            elif target.rpartition(".")[2] == name:
                                if not self._instance_of(module_path, call[5], family):
                                    return None
                                found.append(Caller(module_path, class_name, method_name, method, call))
                for function_name, function in summary.get("functions", {}).items():
                    if function_name.startswith("test"):
                        continue
                    for call in function["calls"]:
                        if call[0].rpartition(".")[2] == name and "." in call[0]:
                            if not self._instance_of(module_path, call[5], family):
                                return None
                            found.append(Caller(module_path, None, function_name, function, call))
            return found
        for module_path, summary in self._searched({module}):
            if _is_test_module(module_path):
                continue
            for class_name, function_name, function in _functions(summary):
                for call in function["calls"]:
                    target = call[0]
                    if target.rpartition(".")[2] != name:
                        continue
                    if self.resolve(module_path, target) == Symbol(module, name):
                        found.append(Caller(module_path, class_name, function_name, function, call))
        return found

    def _instance_of(self, module: str, receiver: str, family) -> bool:
        """Is ``receiver`` (a call's receiver description) an instance of the ``family`` of
        classes: ``client = Client(uri)`` then ``client.run()``? False: unknown."""
        if not receiver.startswith("call:"):
            return False
        return self.resolve(module, receiver[len("call:"):]) in family

    def receives_made_client(self, owner: Symbol | None, name: str, module: str) -> bool:
        """Does some call in the package hand a client connection it opened (not one only
        declared) to the function ``name`` of ``module``, or to the class ``owner``'s
        constructor or methods (its subclasses' too)?"""
        self._parse_contributors()
        family = {owner, *self.subclasses(owner)} if owner is not None else set()
        methods = {
            method for symbol in family for method in self.class_info(symbol)["methods"] if not method.startswith("__")
        }
        for module_path, summary in self._searched(set()):
            for class_name, _, function in _functions(summary):
                caller = Symbol(module_path, class_name) if class_name is not None else None
                for call in function["calls"]:
                    if not any(self.connection_of(caller, arg) == "client" for arg in call[4]):
                        continue
                    target = call[0]
                    resolved = self.resolve(module_path, target) if "(" not in target else None
                    if owner is None and resolved == Symbol(module, name):
                        return True
                    if owner is not None and (resolved in family or target.rpartition(".")[2] in methods):
                        return True
        return False

    def loop_reconnects(
        self, caller: Caller, instance: Symbol | None = None, only_raising: bool = False, fresh: bool = False
    ) -> bool:
        """Does the loop around ``caller``'s call open a client connection on each pass: a
        connect call in it, or a call of a package function that connects (the session
        function itself, when it opens its connection)? ``instance``: the class whose
        instance runs the loop, when the caller is a method of a base (``self._run()``
        reaches the subclass's ``_run``). A loop that returns the call's value
        (``return await self._run()``) runs it again only after it raised: it reconnects
        only a session that ends by raising (``only_raising``). ``fresh``: the called
        function obtains its connection from a call the package cannot follow (a pool's,
        an SDK's); a loop that reruns it after a raise reconnects it too."""
        loop = caller.call[3]
        if loop < 0 or (caller.call[6] and not only_raising):
            return False
        if fresh and only_raising:
            return True
        loops = caller.summary["loops"]
        owner = instance or (Symbol(caller.module, caller.owner) if caller.owner is not None else None)
        for call in caller.summary["calls"]:
            index = call[3]
            while index > loop:
                index = loops[index][1]
            if index != loop:
                continue
            if self.call_connects(owner, call, caller.module):
                return True
        return False

    def call_connects(self, owner: Symbol | None, call: list, module: str) -> bool:
        """Does the call (a call record of a function of ``module`` in class ``owner``) open a
        client connection: a connect call, or a call of a package function or method that
        does (``client = Client(); client.run()`` reaches ``Client.run``)?"""
        if call[0].rpartition(".")[2] in _CONNECT_CALLS:
            return True
        callee = self.callee(owner, call[0], module)
        if callee is None and call[5].startswith("call:"):
            instance = self.resolve(module, call[5][len("call:"):])
            method = self.method(instance, call[0].rpartition(".")[2]) if instance is not None else None
            callee = (method.owner, method.summary) if method is not None else None
        return callee is not None and self.connects(callee[0], callee[1])

    def connects_when_marked(self, marks: dict[str, bool], module: str, session: Symbol) -> bool:
        """Does a function of another module of the package test one of ``marks`` (attribute
        -> whether its true value means the session ended) and connect when it says ended:
        the call in the body of an ``if`` true only when ended, or after an ``if`` true only
        while live whose body leaves, or after a filter keeping only live ones? A function
        that opens a connection itself is the first connect, not such a gate. A mark tested
        on ``self`` counts only in the session's class, its bases and subclasses (``session``)."""
        related = {*self.lineage(session), *self.subclasses(session)}
        for module_path, summary in self._searched(set()):
            if module_path == module or _is_test_module(module_path):
                continue
            for class_name, _, function in _functions(summary):
                if function["connects"] or not function.get("gates"):
                    continue
                owner = Symbol(module_path, class_name) if class_name is not None else None
                for tested, kind, first, last in function["gates"]:
                    ended = {
                        marks[attr.removeprefix("self.")] != negated
                        for attr, negated in tested
                        if attr.removeprefix("self.") in marks and (not attr.startswith("self.") or owner in related)
                    }
                    if len(ended) != 1:
                        continue
                    says_ended = ended.pop()
                    for call in function["calls"]:
                        inside = first <= call[1] <= last
                        if says_ended and kind != "filter" and inside or (
                            not says_ended and kind in ("leaves", "filter") and call[1] > last
                        ):
                            if self.call_connects(owner, call, module_path):
                                return True
        return False

    def closes_connection(self, owner: Symbol | None, function: dict, depth: int = 0) -> bool:
        """Does the method close a connection of its instance (``await self.ws.close()``),
        itself or through the methods of its class it calls?"""
        for call in function["calls"]:
            receiver, _, method = call[0].rpartition(".")
            if method in ("close", "aclose") and owner is not None:
                if receiver.startswith("self.") and receiver.count(".") == 1:
                    if self.attribute_connection(owner, receiver[len("self."):]) is not None:
                        return True
                elif self.connection_of(owner, call[5]) is not None:
                    return True
            if depth < 2 and owner is not None and receiver == "self":
                callee = self.method(owner, method)
                if callee is not None and callee.summary is not function and self.closes_connection(
                    callee.owner, callee.summary, depth + 1
                ):
                    return True
        return False

    def connects(self, owner: Symbol | None, function: dict, depth: int = 0) -> bool:
        """Does the function open a client connection, itself or through the package's calls?"""
        if function["connects"]:
            return True
        if depth >= 3:
            return False
        for call in function["calls"]:
            callee = self.callee(owner, call[0], None)
            if callee is not None and callee[1] is not function and self.connects(callee[0], callee[1], depth + 1):
                return True
        return False

    def callee(self, owner: Symbol | None, target: str, module: str | None) -> tuple[Symbol | None, dict] | None:
        """(the class it belongs to, the summary) of the function a call of ``target`` reaches."""
        if owner is not None and target.startswith("self.") and target.count(".") == 1:
            method = self.method(owner, target[len("self."):])
            return (method.owner, method.summary) if method is not None else None
        module = module or (owner.module if owner is not None else None)
        if module is None:
            return None
        symbol = self.resolve(module, target)
        if symbol is None:
            return None
        function = self.function_info(symbol)
        return (None, function) if function is not None else None


def _is_test_module(module: str) -> bool:
    """Tests call functions once to check them: they are no session's callers."""
    name = module.rpartition("/")[2]
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _functions(summary: dict):
    for name, function in summary.get("functions", {}).items():
        yield None, name, function
    for class_name, info in summary.get("classes", {}).items():
        for name, method in info["methods"].items():
            yield class_name, name, method


def _strongest(sides) -> str | None:
    """A connection made in the package wins over one only declared; a known side over none."""
    sides = [side for side in sides if side]
    for preferred in ("client", "server", "conn", "decl:client", "decl:server", "decl:conn"):
        if preferred in sides:
            return preferred
    return None


@lru_cache(maxsize=8)
def _project(root: str, facts: str) -> Project:
    return Project(Path(root), package_summaries(root, facts), facts)


def _facts_digest(root: str) -> str:
    """The digest of the package's facts as the run's project index assembled them ("" when
    it did not): what the in-process memos are keyed by."""
    from lint_ws import project_index

    project = project_index.assembled("python", root)
    return project.digest if project is not None else ""


class ModuleView:
    """The project as one module sees it: its classes by name, its functions."""

    def __init__(self, project: Project, module: str):
        self.project = project
        self.module = module

    @classmethod
    def for_source(cls, path: str, text: str) -> ModuleView:
        """The package of the file at ``path`` (its on-disk package; the text being linted
        stands for the file itself); a path that is no file gives a package of one module."""
        if os.path.isfile(path):
            project = Project.of(path)
            module = project.relative(path)
            if module is not None and module in project.summaries:
                try:
                    same = Path(path).read_text(encoding="utf-8") == text
                except (OSError, UnicodeDecodeError):
                    same = False
                if not same:
                    project = Project(project.root, {**project.summaries, module: summarize(path, text)}, project.facts)
                return cls(project, module)
        return cls.alone(path, text)

    @classmethod
    def alone(cls, path: str, text: str) -> ModuleView:
        """The module as a package of its own (no other module summarised)."""
        module = os.path.basename(path)
        return cls(Project(Path(os.path.dirname(os.path.abspath(path))), {module: summarize(path, text)}), module)

    def symbol(self, class_name: str | None) -> Symbol | None:
        if class_name is None or class_name not in self.project.summary(self.module).get("classes", {}):
            return None
        return Symbol(self.module, class_name)
