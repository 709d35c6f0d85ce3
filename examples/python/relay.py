"""A relay client: forwards an upstream feed to a downstream consumer.

lint-ws finds:
- WS002 in ``Relay.run``: after ``asyncio.wait(..., FIRST_COMPLETED)`` the still-running
  half is cancelled and the upstream websocket is left without a Close frame.
- WS003 in ``Relay.__del__``: collecting a live relay cancels its pump without closing the
  websocket first.
- WS001 in ``Relay._on_message``: a full downstream queue breaks out of the receive loop,
  ending the session on a burst.
"""

import asyncio
import logging

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType

log = logging.getLogger("relay")


class Relay:
    def __init__(self, session: ClientSession, url: str):
        self.session = session
        self.url = url
        self.ws: ClientWebSocketResponse | None = None
        self.downstream: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self.pump: asyncio.Task | None = None

    async def run(self) -> None:
        self.ws = await self.session.ws_connect(self.url)
        self.pump = asyncio.create_task(self._pump_upstream())
        consumer = asyncio.create_task(self._consume())
        done, pending = await asyncio.wait({self.pump, consumer}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _pump_upstream(self) -> None:
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                self.downstream.put_nowait(msg.data)
            except asyncio.QueueFull:
                log.warning("downstream full, giving up")
                break

    async def _consume(self) -> None:
        while True:
            log.info("relayed %s", await self.downstream.get())

    def __del__(self) -> None:
        if self.pump is not None:
            self.pump.cancel()
