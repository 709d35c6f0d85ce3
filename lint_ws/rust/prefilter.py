"""When each Rust rule can fire in a file (see ``registry.Prefilter``); imports no parser."""

from __future__ import annotations

from lint_ws.registry import Prefilter

PREFILTERS = {
    "WS001": Prefilter(triggers=("try_send",)),
    "WS002": Prefilter(triggers=("abort", "JoinSet")),
    "WS003": Prefilter(triggers=("Drop",)),
    "WS004": Prefilter(triggers=("send", "feed", "write_message")),
    "WS005": Prefilter(
        triggers=("connect_async", "client_async", "tungstenite", "MaybeTlsStream"),
        # A session loop over a connection opened elsewhere in the crate.
        project_triggers=("next(", "read", "recv", "for_each", "forward"),
    ),
}
