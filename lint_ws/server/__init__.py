"""``lint-ws server``: a language server (LSP over stdio) showing lint-ws's findings in the
editor as you type, with their fixes and allow comments as code actions."""

from __future__ import annotations


def main() -> None:
    """Serve one editor session on stdin/stdout until the client exits."""
    # Imported here: pygls is needed only by the server, never by a lint run.
    from lint_ws.server.language_server import create_server

    create_server().start_io()
