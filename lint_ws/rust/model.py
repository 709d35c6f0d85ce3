"""The Rust connection model: built once per file, queried by every Rust rule.

It knows the file's functions (free functions and methods, with their impl type), which
call which, which are tests, and what the names in scope stand for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from tree_sitter import Node

from lint_ws.rust.syntax import (
    ancestors,
    callee_path,
    descendants_of_type,
    method_call_parts,
    text,
)

TEST_ATTRIBUTES = ("test", "tokio::test", "async_std::test", "rstest", "test_case")


@dataclass
class Function:
    node: Node  # function_item
    name: str
    impl_type: str | None  # "Foo" for methods of `impl Foo` / `impl Trait for Foo`
    trait: str | None  # "Drop" for `impl Drop for Foo`
    is_test: bool
    calls: set[str] = field(default_factory=set)  # names of functions/methods called

    @property
    def body(self) -> Node | None:
        return self.node.child_by_field_name("body")


def _attributes_before(node: Node) -> list[str]:
    """Texts of the attribute items directly above ``node``."""
    attributes = []
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item":
            attributes.append(text(sibling))
        sibling = sibling.prev_named_sibling
    return attributes


def _is_test_attribute(attribute: str) -> bool:
    inner = attribute.removeprefix("#[").removesuffix("]").strip()
    path = inner.split("(", 1)[0].strip()
    return path in TEST_ATTRIBUTES or inner.replace(" ", "").startswith("cfg(test")


def _type_name(type_node: Node | None) -> str | None:
    if type_node is None:
        return None
    if type_node.type == "generic_type":
        type_node = type_node.child_by_field_name("type") or type_node
    name = text(type_node)
    return name.rsplit("::", 1)[-1]


class RustModel:
    def __init__(self, root: Node, encoded: bytes):
        self.root = root
        self.encoded = encoded

    @cached_property
    def functions(self) -> list[Function]:
        functions = []
        for node in descendants_of_type(self.root, "function_item"):
            impl_type = trait = None
            is_test = any(_is_test_attribute(a) for a in _attributes_before(node))
            for parent in ancestors(node):
                if parent.type == "impl_item" and impl_type is None:
                    impl_type = _type_name(parent.child_by_field_name("type"))
                    trait = _type_name(parent.child_by_field_name("trait"))
                if parent.type in ("mod_item", "impl_item", "function_item") and any(
                    _is_test_attribute(a) for a in _attributes_before(parent)
                ):
                    is_test = True
            name_node = node.child_by_field_name("name")
            function = Function(node, text(name_node) if name_node else "", impl_type, trait, is_test)
            body = function.body
            if body is not None:
                function.calls = _called_names(body)
            functions.append(function)
        return functions

    @cached_property
    def functions_by_name(self) -> dict[str, list[Function]]:
        by_name: dict[str, list[Function]] = {}
        for function in self.functions:
            by_name.setdefault(function.name, []).append(function)
        return by_name

    @cached_property
    def callers(self) -> dict[str, list[Function]]:
        """Function name -> the functions of this file that call a function of that name."""
        callers: dict[str, list[Function]] = {}
        for function in self.functions:
            for name in function.calls:
                callers.setdefault(name, []).append(function)
        return callers

    def function_at(self, node: Node) -> Function | None:
        """The innermost function of this file that contains ``node``."""
        for parent in ancestors(node):
            if parent.type == "function_item":
                for function in self.functions:
                    if function.node == parent:
                        return function
        return None

    def in_test(self, node: Node) -> bool:
        function = self.function_at(node)
        if function is not None and function.is_test:
            return True
        return any(
            parent.type == "mod_item" and any(_is_test_attribute(a) for a in _attributes_before(parent))
            for parent in ancestors(node)
        )


def _called_names(body: Node) -> set[str]:
    names = set()
    for call in descendants_of_type(body, "call_expression"):
        parts = method_call_parts(call)
        if parts is not None:
            names.add(parts[1])
            continue
        path = callee_path(call)
        if path is not None:
            names.add(path.rsplit("::", 1)[-1])
    return names
