"""When each Rust rule can fire in a file (see ``registry.Prefilter``); imports no parser."""

from __future__ import annotations

from lint_ws.registry import Prefilter

PREFILTERS = {
    "WS001": Prefilter(
        triggers=("try_send", "try_reserve"),
        # A call whose error, from a full queue elsewhere in the crate, is handled here.
        project_triggers=("Err", "is_err", "is_ok", "?"),
    ),
    "WS002": Prefilter(triggers=("abort", "JoinSet")),
    "WS003": Prefilter(triggers=("Drop",)),
    "WS004": Prefilter(triggers=("send", "feed", "write_message")),
    "WS005": Prefilter(
        triggers=("connect_async", "client_async", "tungstenite", "MaybeTlsStream"),
        # A session loop over a connection opened elsewhere in the crate.
        project_triggers=("next(", "read", "recv", "for_each", "forward"),
    ),
}
