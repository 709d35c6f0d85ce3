"""The Rust side of the project index (``lint_ws.project_index``): what a crate is, which
files it has, and one file's summary.

A summary is plain data, position-free (an edit that moves code changes no fact):

- ``module``: the inline ``mod`` path of each function is kept with the function; the
  file's own module path is derived by ``lint_ws.rust.crate`` from its relative path;
- ``uses``: alias -> full path for every ``use`` (``use a::b as c`` gives ``c -> a::b``),
  ``globs``: the paths of ``use a::*``;
- ``structs``: struct name -> field name -> field type text (tuple fields by index);
- ``aliases``: type alias name -> aliased type text; ``enums``: enum name -> variants;
- ``functions``: one record per ``fn`` item, in source order (the index is the function's
  identity in its file, the same order ``RustModel.functions`` has):
  ``(name, impl type, trait, inline module, is test, params, return type, body)``;
  ``params`` is a list of (name, type text); ``body`` is a ``Body`` as below, with
  ``errors``: the records of the calls whose error the function returns to its caller
  (``?``, returned, or an ``Err`` given back for it);
- a ``Body`` (a function's, or a spawned future's) is a dict: ``calls``, a list of
  ``(kind, target, receiver, loop)`` (kind ``"path"`` with the callee's path text, or
  ``"method"`` with the method name (``send:keep-alive`` for a send of a Ping or Pong
  frame) and a receiver descriptor; ``loop`` numbers the
  outermost loop of the body the call sits in, 0 outside loops); ``refs``: paths of
  functions handed over as values (``spawn(run)``); ``spawns``: the bodies of the futures
  it spawns, with ``field`` naming the struct field the handle is stored in, if any;
  ``closes``: a ``Message::Close`` frame or a ``Close`` command is sent in it. A function's
  body also has ``failures``: how it can end with an error, a call record for a `?` on that
  call or its returned result, None for an error of its own (see ``_failures``), and
  ``stores``: parameter -> the [struct, field] pairs its struct literals store it in;
  ``arguments``: ``(call record, index, source)`` for the arguments that are a parameter
  (``("param", name)``) or a path call's result (``("call", path)``), through locals and
  library adapters;
- ``stream_extensions``: the methods of traits that a blanket impl gives every ``Stream``;
- a body's ``writes`` and a ``fn .. -> bool``'s ``state``, only when it has them: the
  connection-state flags and variants it sets and what happens next to each, and what a
  state query returns (see "connection state" below).

A receiver descriptor tells what the receiver is as far as one file knows:
``("self",)``, ``("field", name)`` for ``self.name`` (through ``&``, ``.lock()``,
``as_mut()``...), ``("type", text)`` for a local or parameter with a type,
``("call", path)`` for a local initialised by a path call (``Client::new(..)``,
``connect_async(..)``), ``("method", descriptor, name)`` for what a method returns
(``socket.channel_mut(0)``), ``("member", descriptor, field)`` for a field of another value
(``internal.ws_stream``), ``("unknown",)`` otherwise. A struct literal (``Self { .. }``) gives
its type.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from lint_ws import snapshot

if TYPE_CHECKING:  # the index asks this module for a file's project before anything is parsed
    from tree_sitter import Node

# --- the project: a crate or a workspace -------------------------------------------------

SUFFIXES = (".rs",)
_SKIPPED = frozenset({".git", "target", "node_modules", ".hg", ".svn"})
# Names of the connection libraries and their types (SPEC section 1's coverage);
# fastwebsockets, reqwest_websocket and tokio_websockets are found by "websocket". Each is
# searched for as a plain substring: over rust-analyzer, ten substring searches take a third
# of the time of one regex alternation, which tries every branch at every position.
CONNECTION_NAMES = (
    "tungstenite", "WebSocket", "websocket", "actix_ws", "actix_web_actors::ws", "axum::extract::ws",
    "MaybeTlsStream", "ezsockets", "yawc", "soketto",
)


def project_root(directory: str) -> str | None:
    """The outermost ``Cargo.toml`` directory at or above ``directory`` within its repository
    (the search stops at ``.git``): a workspace, or a crate with the example and member
    crates nested in it that use it through path dependencies. None outside any crate."""
    return _outermost_manifest(directory)


@cache
def _outermost_manifest(directory: str) -> str | None:
    """Asked once per directory: a tree's files share their parents' answers."""
    manifest = os.path.isfile(os.path.join(directory, "Cargo.toml"))
    parent = os.path.dirname(directory)
    above = None
    if parent != directory and not os.path.exists(os.path.join(directory, ".git")):
        above = _outermost_manifest(parent)
    return above if above is not None else (directory if manifest else None)


def project_files(root: str) -> Iterator[str]:
    pending = [root]
    while pending:
        try:
            entries = snapshot.listing(pending.pop())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():  # a link to a directory is not followed, as os.walk does not
                if not entry.is_symlink() and entry.name not in _SKIPPED and not entry.name.startswith("."):
                    pending.append(entry.path)
            elif entry.name.endswith(SUFFIXES):
                yield entry.path


def names_connection(text: str) -> bool:
    return any(name in text for name in CONNECTION_NAMES)


def may_contribute(text: str) -> bool:
    return "fn " in text or "struct " in text or "type " in text


def summarize(path: str, text: str):
    from lint_ws.rust.frontend import parser
    from lint_ws.rust.model import RustModel

    encoded = text.encode("utf-8")
    return summarize_model(RustModel(parser().parse(encoded).root_node, encoded).expanded)


# --- the summary of one file ------------------------------------------------------------

LOOPS = ("loop_expression", "while_expression", "for_expression")
NESTED_BODIES = ("closure_expression", "async_block")
# Calls that reshape a value on its way to a method call or binding.
RESHAPING = frozenset(
    {"lock", "read", "write", "as_mut", "as_ref", "unwrap", "expect", "clone", "borrow", "borrow_mut", "get_mut",
     "take", "await", "deref", "deref_mut", "as_deref_mut", "as_deref", "lock_owned"}
)


def summarize_model(model) -> dict:
    from lint_ws.rust.syntax import text

    uses: dict[str, str] = {}
    globs: list[str] = []
    structs: dict[str, dict[str, str]] = {}
    aliases: dict[str, str] = {}
    enums: dict[str, list[str]] = {}
    variants: dict[str, dict[str, list[str]]] = {}
    for node in model.nodes_of_type("use_declaration", "struct_item", "type_item", "enum_item"):
        if node.type == "use_declaration":
            argument = node.child_by_field_name("argument")
            if argument is not None:
                _collect_uses(argument, "", uses, globs)
        elif node.type == "struct_item":
            name = node.child_by_field_name("name")
            if name is not None:
                structs.setdefault(text(name), _fields(node))
        elif node.type == "type_item":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("type")
            if name is not None and value is not None:
                aliases[text(name)] = text(value)
        else:
            name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
            if name is not None and body is not None:
                enums[text(name)] = [
                    text(v.child_by_field_name("name")) for v in body.named_children
                    if v.type == "enum_variant" and v.child_by_field_name("name") is not None
                ]
                variants[text(name)] = _variant_payloads(body)
    declarations = _digest(model, "struct_item", "type_item", "enum_item") if _kept_records_capacity else b""
    functions = []
    for function in model.functions:
        node = function.node
        modules = [text(m.child_by_field_name("name")) for m in _ancestors(node) if m.type == "mod_item" and m.child_by_field_name("name") is not None]
        if _kept_records_capacity:
            key = (node.text, function.impl_type, function.trait, tuple(modules), function.is_test, declarations)
            record = _kept_records.get(key)
            if record is None:
                record = _kept_records[key] = _function_record(model, function, modules)
                while len(_kept_records) > _kept_records_capacity:
                    _kept_records.popitem(last=False)
            else:
                _kept_records.move_to_end(key)
            functions.append(record)
            continue
        functions.append(_function_record(model, function, modules))
    return {
        "uses": uses, "globs": globs, "structs": structs, "aliases": aliases, "enums": enums, "variants": variants,
        "functions": functions, "pump_queues": _pump_queues(model),
        "stream_extensions": _stream_extension_methods(model),
    }


# The language server summarises the edited file on every change, and an edit leaves most
# functions' text alone. A function's record depends only on its text, where it sits (impl,
# trait, modules) and the file's type declarations (a receiver's field type): while
# ``keep_records`` is on, records are kept by those, the least recently used dropped first.
# A run that summarises each file once keeps none.
_kept_records: OrderedDict[tuple, tuple] = OrderedDict()
_kept_records_capacity = 0


def keep_records(count: int) -> None:
    """Keep up to ``count`` function records across summaries of edited files."""
    global _kept_records_capacity
    _kept_records_capacity = count
    while len(_kept_records) > count:
        _kept_records.popitem(last=False)


def _digest(model, *types: str) -> bytes:
    from lint_ws.project_index import blake2b_hash  # hashlib would cost every start-up its import

    digest = blake2b_hash(b"", 16)
    for node in model.nodes_of_type(*types):
        digest.update(node.text)
        digest.update(b"\0")
    return digest.digest()


def _function_record(model, function, modules: list[str]) -> tuple:
    from lint_ws.rust.syntax import text

    node = function.node
    parameters = []
    for parameter in (node.child_by_field_name("parameters") or node).named_children:
        if parameter.type == "parameter":
            pattern, type_node = parameter.child_by_field_name("pattern"), parameter.child_by_field_name("type")
            parameters.append((text(pattern) if pattern is not None else "", text(type_node) if type_node is not None else ""))
    returned = node.child_by_field_name("return_type")
    body = function.body
    summary_body = summarize_body(body) if body is not None else _empty_body()
    if body is not None:
        summary_body["stores"] = _stored_parameters(body, {name for name, _ in parameters}, function.impl_type)
        # A function that returns nothing passes no error up.
        summary_body["errors"] = _errors_passed_up(model, node, body) if returned is not None else []
        summary_body["failures"] = _failures(body)
        reading = state_tail(body) if not parameters and returned is not None and text(returned) == "bool" else None
        if reading is not None:  # a state query (`fn is_connected(&self) -> bool`): what it reads
            summary_body["state"] = reading
    return (
        function.name,
        function.impl_type,
        function.trait,
        "::".join(reversed(modules)),
        function.is_test,
        parameters,
        text(returned) if returned is not None else "",
        summary_body,
    )


def _stream_extension_methods(model) -> list[str]:
    """The methods of this file's traits that a blanket impl gives every ``Stream`` (``impl<St>
    StreamExt for St where St: Stream<..> {}``): on a value, they can only poll its items."""
    from lint_ws.rust.syntax import text

    extended = set()
    for impl in model.nodes_of_type("impl_item"):
        trait, implemented = impl.child_by_field_name("trait"), impl.child_by_field_name("type")
        parameters = impl.child_by_field_name("type_parameters")
        if trait is None or implemented is None or parameters is None:
            continue
        name = text(implemented)
        generic = any(text(p).split(":")[0].strip().lstrip("?") == name for p in parameters.named_children)
        bounds = [p for p in parameters.named_children if text(p).startswith(name)]
        bounds += [c for c in impl.named_children if c.type == "where_clause"]
        if generic and any(re.search(r"\bStream\b", text(b)) for b in bounds):
            extended.add(text(trait).split("<")[0].rsplit("::", 1)[-1])
    methods = []
    for trait in model.nodes_of_type("trait_item"):
        name, body = trait.child_by_field_name("name"), trait.child_by_field_name("body")
        if name is not None and body is not None and text(name) in extended:
            methods.extend(
                text(m.child_by_field_name("name")) for m in body.named_children
                if m.type in ("function_item", "function_signature_item") and m.child_by_field_name("name") is not None
            )
    return methods


def _variant_payloads(body: Node) -> dict[str, list[str]]:
    """Variant -> the types of its tuple payload (``Connected(Connection)``)."""
    from lint_ws.rust.syntax import text

    payloads = {}
    for variant in body.named_children:
        name = variant.child_by_field_name("name")
        fields = variant.child_by_field_name("body")
        if variant.type == "enum_variant" and name is not None and fields is not None and fields.type == "ordered_field_declaration_list":
            payloads[text(name)] = [text(t) for t in fields.named_children if t.type not in ("attribute_item", "visibility_modifier")]
    return payloads


QUEUE_MADE = re.compile(rb"\b(?:channel|bounded|sync_channel)\s*(?:::<[^>]*>\s*)?\(")


def _pump_queues(model) -> list[list[str]]:
    """[type, field] for each field whose sends queue messages for a pump that writes them
    to a connection (``model.feeds_a_pump``): the type is a handle of that connection."""
    from lint_ws.rust.model import feeds_a_pump
    from lint_ws.rust.syntax import method_call_parts, text

    found: list[list[str]] = []
    if not QUEUE_MADE.search(model.encoded):
        return found  # the queue has to be made in this file: spare the walk
    checked: set[tuple[str, str]] = set()
    for call in model.nodes_of_type("call_expression"):
        parts = method_call_parts(call)
        if parts is None or parts[1] not in SENDS or parts[0].type != "field_expression":
            continue
        owner, field = parts[0].child_by_field_name("value"), parts[0].child_by_field_name("field")
        function = model.function_at(call) if owner is not None and owner.type == "self" else None
        if function is None or function.impl_type is None or field is None:
            continue
        key = (function.impl_type, text(field))
        if key in checked:
            continue
        checked.add(key)
        if feeds_a_pump(model, parts[0]):
            found.append(list(key))
    return found


def _stored_parameters(body: Node, parameters: set[str], impl_type: str | None) -> dict[str, list[list[str]]]:
    """Parameter -> the [struct, field] pairs a constructor stores it in (``Conn { reader:
    reader_task, .. }``, ``Self { reader }``, ``Self { ws: ws.fuse() }``, both halves of
    ``let (sink, stream) = ws.split()``, ``Self(handle)`` as field ``"0"``)."""
    from lint_ws.rust.syntax import descendants_of_type, text

    stores: dict[str, list[list[str]]] = {}
    for initializer in descendants_of_type(body, "field_initializer", "shorthand_field_initializer"):
        if initializer.type == "shorthand_field_initializer":
            field, value_node = text(initializer), initializer
        else:
            name, value_node = initializer.child_by_field_name("field"), initializer.child_by_field_name("value")
            if name is None or value_node is None:
                continue
            field = text(name)
        value = _adapted_parameter(value_node, parameters)
        if value is None:
            continue
        literal = next((a for a in _ancestors(initializer) if a.type == "struct_expression"), None)
        struct = text(literal.child_by_field_name("name")) if literal is not None and literal.child_by_field_name("name") is not None else None
        if struct == "Self":
            struct = impl_type
        if struct:
            stores.setdefault(value, []).append([struct, field])
    for call in descendants_of_type(body, "call_expression"):
        # A tuple struct built from parameters: ``Self(handle)``, ``Guard(handle)``.
        path = _path_of(call)
        if path is None or "::" in path or not path[:1].isupper() or path in WRAPPING_CALLS or path in SUCCESSES or path == "Err":
            continue
        struct = impl_type if path == "Self" else path
        arguments = call.child_by_field_name("arguments")
        for index, argument in enumerate(arguments.named_children if arguments is not None and struct else ()):
            value = _adapted_parameter(argument, parameters)
            if value is not None:
                stores.setdefault(value, []).append([struct, str(index)])
    return stores


# Library adapters whose result is the value they take, re-typed: futures' `fuse`/`boxed`,
# a `split` half, a pinned box, an I/O buffer around a stream, a Result's error mapped.
ADAPTER_METHODS = frozenset({"fuse", "peekable", "boxed", "boxed_local", "split", "into_split", "compat", "map_err"})
ADAPTER_CALLS = frozenset({"Box::pin", "BufReader::new", "BufWriter::new", "BufStream::new"})


def _adapted_parameter(value: Node, parameters: set[str]) -> str | None:
    """The parameter ``value`` is, through reshaping calls, library adapters and the locals
    they are bound to (``ws.fuse()``, ``stream`` of ``let (sink, stream) = ws.split()``)."""
    source = _adapted_source(value)
    if source is not None and source[0] == "param" and source[1] in parameters:
        return source[1]
    return None


def _adapted_source(value: Node, depth: int = 0) -> tuple | None:
    """Where a value comes from, through reshaping calls, library adapters and ``let``s:
    ``("param", name)`` for a parameter of its function, ``("call", path)`` for a path
    call's result (``connect_async(url).await?``), None otherwise."""
    from lint_ws.rust.model import local_binding
    from lint_ws.rust.syntax import method_call_parts, text

    node = _reshaped(value)
    while depth <= 4:
        depth += 1
        if node.type == "call_expression" and (parts := method_call_parts(node)) is not None:
            if parts[1] not in ADAPTER_METHODS:
                return None
            node = _reshaped(parts[0])
        elif node.type == "call_expression":
            path = _path_of(node)
            arguments = node.child_by_field_name("arguments")
            if path not in ADAPTER_CALLS:
                return ("call", path) if path else None
            if arguments is None or not arguments.named_children:
                return None
            node = _reshaped(arguments.named_children[0])
        elif node.type in ("identifier", "shorthand_field_initializer"):
            binding = local_binding(text(node), node)
            if binding is None:
                return None
            if binding.value is None:
                # a parameter of the function: typed, bound by no `let` or pattern
                return ("param", text(node)) if binding.type is not None and binding.pattern_owner is None else None
            node = _reshaped(binding.value)
        else:
            return None
    return None


def _errors_passed_up(model, function: Node, body: Node) -> list[tuple]:
    """The records of the calls whose error ``function`` returns to its caller
    (``model.error_passed_up``); a ``try_send`` on a datagram socket fails on no queue."""
    from lint_ws.rust.crate import FULL_QUEUE_SENDS
    from lint_ws.rust.model import error_passed_up, is_datagram_socket
    from lint_ws.rust.syntax import descendants_of_type, method_call_parts

    found = []
    for call in descendants_of_type(body, "call_expression"):
        if not error_passed_up(call, function):
            continue
        parts = method_call_parts(call)
        if parts is not None and parts[1] in FULL_QUEUE_SENDS and is_datagram_socket(model, parts[0]):
            continue
        record = call_record(call)
        if record is not None:
            found.append(record)
    return found
# Methods through which a `?` fails exactly when the call under them fails.
FAILURE_ADAPTERS = frozenset(
    {"map_err", "context", "with_context", "wrap_err", "wrap_err_with", "ok_or", "ok_or_else", "ok", "as_ref", "as_mut"}
)
# What a function's `?` or returned value cannot fail from: a value built here as a success.
SUCCESSES = frozenset({"Ok", "Some"})


def failing_call(operand: Node) -> Node | None:
    """The call a `?` on ``operand`` fails with: ``self.f(x)`` in ``self.f(x).await.map_err(E)?``."""
    from lint_ws.rust.syntax import method_call_parts

    node = operand
    while True:
        if node.type in ("await_expression", "parenthesized_expression") and node.named_children:
            node = node.named_children[0]
        elif node.type == "call_expression" and (parts := method_call_parts(node)) is not None and parts[1] in FAILURE_ADAPTERS:
            node = parts[0]
        else:
            return node if node.type == "call_expression" else None


def _failures(body: Node) -> list:
    """How a function can end with an error (or ``None``), for ``Crate.may_fail``: the
    record of a call it applies `?` to or returns the result of (it fails when that call
    can), or None for a failure of its own (``Err(..)``, ``None``, a `?` on a value, a
    returned value not built with ``Ok``/``Some``). Closures and async blocks return on
    their own behalf."""
    failures: list = []

    def returned(value: Node | None) -> None:
        while value is not None and value.type in ("parenthesized_expression", "await_expression") and value.named_children:
            value = value.named_children[0]
        if value is None or value.type in ("try_expression", "return_expression", "unit_expression"):
            return  # the `?` and the `return` are walked on their own
        if value.type == "block":
            last = value.named_children[-1] if value.named_children else None
            if last is not None and last.type not in ("expression_statement", "let_declaration", "empty_statement") and not last.type.endswith("_item"):
                returned(last)
        elif value.type == "if_expression":
            returned(value.child_by_field_name("consequence"))
            alternative = value.child_by_field_name("alternative")
            returned(alternative.named_children[0] if alternative is not None and alternative.named_children else None)
        elif value.type == "match_expression":
            arms = value.child_by_field_name("body")
            for arm in arms.named_children if arms is not None else ():
                returned(arm.child_by_field_name("value"))
        elif value.type == "call_expression" and _path_of(value) in SUCCESSES:
            return
        else:
            call = failing_call(value)
            failures.append(call_record(call) if call is not None else None)

    pending = list(body.children)
    while pending:
        node = pending.pop()
        if node.type in (*NESTED_BODIES, "function_item", "impl_item", "mod_item", "trait_item"):
            continue
        if node.type == "try_expression" and node.named_children:
            call = failing_call(node.named_children[0])
            failures.append(call_record(call) if call is not None else None)
        elif node.type == "return_expression":
            returned(node.named_children[0] if node.named_children else None)
        elif node.type == "macro_invocation" and _fails_in_macro(node):
            failures.append(None)
        pending.extend(node.children)
    returned(body)
    return failures


# Library macros that return an error from the function (anyhow, eyre, snafu).
ERROR_MACROS = frozenset({"bail", "ensure"})


def _fails_in_macro(macro: Node) -> bool:
    """An error-returning macro, or a `?` in a macro's unparsed tokens (``write!(f, "{}", x?)``)."""
    from lint_ws.rust.syntax import text

    name = macro.child_by_field_name("macro")
    if name is not None and text(name).rsplit("::", 1)[-1] in ERROR_MACROS:
        return True
    return any(token.type == "?" for child in macro.children if child.type == "token_tree" for token in _leaves(child))


def _empty_body() -> dict:
    return {"calls": [], "refs": [], "spawns": [], "closes": False, "arguments": []}


def _collect_arguments(call: Node, record: tuple, arguments: list) -> None:
    """[call record, argument index, source] for each argument of ``call`` that is a
    parameter of the function or a path call's result (see ``_adapted_source``): what a
    constructor's callers fill its parameters with."""
    values = call.child_by_field_name("arguments")
    for index, argument in enumerate(values.named_children if values is not None else ()):
        source = _adapted_source(argument)
        if source is not None:
            arguments.append((record, index, source))


def _ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _collect_uses(node: Node, prefix: str, uses: dict[str, str], globs: list[str]) -> None:
    from lint_ws.rust.syntax import text

    if node.type in ("identifier", "scoped_identifier", "crate", "self", "super"):
        path = f"{prefix}{text(node)}"
        uses[path.rsplit("::", 1)[-1]] = path
    elif node.type == "use_as_clause":
        path, alias = node.child_by_field_name("path"), node.child_by_field_name("alias")
        if path is not None and alias is not None:
            uses[text(alias)] = f"{prefix}{text(path)}"
    elif node.type == "use_wildcard":
        inner = node.named_children[0] if node.named_children else None
        globs.append(f"{prefix}{text(inner)}" if inner is not None else prefix.rstrip(":"))
    elif node.type == "scoped_use_list":
        path, items = node.child_by_field_name("path"), node.child_by_field_name("list")
        inner_prefix = f"{prefix}{text(path)}::" if path is not None else prefix
        for item in items.named_children if items is not None else ():
            _collect_uses(item, inner_prefix, uses, globs)
    elif node.type == "use_list":
        for item in node.named_children:
            _collect_uses(item, prefix, uses, globs)


def _fields(struct: Node) -> dict[str, str]:
    from lint_ws.rust.syntax import text

    body = struct.child_by_field_name("body")
    fields: dict[str, str] = {}
    if body is None:
        return fields
    if body.type == "ordered_field_declaration_list":
        types = [c for c in body.named_children if c.type not in ("attribute_item", "visibility_modifier", "line_comment", "block_comment")]
        return {str(index): text(type_node) for index, type_node in enumerate(types)}
    for declaration in body.named_children:
        name, type_node = declaration.child_by_field_name("name"), declaration.child_by_field_name("type")
        if declaration.type == "field_declaration" and name is not None and type_node is not None:
            fields[text(name)] = text(type_node)
    return fields


def summarize_body(body: Node) -> dict:
    """The calls, spawned futures and value references of one body (see the module doc).

    Closures and async blocks that are not spawned run where they are called or awaited,
    so their calls belong to the enclosing body, in the loop they are written in.
    """
    summary = _empty_body()
    loops = 0
    starts: list[int] = []  # the start of each call of ``summary["calls"]``, ascending
    writes: list[Node] = []  # assignments and calls that may set a connection-state flag or variant
    closes: list[int] = []  # where Close frames or commands are sent, ascending
    pending = [(child, 0) for child in reversed(body.children)]  # a stack: deep nesting is no recursion
    while pending:
        node, loop = pending.pop()
        kind = node.type
        if kind in LOOPS and loop == 0:
            loops += 1
            loop = loops
        elif kind in ("function_item", "impl_item", "mod_item", "trait_item"):
            continue  # items have their own records
        elif kind == "call_expression":
            spawned = _spawned_future(node)
            if spawned is not None:
                record = summarize_body(spawned)
                kept = _handle_destination(node)
                record["field"], record["passed"] = kept.field, kept.passed
                if kept.returned:  # most spawns are kept elsewhere: no key keeps summaries small
                    record["returned"] = True
                record["spawned_on"] = _spawned_on_field(node)
                summary["spawns"].append(record)
                continue
            record = call_record(node, loop)
            if record is not None:
                summary["calls"].append(record)
                starts.append(node.start_byte)
                _collect_arguments(node, record, summary["arguments"])
                if node.parent is not None and node.parent.type in STORING:
                    field = _value_destination(node, 0).field
                    if field is not None:  # a call's result kept in a field: it may be a task handle
                        summary.setdefault("kept_calls", []).append((record, field))
                if record[0] == "method" and record[1] in STATE_SETTERS:
                    writes.append(node)
            _collect_refs(node, summary["refs"])
        elif kind == "assignment_expression":
            writes.append(node)
        elif kind in ("let_declaration", "field_initializer", "match_arm"):
            value = node.child_by_field_name("value")  # a state built: `Some(ws) => State::Connected(ws)`
            if value is not None and variant_path(value) is not None:
                writes.append(value)
        elif kind == "scoped_identifier" and node.text.endswith(b"::Close") and _is_sent(node):
            summary["closes"] = True
            closes.append(node.start_byte)
        elif kind == "macro_invocation":
            made = len(summary["calls"])
            _macro_calls(node, loop, summary)
            starts.extend([node.start_byte] * (len(summary["calls"]) - made))
        pending.extend((child, loop) for child in reversed(node.children))
    state_writes = _state_writes(writes, starts, closes)
    if state_writes:  # most bodies write no state: no key keeps their summaries small
        summary["writes"] = state_writes
    return summary


SENDS = frozenset({"send", "try_send", "feed", "unbounded_send", "send_all", "write_frame", "start_send", "blocking_send", "send_async"})


def _is_sent(node: Node) -> bool:
    """Whether a ``Message::Close`` / ``Command::Close`` is built as (part of) the argument of
    a send: a Close frame sent, or a Close command sent to a pump (not a pattern matched)."""
    from lint_ws.rust.syntax import method_call_parts

    for ancestor in _ancestors(node):
        if ancestor.type == "arguments":
            call = ancestor.parent
            parts = method_call_parts(call) if call is not None else None
            if parts is not None and parts[1] in SENDS:
                return True
        elif ancestor.type in ("block", "match_arm", "let_declaration", "function_item", "closure_expression"):
            return False
    return False


def _macro_calls(macro: Node, loop: int, summary: dict) -> None:
    """Calls written inside a macro's tokens (``info!(..)``, ``join!(a(), b())``) are flat
    tokens to tree-sitter: ``name (`` and ``recv . name (`` are taken as calls."""
    from lint_ws.rust.syntax import text

    tokens = [t for t in _leaves(macro)]
    for index, token in enumerate(tokens[:-1]):
        if token.type != "identifier" or tokens[index + 1].type != "token_tree":
            continue
        before = tokens[index - 1] if index else None
        if before is not None and before.type == ".":
            owner = tokens[index - 2] if index >= 2 else None
            receiver = ("self",) if owner is not None and owner.type == "self" else ("unknown",)
            summary["calls"].append(("method", text(token), receiver, loop))
        elif before is not None and before.type == "::" and index >= 2:
            summary["calls"].append(("path", f"{text(tokens[index - 2])}::{text(token)}", None, loop))
        else:
            summary["calls"].append(("path", text(token), None, loop))


def _leaves(node: Node) -> Iterator[Node]:
    """The tokens of a macro in order; an argument list ``( .. )`` comes before its tokens."""
    pending = list(reversed(node.children))
    while pending:
        child = pending.pop()
        if child.type == "token_tree" and child.child_count and child.children[0].type == "(":
            yield child  # an argument list: stands for itself after a name
        if child.child_count:
            pending.extend(reversed(child.children))
        else:
            yield child


def _spawned_future(call: Node) -> Node | None:
    """The future or closure a ``spawn(..)`` call runs, or None for other calls."""
    from lint_ws.rust.model import SPAWN_FUNCTIONS
    from lint_ws.rust.syntax import callee_path, method_call_parts

    parts = method_call_parts(call)
    name = parts[1] if parts is not None else (callee_path(call) or "").rsplit("::", 1)[-1]
    if name not in SPAWN_FUNCTIONS:
        return None
    arguments = call.child_by_field_name("arguments")
    return arguments if arguments is not None and arguments.named_children else None


def _spawned_on_field(spawn: Node) -> str | None:
    """``tasks`` for ``self.tasks.spawn(fut)``: a task set (a ``JoinSet`` field, which the
    crate checks by the field's type) or a runtime the task is spawned on."""
    from lint_ws.rust.syntax import method_call_parts, text

    parts = method_call_parts(spawn)
    if parts is None:
        return None
    receiver = _reshaped(parts[0])
    if receiver.type == "field_expression" and _reshaped(receiver.child_by_field_name("value")).type == "self":
        return text(receiver.child_by_field_name("field"))
    return None


# Methods whose result is the same task as the handle (or the spawn's result) they are
# called on: a fallible spawn (`Builder::spawn_on`) gives `io::Result<JoinHandle>`.
SAME_TASK_METHODS = frozenset({"abort_handle", "unwrap", "expect"})


class Kept(NamedTuple):
    """Where a value (a task handle) ends up: a struct field (``[struct, field]``, ``Self``
    for the type of the ``impl``), a call it is handed to (``[call record, argument
    index]``: a constructor that may store it, a tuple struct ``Guard(h)``), or the result of
    the function it is made in (``returned``). Nothing of these when none is seen."""

    field: list | None = None
    passed: list | None = None
    returned: bool = False


NOWHERE = Kept()


def _handle_destination(spawn: Node) -> Kept:
    """Where the handle of a spawned task is kept (``Kept``). A task spawned on a local
    ``JoinSet`` is kept where the set is."""
    from lint_ws.rust.model import local_binding
    from lint_ws.rust.syntax import method_call_parts, text

    parts = method_call_parts(spawn)
    if parts is not None and (on := _reshaped(parts[0])).type == "identifier":
        binding = local_binding(text(on), on)
        owner = binding.pattern_owner if binding is not None else None
        if owner is not None and owner.type == "let_declaration" and "JoinSet" in text(binding.type or binding.value or on):
            return _local_destination(owner, 0)
    return _value_destination(spawn, 0)


def _value_destination(node: Node, depth: int) -> Kept:
    """Where the value ``node`` (a task handle) ends up, through ``Some(..)``/``Arc::new(..)``,
    ``?``, ``.abort_handle()``, the locals it is bound to and the local collections it is
    added to (see ``Kept``)."""
    from lint_ws.rust.model import COLLECTION_ADDERS
    from lint_ws.rust.syntax import method_call_parts, text

    while (parent := node.parent) is not None:
        if parent.type in ("parenthesized_expression", "try_expression"):
            node = parent
        elif parent.type == "arguments" and parent.parent is not None:
            call = parent.parent
            parts = method_call_parts(call)
            if parts is None and _path_of(call) in WRAPPING_CALLS:
                node = call
                continue
            if parts is not None and parts[1] in COLLECTION_ADDERS:
                return _collection_destination(parts[0], depth)
            record = call_record(call)
            index = next(i for i, argument in enumerate(parent.named_children) if argument.id == node.id)
            return Kept(passed=[record, index]) if record is not None else NOWHERE
        elif parent.type == "field_expression" and parent.child_by_field_name("value") == node:
            call = parent.parent
            if call is None or call.type != "call_expression" or text(parent.child_by_field_name("field")) not in SAME_TASK_METHODS:
                return NOWHERE
            node = call
        elif parent.type == "field_initializer" and parent.child_by_field_name("value") == node:
            return Kept(field=[_literal_type(parent), text(parent.child_by_field_name("field"))])
        elif parent.type == "shorthand_field_initializer":
            return Kept(field=[_literal_type(parent), text(node)])
        elif parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
            left = _reshaped(parent.child_by_field_name("left"))
            if left.type == "field_expression" and _reshaped(left.child_by_field_name("value")).type == "self":
                return Kept(field=["Self", text(left.child_by_field_name("field"))])
            return NOWHERE
        elif parent.type == "let_declaration" and parent.child_by_field_name("value") == node:
            return _local_destination(parent, depth)
        elif (parent.type == "return_expression" and _returns_from_function(parent)) or _is_function_tail(node):
            return Kept(returned=True)
        else:
            return NOWHERE
    return NOWHERE


# Where a call's result is kept by the statement around it: bound, assigned, a field's value
# (or `?` of one of those).
STORING = frozenset({"let_declaration", "assignment_expression", "field_initializer", "try_expression"})


def _returns_from_function(node: Node) -> bool:
    """Whether a ``return`` leaves the function, not a closure or async block inside it."""
    enclosing = next((a for a in _ancestors(node) if a.type in ("function_item", "closure_expression", "async_block")), None)
    return enclosing is not None and enclosing.type == "function_item"


def _is_function_tail(node: Node) -> bool:
    """Whether ``node`` is the tail expression of a function's body: the function's result
    (an expression followed by ``;`` sits in a statement, not in the block itself)."""
    block = node.parent
    if block is None or block.type != "block" or block.parent is None or block.parent.type != "function_item":
        return False
    last = next((child for child in reversed(block.named_children) if not child.type.endswith("comment")), None)
    return last is not None and last.id == node.id


def _collection_destination(collection: Node, depth: int) -> Kept:
    """Where a collection a handle is added to is kept: ``self.tasks``, or a local one."""
    from lint_ws.rust.model import local_binding
    from lint_ws.rust.syntax import text

    collection = _reshaped(collection)
    if collection.type == "field_expression" and _reshaped(collection.child_by_field_name("value")).type == "self":
        return Kept(field=["Self", text(collection.child_by_field_name("field"))])
    if collection.type == "identifier":
        binding = local_binding(text(collection), collection)
        if binding is not None and binding.pattern_owner is not None and binding.pattern_owner.type == "let_declaration":
            return _local_destination(binding.pattern_owner, depth)
    return NOWHERE


def _local_destination(declaration: Node, depth: int) -> Kept:
    """Where the value of ``let NAME = ..;`` is kept by a later use of ``NAME``."""
    from lint_ws.rust.syntax import text

    name, after = _local_and_what_follows(declaration)
    if name is None or depth > 3:
        return NOWHERE
    for node in after:
        if node.type == "identifier" and text(node) == name:
            found = _value_destination(node, depth + 1)
            if found != NOWHERE:
                return found
    return NOWHERE


def _literal_type(initializer: Node) -> str | None:
    """``Other`` for a field of ``crate::x::Other { .. }`` (``Self`` as written)."""
    from lint_ws.rust.syntax import text

    literal = next((a for a in _ancestors(initializer) if a.type == "struct_expression"), None)
    name = literal.child_by_field_name("name") if literal is not None else None
    return _strip_generics(text(name)).rsplit("::", 1)[-1] if name is not None else None


def _local_and_what_follows(declaration: Node) -> tuple[str | None, Iterator[Node]]:
    """The name a ``let NAME = ..;`` binds (None for a pattern) and the nodes of its scope
    after it (none for a pattern)."""
    from lint_ws.rust.syntax import text, walk

    pattern = declaration.child_by_field_name("pattern")
    if pattern is not None and pattern.type == "mut_pattern" and pattern.named_children:
        pattern = pattern.named_children[-1]
    scope = declaration.parent
    if pattern is None or pattern.type != "identifier" or scope is None:
        return None, iter(())
    return text(pattern), (node for node in walk(scope) if node.start_byte >= declaration.end_byte)


def _collect_refs(call: Node, refs: list[str]) -> None:
    from lint_ws.rust.syntax import text

    arguments = call.child_by_field_name("arguments")
    for argument in arguments.named_children if arguments is not None else ():
        if argument.type in ("identifier", "scoped_identifier"):
            refs.append(text(argument))


def call_record(call: Node, loop: int = 0) -> tuple | None:
    from lint_ws.rust.syntax import callee_path, method_call_parts

    parts = method_call_parts(call)
    if parts is not None:
        arguments = call.child_by_field_name("arguments")
        keep_alive = arguments is not None and KEEP_ALIVE_FRAMES.search(arguments.text) is not None
        return ("method", f"{parts[1]}:keep-alive" if keep_alive else parts[1], receiver_descriptor(parts[0]), loop)
    path = callee_path(call)
    if path is None:
        return None
    return ("path", _strip_generics(path), None, loop)


# Library frames that keep a connection alive: a loop that sends only these is a keep-alive
# timer, not a pump.
KEEP_ALIVE_FRAMES = re.compile(rb"\b(?:Ping|Pong)\b")


def _strip_generics(path: str) -> str:
    return re.sub(r"::<.*?>", "", path) if "<" in path else path


def receiver_descriptor(receiver: Node, depth: int = 0) -> tuple:
    """What a method's receiver is, as far as this file tells (see the module doc)."""
    from lint_ws.rust.model import local_binding
    from lint_ws.rust.syntax import method_call_parts, text

    node = _reshaped(receiver)
    if node.type == "self":
        return ("self",)
    if node.type == "field_expression":
        owner = _reshaped(node.child_by_field_name("value"))
        field = text(node.child_by_field_name("field"))
        if owner.type == "self":
            return ("field", field)
        if field.isdigit():
            return receiver_descriptor(owner, depth)  # `pair.0` of `(socket, response)`
        return ("member", receiver_descriptor(owner, depth + 1), field) if depth <= 4 else ("unknown",)
    if node.type == "struct_expression":
        name = node.child_by_field_name("name")
        return ("type", text(name)) if name is not None else ("unknown",)
    if node.type == "call_expression" and method_call_parts(node) is None:
        path = _path_of(node)
        return ("call", path) if path else ("unknown",)
    if node.type == "call_expression":
        parts = method_call_parts(node)
        if parts[1] in ("split", "into_split", "by_ref"):
            return receiver_descriptor(parts[0], depth)
        if depth > 4:
            return ("unknown",)
        return ("method", receiver_descriptor(parts[0], depth + 1), parts[1])
    if node.type != "identifier" or depth > 4:
        return ("unknown",)
    binding = local_binding(text(node), node)
    if binding is None:
        return ("unknown",)
    payload = _variant_payload(node)
    if payload is not None:
        return payload
    if binding.type is not None:
        return ("type", text(binding.type))
    if binding.value is None:
        return ("unknown",)
    return receiver_descriptor(binding.value, depth + 1)


def _variant_payload(use: Node) -> tuple | None:
    """``("variant", "State::Connected", 0)`` for a name bound as a variant's payload by
    the ``match`` arm or ``if let`` it is used in (``State::Connected(connection) => ..``)."""
    from lint_ws.rust.syntax import text

    name = text(use)
    child = use
    for ancestor in _ancestors(use):
        pattern = None
        if ancestor.type == "match_arm" and child == ancestor.child_by_field_name("value"):
            pattern = ancestor.child_by_field_name("pattern")
        elif ancestor.type in ("if_expression", "while_expression") and child != ancestor.child_by_field_name("condition"):
            condition = ancestor.child_by_field_name("condition")
            pattern = condition.child_by_field_name("pattern") if condition is not None and condition.type == "let_condition" else None
        elif ancestor.type in ("function_item", "closure_expression"):
            return None
        if pattern is not None:
            for variant in [pattern, *pattern.named_children]:
                if variant.type != "tuple_struct_pattern":
                    continue
                path = variant.child_by_field_name("type")
                values = [c for c in variant.named_children if c != path]
                for index, value in enumerate(values):
                    if value.type == "mut_pattern" and value.named_children:
                        value = value.named_children[-1]
                    if value.type == "identifier" and text(value) == name and path is not None:
                        return ("variant", text(path), index)
            return None
        child = ancestor
    return None


def _path_of(call: Node) -> str | None:
    from lint_ws.rust.syntax import callee_path

    path = callee_path(call)
    return _strip_generics(path) if path else None


# Calls that wrap a value without changing what it is.
WRAPPING_CALLS = ("Some", "Ok", "Arc::new", "Box::new", "Mutex::new", "RwLock::new")


def _reshaped(node: Node) -> Node:
    """The value under references, ``.await``, ``?`` and reshaping calls."""
    from lint_ws.rust.syntax import method_call_parts

    while True:
        if node.type in ("reference_expression", "parenthesized_expression", "unary_expression", "try_expression") and node.named_children:
            node = node.named_children[-1]
        elif node.type == "await_expression" and node.named_children:
            node = node.named_children[0]
        elif node.type == "call_expression" and (parts := method_call_parts(node)) is not None and parts[1] in RESHAPING:
            node = parts[0]
        elif node.type == "call_expression" and _path_of(node) in WRAPPING_CALLS:
            arguments = node.child_by_field_name("arguments")
            if arguments is None or not arguments.named_children:
                return node
            node = arguments.named_children[0]
        else:
            return node


# --- connection state: what flags and state variants are set to, and where ---------------
#
# A body's ``writes`` (only when it has some) are ``(target, value, events)``: ``target`` is
# ``("field", owner descriptor, field)`` or ``("static", name)`` for a boolean flag set to
# ``value`` (``self.closed.store(true, ..)``, ``*self.connected.lock() = false``), or
# ``("variant", path)`` for a state variant assigned, handed on, bound or given by a
# ``match`` arm (``self.state = State::Closed``, ``events.send(Event::Connected(conn))``,
# ``Some(ws) => State::Connected(ws)``; ``value`` is True; a variant handed to a call has
# the call's index in ``calls`` too: a frame sent on the connection is no state). ``events`` say
# what happened next to the write, nearest first, for ``Crate.state_meaning`` to judge:
# ``(lo, hi, outcome)`` names the body's calls ``calls[lo:hi]`` of the statement before the
# write (``"before"``, or ``"loop"`` for a loop that has ended), of the statement after it
# (``"after"``), or of the value a ``match``/``if let``/``if`` around the write tested
# (``"ok"``/``"err"``: the write is on the call's success or failure); ``("closed",)``: a
# Close frame or command is sent just before or after; ``("arm", path)``: the write is in the
# arm of a variant (``Event::Connected(conn) => ..``), which means what that variant means.

# Library setters of a value: atomics and cells (`store`, `swap`, `set`), and the sends and
# setters that hand a state variant on (an event emitted, a watch value replaced).
FLAG_SETTERS = frozenset({"store", "swap", "set"})
STATE_SETTERS = FLAG_SETTERS | SENDS | {"send_replace", "replace"}
# Reads of a flag: `flag.load(order)`, `cell.get()`, and the guard accessors of a lock.
FLAG_READS = frozenset({"load", "get", "lock", "read", "borrow", "unwrap", "expect"})
MAX_EVENTS = 4


def variant_path(node: Node | None) -> str | None:
    """``State::Closed`` for a variant of a type, built (``State::Connected(conn)``) or named;
    a path whose last two segments are not a type and its variant (``Arc::new``) is None."""
    from lint_ws.rust.syntax import text

    if node is not None and node.type == "call_expression":
        node = node.child_by_field_name("function")
    if node is not None and node.type in ("tuple_struct_pattern", "struct_pattern", "struct_expression"):
        node = node.child_by_field_name("type") or node.child_by_field_name("name")
    if node is None or node.type != "scoped_identifier":
        return None
    segments = _strip_generics(text(node)).split("::")
    if len(segments) < 2 or not segments[-1][:1].isupper() or not segments[-2][:1].isupper():
        return None
    return "::".join(segments)


def matches_paths(macro: Node) -> tuple[str, ...]:
    """The variant paths of ``matches!(subject, A::B | A::C(..))`` after the comma."""
    from lint_ws.rust.syntax import text

    tree = next((c for c in macro.children if c.type == "token_tree"), None)
    if tree is None:
        return ()
    _, comma, pattern = text(tree)[1:-1].partition(",")
    if not comma:
        return ()
    pattern = re.sub(r"\([^()]*\)|\{[^{}]*\}|\bif\b.*", "", pattern, flags=re.S)
    paths = [p.strip() for p in pattern.split("|")]
    if not all(re.fullmatch(r"(?:\w+::)+[A-Z]\w*", p) for p in paths):
        return ()
    return tuple(paths)


def state_reading(node: Node) -> tuple[tuple, bool] | None:
    """What a boolean expression reads, as far as one file tells, and whether negated:
    ``("field", owner descriptor, field)`` (``self.closed.load(..)``, ``*self.up.lock()``),
    ``("static", name)``, ``("variants", paths)`` (true when the state is one of them:
    ``self.state == State::Open``, ``matches!(..)``), ``("query", call record)`` for a
    zero-argument method call (``self.is_connected()``); None for anything else."""
    from lint_ws.rust.model import local_binding
    from lint_ws.rust.syntax import method_call_parts, text

    negated = False
    while True:
        if node.type == "parenthesized_expression" and node.named_children:
            node = node.named_children[0]
        elif node.type == "unary_expression" and node.named_children:
            negated ^= text(node).startswith("!")
            node = node.named_children[0]
        elif node.type == "await_expression" and node.named_children:
            node = node.named_children[0]
        else:
            break
    if node.type == "binary_expression":
        operator = text(node.child_by_field_name("operator"))
        path = variant_path(node.child_by_field_name("right")) or variant_path(node.child_by_field_name("left"))
        if operator not in ("==", "!=") or path is None:
            return None
        return ("variants", (path,)), negated ^ (operator == "!=")
    if node.type == "macro_invocation":
        name = node.child_by_field_name("macro")
        paths = matches_paths(node) if name is not None and text(name).rsplit("::", 1)[-1] == "matches" else ()
        return (("variants", paths), negated) if paths else None
    if node.type == "call_expression":
        parts = method_call_parts(node)
        if parts is None:
            return None
        arguments = node.child_by_field_name("arguments")
        if parts[1] in FLAG_READS:
            target = _flag_target(parts[0])
            return (target, negated) if target is not None else None
        if arguments is not None and arguments.named_child_count == 0:
            return ("query", call_record(node)), negated
        return None
    if node.type == "field_expression":
        target = _flag_target(node)
        return (target, negated) if target is not None else None
    if node.type in ("identifier", "scoped_identifier") and local_binding(text(node), node) is None:
        return ("static", text(node).rsplit("::", 1)[-1]), negated
    return None


def _flag_target(node: Node) -> tuple | None:
    """``("field", owner descriptor, name)`` or ``("static", name)`` for the flag a read or
    write reaches through locks, references and ``.await``; None for a local."""
    from lint_ws.rust.model import local_binding
    from lint_ws.rust.syntax import text

    node = _reshaped(node)
    if node.type == "field_expression":
        field = node.child_by_field_name("field")
        if field is None or text(field).isdigit():
            return None
        return ("field", receiver_descriptor(node.child_by_field_name("value")), text(field))
    if node.type in ("identifier", "scoped_identifier") and local_binding(text(node), node) is None:
        return ("static", text(node).rsplit("::", 1)[-1])
    return None


def state_tail(body: Node) -> tuple[tuple, bool] | None:
    """``state_reading`` of the tail expression a ``fn ..(&self) -> bool`` returns."""
    children = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
    if not children or children[-1].type in ("expression_statement", "let_declaration", "empty_statement"):
        return None
    return state_reading(children[-1])


def _state_writes(candidates: list[Node], starts: list[int], closes: list[int]) -> list:
    found = []
    for node in candidates:
        write = _state_write(node)
        if write is None:
            continue
        if write[0][0] == "variant" and node.type == "call_expression":
            write = (("variant", write[0][1], bisect_left(starts, node.start_byte)), True)  # handed to that call
        events = _write_events(node, starts, closes)
        if events and (entry := (*write, events)) not in found:
            found.append(entry)
    return found


def _state_write(node: Node) -> tuple | None:
    """(target, value) of a flag or variant write (see above), or None."""
    from lint_ws.rust.syntax import method_call_parts, text

    if node.type == "assignment_expression":
        left, value = node.child_by_field_name("left"), node.child_by_field_name("right")
        setter = None
    elif method_call_parts(node) is None:
        path = variant_path(node)  # a variant bound, stored in a literal or given by an arm
        return (("variant", path), True) if path is not None else None
    else:
        parts = method_call_parts(node)
        arguments = node.child_by_field_name("arguments")
        if parts is None or arguments is None or not arguments.named_children:
            return None
        left, setter, value = parts[0], parts[1], arguments.named_children[0]
    if left is None or value is None:
        return None
    path = variant_path(value)
    if path is not None:
        return ("variant", path), True
    if value.type == "boolean_literal" and (setter is None or setter in FLAG_SETTERS):
        target = _flag_target(left)
        return (target, text(value) == "true") if target is not None else None
    return None


def _write_events(write: Node, starts: list[int], closes: list[int]) -> list:
    """What happened next to ``write`` in its body, nearest first (see above)."""
    from lint_ws.rust.syntax import text

    events: list = []
    child = write
    innermost = True
    for ancestor in _ancestors(write):
        if ancestor.type == "closure_expression" and len(events) < MAX_EVENTS:
            event = _error_handler_event(ancestor, starts)  # `.map_err(|_| { closed = true; .. })`
            if event is not None:
                events.append(event)
        if ancestor.type in ("function_item", "closure_expression") or len(events) >= MAX_EVENTS:
            break
        if ancestor.type == "block":
            statements = [c for c in ancestor.named_children if c.type not in ("line_comment", "block_comment")]
            at = statements.index(child) if child in statements else len(statements)
            events.extend(_statements_events(statements[:at], starts, closes, "before"))
            if innermost:
                events.extend(_statements_events(statements[at + 1 :], starts, closes, "after"))
            innermost = False
        elif ancestor.type == "match_arm" and child == ancestor.child_by_field_name("value"):
            match = next((a for a in _ancestors(ancestor) if a.type == "match_expression"), None)
            tested = match.child_by_field_name("value") if match is not None else None
            events.extend(_tested_events(ancestor.child_by_field_name("pattern"), tested, starts))
        elif ancestor.type == "if_expression" and child != ancestor.child_by_field_name("condition"):
            condition = ancestor.child_by_field_name("condition")
            if condition is not None and condition.type == "let_condition":
                events.extend(_tested_events(condition.child_by_field_name("pattern"), condition.child_by_field_name("value"), starts))
            elif condition is not None:
                failed = re.search(r"\.is_err\(\)", text(condition)) is not None
                succeeded = re.search(r"\.is_ok\(\)", text(condition)) is not None
                in_consequence = child == ancestor.child_by_field_name("consequence")
                outcome = "before"
                if failed or succeeded:
                    outcome = "err" if failed == in_consequence else "ok"
                event = _calls_event(condition, starts, outcome)
                if event is not None:
                    events.append(event)
        child = ancestor
    return events[:MAX_EVENTS]


# Library `Result` methods whose closure runs on the error of the call before them.
ERROR_HANDLERS = frozenset({"map_err", "or_else", "unwrap_or_else", "inspect_err"})


def _error_handler_event(closure: Node, starts: list[int]) -> tuple | None:
    """The failure of the call a closure handles the error of (``send(..).await.map_err(|_| ..)``)."""
    from lint_ws.rust.syntax import method_call_parts

    arguments = closure.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    parts = method_call_parts(call) if call is not None and call.type == "call_expression" else None
    if parts is None or parts[1] not in ERROR_HANDLERS:
        return None
    failing = failing_call(parts[0])
    return _calls_event(failing, starts, "err") if failing is not None else None


def _statements_events(statements: list[Node], starts: list[int], closes: list[int], outcome: str) -> list:
    """The events of the statements before (or after) a write in its block: the nearest loop
    before it has ended, a Close sent, and the calls, which the crate judges nearest first."""
    if not statements:
        return []
    events = []
    if outcome == "before":
        nodes = (s.named_children[0] if s.type == "expression_statement" and s.named_children else s for s in reversed(statements))
        loop = next((n for n in nodes if n.type in LOOPS), None)
        event = _calls_event(loop, starts, "loop") if loop is not None else None
        if event is not None:
            events.append(event)
    # what came before in the block (judged nearest first), only the next statement after it
    near = statements if outcome == "before" else statements[:1]
    first, last = near[0].start_byte, near[-1].end_byte
    if bisect_left(closes, first) < bisect_left(closes, last):
        events.append(("closed",))
    lo, hi = bisect_left(starts, first), bisect_left(starts, last)
    if lo < hi:
        events.append((lo, hi, outcome))
    return events


def _calls_event(node: Node, starts: list[int], outcome: str) -> tuple | None:
    lo, hi = bisect_left(starts, node.start_byte), bisect_left(starts, node.end_byte)
    return (lo, hi, outcome) if lo < hi else None


def _tested_events(pattern: Node | None, tested: Node | None, starts: list[int]) -> list:
    """The event of a write in the branch of ``pattern`` matched against ``tested``: the
    tested call's success (``Ok(..)``, ``Some(..)``) or failure (``Err(..)``, ``None``, a
    Close frame received), or the variant of the arm."""
    from lint_ws.rust.syntax import text

    if pattern is None:
        return []
    if pattern.type == "match_pattern" and pattern.named_children:
        pattern = pattern.named_children[0]
    written = text(pattern)
    outcome = None
    if re.search(r"\bClose\b", written) or written.startswith(("Err", "None", "Some(Err")):
        outcome = "err"
    elif written.startswith(("Ok", "Some")):
        outcome = "ok"
    if outcome is None:
        path = variant_path(pattern)
        return [("arm", path)] if path is not None else []
    event = _calls_event(tested, starts, outcome) if tested is not None else None
    return [event] if event is not None else []
