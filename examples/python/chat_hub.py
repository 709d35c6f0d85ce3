"""A chat hub: every client gets a bounded outbox drained by a writer task.

lint-ws finds two connection-lifecycle bugs here:
- WS001 in ``Hub.broadcast``: a client whose outbox is full is disconnected, so one slow
  phone on a bad network is kicked out of the room instead of missing one message.
- WS002 in ``Client.stop``: the writer task is cancelled and the websocket is never
  closed, so queued messages are lost and the peer sees a dropped connection.
"""

import asyncio
import logging

import websockets

log = logging.getLogger("chat_hub")


class Client:
    def __init__(self, websocket: websockets.ServerConnection):
        self.websocket = websocket
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=256)
        self.writer = asyncio.create_task(self._write_loop())

    async def _write_loop(self) -> None:
        while True:
            await self.websocket.send(await self.outbox.get())

    async def stop(self) -> None:
        self.writer.cancel()


class Hub:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}

    async def join(self, name: str, websocket: websockets.ServerConnection) -> None:
        self.clients[name] = Client(websocket)
        try:
            async for message in websocket:
                await self.broadcast(f"{name}: {message}")
        finally:
            await self.leave(name)

    async def leave(self, name: str) -> None:
        client = self.clients.pop(name, None)
        if client is not None:
            await client.stop()

    async def broadcast(self, text: str) -> None:
        for name, client in list(self.clients.items()):
            try:
                client.outbox.put_nowait(text)
            except asyncio.QueueFull:
                log.info("%s is too slow, disconnecting", name)
                await client.websocket.close(code=1013)


async def main() -> None:
    hub = Hub()

    async def handler(websocket: websockets.ServerConnection) -> None:
        await hub.join(websocket.request.path.strip("/") or "anonymous", websocket)

    async with websockets.serve(handler, "localhost", 8765):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
