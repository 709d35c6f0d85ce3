"""What connections are called: the websocket libraries, their types and calls, the methods
only a connection has, the names people give one; and, from these alone, whether a file can
hold a connection at all.

The connection model (``model.py``) recognises connections by these; the prefilter
(``prefilter.py``) asks the questions at the end of this module before anything imports
libcst, so this module must not import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

# Methods only a connection object has; awaiting one of them on a name marks it a connection.
CONNECTION_ONLY_METHODS = frozenset(
    {
        "recv", "receive", "receive_text", "receive_bytes", "receive_json", "receive_str",
        "send_text", "send_bytes", "send_json", "send_str", "send_frame", "get_message",
        "send_message", "accept", "ping", "pong", "iter_text", "iter_bytes", "iter_json",
    }
)

# The sends and the state a connection is checked by (WS004).
SEND_METHODS = frozenset(
    {"send", "send_str", "send_bytes", "send_json", "send_text", "send_frame", "send_message",
     "ping", "pong", "write_message", "emit"}
)
STATE_ATTRIBUTES = frozenset({"client_state", "application_state", "state"})  # compared with an enum member
# -> whether true means open; ``close_code`` is None until the connection closes.
FLAG_ATTRIBUTES = {"closed": False, "open": True, "connected": True, "close_code": False}
# Handler classes that are themselves the connection, and the attribute that holds the
# connection's state while it is open (None once closed): tornado's ``self.ws_connection``.
HANDLER_STATE_ATTRIBUTES = {"tornado.websocket.WebSocketHandler": "ws_connection"}

CLIENT = "client"
SERVER = "server"
EITHER = "websocket"  # a websocket whose side the file does not tell

# The last component of a qualified name -> the side, per top-level package.
TYPE_SIDES = {
    "websockets": {
        "ClientConnection": CLIENT,
        "WebSocketClientProtocol": CLIENT,
        "ServerConnection": SERVER,
        "WebSocketServerProtocol": SERVER,
        "WebSocketCommonProtocol": EITHER,
        "Connection": EITHER,
    },
    "aiohttp": {"ClientWebSocketResponse": CLIENT, "WebSocketResponse": SERVER},
    "starlette": {"WebSocket": SERVER},
    "fastapi": {"WebSocket": SERVER},
    "websocket": {"WebSocket": CLIENT, "WebSocketApp": CLIENT},  # websocket-client
    "tornado": {"WebSocketClientConnection": CLIENT, "WebSocketHandler": SERVER},
    "socketio": {"AsyncClient": CLIENT, "Client": CLIENT},
}
# Calls that open a client connection, by qualified name (after import resolution).
CLIENT_CONNECTS = {
    "websockets": {"connect", "unix_connect"},
    "websocket": {"create_connection"},
    "tornado": {"websocket_connect"},
}

# Server-side socket.io objects are connections' owners: ``sio.disconnect(sid)`` hangs up.
EXTRA_CONNECTION_TYPES = {
    "socketio.AsyncServer", "socketio.Server", "trio_websocket.WebSocketConnection",
    "trio_websocket.open_websocket_url", "trio_websocket.connect_websocket_url",
}
# Type names that are a websocket whatever module they come from.
CONNECTION_TYPE_NAMES = frozenset(
    {"WebSocket", "WebSocketResponse", "ClientWebSocketResponse", "ServerConnection", "ClientConnection"}
)
# Names people give a websocket; used only when nothing declares what the name is.
CONNECTION_NAME = re.compile(r"^_*(ws|wsock|websocket|web_socket|\w+_ws|ws_\w+|\w*websocket)$", re.IGNORECASE)


# --- Before the parse: can the file hold a connection at all? ------------------------------
# Every way the model comes to call something a connection leaves a trace: a library's
# module name (imports and qualified names spell it out as a whole word), a connection type's
# name, a websocket-like name, or an awaited connection-only method (``await ws.recv()``;
# ``ws.iter_text()`` and its kin count un-awaited too). Rules that need a connection skip
# files with no such trace, which spares most files libcst's parse. Anything that teaches
# the model a new way to recognise a connection must be added here too.

CONNECTION_LIBRARIES = frozenset(
    {*TYPE_SIDES, *CLIENT_CONNECTS, *(qualified.partition(".")[0] for qualified in EXTRA_CONNECTION_TYPES)}
)
_CLIENT_LIBRARIES = frozenset(
    {*CLIENT_CONNECTS, *(head for head, sides in TYPE_SIDES.items() if CLIENT in sides.values())}
)


def _any_word(words) -> re.Pattern:
    return re.compile(r"\b(?:%s)\b" % "|".join(sorted(words)))


_CONNECTION_WORD = _any_word({*CONNECTION_LIBRARIES, *CONNECTION_TYPE_NAMES, "ws_connect"})
_CLIENT_WORD = _any_word({*_CLIENT_LIBRARIES, "ws_connect"})
_CONNECTION_ONLY_WORD = _any_word(CONNECTION_ONLY_METHODS)


def names_connection_library(text: str) -> bool:
    """Does ``text`` name a connection library or type as a word? A package in which no module
    does has no connection facts to share across its modules."""
    return _CONNECTION_WORD.search(text) is not None


@lru_cache(maxsize=2)  # asked by several rules about the same file in a row
def names_connection(text: str) -> bool:
    """Does ``text`` name a connection library, type, or a websocket-like variable?"""
    if _CONNECTION_WORD.search(text):
        return True
    # CONNECTION_NAME, case-insensitively: names containing "websocket", "web_socket" or "ws".
    folded = text.casefold()
    if "websocket" in folded or "web_socket" in folded:
        return True
    return any(CONNECTION_NAME.match(word) for word in _words_around(folded, "ws"))


def may_name_connection(text: str) -> bool:
    """False only when nothing in ``text`` can make the model see a connection."""
    if names_connection(text):
        return True
    return ("await" in text or "iter_" in text) and _CONNECTION_ONLY_WORD.search(text) is not None


def may_hold_connection(facts) -> bool:
    """``may_name_connection`` made exact about methods, from the front end's syntax facts:
    a connection-only method is awaited (or an ``iter_*`` one called)."""
    if names_connection(facts.text):
        return True
    if not facts.awaited.isdisjoint(CONNECTION_ONLY_METHODS):
        return True
    return any(method.startswith("iter_") and method in CONNECTION_ONLY_METHODS for method in facts.calls)


def may_name_client_connection(text: str) -> bool:
    """False only when nothing in ``text`` can give the model a client-side connection: that
    takes a client library's call or type (or aiohttp's ``ws_connect``)."""
    return _CLIENT_WORD.search(text) is not None


def _words_around(text: str, part: str) -> Iterator[str]:
    """The words (identifier characters) of ``text`` that contain ``part``."""
    found = text.find(part)
    while found != -1:
        start, end = found, found + len(part)
        while start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        yield text[start:end]
        found = text.find(part, end)
