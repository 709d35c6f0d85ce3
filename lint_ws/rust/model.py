"""The Rust connection model: built once per file, queried by every Rust rule.

It knows the file's functions (free functions and methods, with their impl type), which
call which, which are tests, and what the names in scope stand for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import NamedTuple

from tree_sitter import Node, Range

from lint_ws.per_file import PerFileAnswers

from lint_ws.rust.syntax import (
    ancestors,
    callee_path,
    descendants_of_type,
    enclosing,
    method_call_parts,
    text,
    walk,
)

TEST_ATTRIBUTES = ("test", "tokio::test", "async_std::test", "rstest", "test_case")


class Function(NamedTuple):
    node: Node  # function_item
    name: str
    impl_type: str | None  # "Foo" for methods of `impl Foo` / `impl Trait for Foo`
    trait: str | None  # "Drop" for `impl Drop for Foo`
    is_test: bool
    calls: frozenset[str] = frozenset()  # names of functions/methods called

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


ABORT_METHODS = ("abort", "abort_all")


def abort_call_parts(call: Node) -> tuple[Node, str] | None:
    """(receiver, method) of an argument-less ``x.abort()`` / ``x.abort_all()`` call, else
    None (``std::process::abort()`` is a path call, not a method call, and never matches)."""
    parts = method_call_parts(call)
    arguments = call.child_by_field_name("arguments")
    if parts is None or parts[1] not in ABORT_METHODS or arguments is None or arguments.named_children:
        return None
    return parts


class RustModel(PerFileAnswers):
    def __init__(self, root: Node, encoded: bytes):
        self.root = root
        self.encoded = encoded

    def nodes_of_type(self, *types: str) -> list[Node]:
        """The nodes of these types in the whole file, in source order (one walk per file)."""
        return self.per_file(("nodes_of_type", types), lambda model: model._in_source_order(types))

    @cached_property
    def _nodes_by_type(self) -> dict[str, list[tuple[int, Node]]]:
        """Node type -> (place in the walk, node), for every node: the rules ask for a dozen
        types, and a walk of the whole file for each was most of a large file's lint."""
        by_type: dict[str, list[tuple[int, Node]]] = {}
        for place, node in enumerate(walk(self.root)):
            by_type.setdefault(node.type, []).append((place, node))
        return by_type

    def _in_source_order(self, types: tuple[str, ...]) -> list[Node]:
        found = sorted(entry for kind in set(types) for entry in self._nodes_by_type.get(kind, ()))
        return [node for _, node in found]

    @cached_property
    def functions(self) -> list[Function]:
        functions = []
        for node in self.nodes_of_type("function_item"):
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
            body = node.child_by_field_name("body")
            calls = frozenset() if body is None else _called_names(body)
            functions.append(Function(node, text(name_node) if name_node else "", impl_type, trait, is_test, calls))
        return functions

    @cached_property
    def functions_by_name(self) -> dict[str, list[Function]]:
        by_name: dict[str, list[Function]] = {}
        for function in self.functions:
            by_name.setdefault(function.name, []).append(function)
        return by_name

    @cached_property
    def _functions_by_span(self) -> dict[tuple[int, int], Function]:
        return {(function.node.start_byte, function.node.end_byte): function for function in self.functions}

    def function_index(self, function: Function) -> int:
        """The position of ``function`` among the file's functions: its identity in the
        file's summary."""
        indexes = self.per_file("function_index", lambda model: {f.node.id: i for i, f in enumerate(model.functions)})
        return indexes[function.node.id]

    def function_at(self, node: Node) -> Function | None:
        """The innermost function of this file that contains ``node``."""
        for parent in ancestors(node):
            if parent.type == "function_item":
                return self._functions_by_span.get((parent.start_byte, parent.end_byte))
        return None

    def in_test(self, node: Node) -> bool:
        function = self.function_at(node)
        if function is not None and function.is_test:
            return True
        return any(
            parent.type == "mod_item" and any(_is_test_attribute(a) for a in _attributes_before(parent))
            for parent in ancestors(node)
        )

    @cached_property
    def expanded(self) -> RustModel:
        """This file's model with the code inside some macros re-parsed as ordinary code.

        tree-sitter leaves macro bodies as flat token trees, yet ``select!`` arms hold the
        receive loops and teardown paths the rules look for, and an item-position macro
        (``cfg_if! { if #[cfg(..)] { items } }``, a ``macro_rules!`` wrapper adding
        attributes to its items) holds whole functions, types and ``use``s. The file is
        rewritten in place with every byte offset kept, so nodes of the expanded tree report
        spans of the original file: each arm ``pat = fut => handler,`` becomes
        ``pat = fut ;  handler;``, ``join!(a, b)`` the tuple ``(a, b)``, and an item macro's
        wrapper tokens are blanked so its items sit in the module, ``impl`` or ``mod``
        around it. Nested invocations surface one round at a time.
        """
        model = self
        if not SELECT_OR_JOIN.search(self.encoded) and not BRACE_MACRO.search(self.encoded):  # nothing to expand
            return model
        for _ in range(MAX_EXPANSION_ROUNDS):
            rewritten = _expand_macros(model.root, model.encoded)
            if rewritten == model.encoded:
                break
            from lint_ws.rust.frontend import parser  # the front end imports this module

            model = RustModel(parser().parse(rewritten).root_node, rewritten)
        return model


def _called_names(body: Node) -> frozenset[str]:
    names = set()
    for call in descendants_of_type(body, "call_expression"):
        parts = method_call_parts(call)
        if parts is not None:
            names.add(parts[1])
            continue
        path = callee_path(call)
        if path is not None:
            names.add(path.rsplit("::", 1)[-1])
    return frozenset(names)


SELECT_MACROS = frozenset({"select", "select_biased"})
JOIN_MACROS = frozenset({"join", "try_join"})
# What a file must hold for each expansion to have work: the select! walk visits every node.
SELECT_OR_JOIN = re.compile(rb"select|join!")
BRACE_MACRO = re.compile(rb"!\s*\{")
MAX_EXPANSION_ROUNDS = 4


def _expand_macros(root: Node, encoded: bytes) -> bytes:
    """``encoded`` with the item macros and ``select!``/``join!`` invocations visible in
    ``root`` rewritten (see ``RustModel.expanded``); the two touch disjoint bytes."""
    buffer = bytearray(encoded)
    if BRACE_MACRO.search(encoded):
        _unwrap_item_macros(root, encoded, buffer)
    if SELECT_OR_JOIN.search(encoded):
        _expand_select_macros(root, buffer)
    return bytes(buffer)


def _blank(buffer: bytearray, start: int, end: int) -> None:
    """Spaces over ``start:end``, line breaks kept: every later offset and line stays put."""
    for offset in range(start, end):
        if buffer[offset] not in b"\r\n":
            buffer[offset] = ord(" ")


# The node types of items (and what may stand between them) in a parsed item list.
ITEM_TYPES = frozenset(
    {"function_item", "function_signature_item", "struct_item", "enum_item", "union_item", "impl_item", "trait_item",
     "mod_item", "use_declaration", "type_item", "associated_type", "const_item", "static_item", "macro_definition",
     "macro_invocation", "attribute_item", "inner_attribute_item", "extern_crate_declaration", "foreign_mod_item",
     "line_comment", "block_comment"}
)
# The tokens an item can start with: a macro body starting otherwise is not parsed at all.
ITEM_STARTS = frozenset(
    {"#", "pub", "use", "fn", "async", "const", "unsafe", "extern", "struct", "enum", "union", "type", "impl",
     "trait", "mod", "static", "macro_rules"}
)
COMMENTS = ("line_comment", "block_comment")


def _unwrap_item_macros(root: Node, encoded: bytes, buffer: bytearray) -> None:
    """Blank the wrapper of each item-position macro invocation (in the file, a ``mod`` or
    an ``impl``/``trait`` body) whose brace body is a list of items, so the items take its
    place. Function bodies are not entered: a macro there is an expression or statement
    (``quote! { fn f() {} }`` builds tokens, it declares nothing)."""
    pending = [root]
    while pending:
        container = pending.pop()
        for item in container.named_children:
            if item.type in ("mod_item", "impl_item", "trait_item"):
                body = item.child_by_field_name("body")
                if body is not None:
                    pending.append(body)
            elif item.type == "macro_invocation":
                kept = _item_macro_contents(item, encoded)
                start = item.start_byte
                for content in kept:  # everything but the items: name, braces, `if #[cfg(..)] {`
                    _blank(buffer, start, content.start_byte)
                    start = content.end_byte
                if kept:
                    _blank(buffer, start, item.end_byte)


def _item_macro_contents(macro: Node, encoded: bytes) -> list[Range]:
    """The ranges of ``macro``'s body that are lists of items, in order: the whole brace
    body, or for the cfg_if shape (``if #[cfg(a)] { .. } else if #[cfg(b)] { .. } else
    { .. }``) each branch's contents but those compiled only for tests. Empty when the body
    is not items: each range must start like an item and parse without error as items."""
    body = next((child for child in macro.children if child.type == "token_tree"), None)
    if body is None or body.child_count < 2 or body.children[0].type != "{":
        return []
    branches = _cfg_if_branches([t for t in body.children[1:-1] if t.type not in COMMENTS])
    blocks = [body] if branches is None else [block for condition, block in branches if condition is None or not _is_test_attribute(f"#{text(condition)}")]
    ranges = []
    for block in blocks:
        tokens = [t for t in block.children[1:-1] if t.type not in COMMENTS]
        if not tokens:
            continue
        if not _starts_like_item(tokens):
            return []
        opening, closing = block.children[0], block.children[-1]
        ranges.append(Range(opening.end_point, closing.start_point, opening.end_byte, closing.start_byte))
    if not ranges:
        return []
    from lint_ws.rust.frontend import parse_ranges  # the front end imports this module

    parsed = parse_ranges(encoded, ranges).root_node
    if parsed.has_error or not all(_is_item(node) for node in parsed.named_children):
        return []
    return ranges


def _starts_like_item(tokens: list[Node]) -> bool:
    """An item keyword or attribute first, or a macro invocation (``path::name!``)."""
    if text(tokens[0]) in ITEM_STARTS:
        return True
    index = 0
    while index + 1 < len(tokens) and tokens[index].type == "identifier" and tokens[index + 1].type == "::":
        index += 2
    return index + 1 < len(tokens) and tokens[index].type == "identifier" and tokens[index + 1].type == "!"


def _is_item(node: Node) -> bool:
    """An item, or an item macro written with parentheses (``items!(..);``)."""
    if node.type == "expression_statement":
        return [child.type for child in node.named_children] == ["macro_invocation"]
    return node.type in ITEM_TYPES


def _cfg_if_branches(tokens: list[Node]) -> list[tuple[Node | None, Node]] | None:
    """(condition ``[cfg(..)]``, brace block) of each branch when ``tokens`` are a cfg_if
    chain; None otherwise."""
    branches = []
    index = 0
    while True:
        head = tokens[index : index + 4]
        if len(head) == 4 and [t.type for t in head[:2]] == ["if", "#"] and _is_brace_tree(head[3]) and head[2].type == "token_tree":
            branches.append((head[2], head[3]))
            index += 4
        elif branches and len(head) == 1 and _is_brace_tree(head[0]):
            branches.append((None, head[0]))  # the final `else { .. }`
            return branches
        else:
            return None
        if index == len(tokens):
            return branches
        if text(tokens[index]) != "else":
            return None
        index += 1


def _is_brace_tree(node: Node) -> bool:
    return node.type == "token_tree" and node.child_count >= 2 and node.children[0].type == "{"


def _expand_select_macros(root: Node, buffer: bytearray) -> None:
    """Rewrite in ``buffer`` the ``select!`` invocations visible in ``root`` as blocks."""

    def put(node: Node, replacement: bytes) -> None:
        _blank(buffer, node.start_byte, node.end_byte)
        buffer[node.start_byte : node.start_byte + len(replacement)] = replacement

    for macro in descendants_of_type(root, "macro_invocation"):
        name = macro.child_by_field_name("macro")
        body = next((child for child in macro.children if child.type == "token_tree"), None)
        if name is None or body is None:
            continue
        if text(name).rsplit("::", 1)[-1] in JOIN_MACROS and body.children[0].type == "(":
            _blank(buffer, macro.start_byte, body.start_byte)  # `join!(a, b)` -> `(a, b)`: a tuple of futures
            continue
        if text(name).rsplit("::", 1)[-1] not in SELECT_MACROS:
            continue
        if body.child_count < 2 or body.children[0].type != "{":
            continue
        _blank(buffer, macro.start_byte, body.start_byte)
        tokens = body.children[1:-1]
        index = 0
        while index < len(tokens):
            arrow = index
            while arrow < len(tokens) and tokens[arrow].type not in ("=>", ";"):
                arrow += 1
            if arrow == len(tokens):
                break
            if tokens[arrow].type == ";":  # `biased;` stays a harmless statement
                index = arrow + 1
                continue
            head = tokens[index:arrow]
            equals = next((i for i, token in enumerate(head) if token.type == "="), None)
            if equals is None:  # `else`, `complete`, `default`
                if head:
                    _blank(buffer, head[0].start_byte, head[-1].end_byte)
            else:
                precondition = next(
                    (i for i in range(equals, len(head) - 1) if head[i].type == "," and head[i + 1].type == "if"),
                    None,
                )
                if precondition is not None:
                    _blank(buffer, head[precondition].start_byte, head[-1].end_byte)
            put(tokens[arrow], b";")
            handler = arrow + 1
            if handler < len(tokens) and tokens[handler].type == "token_tree" and tokens[handler].children[0].type == "{":
                end = handler + 1
            else:
                end = handler
                while end < len(tokens) and tokens[end].type != ",":
                    end += 1
            if end < len(tokens) and tokens[end].type == ",":
                put(tokens[end], b";")
                end += 1
            index = end


# --- The connection model: what names stand for -----------------------------------------
#
# Rules need connection context, not just method names: `abort()` on a cache refresher or
# `try_send` on a UDP socket is not a connection teardown. A name's meaning comes from how
# it is bound (`let`, parameter, `if let`, `for`, closure parameter, struct field), its
# type annotation and its initialiser (`tokio::spawn(..)`, `JoinSet::new()`, `UdpSocket::bind`).

DATAGRAM_TYPES = ("UdpSocket", "UnixDatagram")
TASK_HANDLE_TYPES = ("JoinHandle", "AbortHandle", "JoinSet")
SPAWN_FUNCTIONS = frozenset({"spawn", "spawn_local", "spawn_blocking", "spawn_on", "spawn_local_on"})
SPAWN_IN_TOKENS = re.compile(r"\b(?:%s)\s*\(" % "|".join(sorted(SPAWN_FUNCTIONS, key=len, reverse=True)))
# Methods that put a task handle into a collection of handles.
COLLECTION_ADDERS = frozenset({"push", "push_back", "insert", "extend"})
# Calls that only reshape a value on the way from the name it came from.
PASS_THROUGH_METHODS = frozenset(
    {"take", "unwrap", "expect", "as_ref", "as_mut", "clone", "lock", "read", "write",
     "borrow", "borrow_mut", "get", "get_mut", "iter", "iter_mut", "drain", "into_iter",
     "values", "values_mut", "abort_handle", "deref", "deref_mut", "by_ref", "unwrap_or_default"}
)


class Binding(NamedTuple):
    """Where a name gets its value: its type annotation and its source expression."""

    name: str
    type: Node | None = None
    value: Node | None = None  # initialiser, iterated collection, scrutinee or receiver chain
    struct: str | None = None  # for a struct field: the struct's name
    pattern_owner: Node | None = None  # the `let` declaration, parameter, `for`... that binds it


def base_expression(node: Node) -> Node:
    """``self.pump`` for ``&mut self.pump.take().unwrap()``: strip references and reshaping calls."""
    while True:
        if node.type in ("reference_expression", "parenthesized_expression", "unary_expression", "try_expression"):
            if not node.named_children:
                return node
            node = node.named_children[-1]
        elif node.type == "await_expression" and node.named_children:
            node = node.named_children[0]
        elif node.type == "call_expression":
            parts = method_call_parts(node)
            if parts is None or parts[1] not in PASS_THROUGH_METHODS:
                return node
            node = parts[0]
        else:
            return node


def pattern_binds(pattern: Node | None, name: str) -> bool:
    if pattern is None:
        return False
    for node in walk(pattern):
        if node.type in ("identifier", "shorthand_field_identifier") and text(node) == name:
            parent = node.parent
            # `Some` in `Some(h)` and path segments name types and variants, not bindings.
            if parent is not None and parent.type in ("tuple_struct_pattern", "struct_pattern") and parent.child_by_field_name("type") == node:
                continue
            if parent is not None and parent.type == "scoped_identifier":
                continue
            return True
    return False


def _let_conditions(condition: Node | None) -> list[Node]:
    if condition is None:
        return []
    return list(descendants_of_type(condition, "let_condition"))


def local_binding(name: str, at: Node) -> Binding | None:
    """The binding of local ``name`` visible at ``at``, searching outwards scope by scope."""
    child = at
    for scope in ancestors(at):
        if scope.type == "block":
            found = None
            for statement in scope.named_children:
                if statement.start_byte >= child.start_byte:
                    break
                if statement.type == "let_declaration" and pattern_binds(statement.child_by_field_name("pattern"), name):
                    found = Binding(
                        name, statement.child_by_field_name("type"), statement.child_by_field_name("value"),
                        pattern_owner=statement,
                    )
            if found is not None:
                return found
        elif scope.type in ("if_expression", "while_expression") and child == scope.child_by_field_name(
            "consequence" if scope.type == "if_expression" else "body"
        ):
            for condition in _let_conditions(scope.child_by_field_name("condition")):
                if pattern_binds(condition.child_by_field_name("pattern"), name):
                    return Binding(name, None, condition.child_by_field_name("value"))
        elif scope.type == "for_expression" and child == scope.child_by_field_name("body"):
            if pattern_binds(scope.child_by_field_name("pattern"), name):
                return Binding(name, None, scope.child_by_field_name("value"))
        elif scope.type == "match_arm" and child == scope.child_by_field_name("value"):
            if pattern_binds(scope.child_by_field_name("pattern"), name):
                match = enclosing(scope, "match_expression")
                return Binding(name, None, match.child_by_field_name("value") if match else None)
        elif scope.type == "closure_expression":
            if pattern_binds(scope.child_by_field_name("parameters"), name):
                # `xs.iter().for_each(|h| h.abort())`: the parameter stands for the receiver's items.
                call = enclosing(scope, "call_expression")
                parts = method_call_parts(call) if call is not None else None
                return Binding(name, None, parts[0] if parts else None)
        elif scope.type == "function_item":
            parameters = scope.child_by_field_name("parameters")
            for parameter in parameters.named_children if parameters is not None else ():
                if parameter.type == "parameter" and pattern_binds(parameter.child_by_field_name("pattern"), name):
                    return Binding(name, parameter.child_by_field_name("type"), None)
            return None
        child = scope
    return None


def structs(model: RustModel) -> dict[str, Node]:
    """Struct name -> struct_item, for the structs declared in this file."""
    return model.per_file("structs", _find_structs)


def _find_structs(model: RustModel) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for item in model.nodes_of_type("struct_item"):
        name = item.child_by_field_name("name")
        if name is not None:
            found.setdefault(text(name), item)
    return found


def struct_field_type(struct: Node, field: str) -> Node | None:
    body = struct.child_by_field_name("body")
    if body is None:
        return None
    if body.type == "ordered_field_declaration_list":
        types = [child for child in body.named_children if child.type not in ("attribute_item", "visibility_modifier")]
        return types[int(field)] if field.isdigit() and int(field) < len(types) else None
    for declaration in body.named_children:
        name = declaration.child_by_field_name("name")
        if declaration.type == "field_declaration" and name is not None and text(name) == field:
            return declaration.child_by_field_name("type")
    return None


def binding_chain(model: RustModel, expression: Node, depth: int = 4) -> list[Binding]:
    """The bindings ``expression`` derives from, nearest first: ``h`` <- ``self.writer.take()`` <- field."""
    chain: list[Binding] = []
    node = base_expression(expression)
    for _ in range(depth):
        binding = None
        if node.type == "identifier":
            binding = local_binding(text(node), node)
        elif node.type == "field_expression":
            field = node.child_by_field_name("field")
            owner = node.child_by_field_name("value")
            impl = enclosing(node, "impl_item") if owner is not None and owner.type == "self" else None
            struct_name = _type_name(impl.child_by_field_name("type")) if impl is not None else None
            if struct_name is None and field is not None:
                # `conn.writer`, `self.inner.pump`: the one struct of this file with that field.
                owners = [name for name, item in structs(model).items() if struct_field_type(item, text(field)) is not None]
                struct_name = owners[0] if len(owners) == 1 else None
            struct = structs(model).get(struct_name) if struct_name else None
            if field is not None:
                binding = Binding(
                    text(field),
                    struct_field_type(struct, text(field)) if struct is not None else None,
                    None,
                    struct_name,
                )
        if binding is None:
            break
        chain.append(binding)
        if binding.value is None:
            break
        node = _same_name_argument(base_expression(binding.value), binding.name)
    return chain


def _same_name_argument(value: Node, name: str) -> Node:
    """``writer`` for ``select(reader, writer).await`` bound to a pattern naming ``writer``
    again: the value hands that argument back."""
    if value.type != "call_expression" or _spawn_name(value) is not None:
        return value
    arguments = value.child_by_field_name("arguments")
    for argument in arguments.named_children if arguments is not None else ():
        if base_expression(argument).type == "identifier" and text(base_expression(argument)) == name:
            return base_expression(argument)
    return value


def spawn_calls(model: RustModel, receiver: Node, chain: list[Binding] | None = None) -> list[Node]:
    """The ``spawn(..)`` calls that started the task(s) ``receiver`` names (JoinHandle,
    AbortHandle, JoinSet, a collection of handles): in its initialisers, ``set.spawn(fut)``
    on a JoinSet, ``handles.push(spawn(fut))`` on a collection, and for a field of a
    struct, the spawns of this file whose handle is kept in that struct's field. A
    ``vec![spawn(..), ..]`` is returned as the macro invocation itself (its body is a token
    tree, not calls)."""
    if chain is None:
        chain = binding_chain(model, receiver)
    sources = [binding.value for binding in chain if binding.value is not None]
    found: list[Node] = []
    for binding in chain:
        if binding.struct is not None:
            found.extend(model.per_file("kept_spawns", _index_kept_spawns).get((binding.struct, binding.name), ()))
            continue
        scope = enclosing(receiver, "function_item")
        in_scope = descendants_of_type(scope, "call_expression") if scope is not None else ()
        for call, method in _index_method_calls(in_scope).get(binding.name, ()):
            if method in SPAWN_FUNCTIONS:
                found.append(call)
            elif method in COLLECTION_ADDERS:
                sources.append(call.child_by_field_name("arguments") or call)
    for source in sources:
        found.extend(call for call in descendants_of_type(source, "call_expression") if _spawn_name(call))
        found.extend(
            macro for macro in descendants_of_type(source, "macro_invocation") if SPAWN_IN_TOKENS.search(text(macro))
        )
    return found


def _index_kept_spawns(model: RustModel) -> dict[tuple[str, str], list[Node]]:
    """(struct, field) -> the spawn calls of this file whose handle is kept in that field
    (the facts ``Crate.field_pump`` decides by, as one file shows them)."""
    from lint_ws.rust.summary import _handle_destination, _spawned_on_field

    kept: dict[tuple[str, str], list[Node]] = {}
    for call in model.nodes_of_type("call_expression"):
        if _spawn_name(call) is None:
            continue
        function = model.function_at(call)
        impl = function.impl_type if function is not None else None
        stored = _handle_destination(call).field
        on_set = _spawned_on_field(call)
        if stored is not None:
            kept.setdefault((impl if stored[0] == "Self" else stored[0], stored[1]), []).append(call)
        elif on_set is not None:
            kept.setdefault((impl, on_set), []).append(call)
    return kept


def _index_method_calls(calls: Iterable[Node]) -> dict[str, list[tuple[Node, str]]]:
    """Receiver name -> the method calls on it (``self.tasks.spawn(..)`` under ``tasks``),
    with the method's name."""
    by_receiver: dict[str, list[tuple[Node, str]]] = {}
    for call in calls:
        parts = method_call_parts(call)
        receiver = _last_name(parts[0]) if parts is not None else None
        if receiver is not None:
            by_receiver.setdefault(receiver, []).append((call, parts[1]))
    return by_receiver


def spawned_futures(model: RustModel, receiver: Node, chain: list[Binding]) -> list[Node]:
    """What the spawn calls of ``receiver``'s task(s) run: their arguments (or macro body)."""
    futures = []
    for spawn in spawn_calls(model, receiver, chain):
        body = spawn.child_by_field_name("arguments") if spawn.type == "call_expression" else spawn.named_children[-1]
        if body is not None:
            futures.append(body)
    return futures


def _last_name(node: Node) -> str | None:
    node = base_expression(node)
    if node.type == "identifier":
        return text(node)
    if node.type == "field_expression":
        field = node.child_by_field_name("field")
        return text(field) if field is not None else None
    return None


def _spawn_name(call: Node) -> str | None:
    """``spawn`` for ``tokio::spawn(..)``, ``task::spawn_local(..)``, ``rt.spawn(..)``; else None."""
    path = callee_path(call)
    if path is not None:
        name = path.rsplit("::", 1)[-1]
        return name if name in SPAWN_FUNCTIONS else None
    parts = method_call_parts(call)
    if parts is not None and parts[1] in SPAWN_FUNCTIONS:
        return parts[1]
    return None


def is_task_handle(model: RustModel, receiver: Node, ctx=None) -> bool:
    """Whether ``receiver`` is a task handle (JoinHandle, AbortHandle, JoinSet, or a
    collection of them) by type or origin; with the rule's context, also a local bound to
    what a project function that spawns and returns a task gives."""
    chain = binding_chain(model, receiver)
    for binding in chain:
        if binding.type is not None and any(name in text(binding.type) for name in TASK_HANDLE_TYPES):
            return True
        if binding.value is not None and ("JoinSet::new" in text(binding.value) or "abort_handle" in text(binding.value)):
            return True
    if spawn_calls(model, receiver, chain):
        return True
    return ctx is not None and any(ctx.crate.returned_pump(context, record) is not None for context, record in _bound_calls(ctx, chain))


def _bound_calls(ctx, chain: list) -> Iterator[tuple]:
    """(function, call record) of each binding of ``chain`` whose value is a call."""
    from lint_ws.rust.summary import call_record

    for binding in chain:
        made = base_expression(binding.value) if binding.value is not None else None
        record = call_record(made) if made is not None and made.type == "call_expression" else None
        if record is not None:
            yield ctx.function(made), record


def task_is_pump(ctx, model: RustModel, receiver: Node) -> bool:
    """Whether the task behind ``receiver`` is a pump of a connection (``Crate.body_is_pump``).

    The spawned future decides when it is known here; for a task a project function spawns
    and returns, that function's (``Crate.returned_pump``); for a task stored in a field, the
    futures spawned into that field anywhere in the project decide (``Crate.field_pump``).
    A task whose spawn the project does not show (a handle handed in from outside) is not
    known to be a pump.
    """
    chain = binding_chain(model, receiver)
    futures = spawned_futures(model, receiver, chain)
    if futures:
        return any(ctx.crate.body_is_pump(ctx.function(future), _future_body(future)) for future in futures)
    # A local bound to a project function's result: the task that function spawns and returns.
    if any(ctx.crate.returned_pump(context, record) for context, record in _bound_calls(ctx, chain)):
        return True
    return any(
        binding.struct is not None and bool(ctx.crate.field_pump(binding.struct, binding.name)) for binding in chain
    )


def _future_body(future: Node) -> dict:
    """The summary of a spawned future; for one written in a macro's tokens
    (``vec![spawn(a()), spawn(b())]``), of the calls among those tokens."""
    from lint_ws.rust.summary import _empty_body, _macro_calls, summarize_body

    if future.type != "token_tree":
        return summarize_body(future)
    body = _empty_body()
    _macro_calls(future.parent, 0, body)
    return body


def is_datagram_socket(model: RustModel, receiver: Node, crate=None, context=None) -> bool:
    """``try_send`` on a UDP / Unix datagram socket writes a datagram; it has no queue. Known
    from the receiver's type or initialiser (``UdpSocket::bind``) in this file, or, with
    the crate, from the declared type of the field or value it is."""
    for binding in binding_chain(model, receiver):
        for node in (binding.type, binding.value):
            if node is not None and any(name in text(node) for name in DATAGRAM_TYPES):
                return True
    if crate is None:
        return False
    from lint_ws.rust.summary import receiver_descriptor

    return any(
        name in type_text for type_text in crate.declared_types(context, receiver_descriptor(receiver)) for name in DATAGRAM_TYPES
    )


def item_functions(model: RustModel) -> list[Function]:
    """The functions declared at item level (free functions, methods of ``impl`` blocks, in
    modules), without walking function bodies: cheaper than ``model.functions`` when only
    methods matter. ``calls`` is left empty."""
    return model.per_file("item_functions", _find_item_functions)


def _find_item_functions(model: RustModel) -> list[Function]:
    found = []

    def visit(container: Node | None, impl_type: str | None, trait: str | None, in_test: bool) -> None:
        for item in container.named_children if container is not None else ():
            test = in_test or any(_is_test_attribute(a) for a in _attributes_before(item))
            if item.type == "function_item":
                name = item.child_by_field_name("name")
                found.append(Function(item, text(name) if name else "", impl_type, trait, test))
            elif item.type == "impl_item":
                visit(
                    item.child_by_field_name("body"),
                    _type_name(item.child_by_field_name("type")),
                    _type_name(item.child_by_field_name("trait")),
                    test,
                )
            elif item.type == "mod_item":
                visit(item.child_by_field_name("body"), None, None, test)

    visit(model.root, None, None, False)
    return found


def reachable_from_drop(model: RustModel) -> dict[int, Function]:
    """Functions run by a destructor: each ``Drop::drop`` and, transitively, the methods of
    the same type it calls. Keyed by the function node's id; values are the ``drop`` fns."""
    return model.per_file("reachable_from_drop", _find_reachable_from_drop)


def _find_reachable_from_drop(model: RustModel) -> dict[int, Function]:
    found: dict[int, Function] = {}
    methods: dict[tuple[str | None, str], list[Function]] = {}
    for function in item_functions(model):
        methods.setdefault((function.impl_type, function.name), []).append(function)
    for destructor in item_functions(model):
        if destructor.trait != "Drop" or destructor.name != "drop":
            continue
        pending = [destructor]
        while pending:
            function = pending.pop()
            if function.node.id in found:
                continue
            found[function.node.id] = destructor
            body = function.body
            for name in _own_method_calls(body) if body is not None else ():
                pending.extend(
                    callee for callee in methods.get((destructor.impl_type, name), ()) if callee.trait != "Drop"
                )
    return found


def _own_method_calls(body: Node) -> set[str]:
    """The methods of its own type a body calls: ``self.helper()`` and ``Self::helper(..)``
    (``self.task.abort()`` calls the task's ``abort``, not the type's own ``abort``)."""
    names = set()
    for call in descendants_of_type(body, "call_expression"):
        parts = method_call_parts(call)
        if parts is not None:
            if parts[0].type == "self":
                names.add(parts[1])
            continue
        path = callee_path(call)
        if path is not None and path.startswith("Self::") and path.count("::") == 1:
            names.add(path.split("::", 1)[1])
    return names


def after_failed_send(ctx, node: Node) -> bool:
    """Whether ``node`` only runs once a send on the connection has failed
    (``if x.send(..).is_err() { .. }``, ``Err(_) =>`` of a match on a send): the peer is
    already gone, so there is nothing left to close gracefully. A send is the library's on a
    connection, or a project call that reaches one (``Crate.call_sends``)."""
    child = node
    for ancestor in ancestors(node):
        if ancestor.type in ("function_item", "closure_expression", "async_block"):
            return False
        if ancestor.type == "if_expression" and child == ancestor.child_by_field_name("consequence"):
            condition = ancestor.child_by_field_name("condition")
            if condition is not None and _tests_send_failure(ctx, condition):
                return True
        if ancestor.type == "match_arm" and child == ancestor.child_by_field_name("value"):
            pattern = ancestor.child_by_field_name("pattern")
            match = enclosing(ancestor, "match_expression")
            value = match.child_by_field_name("value") if match is not None else None
            if pattern is not None and text(pattern).startswith("Err") and value is not None and _is_send(ctx, value):
                return True
        child = ancestor
    return False


def _tests_send_failure(ctx, condition: Node) -> bool:
    for node in walk(condition):
        if node.type == "let_condition":
            pattern = node.child_by_field_name("pattern")
            value = node.child_by_field_name("value")
            if pattern is not None and value is not None and text(pattern).startswith("Err") and _is_send(ctx, value):
                return True
        parts = method_call_parts(node) if node.type == "call_expression" else None
        if parts is not None and parts[1] == "is_err" and _is_send(ctx, parts[0]):
            return True
    return False


def _is_send(ctx, expression: Node) -> bool:
    from lint_ws.rust.summary import call_record

    while expression.type in ("await_expression", "parenthesized_expression", "try_expression") and expression.named_children:
        expression = expression.named_children[0]
    record = call_record(expression) if expression.type == "call_expression" else None
    return record is not None and ctx.crate.call_sends(ctx.function(expression), record)


def callees(model: RustModel, call: Node) -> list[Function]:
    """The functions of this file ``call`` may run: methods of that name for ``x.f()``, free
    functions for ``f()``, associated functions of ``T`` for ``T::f()``."""
    parts = method_call_parts(call)
    if parts is not None:
        return [f for f in model.functions_by_name.get(parts[1], ()) if f.impl_type is not None]
    path = callee_path(call)
    if not path:
        return []
    segments = path.split("::")
    candidates = model.functions_by_name.get(segments[-1], ())
    if len(segments) == 1:
        return [f for f in candidates if f.impl_type is None]
    owner = segments[-2]
    if owner == "Self":
        caller = model.function_at(call)
        owner = caller.impl_type if caller is not None else owner
    return [f for f in candidates if f.impl_type == owner or (f.impl_type is None and owner in ("self", "super", "crate"))]


# Library constructors of a bounded queue (their argument is the capacity).
BOUNDED_QUEUES = frozenset({"channel", "bounded", "sync_channel"})
QUEUE_RECEIVES = frozenset({"recv", "next", "select_next_some", "recv_async", "try_next"})
CONNECTION_WRITES = frozenset({"send", "feed", "send_all", "write", "write_message", "write_frame", "start_send"})
YIELDING = ("block", "match_arm", "match_block", "match_expression", "if_expression", "else_clause", "expression_statement", "parenthesized_expression")


def feeds_a_pump(model: RustModel, sender: Node) -> bool:
    """Whether ``sender`` is the sending side of a bounded queue whose receiving side a
    pump drains: the queue is made in this file by ``let (tx, rx) = channel(n)``, ``tx``
    reaches ``sender`` (a local, or a field of the sender's type filled with it by the
    type's constructor call or struct literal), and ``rx``, followed through tuples that
    ``let`` patterns take apart, is received from in a loop that writes to a connection
    opened by a library connect or accept call."""
    pending = [(value, 0) for value in _field_sources(model, sender) or [sender]]
    while pending:
        value, depth = pending.pop()
        value = base_expression(value)
        if value.type != "identifier" or depth > 3:
            continue
        binding = local_binding(text(value), value)
        declaration = binding.pattern_owner if binding is not None else None
        if declaration is None or declaration.type != "let_declaration":
            continue
        pattern, made = declaration.child_by_field_name("pattern"), declaration.child_by_field_name("value")
        elements = _tuple_names(pattern)
        if text(value) not in elements:
            continue
        arguments = made.child_by_field_name("arguments") if made is not None and made.type == "call_expression" else None
        if arguments is None or re.sub(r"::<.*>$", "", callee_path(made) or "").rsplit("::", 1)[-1] not in BOUNDED_QUEUES:
            # Handed on in a tuple that this `let` takes apart: follow what sits at its place.
            index = elements.index(text(value))
            pending.extend(
                (tuple_.named_children[index], depth + 1)
                for tuple_ in _yielded_tuples(made)
                if index < len(tuple_.named_children)
            )
            continue
        if len(elements) == 2 and elements[0] == text(value) and arguments.named_children and elements[1]:
            if _drained_by_pump(elements[1], declaration, 0):
                return True
    return False


def _field_sources(model: RustModel, sender: Node) -> list[Node]:
    """For ``self.field``: the values the file's constructor calls ``Type(..)`` and struct
    literals ``Type { field: .. }`` of the method's type put in that field."""
    expression = base_expression(sender)
    if expression.type != "field_expression" or text(expression.child_by_field_name("value")) != "self":
        return []
    function = model.function_at(sender)
    owner = function.impl_type if function is not None else None
    field = text(expression.child_by_field_name("field"))
    if owner is None:
        return []
    found = []
    for node in model.nodes_of_type("call_expression", "struct_expression"):
        if node.type == "call_expression" and field.isdigit() and callee_path(node) in (owner, "Self"):
            arguments = node.child_by_field_name("arguments")
            values = arguments.named_children if arguments is not None else []
            if int(field) < len(values) and (callee_path(node) == owner or _in_impl_of(node, owner, model)):
                found.append(values[int(field)])
        elif node.type == "struct_expression" and text(node.child_by_field_name("name") or node) in (owner, "Self"):
            for initializer in descendants_of_type(node.child_by_field_name("body") or node, "field_initializer", "shorthand_field_initializer"):
                if initializer.parent != node.child_by_field_name("body"):
                    continue
                if initializer.type == "shorthand_field_initializer" and text(initializer) == field:
                    found.append(initializer.named_children[0] if initializer.named_children else initializer)
                elif initializer.type == "field_initializer" and text(initializer.child_by_field_name("field") or initializer) == field:
                    found.append(initializer.child_by_field_name("value"))
    return [value for value in found if value is not None]


def _in_impl_of(node: Node, owner: str, model: RustModel) -> bool:
    function = model.function_at(node)
    return function is not None and function.impl_type == owner


def _tuple_names(pattern: Node | None) -> list[str | None]:
    """The names a tuple pattern binds, position by position (None for `_` and nested patterns)."""
    if pattern is None or pattern.type != "tuple_pattern":
        return []
    names = []
    for element in pattern.named_children:
        if element.type == "mut_pattern" and element.named_children:
            element = element.named_children[-1]
        names.append(text(element) if element.type == "identifier" else None)
    return names


def references_to_binding(name: str, declaration: Node) -> Iterator[Node]:
    """The identifiers after ``declaration`` in its scope that refer to the local ``name``
    it binds (not to a later shadowing binding of the same name)."""
    scope = declaration.parent
    if scope is None:
        return
    for node in descendants_of_type(scope, "identifier"):
        if node.start_byte < declaration.end_byte or text(node) != name:
            continue
        binding = local_binding(name, node)
        if binding is not None and binding.pattern_owner is not None and binding.pattern_owner.id == declaration.id:
            yield node


def _drained_by_pump(name: str, declaration: Node, depth: int) -> bool:
    """Whether the queue receiver ``name`` bound by ``declaration`` is received from in a
    loop that writes to a connection, directly or after a tuple hands it to another name."""
    if depth > 3:
        return False
    for node in references_to_binding(name, declaration):
        parent = node.parent
        if parent.type == "field_expression" and parent.child_by_field_name("value") == node:
            call = parent.parent
            if call is not None and call.type == "call_expression" and text(parent.child_by_field_name("field")) in QUEUE_RECEIVES:
                loop = next((a for a in ancestors(call) if a.type in ("loop_expression", "while_expression", "for_expression", "closure_expression", "function_item")), None)
                if loop is not None and loop.type in ("loop_expression", "while_expression", "for_expression") and _writes_to_connection(loop):
                    return True
        elif parent.type == "tuple_expression":
            index = parent.named_children.index(node) if node in parent.named_children else -1
            taker = _taken_apart_by(parent)
            if taker is not None and index >= 0:
                names = _tuple_names(taker.child_by_field_name("pattern"))
                if index < len(names) and names[index] and _drained_by_pump(names[index], taker, depth + 1):
                    return True
    return False


def _taken_apart_by(tuple_: Node) -> Node | None:
    """The ``let`` whose tuple pattern receives ``tuple_`` (as its value, or as what a
    block, ``match`` arm or ``if`` branch of its value yields)."""
    child = tuple_
    for ancestor in ancestors(tuple_):
        if ancestor.type == "let_declaration":
            return ancestor if ancestor.child_by_field_name("value") == child else None
        if ancestor.type == "block" and ancestor.named_children and ancestor.named_children[-1] != child:
            return None  # a statement of the block, not its value
        if ancestor.type not in YIELDING:
            return None
        child = ancestor
    return None


def _writes_to_connection(loop: Node) -> bool:
    """A write in the loop to a connection a library connect or accept call opened (followed
    through locals and the tuples ``let`` patterns take apart)."""
    from lint_ws.rust.crate import is_library_accept, is_library_connect

    for call in descendants_of_type(loop, "call_expression"):
        parts = method_call_parts(call)
        if parts is None or parts[1] not in CONNECTION_WRITES:
            continue
        if _opened_by_library(parts[0], 0, is_library_connect, is_library_accept):
            return True
    return False


def _opened_by_library(expression: Node, depth: int, *opens) -> bool:
    expression = base_expression(expression)
    while expression.type == "call_expression" and method_call_parts(expression) is not None and depth <= 4:
        expression = base_expression(method_call_parts(expression)[0])  # `websocket.fuse()`
        depth += 1
    if expression.type != "identifier" or depth > 4:
        return False
    binding = local_binding(text(expression), expression)
    if binding is None:
        return False
    owner = binding.pattern_owner
    if owner is not None and owner.type == "let_declaration" and owner.child_by_field_name("pattern").type == "tuple_pattern":
        names = _tuple_names(owner.child_by_field_name("pattern"))
        if text(expression) in names:
            index = names.index(text(expression))
            tuples = _yielded_tuples(owner.child_by_field_name("value"))
            if tuples:
                return any(
                    index < len(tuple_.named_children) and _opened_by_library(tuple_.named_children[index], depth + 1, *opens)
                    for tuple_ in tuples
                )
    if binding.value is None:
        return False
    if method_call_parts(base_expression(binding.value)) is not None and _opened_by_library(binding.value, depth + 1, *opens):
        return True  # a half of it: `let (sink, stream) = socket.split()`
    return any(
        any(open_(callee_path(call) or "") for open_ in opens)
        for call in [binding.value, *descendants_of_type(binding.value, "call_expression")]
        if call.type == "call_expression"
    )


def _yielded_tuples(value: Node | None) -> list[Node]:
    """The tuple expressions ``value`` may evaluate to: itself, a block's tail, each
    ``match`` arm's or ``if`` branch's."""
    if value is None:
        return []
    if value.type == "tuple_expression":
        return [value]
    if value.type == "block":
        tail = value.named_children[-1] if value.named_children else None
        return _yielded_tuples(tail) if tail is not None and tail.type != "expression_statement" else []
    if value.type == "match_expression":
        body = value.child_by_field_name("body")
        return [t for arm in (body.named_children if body is not None else ()) if arm.type == "match_arm" for t in _yielded_tuples(arm.child_by_field_name("value"))]
    if value.type == "if_expression":
        return [t for branch in (value.child_by_field_name("consequence"), value.child_by_field_name("alternative")) for t in _yielded_tuples(branch)]
    if value.type == "else_clause":
        return [t for child in value.named_children for t in _yielded_tuples(child)]
    return []


# --- the outcome of a fallible call on its way through a function -------------------------

# A queue-full error: the channel crates' `Full` variant and `is_full()`, or a project's own
# variant that names it (`InternalChannelFull`, `QueueFull`).
FULL = re.compile(r"\b\w*Full\b|\bis_full\b")
CLOSED = re.compile(r"\bClosed\b|\bDisconnected\b|\bis_closed\b|\bis_disconnected\b")
# Adapters that keep a call's outcome (Ok vs any error) intact on the way to its handler.
OUTCOME_ADAPTERS = frozenset({"map_err", "context", "with_context", "wrap_err", "wrap_err_with", "map"})
BOUNDARIES = ("closure_expression", "async_block", "function_item")


class FullBranch(NamedTuple):
    node: Node  # code that runs when the queue is full
    outcome: Node  # the pattern or condition that routes Full here
    explicit: bool  # Full named on its own (not lumped with Closed)


def outcome_kind(pattern: str) -> str:
    """Which outcomes of a send a pattern (or guard) catches: ok, full, closed or lumped."""
    stripped = pattern.strip()
    if stripped.startswith("Ok"):
        return "ok"
    if FULL.search(stripped):
        return "full"
    if CLOSED.search(stripped):
        return "closed"
    return "lumped"


def boundary(node: Node) -> Node | None:
    return next((a for a in ancestors(node) if a.type in BOUNDARIES), None)


def carried(node: Node) -> Node:
    """The outermost expression whose value is ``node``'s: through the arms of ``match`` and
    ``if`` and the tails of blocks."""
    while node.parent is not None:
        parent = node.parent
        if parent.type == "match_arm" and parent.child_by_field_name("value") == node:
            node = parent.parent.parent if parent.parent is not None and parent.parent.parent is not None else parent
        elif parent.type == "block" and parent.named_children[-1] == node and not (
            node.type == "expression_statement" and node.children[-1].type == ";"
        ):
            node = parent
        elif parent.type == "expression_statement" and parent.children[-1].type != ";":
            node = parent
        elif parent.type == "if_expression" and parent.child_by_field_name("condition") != node or parent.type == "else_clause":
            node = parent
        else:
            break
    return node


def returned(node: Node, function: Node) -> bool:
    """Whether ``node``'s value is what ``function`` returns: its tail or a ``return``."""
    parent = carried(node).parent
    return parent == function or (parent is not None and parent.type == "return_expression" and boundary(parent) == function)


def outcome_uses(call: Node) -> tuple[list[Node], bool]:
    """Where the outcome of ``call`` is used: the expression that holds it after
    ``.await``, parentheses and adapters that keep Ok vs error (``map_err`` & co.), or the
    later uses of the local it is bound to; and whether an adapter reshaped it."""
    node = call
    adapted = False
    while node.parent is not None:
        parent = node.parent
        if parent.type in ("parenthesized_expression", "await_expression"):
            node = parent
            continue
        if parent.type == "field_expression" and parent.parent is not None and parent.parent.type == "call_expression":
            field = parent.child_by_field_name("field")
            if field is not None and text(field) in OUTCOME_ADAPTERS:
                adapted = True
                node = parent.parent
                continue
        break
    parent = node.parent
    if parent is not None and parent.type == "let_declaration" and parent.child_by_field_name("value") == node:
        pattern = parent.child_by_field_name("pattern")
        block = parent.parent
        if pattern is None or pattern.type != "identifier" or block is None:
            return [], adapted
        name = text(pattern)
        return [
            identifier
            for statement in block.named_children
            if statement.start_byte > parent.start_byte
            for identifier in descendants_of_type(statement, "identifier")
            if text(identifier) == name
        ], adapted
    return [node], adapted


def match_branches(match: Node) -> Iterator[FullBranch]:
    """The arms of a ``match`` on a send's outcome that a full queue can take."""
    body = match.child_by_field_name("body")
    full_handled = False
    for arm in body.named_children if body is not None else ():
        if arm.type != "match_arm":
            continue
        pattern = arm.child_by_field_name("pattern")
        value = arm.child_by_field_name("value")
        if pattern is None or value is None:
            continue
        kind = outcome_kind(text(pattern))
        if kind == "full":
            full_handled = True
            yield FullBranch(value, pattern, explicit=True)
        elif kind == "lumped" and not full_handled:
            yield FullBranch(value, pattern, explicit=False)


def if_let_branches(condition: Node) -> Iterator[FullBranch]:
    """The branch of an ``if let`` on a send's outcome that a full queue takes."""
    pattern = condition.child_by_field_name("pattern")
    if_expression = next((a for a in ancestors(condition) if a.type == "if_expression"), None)
    if pattern is None or if_expression is None:
        return
    kind = outcome_kind(text(pattern))
    if kind == "ok":
        alternative = if_expression.child_by_field_name("alternative")
        if alternative is not None:
            yield FullBranch(alternative, pattern, explicit=False)
        return
    consequence = if_expression.child_by_field_name("consequence")
    if kind in ("full", "lumped") and consequence is not None:
        yield FullBranch(consequence, pattern, explicit=kind == "full")


def error_passed_up(call: Node, function: Node) -> bool:
    """Whether ``function`` returns the error of ``call``'s Result, a full queue included:
    ``call?`` (also after ``map_err`` & co., or inside ``Ok(..)``), ``call`` returned or as
    the tail, or a ``match`` / ``if let`` whose branch for a full queue gives an ``Err``
    back. A branch that gives ``Ok`` or drops the message keeps Full from the caller."""
    for use in outcome_uses(call)[0]:
        parent = carried(use).parent
        if parent is not None and parent.type == "try_expression":
            if boundary(parent) == function:
                return True
            continue
        if returned(use, function):
            return True
        if parent is None:
            continue
        if parent.type == "match_expression" and parent.child_by_field_name("value") == use:
            branches = match_branches(parent)
        elif parent.type == "let_condition" and parent.child_by_field_name("value") == use:
            branches = if_let_branches(parent)
        else:
            continue
        if any(_gives_error(branch.node, function) for branch in branches):
            return True
    return False


def _gives_error(branch: Node, function: Node) -> bool:
    """``Err(..)`` returned (as the value the branch carries out, or by ``return``) or
    propagated with ``?`` from ``branch`` out of ``function``."""
    for call in descendants_of_type(branch, "call_expression"):
        if callee_path(call) != "Err" or boundary(call) != function:
            continue
        outer = carried(call)
        if returned(call, function) or (outer.parent is not None and outer.parent.type == "try_expression"):
            return True
    return False
