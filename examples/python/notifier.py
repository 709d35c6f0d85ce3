"""Pushes notifications to browser clients connected to an aiohttp server.

`broadcast` checks each socket's `closed` flag and then sends (WS004: the socket can
close in between, and the send then raises into the broadcast loop, skipping everyone
after that client); `broadcast_safely` lets each send fail on its own.
"""

import logging

from aiohttp import web

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self) -> None:
        self.clients: set[web.WebSocketResponse] = set()

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self.clients.add(ws)
        try:
            async for _ in ws:
                pass  # clients only listen
        finally:
            self.clients.discard(ws)
        return ws

    async def broadcast(self, event: dict) -> None:
        for ws in list(self.clients):
            if not ws.closed:
                await ws.send_json(event)  # WS004: checked, then sent

    async def broadcast_safely(self, event: dict) -> None:
        for ws in list(self.clients):
            try:
                await ws.send_json(event)
            except ConnectionResetError:
                log.info("client left during broadcast")
                self.clients.discard(ws)

    async def goodbye(self, ws: web.WebSocketResponse, text: str) -> None:
        if ws.closed:
            return
        await ws.send_str(text)  # WS004: the early return is the same race
        await ws.close()


def make_app() -> web.Application:
    notifier = Notifier()
    app = web.Application()
    app.router.add_get("/ws", notifier.handler)
    return app
