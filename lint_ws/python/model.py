"""The Python connection model: built once per file, queried by every Python rule.

It knows what imported names stand for, the file's functions and methods (with their
class), which call which, and what the names in scope stand for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for Name/Attribute chains; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


@dataclass
class Function:
    node: cst.FunctionDef
    name: str
    class_name: str | None
    calls: set[str] = field(default_factory=set)  # last component of every called name


class _Indexer(cst.CSTVisitor):
    def __init__(self) -> None:
        self.imports: dict[str, str] = {}
        self.functions: list[Function] = []
        self._classes: list[str] = []
        self._functions: list[Function] = []

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

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        direct_method = self._classes and (not self._functions or self._functions[-1].class_name != self._classes[-1])
        function = Function(node, node.name.value, self._classes[-1] if direct_method else None)
        self.functions.append(function)
        self._functions.append(function)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self._functions:
            return
        func = node.func
        if isinstance(func, cst.Attribute):
            self._functions[-1].calls.add(func.attr.value)
        elif isinstance(func, cst.Name):
            self._functions[-1].calls.add(func.value)


class PythonModel:
    def __init__(self, module: cst.Module):
        self.module = module

    @cached_property
    def _index(self) -> _Indexer:
        indexer = _Indexer()
        self.module.visit(indexer)
        return indexer

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
        callers: dict[str, list[Function]] = {}
        for function in self.functions:
            for name in function.calls:
                callers.setdefault(name, []).append(function)
        return callers

    def qualified(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute chain, resolving imports.

        ``QueueFull`` after ``from asyncio import QueueFull`` -> ``asyncio.QueueFull``;
        ``aio.QueueFull`` after ``import asyncio as aio`` -> ``asyncio.QueueFull``.
        """
        name = dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports:
            head = self.imports[head]
        return f"{head}.{rest}" if rest else head
