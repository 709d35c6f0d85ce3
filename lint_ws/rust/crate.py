"""The Rust project model: the summaries of a crate's (or workspace's) files, assembled.

Every question gets the same answer whichever file asks it:

- ``resolve(context, call)``: the functions a call reaches. ``Self::f``, ``Type::f``,
  ``module::f``, an imported (``use``) or glob-imported function, ``self.f()``,
  ``self.field.f()`` through the field's type, ``x.f()`` through ``x``'s type or
  constructor. An unresolved call reaches nothing known: ``Arc::new`` is not
  ``WsStream::new``.
- ``callers(function)``: the resolved call sites of a function, and whether each is in a
  loop; ``restarted(function)``: whether every way into it runs it again (a loop at every
  call site, transitively, or it calls itself).
- ``is_connection_type(text)``: a library connection type, or a project type holding one
  (a handle), through type aliases and wrappers (``Arc<Mutex<Option<..>>>``).
- ``body_is_pump(context, body)``: a loop in the body (or in what it calls) receives from a
  connection or writes messages to it (Ping and Pong frames do not count: a keep-alive
  timer is not a pump). Timers, pollers, watchers, one-shot requests and consumers of a
  channel that a pump feeds do neither, and are not pumps.
- ``body_closes(context, body)``: ``close()``/``shutdown()`` of a connection, a
  ``Close`` message or command, directly or through resolved calls.
- ``tears_down(function)`` / ``body_tears_down(context, body)``: ends a connection: closes
  one (``body_closes``), stops a task (a library ``abort()``/``abort_all()``, unless the
  crate shows every task stored there is no pump, or a ``CancellationToken``'s ``cancel()``),
  removes entries from a registry (``is_registry_type``), or calls a project function that
  does; an unresolved call of another name does nothing known.
- ``is_registry_type(text)``: a collection (``HashMap``, ``Vec``, ``DashMap``, ``Slab``...,
  behind ``Arc``/``Mutex``) whose values are, or hold, connections or peers' queues (a
  channel's sending side: dropping it ends what drains it), through project structs.
- ``opens_client(function)``: a client connect call, directly or through resolved calls.
- ``full_error(function)``: its Err can be the queue-full error of a bounded channel: it
  returns the error of a ``try_send``/``try_reserve``, or of a resolved call whose Err can
  be one, across the crates of a workspace (see ``model.error_passed_up``).
- ``may_fail(function)``: it can end with an error (or ``None``): one of its own, or of a
  call it applies `?` to or returns whose resolved functions may fail (an unresolved call may).
- ``state_meaning(key)``: what a flag being true, or a state being a variant, says of the
  connection ("closed"/"open"), by where the project writes it: next to a close or a
  connection's end, or after a connect; ``reading_meaning``/``query_meaning`` for a check.
- ``client_fields``: the struct fields a constructor fills with a client connection handed
  in by its callers (``WsServer::new(ws)`` storing ``ws.fuse()``, called with a
  ``connect_async`` socket), whatever the field's declared type.

A *context* is the function a call is written in: ``(file, index)`` of its record.
"""

from __future__ import annotations

import re
from functools import cached_property

# Library connection types (SPEC section 1's coverage); the word list is of API names only.
LIBRARY_CONNECTION_TYPES = re.compile(
    r"\b(?:WebSocketStream|WebSocket|MaybeTlsStream|FragmentCollector|WebsocketContext)\b"
)
# Library calls that open a connection: client side, then server side.
CLIENT_CONNECTS = re.compile(r"^(?:connect_async\w*|client_async\w*|connect|client|handshake_client\w*|websocket)$")
SERVER_ACCEPTS = re.compile(r"^(?:accept_async\w*|accept_hdr_async\w*|accept|accept_hdr|from_raw_socket|on_upgrade)$")
CONNECTION_LIBRARIES = ("tungstenite", "websocket", "fastwebsockets", "ws")
RECEIVE_METHODS = frozenset({"next", "try_next", "read_message", "read", "read_frame", "recv", "receive", "select_next_some"})
SEND_METHODS = frozenset({"send", "send_all", "feed", "write_message", "write_frame", "send_message", "write", "flush", "start_send", "send_text", "send_binary"})
# Sends into a queue; they reach a connection when its pump writes what they queue.
QUEUE_SENDS = frozenset({"send", "try_send", "unbounded_send", "blocking_send", "send_async", "feed"})
# Sends that fail when a bounded queue is full (tokio, flume, async-channel, crossbeam).
FULL_QUEUE_SENDS = frozenset({"try_send", "try_reserve", "try_reserve_owned", "try_reserve_many"})
CLOSE_METHODS = frozenset({"close", "shutdown", "close_frame", "send_close"})
# Zero-argument state queries of library types, true when the connection (or a queue) is
# closed or open: tokio/futures/async-channel `Sender::is_closed`, flume's
# `is_disconnected`, tungstenite's `WebSocket::can_read`/`can_write`.
LIBRARY_STATE_QUERIES = {"is_closed": "closed", "is_disconnected": "closed", "can_read": "open", "can_write": "open"}
STREAM_DRAINS = frozenset({"for_each", "try_for_each", "for_each_concurrent", "forward"})
CHANNEL_TYPES = re.compile(r"\b(?:Sender|UnboundedSender|Receiver|UnboundedReceiver|mpsc|broadcast|oneshot|watch|flume|crossbeam|async_channel)\b")
# Library calls that stop a task: a JoinHandle's or AbortHandle's abort, a JoinSet's
# abort_all, a CancellationToken's cancel.
TASK_STOPS = frozenset({"abort", "abort_all", "cancel"})
# Library methods that take entries out of a collection.
REMOVALS = frozenset({"remove", "swap_remove", "shift_remove", "swap_remove_index", "remove_entry", "retain", "retain_mut"})
# Collections, with the position of the argument that is what they hold.
COLLECTIONS = {"HashMap": 1, "BTreeMap": 1, "IndexMap": 1, "DashMap": 1, "Slab": 0, "Vec": 0, "VecDeque": 0, "HashSet": 0, "BTreeSet": 0, "IndexSet": 0}
COLLECTION_NAMES = re.compile(r"\b(" + "|".join(COLLECTIONS) + r")\s*<")
# The sending side of a peer's queue (a one-shot reply or a watch/broadcast is no peer's queue).
PEER_QUEUES = re.compile(r"\b(?:(\w+)\s*::\s*)?(?:Sender|UnboundedSender|SyncSender)\b")
ONE_TO_MANY = frozenset({"oneshot", "watch", "broadcast"})
WRAPPERS = frozenset({"Self", "Option", "Arc", "Rc", "Box", "Mutex", "RwLock", "RefCell", "Cell", "Vec", "Result", "Pin"})


class Function:
    """One function of the crate; compared and hashed by identity (one object per function)."""

    __slots__ = ("file", "index", "name", "impl", "trait", "module", "is_test", "params", "returns", "body")

    def __init__(self, file, index, name, impl, trait, module, is_test, params, returns, body):
        self.file: str = file
        self.index: int = index  # its position in its file's summary
        self.name: str = name
        self.impl: str | None = impl  # the type of its `impl` block
        self.trait: str | None = trait
        self.module: tuple[str, tuple[str, ...]] = module  # (crate directory, module path)
        self.is_test: bool = is_test
        self.params: list = params
        self.returns: str = returns
        self.body: dict = body


def file_module(relative: str) -> tuple[str, tuple[str, ...]]:
    """(crate directory, module path) of a file: ``crates/a/src/x/mod.rs`` -> ("crates/a", ("x",))."""
    parts = relative.split("/")
    if "src" in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index("src")
        crate_dir, modules = "/".join(parts[:at]), parts[at + 1 :]
    else:
        crate_dir, modules = relative, [parts[-1]]  # an example, test or loose file: a crate of its own
        return crate_dir, ()
    modules[-1] = modules[-1].removesuffix(".rs")
    if modules[-1] in ("lib", "main", "mod"):
        modules = modules[:-1]
    if modules and modules[0] == "bin":
        crate_dir, modules = f"{crate_dir}/src/bin/{modules[1] if len(modules) > 1 else ''}", modules[2:]
    return crate_dir, tuple(modules)


class Crate:
    def __init__(self, summaries: dict[str, dict]):
        self.summaries = summaries
        self.functions: dict[tuple[str, int], Function] = {}
        self.free: dict[str, list[Function]] = {}
        self.methods: dict[tuple[str, str], list[Function]] = {}
        self.structs: dict[str, dict[str, str]] = {}
        self.crate_structs: dict[tuple[str, str], dict[str, str]] = {}  # (crate directory, name) -> fields
        self.aliases: dict[str, str] = {}
        self.types: set[str] = set()
        self.crate_names: dict[str, str] = {}
        self.implementors: dict[str, set[str]] = {}  # trait -> the project types implementing it
        self.variants: dict[str, list[dict[str, list[str]]]] = {}  # enum name -> per enum: variant -> payload types
        self.pump_queues: set[tuple[str, str]] = set()  # (type, field): sends there feed a pump
        self.stream_extensions: set[str] = set()  # methods every Stream has through a blanket impl
        for relative, summary in summaries.items():
            crate_dir, modules = file_module(relative)
            self.crate_names.setdefault(crate_dir.rsplit("/", 1)[-1].replace("-", "_"), crate_dir)
            for name, fields in summary["structs"].items():
                self.structs.setdefault(name, fields)
                self.crate_structs.setdefault((crate_dir, name), fields)
            self.aliases.update(summary["aliases"])
            for name, payloads in summary.get("variants", {}).items():
                self.variants.setdefault(name, []).append(payloads)
            self.pump_queues.update(tuple(pair) for pair in summary.get("pump_queues", ()))
            self.stream_extensions.update(summary.get("stream_extensions", ()))
            self.types.update(summary["structs"], summary["enums"])
            for index, (name, impl, trait, inline, is_test, params, returns, body) in enumerate(summary["functions"]):
                module = (crate_dir, modules + tuple(inline.split("::")) if inline else modules)
                function = Function(relative, index, name, impl, trait, module, is_test, params, returns, body)
                self.functions[(relative, index)] = function
                if impl is None:
                    self.free.setdefault(name, []).append(function)
                else:
                    self.types.add(impl)
                    self.methods.setdefault((impl, name), []).append(function)
                    if trait:
                        self.implementors.setdefault(trait, set()).add(impl)
        self._memo: dict = {}

    # --- types ---------------------------------------------------------------------------

    def expand(self, type_text: str) -> str:
        """``type_text`` with the project's type aliases replaced (whole names)."""
        for _ in range(3):
            names = set(re.findall(r"\b[A-Za-z_]\w*\b", type_text)) & self.aliases.keys()
            if not names:
                break
            for name in names:
                type_text = re.sub(rf"\b{name}\b", lambda _m, v=self.aliases[name]: f"({v})", type_text)
        return type_text

    def project_types(self, type_text: str) -> list[str]:
        """The project types ``type_text`` names; a trait (``Box<dyn Signaller>``,
        ``impl Signaller``) stands for the project types that implement it."""
        found = []
        for name in re.findall(r"\b[A-Z]\w*\b", self.expand(type_text)):
            if name in WRAPPERS:
                continue
            if name in self.types:
                found.append(name)
            found.extend(sorted(self.implementors.get(name, ())))
        return found

    @cached_property
    def handle_types(self) -> frozenset[str]:
        """Project types that hold a connection, directly or through another handle."""
        handles: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, fields in self.structs.items():
                if name in handles:
                    continue
                for field_type in fields.values():
                    expanded = self.expand(field_type)
                    if CHANNEL_TYPES.search(expanded):
                        continue
                    if LIBRARY_CONNECTION_TYPES.search(expanded) or handles.intersection(self.project_types(expanded)):
                        handles.add(name)
                        changed = True
                        break
        return frozenset(handles)

    def is_connection_type(self, type_text: str) -> bool:
        expanded = self.expand(type_text)
        if CHANNEL_TYPES.search(expanded) and not re.search(r"\b(?:SplitSink|SplitStream)\b", expanded):
            return False
        return bool(LIBRARY_CONNECTION_TYPES.search(expanded)) or bool(self.handle_types.intersection(self.project_types(expanded)))

    def is_registry_type(self, type_text: str) -> bool:
        """A collection whose values (a set's items) are, or hold, a connection or a peer's
        queue: taking an entry out of it drops that peer's connection or queue."""
        key = ("registry", type_text)
        if key not in self._memo:
            self._memo[key] = self._holds_peers(self.expand(type_text))
        return self._memo[key]

    def _holds_peers(self, expanded: str) -> bool:
        for match in COLLECTION_NAMES.finditer(expanded):
            arguments = _generic_arguments(expanded, match.end() - 1)
            position = COLLECTIONS[match.group(1)]
            if position < len(arguments) and self._holds_peer(arguments[position], 0):
                return True
        return False

    def _holds_peer(self, type_text: str, depth: int) -> bool:
        """A connection or one of its halves, the sending side of a queue (dropped, it ends
        the task that drains it), or a project type with a field that holds one."""
        if self.is_connection_type(type_text):
            return True
        if any(match.group(1) not in ONE_TO_MANY for match in PEER_QUEUES.finditer(type_text)):
            return True
        return depth < 3 and any(self._peer_struct(name, depth + 1) for name in self.project_types(type_text))

    def _peer_struct(self, name: str, depth: int) -> bool:
        key = ("peer_struct", name)
        if key not in self._memo:
            self._memo[key] = False  # recursion guard: a cycle adds nothing
            fields = self.structs.get(name, {})
            self._memo[key] = any(self._holds_peer(self.expand(field_type), depth) for field_type in fields.values())
        return self._memo[key]

    def declared_types(self, context: Function | None, receiver: tuple | None) -> list[str]:
        """The declared type texts of the value a receiver descriptor names (a field's, a
        typed local's or parameter's, what a resolved call returns)."""
        kind = receiver[0] if receiver else None
        if kind == "field":
            field_type = self.own_field_type(context, receiver[1])
            return [field_type] if field_type else []
        if kind == "type":
            return [receiver[1]]
        if kind == "member":
            return self._member_types(context, receiver)
        if kind == "call":
            return [function.returns for function in self.resolve_path(context, receiver[1])]
        if kind == "method":
            return [method.returns for method in self._methods_of(context, receiver)]
        if kind == "variant":
            return self._payload_types(receiver)
        return []

    def own_field_type(self, context: Function | None, field: str) -> str | None:
        """The type of ``self.field`` in ``context``: of its impl type as its own crate
        declares it (two crates of a workspace may each have a type of that name)."""
        if context is None or context.impl is None:
            return None
        fields = self.crate_structs.get((context.module[0], context.impl))
        return fields.get(field) if fields is not None else self.field_type(context.impl, field)

    def field_type(self, type_name: str | None, field: str) -> str | None:
        fields = self.structs.get(type_name) if type_name else None
        return fields.get(field) if fields else None

    # --- resolution ----------------------------------------------------------------------

    def resolve(self, context: Function | None, record: tuple) -> list[Function]:
        kind, target, receiver, _ = record
        if kind == "path":
            return self.resolve_path(context, target)
        types = self.receiver_types(context, receiver)
        found = [function for type_name in types for function in self.methods.get((type_name, target), ())]
        if receiver[0] == "self" and context is not None:
            # Two crates of a workspace may each have a type of that name; `self` is this crate's.
            own = [function for function in found if function.module[0] == context.module[0]]
            return own or found
        return found

    def receiver_types(self, context: Function | None, receiver: tuple) -> list[str]:
        kind = receiver[0]
        impl = context.impl if context is not None else None
        if kind == "self":
            return [impl] if impl else []
        if kind == "field":
            field_type = self.own_field_type(context, receiver[1])
            return self.project_types(field_type) if field_type else []
        if kind == "type":
            if receiver[1] == "Self":
                return [impl] if impl else []
            return self.project_types(receiver[1])
        if kind == "member":
            return [t for field_type in self._member_types(context, receiver) for t in self.project_types(field_type)]
        if kind == "call":
            found = []
            for function in self.resolve_path(context, receiver[1]):
                found.extend(self._returned_types(function))
            return found
        if kind == "method":
            return [t for method in self._methods_of(context, receiver) for t in self._returned_types(method)]
        if kind == "variant":
            return [t for payload in self._payload_types(receiver) for t in self.project_types(payload)]
        return []

    def _payload_types(self, receiver: tuple) -> list[str]:
        """The declared types of a variant's payload a ``("variant", path, index)`` names."""
        segments = receiver[1].split("::")
        if len(segments) < 2:
            return []
        found = []
        for variants in self.variants.get(segments[-2], ()):  # every enum of that name: the name alone does not tell them apart
            payloads = variants.get(segments[-1], [])
            if receiver[2] < len(payloads):
                found.append(payloads[receiver[2]])
        return found

    def _member_types(self, context: Function | None, receiver: tuple) -> list[str]:
        """The declared types of the field a ``("member", owner, field)`` descriptor reads."""
        found = []
        for type_name in self.receiver_types(context, receiver[1]):
            field_type = self.field_type(type_name, receiver[2])
            if field_type is not None:
                found.append(field_type)
        return found

    def _methods_of(self, context: Function | None, receiver: tuple) -> list[Function]:
        """The project methods a ``("method", inner, name)`` descriptor calls."""
        return [m for type_name in self.receiver_types(context, receiver[1]) for m in self.methods.get((type_name, receiver[2]), ())]

    def _returned_types(self, function: Function) -> list[str]:
        returned = function.returns
        names = self.project_types(returned)
        if re.search(r"\bSelf\b", returned) and function.impl:
            names.append(function.impl)
        return names

    def resolve_path(self, context: Function | None, path: str) -> list[Function]:
        key = ("path", context.file if context else None, context.impl if context else None, context.module if context else None, path)
        if key not in self._memo:
            self._memo[key] = self._resolve_path(context, path.split("::"))
        return self._memo[key]

    def _resolve_path(self, context: Function | None, segments: list[str], depth: int = 0) -> list[Function]:
        if depth > 4 or not segments:
            return []
        name = segments[-1]
        file = context.file if context else None
        uses = self.summaries[file]["uses"] if file in self.summaries else {}
        module = context.module if context else ("", ())
        if len(segments) == 1:
            local = [f for f in self.free.get(name, ()) if f.module == module]
            if local:
                return local
            if name in uses and uses[name] != name:
                return self._resolve_path(context, uses[name].split("::"), depth + 1)
            for glob in self.summaries[file]["globs"] if file in self.summaries else ():
                found = self._resolve_path(context, [*glob.split("::"), name], depth + 1)
                if found:
                    return found
            return []
        head = segments[0]
        if head == "Self" and len(segments) == 2:
            return list(self.methods.get((context.impl, name), ())) if context and context.impl else []
        if head in uses and head not in ("crate", "self", "super") and uses[head] != head:
            return self._resolve_path(context, [*uses[head].split("::"), *segments[1:]], depth + 1)
        owner = segments[-2]
        if owner[:1].isupper():
            owner_types = self.project_types(owner) or ([owner] if owner in self.types else [])
            return [f for type_name in owner_types for f in self.methods.get((type_name, name), ())]
        crate_dir, modules = module
        if head == "crate":
            target = (crate_dir, tuple(segments[1:-1]))
        elif head in ("self", "super"):
            rest = list(segments[:-1])
            current = list(modules)
            while rest and rest[0] in ("self", "super"):
                if rest.pop(0) == "super" and current:
                    current.pop()
            target = (crate_dir, tuple(current + rest))
        elif head in self.crate_names and self.crate_names[head] != crate_dir:
            target = (self.crate_names[head], tuple(segments[1:-1]))
        else:
            target = (crate_dir, tuple(modules) + tuple(segments[:-1]))
        found = [f for f in self.free.get(name, ()) if f.module == target]
        if found:
            return found
        # A re-export (`pub use inner::f;`) moves a function's path: one function of that
        # name whose module ends with the named modules is the one.
        named = tuple(s for s in segments[:-1] if s not in ("crate", "self", "super") and s not in self.crate_names)
        candidates = [f for f in self.free.get(name, ()) if named and f.module[1][-len(named):] == named]
        return candidates if len(candidates) == 1 else []

    def full_path(self, context: Function | None, path: str) -> str:
        """``path`` with its first segment replaced by what the file imports under that name."""
        uses = self.summaries[context.file]["uses"] if context is not None and context.file in self.summaries else {}
        head, _, rest = path.partition("::")
        full = uses.get(head)
        return f"{full}::{rest}" if full and rest else (full or path)

    def context(self, file: str, index: int) -> Function | None:
        return self.functions.get((file, index))

    # --- connections ---------------------------------------------------------------------

    def is_connection(self, context: Function | None, receiver: tuple | None) -> bool:
        if receiver is None:
            return False
        kind = receiver[0]
        if kind == "field":
            impl = context.impl if context else None
            field_type = self.field_type(impl, receiver[1])
            return field_type is not None and self.is_connection_type(field_type) or (impl, receiver[1]) in self.client_fields
        if kind == "type":
            return self.is_connection_type(receiver[1])
        if kind == "call":
            path = self.full_path(context, receiver[1])
            if is_library_connect(path) or is_library_accept(path):
                return True
            return any(self.is_connection_type(f.returns) for f in self.resolve_path(context, path))
        if kind == "method":
            return any(self.is_connection_type(m.returns) for m in self._methods_of(context, receiver))
        if kind == "member":
            return any(self.is_connection_type(t) for t in self._member_types(context, receiver))
        return False

    @cached_property
    def client_fields(self) -> frozenset[tuple[str, str]]:
        """(type, field) of the struct fields that hold a client connection by data flow,
        whatever their declared type (``ws: Fuse<S>`` of a generic transport): a function
        stores a parameter there (``Self { ws: ws.fuse() }``) and some call of it in the
        project's non-test code fills that parameter from a library connect (directly, or
        through the parameters of its callers), while no call fills it with an accepted,
        server-side socket. A public parameter no code of the project fills from a connect
        stays its callers' business (SPEC: WS005), and a field also filled server-side
        is not known to be a client's."""
        found: set[tuple[str, str]] = set()
        for function in self.functions.values():
            for parameter, pairs in function.body.get("stores", {}).items():
                index = next((i for i, (name, _) in enumerate(function.params) if name == parameter), None)
                if index is None:
                    continue
                fills = self._fills(function, index, 0)
                if "client" in fills and "server" not in fills:
                    found.update(tuple(pair) for pair in pairs)
        return frozenset(found)

    def _fills(self, function: Function, index: int, depth: int) -> frozenset[str]:
        """What the project's non-test calls of ``function`` pass as its ``index``-th
        argument: "client" (a library connect's result, or a function of the project that
        opens one and returns it) and "server" (a library accept's), through callers'
        parameters a bounded depth. Memoised per parameter: a helper called from thousands
        of places is looked at once."""
        key = ("fills", function.file, function.index, index)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = frozenset()  # recursion guard: a cycle adds nothing
        fills: set[str] = set()
        callers = dict.fromkeys(caller for caller, _ in self.callers(function, handed=False)) if depth <= 4 else {}
        for caller in callers:  # each calling function once, however many calls it makes
            if caller.is_test:
                continue
            for body in (caller.body, *_spawns_within(caller.body)):
                for record, position, source in body.get("arguments", ()):
                    if position != index or record[1].rsplit("::", 1)[-1] != function.name or function not in self.resolve(caller, record):
                        continue
                    if source[0] == "param":
                        at = next((i for i, (name, _) in enumerate(caller.params) if name == source[1]), None)
                        if at is not None:
                            fills |= self._fills(caller, at, depth + 1)
                        continue
                    path = self.full_path(caller, source[1])
                    if is_library_accept(path):
                        fills.add("server")
                    elif is_library_connect(path) or any(
                        self.opens_client(callee) and self.is_connection_type(callee.returns)
                        for callee in self.resolve_path(caller, path)
                    ):
                        fills.add("client")
        self._memo[key] = frozenset(fills)
        return self._memo[key]

    def is_channel(self, context: Function | None, receiver: tuple | None) -> bool:
        if receiver is None:
            return False
        kind = receiver[0]
        if kind == "field":
            field_type = self.field_type(context.impl if context else None, receiver[1])
            return field_type is not None and bool(CHANNEL_TYPES.search(self.expand(field_type)))
        if kind == "type":
            return bool(CHANNEL_TYPES.search(self.expand(receiver[1])))
        if kind == "call":
            return "channel" in receiver[1]
        if kind == "member":
            return any(CHANNEL_TYPES.search(self.expand(t)) for t in self._member_types(context, receiver))
        return False

    # --- facts about bodies and functions --------------------------------------------------

    def _function_fact(self, fact: str, function: Function, compute) -> bool:
        key = (fact, function.file, function.index)
        if key not in self._memo:
            self._memo[key] = False  # recursion guard: a cycle adds nothing
            self._memo[key] = compute(function, function.body)
        return self._memo[key]

    def _reached(self, context: Function | None, body: dict) -> list[tuple[tuple, list[Function]]]:
        return [(call, self.resolve(context, call)) for call in body["calls"]]

    def receives(self, function: Function) -> bool:
        return self._function_fact("receives", function, self.body_receives)

    def sends(self, function: Function) -> bool:
        return self._function_fact("sends", function, self.body_sends)

    def body_receives(self, context: Function | None, body: dict) -> bool:
        return any(self._call_receives(context, call, callees) for call, callees in self._reached(context, body))

    def body_sends(self, context: Function | None, body: dict) -> bool:
        return any(self._call_sends(context, call, callees) for call, callees in self._reached(context, body))

    def _call_receives(self, context, call, callees) -> bool:
        if call[0] == "method" and not callees and self.is_connection(context, call[2]) and (
            call[1] in RECEIVE_METHODS | STREAM_DRAINS or call[1] in self.stream_extensions
        ):
            return True
        return any(self.receives(callee) for callee in callees)

    def call_sends(self, context: Function | None, call: tuple) -> bool:
        """Whether the call a record describes sends on a connection: the library's send on
        one, a queue feeding its pump, or a project function that does."""
        return self._call_sends(context, call, self.resolve(context, call))

    def _call_sends(self, context, call, callees) -> bool:
        if call[0] == "method" and call[1] in SEND_METHODS and not callees and self.is_connection(context, call[2]):
            return True
        if call[0] == "method" and call[1] in QUEUE_SENDS and call[2][0] == "field" and context is not None and (context.impl, call[2][1]) in self.pump_queues:
            return True  # queued for the pump that writes it to the connection
        return any(self.sends(callee) for callee in callees)

    def is_pump(self, function: Function) -> bool:
        return self._function_fact("pump", function, self.body_is_pump)

    def body_is_pump(self, context: Function | None, body: dict) -> bool:
        for call, callees in self._reached(context, body):
            if call[0] == "method" and call[1] in STREAM_DRAINS and not callees and self.is_connection(context, call[2]):
                return True  # `read.for_each(..)`: the combinator form of a receive loop
            if any(self.is_pump(callee) for callee in callees):
                return True
            in_loop = call[3] > 0
            if in_loop and (self._call_receives(context, call, callees) or self._call_sends(context, call, callees)):
                return True
        return False

    def closes(self, function: Function) -> bool:
        return self._function_fact("closes", function, self.body_closes)

    def body_closes(self, context: Function | None, body: dict) -> bool:
        return body["closes"] or any(self._call_closes(context, call, callees) for call, callees in self._reached(context, body))

    def _call_closes(self, context, call, callees) -> bool:
        if call[0] == "method" and call[1] in CLOSE_METHODS and not callees and not self.is_channel(context, call[2]):
            return True
        return any(self.closes(callee) for callee in callees)

    def tears_down(self, function: Function) -> bool:
        return self._function_fact("tears_down", function, self.body_tears_down)

    def body_tears_down(self, context: Function | None, body: dict) -> bool:
        return body["closes"] or any(self._call_tears_down(context, call, callees) for call, callees in self._reached(context, body))

    def teardown(self, context: Function | None, call: tuple, skipped: Function | None = None) -> str | None:
        """How the call a record describes ends a connection, or None (see ``tears_down``);
        ``skipped``, the function the call is written in, does not count as a callee."""
        callees = [callee for callee in self.resolve(context, call) if callee is not skipped]
        return self._teardown_of(context, call, callees)

    def _call_tears_down(self, context, call, callees) -> bool:
        return self._teardown_of(context, call, callees) is not None

    def _teardown_of(self, context, call, callees) -> str | None:
        name = call[1].rsplit("::", 1)[-1].partition(":")[0]  # `kick` of `Lobby::kick`, `send` of `send:keep-alive`
        if callees:
            return f"`{name}` tears the connection down" if any(self.tears_down(callee) for callee in callees) else None
        if self._call_closes(context, call, ()):
            return f"`{name}` closes the connection"
        if self._stops_task(context, call):
            return f"`{name}` stops the connection's task"
        if self._removes_entry(context, call):
            return "the peer is removed from the registry"
        return None

    def _stops_task(self, context: Function | None, call: tuple) -> bool:
        """A library abort or cancel, unless the crate shows that the tasks stored in the
        field it is called on are not pumps (a timer's)."""
        if call[0] != "method" or call[1] not in TASK_STOPS:
            return False
        receiver = call[2]
        return receiver[0] != "field" or context is None or self.field_pump(context.impl, receiver[1]) is not False

    def _removes_entry(self, context: Function | None, call: tuple) -> bool:
        return call[0] == "method" and call[1] in REMOVALS and any(
            self.is_registry_type(type_text) for type_text in self.declared_types(context, call[2])
        )

    def opens_client(self, function: Function) -> bool:
        return self._function_fact("opens_client", function, self.body_opens_client)

    def _call_opens(self, context, call, callees) -> bool:
        """A library connect or accept, or a project function that opens a client."""
        if call[0] == "path" and not callees:
            path = self.full_path(context, call[1])
            return is_library_connect(path) or is_library_accept(path)
        return any(self.opens_client(callee) for callee in callees)

    def body_opens_client(self, context: Function | None, body: dict) -> bool:
        for call, callees in self._reached(context, body):
            if call[0] == "path" and not callees and is_library_connect(self.full_path(context, call[1])):
                return True
            if any(self.opens_client(callee) for callee in callees):
                return True
        return False

    def full_error(self, function: Function) -> str | None:
        """Where ``function``'s Err can come from a full queue (`` `try_reserve` in
        `Socket::reserve` ``), or None."""
        return self._function_fact("full_error", function, self._body_full_error) or None

    def _body_full_error(self, context: Function, body: dict) -> str | bool:
        for call in body.get("errors", ()):
            name = call[1].partition(":")[0]  # `try_send:keep-alive`
            if call[0] == "method" and name in FULL_QUEUE_SENDS and not self.resolve(context, call):
                owner = f"{context.impl}::{context.name}" if context.impl else context.name
                return f"`{name}` in `{owner}`"
            source = self.reached_full_error(context, call)
            if source:
                return source
        return False

    def reached_full_error(self, context: Function | None, record: tuple) -> str | None:
        """``full_error`` of the project functions a call reaches: where their Err can come
        from a full queue, or None."""
        name = record[1].partition(":")[0]  # a project `send` of a Ping frame is still `send`
        callees = self.resolve(context, (record[0], name, *record[2:]))
        if context is not None:  # the caller's own crate first: its type of that name is the likelier one
            callees = sorted(callees, key=lambda callee: callee.module[0] != context.module[0])
        for callee in callees:
            source = self.full_error(callee)
            if source:
                return source
        return None

    @cached_property
    def full_error_names(self) -> frozenset[str]:
        """The names of the functions whose Err can be a full queue: a call of another name
        cannot return one."""
        return frozenset(function.name for function in self.functions.values() if self.full_error(function))

    def may_fail(self, function: Function) -> bool:
        """Whether ``function`` can end with an error (or ``None``): one it makes, or one of a
        call it applies `?` to or returns, unless every function that call reaches never fails."""
        return self._function_fact("may_fail", function, self._body_may_fail)

    def _body_may_fail(self, context: Function, body: dict) -> bool:
        failures = body.get("failures")
        if failures is None:
            return True  # a declaration without a body: any implementation may fail
        for record in failures:
            if record is None:
                return True
            callees = self.resolve(context, record)
            if not callees or any(self.may_fail(callee) for callee in callees):
                return True
        return False

    def field_pump(self, type_name: str | None, field: str) -> bool | None:
        """Whether the tasks stored in ``type_name``'s ``field`` anywhere in the project are
        pumps; None when no spawn stored there is known."""
        key = ("field_pump", type_name, field)
        if key not in self._memo:
            self._memo[key] = self._field_pump(type_name, field)
        return self._memo[key]

    def _field_pump(self, type_name: str | None, field: str) -> bool | None:
        found = None
        for function in self.functions.values():
            for spawn in _spawns_within(function.body):
                if self._kept_in(function, spawn, type_name, field):
                    found = found or self.body_is_pump(function, spawn)
            for record, (owner, stored) in function.body.get("kept_calls", ()):
                if (function.impl if owner == "Self" else owner) == type_name and stored == field:
                    returned = self.returned_pump(function, tuple(record))
                    if returned is not None:
                        found = found or returned
        return found

    def returned_pump(self, context: Function | None, call: tuple) -> bool | None:
        """Whether the task whose handle ``call`` returns (``fn spawn_reader(..) ->
        JoinHandle<()> { tokio::spawn(..) }``) is a pump; None when the call returns no task
        the crate shows."""
        found = None
        for callee in self.resolve(context, call):
            for spawn in _spawns_within(callee.body):
                if spawn.get("returned"):
                    found = found or self.body_is_pump(callee, spawn)
        return found

    def _kept_in(self, function: Function, spawn: dict, type_name: str | None, field: str) -> bool:
        """Whether the handle of a task ``function`` spawns is kept in ``type_name``'s
        ``field``: stored there by a struct literal or an assignment, spawned on a ``JoinSet``
        there, or handed to a constructor that stores that parameter there (a tuple struct
        ``Guard(h)`` keeps it as field ``"0"``)."""
        stored = spawn.get("field")
        if stored is not None:
            return (function.impl if stored[0] == "Self" else stored[0]) == type_name and stored[1] == field
        if spawn.get("spawned_on") == field and function.impl == type_name:
            return "JoinSet" in (self.field_type(type_name, field) or "")
        passed = spawn.get("passed")
        if not passed:
            return False
        record, index = passed
        callees = self.resolve(function, tuple(record))
        if not callees and record[0] == "path":
            name = record[1].rsplit("::", 1)[-1]
            return (function.impl if name == "Self" else name) == type_name and field == str(index)
        return any(
            index < len(callee.params) and [type_name, field] in callee.body.get("stores", {}).get(callee.params[index][0], ())
            for callee in callees
        )

    # --- connection state ------------------------------------------------------------------

    @cached_property
    def _state_writes(self) -> dict[tuple, list[tuple[Function, dict, bool, list]]]:
        """Key -> (function, body, value, events) of each write of a flag or state variant
        (``summary._state_writes``) in the project's non-test code; keys as ``_state_keys``."""
        found: dict[tuple, list] = {}
        for function in self.functions.values():
            if function.is_test:
                continue
            for body in (function.body, *_spawns_within(function.body)):
                for target, value, events in body.get("writes", ()):
                    if target[0] == "variant" and len(target) == 3 and self._sends_frame(function, target[1], body["calls"][target[2]]):
                        continue
                    for key in self._state_keys(function, target):
                        found.setdefault(key, []).append((function, body, value, events))
        return found

    def _sends_frame(self, context: Function, path: str, call: tuple) -> bool:
        """Whether a variant handed to ``call`` is a frame sent, not a state announced: a
        library type's (``Message::Text(..)``), or sent on the connection itself."""
        if path.split("::")[-2] not in self.types:
            return True
        return self.call_sends(context, call) and not self.is_channel(context, call[2])

    def _state_keys(self, context: Function | None, target: tuple) -> list[tuple]:
        """``("field", type, field)`` for each project type a flag's owner is,
        ``("static", name)``, ``("variant", enum, variant)``."""
        kind = target[0]
        if kind == "field":
            return [("field", type_name, target[2]) for type_name in dict.fromkeys(self.receiver_types(context, target[1]))]
        if kind == "static":
            return [("static", target[1])]
        key = self._variant_key(context, target[1])
        return [key] if key is not None else []

    def _variant_key(self, context: Function | None, path: str) -> tuple | None:
        segments = path.split("::")
        owner = (context.impl if context is not None else None) if segments[-2] == "Self" else segments[-2]
        return ("variant", owner, segments[-1]) if owner else None

    def state_meaning(self, key: tuple | None) -> str | None:
        """"closed" or "open": what a flag being true, or a state being a variant, says of the
        connection, by where the project writes it: true (or set) where the connection is
        closed (next to a close, a Close frame sent, the end of a receive loop, an error of
        the connection) and false where it is opened (after a connect or accept), or the
        reverse. Every judged write must agree; a key no write judges means nothing."""
        if key is None:
            return None
        memo = ("state", key)
        if memo not in self._memo:
            self._memo[memo] = None  # recursion guard: a variant set in its own arm adds nothing
            votes = set()
            for function, body, value, events in self._state_writes.get(key, ()):
                event = self._write_event(function, body, events)
                if event is not None:
                    votes.add(event if value else _flip(event))
            self._memo[memo] = votes.pop() if len(votes) == 1 else None
        return self._memo[memo]

    def _write_event(self, context: Function, body: dict, events: list) -> str | None:
        """"closed"/"open": what the nearest judged event next to a write did to the connection."""
        for event in events:
            if event[0] == "closed":
                return "closed"
            if event[0] == "arm":
                meaning = self.state_meaning(self._variant_key(context, event[1]))
            else:
                lo, hi, outcome = event
                meaning = self._calls_event(context, body["calls"][lo:hi], outcome)
            if meaning is not None:
                return meaning
        return None

    def _calls_event(self, context: Function, calls: list, outcome: str) -> str | None:
        reached = [(call, self.resolve(context, call)) for call in calls]
        if outcome == "loop" and any(self._call_receives(context, call, callees) for call, callees in reached):
            return "closed"  # a receive loop has ended
        for call, callees in reached if outcome == "after" else reversed(reached):
            if self._call_closes(context, call, callees):
                return "closed"
            if outcome == "after":
                continue
            if self._call_opens(context, call, callees):
                return "closed" if outcome == "err" else "open"
            if outcome == "err" and (self._call_receives(context, call, callees) or self._call_sends(context, call, callees)):
                return "closed"
        return None

    def reading_meaning(self, context: Function | None, reading: tuple) -> str | None:
        """"closed"/"open" for a ``summary.state_reading`` being true; None when unknown."""
        kind = reading[0]
        if kind == "field":
            keys = [("field", type_name, reading[2]) for type_name in self.receiver_types(context, reading[1])]
        elif kind == "static":
            keys = [reading]
        elif kind == "variants":
            keys = [self._variant_key(context, path) for path in reading[1]]
        else:
            return self.query_meaning(context, reading[1])
        meanings = {self.state_meaning(key) for key in keys}
        return meanings.pop() if len(meanings) == 1 else None

    def query_meaning(self, context: Function | None, record: tuple) -> str | None:
        """What a zero-argument state query returning true means: a project method's by what
        its body's tail reads, whichever file defines it; a library type's by its API name."""
        callees = self.resolve(context, record)
        if callees:
            meanings = {self._returned_state(callee) for callee in callees}
            return meanings.pop() if len(meanings) == 1 else None
        if record[0] == "method" and not self.receiver_types(context, record[2]):
            return LIBRARY_STATE_QUERIES.get(record[1])
        return None

    def _returned_state(self, function: Function) -> str | None:
        memo = ("returned_state", function.file, function.index)
        if memo not in self._memo:
            self._memo[memo] = None  # recursion guard
            tail = function.body.get("state")
            meaning = self.reading_meaning(function, tail[0]) if tail is not None else None
            self._memo[memo] = _flip(meaning) if meaning is not None and tail[1] else meaning
        return self._memo[memo]

    # --- callers and restarts ------------------------------------------------------------

    @cached_property
    def _callers(self) -> dict[tuple[str, int], list[tuple[Function, bool, bool]]]:
        """Callee -> (caller, in a loop, handed over as a value rather than called)."""
        callers: dict[tuple[str, int], list[tuple[Function, bool, bool]]] = {}

        def add(caller: Function, body: dict, in_loop: bool) -> None:
            for call in body["calls"]:
                for callee in self.resolve(caller, call):
                    callers.setdefault((callee.file, callee.index), []).append((caller, in_loop or call[3] > 0, False))
            for path in body["refs"]:
                for callee in self.resolve_path(caller, path):
                    callers.setdefault((callee.file, callee.index), []).append((caller, True, True))  # handed over: unknown runs
            for spawn in body["spawns"]:
                add(caller, spawn, in_loop)

        for function in self.functions.values():
            add(function, function.body, False)
        return callers

    def callers(self, function: Function, handed: bool = True) -> list[tuple[Function, bool]]:
        """Resolved call sites of ``function`` in other functions: (caller, in a loop); with
        ``handed``, also the functions that hand it over as a value (run who knows when)."""
        return [
            (caller, in_loop)
            for caller, in_loop, by_value in self._callers.get((function.file, function.index), ())
            if caller != function and (handed or not by_value)
        ]

    def calls_itself(self, function: Function) -> bool:
        return any(caller == function for caller, _, _ in self._callers.get((function.file, function.index), ()))

    def restarted(self, function: Function, visited: frozenset = frozenset(), handed: bool = True) -> bool:
        """Whether something runs ``function`` again after it returns: it calls itself, some
        code of the project runs it from a loop (a reconnect loop that also takes over what
        a first, plain call started: the first session's tasks handed to the supervisor that
        reconnects), or every call of it is in a function that is restarted. Without
        ``handed``, a function handed over as a value (to a framework, run who knows when)
        does not count as run again: for a session the function only starts in a detached
        task, its runs are no answer to the session's end."""
        if function in visited or len(visited) > 8:
            return False
        if self.calls_itself(function):
            return True
        every = self.callers(function, handed)
        sites = [(caller, in_loop) for caller, in_loop in every if not caller.is_test]
        if not sites:
            return bool(every)  # test support code: only tests call it
        if any(in_loop for _, in_loop in sites):
            return True
        visited = visited | {function}
        return all(self.restarted(caller, visited, handed) for caller, _ in sites)


def _spawns_within(body: dict) -> list[dict]:
    """The futures a body spawns, and those they spawn in turn."""
    found = []
    pending = list(body["spawns"])
    while pending:
        spawn = pending.pop()
        found.append(spawn)
        pending.extend(spawn["spawns"])
    return found


def _generic_arguments(type_text: str, opening: int) -> list[str]:
    """The top-level arguments of the ``<..>`` that opens at ``opening``."""
    arguments, depth, start = [], 0, opening + 1
    for at in range(opening, len(type_text)):
        character = type_text[at]
        if character in "<([":
            depth += 1
        elif character in ">)]" and type_text[at - 1] != "-":  # not the arrow of `Fn() -> T`
            depth -= 1
            if depth == 0:
                arguments.append(type_text[start:at].strip())
                return arguments
        elif character == "," and depth == 1:
            arguments.append(type_text[start:at].strip())
            start = at + 1
    return []


def _flip(state: str) -> str:
    return "closed" if state == "open" else "open"


def is_library_connect(path: str) -> bool:
    segments = path.split("::")
    if not CLIENT_CONNECTS.match(segments[-1]):
        return False
    return segments[-1].startswith(("connect_async", "client_async")) or any(
        library in segment for segment in segments[:-1] for library in CONNECTION_LIBRARIES
    )


def is_library_accept(path: str) -> bool:
    segments = path.split("::")
    return bool(SERVER_ACCEPTS.match(segments[-1])) and (
        segments[-1].startswith("accept_") or any(library in s for s in segments[:-1] for library in CONNECTION_LIBRARIES)
    )
