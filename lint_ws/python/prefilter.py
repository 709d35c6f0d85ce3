"""When each Python rule can fire in a file (see ``registry.Prefilter``).

Imports no libcst: most Python files fail every rule's prefilter, and then linting them
costs neither libcst's parse nor its import.
"""

from __future__ import annotations

from lint_ws.python.names import (
    FLAG_ATTRIBUTES,
    SEND_METHODS,
    STATE_ATTRIBUTES,
    may_hold_connection,
    may_name_client_connection,
    may_name_connection,
)
from lint_ws.registry import Prefilter


def cancels_with_a_connection(facts) -> bool:
    """Every cancel WS002 and WS003 report is a ``.cancel`` attribute, called or passed on,
    in a file that can hold a connection."""
    return "cancel" in facts.attributes and may_hold_connection(facts)


def checks_and_sends_on_one_name(facts) -> bool:
    """A WS004 finding's send is called on the very dotted name its check reads the state of
    (``ws.closed`` ... ``ws.send()``; also through a ``self.is_open()`` helper), or, through
    the instance's properties and getters (possibly in a base class of another module), a
    check read on ``self`` and a send on one of its attributes or on what a getter returns;
    in a file that can hold a connection."""
    checked = facts.receivers(FLAG_ATTRIBUTES.keys() | STATE_ATTRIBUTES)
    sent_on = facts.receivers(SEND_METHODS, called=True)
    if checked.isdisjoint(sent_on):
        # The property or getter's name is whatever its class chose: any attribute of ``self``.
        through_self = any("self" in receivers for receivers in facts.attributes.values())
        if not (through_self and (any(name.startswith("self.") for name in sent_on) or facts.sends_on_calls)):
            return False
    return may_hold_connection(facts)


PREFILTERS = {
    # ``qsize``/``full()``: a full-queue check that makes a blocking ``put`` non-blocking.
    "WS001": Prefilter(triggers=("put_nowait", "send_nowait", "qsize", ".full()")),
    # A connection half's task needs a connection.
    "WS002": Prefilter(triggers=("cancel",), evidence=may_name_connection, syntax_evidence=cancels_with_a_connection),
    # ``__del__`` cancelling WS002's connection halves, the only teardown WS003 reports.
    "WS003": Prefilter(
        triggers=("__del__",), requires=("cancel",), evidence=may_name_connection,
        syntax_evidence=cancels_with_a_connection,
    ),
    # Every check needs one of the attribute names, every send one of the words of
    # SEND_METHODS; a check by a library's state enum, or of a connection, needs a
    # connection's trace.
    "WS004": Prefilter(
        triggers=("closed", ".open", "state", "connected"),
        requires=("send", "ping", "pong", "write_message", "emit"),
        evidence=may_name_connection,
        syntax_evidence=checks_and_sends_on_one_name,
    ),
    # A client connection comes from a connect call or a client type named in the file.
    "WS005": Prefilter(
        triggers=(
            "connect", "ClientWebSocketResponse", "WebSocketClientProtocol", "ClientConnection", "WebSocketApp",
            "WebSocketClientConnection", "AsyncClient",
        ),
        evidence=may_name_client_connection,
    ),
}
