"""Small, rule-agnostic helpers over tree-sitter-rust nodes."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node


def text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def walk(node: Node) -> Iterator[Node]:
    """Every node below ``node`` (inclusive), in source order."""
    cursor = node.walk()
    while True:
        yield cursor.node
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent() or cursor.node == node:
                return


def descendants_of_type(node: Node, *types: str) -> Iterator[Node]:
    for child in walk(node):
        if child.type in types:
            yield child


def ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def enclosing(node: Node, *types: str) -> Node | None:
    for parent in ancestors(node):
        if parent.type in types:
            return parent
    return None


def method_call_parts(call: Node) -> tuple[Node, str] | None:
    """For ``receiver.method(args)`` return (receiver, method name); otherwise None."""
    function = call.child_by_field_name("function")
    if function is None or function.type != "field_expression":
        return None
    field = function.child_by_field_name("field")
    value = function.child_by_field_name("value")
    if field is None or value is None:
        return None
    return value, text(field)


def callee_path(call: Node) -> str | None:
    """For ``path::to::f(args)`` or ``f(args)`` return the path text; otherwise None."""
    function = call.child_by_field_name("function")
    if function is None:
        return None
    if function.type == "generic_function":
        function = function.child_by_field_name("function")
    if function is not None and function.type in ("identifier", "scoped_identifier"):
        return text(function)
    return None


def receiver_name(receiver: Node) -> str | None:
    """The name a method receiver stands for: ``x`` for ``x``, ``&mut x``, ``self.x``, ``(*x)``."""
    while receiver.type in ("reference_expression", "unary_expression", "parenthesized_expression"):
        inner = [child for child in receiver.named_children]
        if not inner:
            return None
        receiver = inner[-1]
    if receiver.type == "identifier":
        return text(receiver)
    if receiver.type == "field_expression":
        field = receiver.child_by_field_name("field")
        return text(field) if field is not None else None
    if receiver.type == "self":
        return "self"
    return None


def line_indent(source: str, offset: int) -> str:
    """The indentation (leading whitespace) of the line of ``source`` holding ``offset``:
    what a fix's added lines take to line up with the code they replace."""
    line_start = source.rfind("\n", 0, offset) + 1
    line = source[line_start:offset]
    return line[: len(line) - len(line.lstrip())]
